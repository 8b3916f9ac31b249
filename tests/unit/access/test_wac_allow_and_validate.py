"""The WAC-Allow header, ACL validation and the keep-someone-in-control check."""

from __future__ import annotations

import re

import pytest

from pod_server.access import Mode, grants_control, validate_acl, wac_allow
from tests.unit.access._acls import ALICE, BOB, POD, compile_ttl, parse

R, W, A, C = Mode.READ, Mode.WRITE, Mode.APPEND, Mode.CONTROL

# WAC, wac-allow HTTP Header (ABNF, with OWS/RWS reduced to what we emit).
_ACCESS_MODES = r'"(?:(?:read|write|append|control)(?: (?:read|write|append|control))*)?"'
_HEADER = re.compile(rf"[A-Za-z]+={_ACCESS_MODES}(?:,[A-Za-z]+={_ACCESS_MODES})*")


@pytest.mark.parametrize(
    ("user", "public", "expected"),
    [
        (R | W | A | C, R, 'user="read write append control",public="read"'),
        (C | A | R, Mode(0), 'user="read append control",public=""'),
        (W, Mode(0), 'user="write append",public=""'),  # Write implies Append
        (Mode(0), Mode(0), 'user="",public=""'),
        (A, A, 'user="append",public="append"'),
    ],
)
def test_wac_allow(user: Mode, public: Mode, expected: str) -> None:
    header = wac_allow(user, public)
    assert header == expected
    assert _HEADER.fullmatch(header)


# -- validate_acl ---------------------------------------------------------------------

ACL_URL = POD + "doc.acl"


def test_a_good_acl_has_no_problems() -> None:
    graph = parse(
        f"""
        <#owner> a acl:Authorization ; acl:agent <{ALICE}> ; acl:accessTo </doc> ;
            acl:mode acl:Read, acl:Write, acl:Control .
        <#app> a acl:Authorization ; acl:origin <https://app.example> ;
            acl:accessTo </doc> ; acl:mode acl:Read, <https://example.org/Delete> .
        """,
        ACL_URL,
    )
    assert validate_acl(graph, ACL_URL) == []


def test_client_copied_rules_are_not_problems() -> None:
    graph = parse(
        f"""
        </.acl#owner> a acl:Authorization ; acl:agent <{ALICE}> ;
            acl:accessTo </doc> ; acl:default </doc> ; acl:mode acl:Control .
        """,
        ACL_URL,
    )
    assert validate_acl(graph, ACL_URL) == []


@pytest.mark.parametrize(
    ("turtle", "problem"),
    [
        (
            "<#r> a acl:Authorization ; acl:agentClass foaf:Agent ; acl:accessTo </doc> .",
            "<#r> has no acl:mode",
        ),
        (
            "<#r> a acl:Authorization ; acl:agentClass foaf:Agent ; acl:mode acl:Read .",
            "<#r> has neither acl:accessTo nor acl:default",
        ),
        (
            "<#r> a acl:Authorization ; acl:accessTo </doc> ; acl:mode acl:Read .",
            "<#r> names no acl:agent, acl:agentGroup, acl:agentClass or acl:origin",
        ),
        (
            "<#r> a acl:Authorization ; acl:agentClass foaf:Agent ; acl:accessTo </doc> ;"
            " acl:mode acl:Read, acl:write .",
            "<#r> has unknown mode <http://www.w3.org/ns/auth/acl#write>",
        ),
        (
            "<#r> a acl:Authorization ; acl:agentClass foaf:Agent ; acl:accessTo </doc> ;"
            ' acl:mode "Read" .',
            "<#r> has no recognised acl:mode (acl:Read, Write, Append, Control)",
        ),
        (
            "<#r> acl:agentClass foaf:Agent ; acl:accessTo </doc> ; acl:mode acl:Read .",
            "<#r> is not typed acl:Authorization; it is ignored",
        ),
        (
            "[] a acl:Authorization ; acl:agentClass foaf:Agent ; acl:accessTo </doc> .",
            "has no acl:mode",
        ),
    ],
)
def test_validate_acl_reports(turtle: str, problem: str) -> None:
    problems = validate_acl(parse(turtle, ACL_URL), ACL_URL)
    assert any(problem in found for found in problems), problems


def test_unknown_acl_mode_is_reported_even_next_to_good_ones() -> None:
    graph = parse(
        "<#r> a acl:Authorization ; acl:agentClass foaf:Agent ; acl:accessTo </doc> ;"
        " acl:mode acl:Raed, acl:Write .",
        ACL_URL,
    )
    assert validate_acl(graph, ACL_URL) == [
        "<#r> has unknown mode <http://www.w3.org/ns/auth/acl#Raed>"
    ]


# -- grants_control -------------------------------------------------------------------

ROOT_ACL = POD + ".acl"


def root_acl(body: str) -> str:
    return f"<#r> a acl:Authorization ; acl:accessTo <./> ; acl:default <./> ; {body} ."


def test_grants_control_to_a_named_agent() -> None:
    acl = compile_ttl(root_acl(f"acl:agent <{ALICE}> ; acl:mode acl:Control"), ROOT_ACL)
    assert grants_control(acl, POD)
    assert grants_control(acl, POD, [BOB, ALICE])
    assert not grants_control(acl, POD, [BOB])


@pytest.mark.parametrize(
    "body",
    [
        f"acl:agent <{ALICE}> ; acl:mode acl:Read, acl:Write",  # no Control
        "acl:agentClass foaf:Agent ; acl:mode acl:Control",  # not a named agent
        f"acl:agentGroup <{POD}groups#admins> ; acl:mode acl:Control",
    ],
)
def test_no_named_agent_in_control(body: str) -> None:
    acl = compile_ttl(root_acl(body), ROOT_ACL)
    assert not grants_control(acl, POD)


def test_control_by_default_only_does_not_count() -> None:
    acl = compile_ttl(
        f"<#r> a acl:Authorization ; acl:default <./> ; acl:agent <{ALICE}> ;"
        " acl:mode acl:Control .",
        ROOT_ACL,
    )
    assert not grants_control(acl, POD)
