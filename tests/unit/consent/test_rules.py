"""The ACL edits of a consent: added rules, copied inherited rules, removal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rdflib import Graph, URIRef

from pod_server.access import Mode, compile_acl, granted_modes
from pod_server.access.validate import validate_acl
from pod_server.consent import model, rules
from pod_server.consent.model import AccessRequest, Target
from pod_server.consent.vocab import CONSENT

T0 = datetime(2026, 1, 1, tzinfo=UTC)
POD = "https://pod.example/"
ALICE = "https://pod.example/profile/card#me"
BANK = "https://bank.example/id#me"
CAROL = "https://carol.example/#me"
ROOT_ACL = f"""
@prefix acl: <http://www.w3.org/ns/auth/acl#> .
<#owner> a acl:Authorization; acl:agent <{ALICE}>; acl:accessTo <./>; acl:default <./>;
    acl:mode acl:Read, acl:Write, acl:Control.
<#carol> a acl:Authorization; acl:agent <{CAROL}>; acl:default <./>; acl:mode acl:Read;
    acl:origin <https://app.example>.
<#only-root> a acl:Authorization; acl:agent <{CAROL}>; acl:accessTo <./>; acl:mode acl:Write.
"""


def given(
    targets: tuple[Target, ...], until: datetime | None = T0 + timedelta(days=90)
) -> model.ConsentRecord:
    request = AccessRequest(BANK, targets, (), (), until)
    record = model.new_record("r1", POD + ".well-known/consent/r1", "/", ALICE, request, T0)
    return model.approve(record, ALICE, T0)


def modes(acl: Graph, acl_url: str, target: str, agent: str, now: datetime, **kw: object) -> Mode:
    return granted_modes(
        compile_acl(acl, acl_url),
        target,
        default_for=kw.get("default_for"),  # type: ignore[arg-type]
        agent_webid=agent,
        authenticated=True,
        origin=kw.get("origin"),  # type: ignore[arg-type]
        groups={},
        now=now.timestamp(),
    )


def root() -> rules.Inherited:
    graph = Graph().parse(data=ROOT_ACL, format="turtle", publicID=POD + ".acl")
    return rules.Inherited(graph, POD + ".acl", POD)


def test_a_grant_on_a_container_without_acl_copies_the_inherited_rules() -> None:
    record = given((Target(POD + "bank/", Mode.APPEND),))
    acl = rules.granted_acl(None, record, 0, root())
    url = POD + "bank/.acl"
    assert validate_acl(acl, url) == []
    now = T0 + timedelta(days=1)
    # The owner keeps what the root gave her there and below; carol keeps her origin rule.
    assert (
        modes(acl, url, POD + "bank/", ALICE, now)
        == Mode.READ | Mode.WRITE | Mode.APPEND | Mode.CONTROL
    )
    assert modes(acl, url, POD + "bank/x", ALICE, now, default_for=POD + "bank/") == (
        Mode.READ | Mode.WRITE | Mode.APPEND | Mode.CONTROL
    )
    assert modes(acl, url, POD + "bank/", CAROL, now, origin="https://app.example") == Mode.READ
    assert modes(acl, url, POD + "bank/", CAROL, now, origin="https://evil.example") == Mode(0)
    # A rule of the root's own (no acl:default) is not inherited, so not copied.
    assert Mode.WRITE not in modes(acl, url, POD + "bank/", CAROL, now)
    # The bank: Append, no Read, on the container and below, until the end.
    assert modes(acl, url, POD + "bank/", BANK, now) == Mode.APPEND
    assert modes(acl, url, POD + "bank/t1", BANK, now, default_for=POD + "bank/") == Mode.APPEND
    assert modes(acl, url, POD + "bank/", BANK, T0 + timedelta(days=90)) == Mode(0)
    copies = set(acl.subjects(CONSENT.copiedFrom, URIRef(POD + ".acl")))
    assert copies == {URIRef(url + "#inherited-0"), URIRef(url + "#inherited-1")}


def test_the_rule_itself() -> None:
    record = given((Target(POD + "notes/n1", Mode.READ | Mode.APPEND),), until=None)
    acl = rules.granted_acl(None, record, 0, None)
    node = URIRef(POD + "notes/n1.acl#consent-r1-0")
    assert set(acl.subjects()) == {node}
    assert acl.value(node, CONSENT.grantedBy) == URIRef(record.url)
    assert acl.value(node, CONSENT.until) is None  # no end
    assert (node, URIRef("http://www.w3.org/ns/auth/acl#default"), None) not in acl  # a document
    assert modes(acl, POD + "notes/n1.acl", POD + "notes/n1", BANK, T0) == Mode.READ | Mode.APPEND


def test_a_grant_adds_to_an_existing_acl_and_removal_leaves_the_rest() -> None:
    url = POD + "bank/.acl"
    own = Graph().parse(data=ROOT_ACL, format="turtle", publicID=url)
    record = given((Target(POD + "bank/", Mode.APPEND),))
    acl = rules.granted_acl(own, record, 0, root())
    assert len(acl) == len(own) + len(rules.authorization(record, 0, record.granted[0]))
    assert not set(acl.subjects(CONSENT.copiedFrom, None))  # nothing copied: it had its own
    back = rules.revoked_acl(acl, record.url)
    assert set(back) == set(own)
    assert modes(back, url, POD + "bank/", BANK, T0) == Mode(0)


def test_copies_of_other_consents_rules_are_reported_and_removed_with_them() -> None:
    outer = given((Target(POD + "bank/", Mode.APPEND),))
    outer_acl = rules.granted_acl(None, outer, 0, root())
    inner_request = AccessRequest(CAROL, (Target(POD + "bank/2026/", Mode.READ),), (), (), None)
    inner = model.approve(
        model.new_record("r2", POD + ".well-known/consent/r2", "/", ALICE, inner_request, T0),
        ALICE,
        T0,
    )
    inherited = rules.Inherited(outer_acl, POD + "bank/.acl", POD + "bank/")
    inner_acl = rules.granted_acl(None, inner, 0, inherited)
    url = POD + "bank/2026/.acl"
    now = T0 + timedelta(days=1)
    assert modes(inner_acl, url, POD + "bank/2026/", BANK, now) == Mode.APPEND
    assert modes(inner_acl, url, POD + "bank/2026/", CAROL, now) == Mode.READ
    copied = rules.copied_grants(inner_acl)
    assert list(copied) == [outer.url]
    assert modes(
        rules.revoked_acl(inner_acl, outer.url), url, POD + "bank/2026/", BANK, now
    ) == Mode(0)
    assert rules.rule_acls(outer) == [POD + "bank/.acl"]
