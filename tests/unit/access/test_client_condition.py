"""Rules limited to apps: ``acl:condition [ a acl:ClientCondition; acl:client <id> ]``
(WAC draft, Access Conditions) grants only requests through one of the named clients."""

from __future__ import annotations

from pod_server.access import Mode
from pod_server.access.evaluate import consents_used
from tests.unit.access._acls import ALICE, BOB, POD, compile_ttl, modes

DOC = POD + "doc"
DOC_ACL = POD + "doc.acl"
APP = "https://app.example/id"
OTHER = "https://other.example/id"


def rule(subject: str, condition: str, mode: str = "acl:Read") -> str:
    return (
        f"<#r> a acl:Authorization; acl:accessTo </doc>; acl:mode {mode}; {subject};"
        f" acl:condition {condition}.\n"
    )


def client(*ids: str) -> str:
    named = ", ".join(f"<{i}>" for i in ids)
    return f"[ a acl:ClientCondition; acl:client {named} ]"


def test_anyone_signed_in_through_the_app() -> None:
    acl = compile_ttl(rule("acl:agentClass acl:AuthenticatedAgent", client(APP)), DOC_ACL)
    assert modes(acl, DOC, agent=ALICE, client=APP) == Mode.READ
    assert modes(acl, DOC, agent=BOB, client=APP) == Mode.READ
    assert modes(acl, DOC, agent=ALICE, client=OTHER) == Mode(0)
    assert modes(acl, DOC, agent=ALICE) == Mode(0)  # no client known
    assert modes(acl, DOC) == Mode(0)  # anonymous


def test_a_person_only_through_the_app() -> None:
    acl = compile_ttl(rule(f"acl:agent <{ALICE}>", client(APP, OTHER), "acl:Write"), DOC_ACL)
    assert modes(acl, DOC, agent=ALICE, client=OTHER) == Mode.WRITE | Mode.APPEND
    assert modes(acl, DOC, agent=BOB, client=APP) == Mode(0)
    assert modes(acl, DOC, agent=ALICE, client="https://third.example/id") == Mode(0)


def test_everyone_through_the_app_needs_a_client() -> None:
    acl = compile_ttl(rule("acl:agentClass foaf:Agent", client(APP)), DOC_ACL)
    assert modes(acl, DOC) == Mode(0)
    assert modes(acl, DOC, agent=BOB, client=APP) == Mode.READ


def test_several_conditions_must_all_hold() -> None:
    both = f"{client(APP, OTHER)}, {client(APP)}"
    acl = compile_ttl(rule("acl:agentClass acl:AuthenticatedAgent", both), DOC_ACL)
    assert modes(acl, DOC, agent=ALICE, client=APP) == Mode.READ
    assert modes(acl, DOC, agent=ALICE, client=OTHER) == Mode(0)


def test_any_client_and_unsignalled_conditions() -> None:
    any_client = "[ a acl:ClientCondition; acl:clientClass foaf:Agent ]"
    acl = compile_ttl(rule(f"acl:agent <{ALICE}>", any_client), DOC_ACL)
    assert modes(acl, DOC, agent=ALICE) == Mode.READ
    # A condition type this server does not signal is not used (WAC draft).
    other = "[ a <https://example.org/TimeCondition> ]"
    acl = compile_ttl(rule(f"acl:agent <{ALICE}>", other), DOC_ACL)
    assert modes(acl, DOC, agent=ALICE) == Mode.READ
    # A client condition naming no client (only an unsupported client group) matches none.
    group = "[ a acl:ClientCondition; acl:clientGroup <https://g.example/apps#all> ]"
    acl = compile_ttl(rule(f"acl:agent <{ALICE}>", group), DOC_ACL)
    assert modes(acl, DOC, agent=ALICE, client=APP) == Mode(0)


def test_a_consent_limited_to_an_app_is_named_only_through_it() -> None:
    acl = compile_ttl(
        "@prefix c: <https://w3id.org/solid-pods/vocab/consent#>.\n"
        + rule(f"acl:agent <{ALICE}>", client(APP)).replace(
            "acl:condition", "c:grantedBy <https://pod.example/consent/1>; acl:condition"
        ),
        DOC_ACL,
    )
    common = {"default_for": None, "agent_webid": ALICE, "origin": None, "groups": {}}
    used = consents_used(acl, DOC, Mode.READ, now=0.0, client_id=APP, **common)  # type: ignore[arg-type]
    assert used == {"https://pod.example/consent/1"}
    assert not consents_used(acl, DOC, Mode.READ, now=0.0, client_id=OTHER, **common)  # type: ignore[arg-type]
