"""Which consent an allowed access relied on: the ``consent:grantedBy`` of the rules that
gave the agent what it needed (for the audit log)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pod_server.access import Mode
from pod_server.access.evaluate import consents_used
from tests.unit.access._acls import ALICE, BOB, POD, compile_ttl

RECORD = POD + ".well-known/consent/r1"
ACL_URL = POD + "bank/.acl"
END = datetime(2026, 6, 1, tzinfo=UTC).timestamp()
GRANTED = f"""
@prefix consent: <https://w3id.org/solid-pods/vocab/consent#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<#owner> a acl:Authorization; acl:agent <{ALICE}>; acl:accessTo <./>; acl:default <./>;
    acl:mode acl:Read, acl:Write.
<#bank> a acl:Authorization; acl:agent <{BOB}>; acl:accessTo <./>; acl:default <./>;
    acl:mode acl:Append; consent:grantedBy <{RECORD}>;
    consent:until "2026-06-01T00:00:00+00:00"^^xsd:dateTime.
"""


def used(
    needed: Mode, agent: str = BOB, now: float = END - 1, default_for: str | None = None
) -> frozenset[str]:
    target = POD + "bank/" if default_for is None else POD + "bank/t1"
    return consents_used(
        compile_ttl(GRANTED, ACL_URL),
        target,
        needed,
        default_for=default_for,
        agent_webid=agent,
        origin=None,
        groups={},
        now=now,
    )


def test_the_record_behind_the_modes_used_is_named() -> None:
    assert used(Mode.APPEND) == {RECORD}
    assert used(Mode.APPEND, default_for=POD + "bank/") == {RECORD}  # inherited, on a member


@pytest.mark.parametrize(
    ("needed", "agent", "now"),
    [
        (Mode.READ, BOB, END - 1),  # the consent gives no Read
        (Mode.APPEND, ALICE, END - 1),  # someone else's access relied on no consent
        (Mode.APPEND, BOB, END),  # ended: it gave nothing
    ],
)
def test_nothing_is_named_when_the_consent_gave_nothing(
    needed: Mode, agent: str, now: float
) -> None:
    assert used(needed, agent, now) == frozenset()


def test_an_acl_without_consents_costs_nothing() -> None:
    plain = compile_ttl(
        f"<#o> a acl:Authorization; acl:agent <{BOB}>; acl:accessTo <./>; acl:mode acl:Append.",
        ACL_URL,
    )
    assert not plain.consented
    assert compile_ttl(GRANTED, ACL_URL).consented
