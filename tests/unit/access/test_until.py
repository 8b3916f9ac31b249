"""Rules with an end (``consent:until``): they grant nothing from that instant on."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pod_server.access import Mode, granted_modes
from pod_server.access.acl import CONSENT_UNTIL
from pod_server.consent.vocab import CONSENT
from tests.unit.access._acls import ALICE, BOB, POD, compile_ttl

END = datetime(2026, 6, 1, tzinfo=UTC).timestamp()
ACL_URL = POD + "bank/.acl"
TIMED = f"""
@prefix consent: <https://w3id.org/solid-pods/vocab/consent#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<#owner> a acl:Authorization; acl:agent <{ALICE}>; acl:accessTo <./>; acl:default <./>;
    acl:mode acl:Read, acl:Write.
<#bank> a acl:Authorization; acl:agent <{BOB}>; acl:accessTo <./>; acl:default <./>;
    acl:mode acl:Append; consent:until "2026-06-01T00:00:00+00:00"^^xsd:dateTime.
"""


def at(acl_ttl: str, now: float | None, agent: str | None = BOB, **kw: object) -> Mode:
    return granted_modes(
        compile_ttl(acl_ttl, ACL_URL),
        kw.pop("target", POD + "bank/"),  # type: ignore[arg-type]
        default_for=kw.pop("default_for", None),  # type: ignore[arg-type]
        agent_webid=agent,
        authenticated=agent is not None,
        origin=kw.pop("origin", None),  # type: ignore[arg-type]
        groups={},
        now=now,
    )


def test_the_term_is_the_consent_vocabulary_s() -> None:
    assert CONSENT.until == CONSENT_UNTIL


def test_a_timed_rule_grants_until_its_end_and_nothing_after() -> None:
    assert at(TIMED, END - 1) == Mode.APPEND
    assert at(TIMED, END) == Mode(0)
    assert at(TIMED, END + 86400) == Mode(0)
    inherited = {"target": POD + "bank/2026-01", "default_for": POD + "bank/"}
    assert at(TIMED, END - 1, **inherited) == Mode.APPEND
    assert at(TIMED, END, **inherited) == Mode(0)


def test_without_a_time_a_timed_rule_grants_nothing_and_others_are_unaffected() -> None:
    assert at(TIMED, None) == Mode(0)
    assert at(TIMED, END + 1, agent=ALICE) == Mode.READ | Mode.WRITE | Mode.APPEND


@pytest.mark.parametrize(
    "value",
    ['"soon"', '"2026-06-01T00:00:00"^^xsd:dateTime', "<https://example.org/x>"],
)
def test_an_unreadable_end_ends_the_rule_at_once(value: str) -> None:
    acl = TIMED.replace('"2026-06-01T00:00:00+00:00"^^xsd:dateTime', value)
    assert at(acl, END - 1e9) == Mode(0)


def test_the_earliest_of_two_ends_counts() -> None:
    acl = TIMED.replace(
        'consent:until "2026-06-01T00:00:00+00:00"^^xsd:dateTime',
        'consent:until "2026-06-01T00:00:00+00:00"^^xsd:dateTime, '
        '"2026-05-01T00:00:00Z"^^xsd:dateTime',
    )
    assert at(acl, datetime(2026, 4, 30, tzinfo=UTC).timestamp()) == Mode.APPEND
    assert at(acl, datetime(2026, 5, 2, tzinfo=UTC).timestamp()) == Mode(0)


def test_timed_public_and_origin_restricted_rules() -> None:
    public = TIMED.replace(f"acl:agent <{BOB}>", "acl:agentClass foaf:Agent")
    assert at(public, END - 1, agent=None) == Mode.APPEND
    assert at(public, END, agent=None) == Mode(0)
    assert at(public, END - 1, agent=ALICE) == Mode.READ | Mode.WRITE | Mode.APPEND
    scoped = TIMED.replace(
        "acl:mode acl:Append;", "acl:mode acl:Append; acl:origin <https://app.example>;"
    )
    assert at(scoped, END - 1, origin="https://app.example") == Mode.APPEND
    assert at(scoped, END - 1, origin="https://evil.example") == Mode(0)
    assert at(scoped, END, origin="https://app.example") == Mode(0)
