"""Who a rule grants to: agents, agent classes, groups, and origin restrictions."""

from __future__ import annotations

import pytest

from pod_server.access import Mode, group_members, groups_referenced
from tests.unit.access._acls import ALICE, BOB, CAROL, POD, compile_ttl, modes, parse

DOC = POD + "doc"
DOC_ACL = POD + "doc.acl"
APP = "https://app.example"
GROUPS_DOC = POD + "groups"
FRIENDS = GROUPS_DOC + "#friends"


def doc_acl(subject: str, mode: str = "acl:Read") -> str:
    return f"""
    <#rule> a acl:Authorization ; acl:accessTo </doc> ; acl:mode {mode} ; {subject} .
    """


# -- agent classes --------------------------------------------------------------------


def test_foaf_agent_is_everyone_including_anonymous() -> None:
    acl = compile_ttl(doc_acl("acl:agentClass foaf:Agent"), DOC_ACL)
    assert modes(acl, DOC) == Mode.READ
    assert modes(acl, DOC, agent=ALICE) == Mode.READ


def test_authenticated_agent_is_anyone_logged_in() -> None:
    acl = compile_ttl(doc_acl("acl:agentClass acl:AuthenticatedAgent"), DOC_ACL)
    assert modes(acl, DOC) == Mode(0)
    assert modes(acl, DOC, agent=ALICE) == Mode.READ
    # Authenticated without a WebID (e.g. a client-credentials token) still counts.
    assert modes(acl, DOC, authenticated=True) == Mode.READ


def test_unknown_agent_class_grants_nothing() -> None:
    acl = compile_ttl(doc_acl("acl:agentClass <https://example.org/Robots>"), DOC_ACL)
    assert modes(acl, DOC, agent=ALICE) == Mode(0)


# -- agents ---------------------------------------------------------------------------


def test_agent_matches_only_that_webid() -> None:
    acl = compile_ttl(doc_acl(f"acl:agent <{ALICE}>", "acl:Read, acl:Write"), DOC_ACL)
    assert modes(acl, DOC, agent=ALICE) == Mode.READ | Mode.WRITE | Mode.APPEND
    assert modes(acl, DOC, agent=BOB) == Mode(0)
    assert modes(acl, DOC) == Mode(0)


def test_modes_from_several_rules_add_up() -> None:
    acl = compile_ttl(
        f"""
        <#read> a acl:Authorization ; acl:accessTo </doc> ; acl:mode acl:Read ;
            acl:agentClass foaf:Agent .
        <#control> a acl:Authorization ; acl:accessTo </doc> ; acl:mode acl:Control ;
            acl:agent <{ALICE}> .
        """,
        DOC_ACL,
    )
    assert modes(acl, DOC, agent=ALICE) == Mode.READ | Mode.CONTROL
    assert modes(acl, DOC, agent=BOB) == Mode.READ


def test_a_webid_without_authentication_is_a_programming_error() -> None:
    acl = compile_ttl(doc_acl(f"acl:agent <{ALICE}>"), DOC_ACL)
    with pytest.raises(ValueError):
        modes(acl, DOC, agent=ALICE, authenticated=False)


# -- groups ---------------------------------------------------------------------------

GROUPS_TTL = f"""
<#friends> a vcard:Group ; vcard:hasMember <{ALICE}>, <{BOB}>, "not an IRI" .
<#family> a vcard:Group ; vcard:hasMember <{CAROL}> .
"""


def test_group_members_reads_vcard_has_member() -> None:
    graph = parse(GROUPS_TTL, GROUPS_DOC)
    assert group_members(graph, FRIENDS) == {ALICE, BOB}
    assert group_members(graph, GROUPS_DOC + "#family") == {CAROL}
    assert group_members(graph, GROUPS_DOC + "#nobody") == frozenset()


def test_groups_referenced_names_the_documents_to_fetch() -> None:
    acl = compile_ttl(
        doc_acl(f"acl:agentGroup <{FRIENDS}>, </groups#family>, <https://x.example/g#a>"),
        DOC_ACL,
    )
    assert acl.groups == {FRIENDS, GROUPS_DOC + "#family", "https://x.example/g#a"}
    assert groups_referenced(acl) == {GROUPS_DOC, "https://x.example/g"}


def test_group_membership_grants() -> None:
    acl = compile_ttl(doc_acl(f"acl:agentGroup <{FRIENDS}>"), DOC_ACL)
    groups = {FRIENDS: group_members(parse(GROUPS_TTL, GROUPS_DOC), FRIENDS)}
    assert modes(acl, DOC, agent=BOB, groups=groups) == Mode.READ
    assert modes(acl, DOC, agent=CAROL, groups=groups) == Mode(0)
    assert modes(acl, DOC, groups=groups) == Mode(0)


def test_a_group_not_fetched_has_no_members() -> None:
    acl = compile_ttl(doc_acl(f"acl:agentGroup <{FRIENDS}>"), DOC_ACL)
    assert modes(acl, DOC, agent=ALICE) == Mode(0)


# -- origins --------------------------------------------------------------------------


def origin_acl(subject: str = f"acl:agent <{ALICE}>") -> str:
    return doc_acl(f"{subject} ; acl:origin <{APP}>, <https://other.example/>", "acl:Write")


@pytest.mark.parametrize(
    ("origin", "expected"),
    [
        (APP, Mode.WRITE | Mode.APPEND),  # listed
        ("https://other.example", Mode.WRITE | Mode.APPEND),  # listed with a trailing /
        ("HTTPS://APP.EXAMPLE", Mode.WRITE | Mode.APPEND),  # case-insensitive
        ("https://evil.example", Mode(0)),  # not listed
        ("https://app.example:8443", Mode(0)),  # another port is another origin
        ("null", Mode(0)),  # opaque origin (sandboxed frame, file:)
        (None, Mode.WRITE | Mode.APPEND),  # no Origin header: acl:origin not considered
    ],
)
def test_origin_restricts_the_rule_that_names_it(origin: str | None, expected: Mode) -> None:
    acl = compile_ttl(origin_acl(), DOC_ACL)
    assert modes(acl, DOC, agent=ALICE, origin=origin) == expected


def test_origin_does_not_widen_who_is_granted() -> None:
    acl = compile_ttl(origin_acl(), DOC_ACL)
    assert modes(acl, DOC, agent=BOB, origin=APP) == Mode(0)
    assert modes(acl, DOC, origin=APP) == Mode(0)


def test_rules_without_origin_accept_any_origin() -> None:
    acl = compile_ttl(doc_acl(f"acl:agent <{ALICE}>"), DOC_ACL)
    assert modes(acl, DOC, agent=ALICE, origin="https://evil.example") == Mode.READ


def test_origin_only_restricts_its_own_rule() -> None:
    acl = compile_ttl(
        f"""
        <#anywhere> a acl:Authorization ; acl:accessTo </doc> ; acl:mode acl:Read ;
            acl:agent <{ALICE}> .
        <#app-only> a acl:Authorization ; acl:accessTo </doc> ; acl:mode acl:Write ;
            acl:agent <{ALICE}> ; acl:origin <{APP}> .
        """,
        DOC_ACL,
    )
    assert modes(acl, DOC, agent=ALICE, origin="https://evil.example") == Mode.READ
    assert modes(acl, DOC, agent=ALICE, origin=APP) == Mode.READ | Mode.WRITE | Mode.APPEND


def test_public_rules_ignore_origin() -> None:
    # WAC: the origin must match "when the required access mode is not available to
    # all agents (acl:agentClass foaf:Agent)".
    acl = compile_ttl(origin_acl("acl:agentClass foaf:Agent"), DOC_ACL)
    assert modes(acl, DOC, origin="https://evil.example") == Mode.WRITE | Mode.APPEND


def test_authenticated_class_and_groups_are_origin_restricted_too() -> None:
    acl = compile_ttl(
        origin_acl(f"acl:agentClass acl:AuthenticatedAgent ; acl:agentGroup <{FRIENDS}>"),
        DOC_ACL,
    )
    groups = {FRIENDS: frozenset({BOB})}
    assert modes(acl, DOC, agent=BOB, origin="https://evil.example", groups=groups) == Mode(0)
    assert modes(acl, DOC, agent=BOB, origin=APP, groups=groups) == Mode.WRITE | Mode.APPEND


@pytest.mark.parametrize("value", ['"https://app.example"', "[]"])
def test_odd_origin_values_keep_the_rule_restricted(value: str) -> None:
    acl = compile_ttl(
        doc_acl(f"acl:agent <{ALICE}> ; acl:origin {value}"),
        DOC_ACL,
    )
    assert modes(acl, DOC, agent=ALICE, origin="https://evil.example") == Mode(0)
    expected = Mode.READ if value.startswith('"') else Mode(0)
    assert modes(acl, DOC, agent=ALICE, origin=APP) == expected


def test_origin_alone_grants_nothing() -> None:
    acl = compile_ttl(doc_acl(f"acl:origin <{APP}>"), DOC_ACL)
    assert acl.rules == ()
    assert modes(acl, DOC, origin=APP) == Mode(0)
    assert modes(acl, DOC, agent=ALICE, origin=APP) == Mode(0)


def test_a_rule_naming_agents_and_groups_matches_either() -> None:
    acl = compile_ttl(doc_acl(f"acl:agent <{ALICE}> ; acl:agentGroup <{FRIENDS}>"), DOC_ACL)
    groups = {FRIENDS: frozenset({BOB})}
    assert modes(acl, DOC, agent=ALICE, groups=groups) == Mode.READ
    assert modes(acl, DOC, agent=BOB, groups=groups) == Mode.READ
    assert modes(acl, DOC, agent=CAROL, groups=groups) == Mode(0)
