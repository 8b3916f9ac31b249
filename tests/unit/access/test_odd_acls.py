"""ACLs as clients really write them: copied rules, untyped rules, unknown modes."""

from __future__ import annotations

import pytest
from rdflib import Graph

from pod_server.access import Mode, compile_acl
from tests.unit.access._acls import ALICE, BOB, POD, compile_ttl, modes, parse

C = POD + "c/"
DOC = C + "doc"

# What the Inrupt client writes when it gives /c/doc its own ACL: the container's rules
# copied over, keeping IRIs that belong to /c/.acl, with acl:accessTo and acl:default
# both pointing at the document. One copied rule still names another document.
SDK_COPY = f"""
</c/.acl#owner> a acl:Authorization ;
    acl:agent <{ALICE}> ;
    acl:accessTo </c/doc> ; acl:default </c/doc> ;
    acl:mode acl:Read, acl:Write, acl:Control .
</c/.acl#bob-other> a acl:Authorization ;
    acl:agent <{BOB}> ;
    acl:accessTo </c/other> ; acl:default </c/other> ;
    acl:mode acl:Read, acl:Write .
"""


def test_copied_rules_with_foreign_iris_still_grant_what_they_say() -> None:
    acl = compile_ttl(SDK_COPY, DOC + ".acl")
    assert modes(acl, DOC, agent=ALICE) == Mode.READ | Mode.WRITE | Mode.APPEND | Mode.CONTROL


def test_copied_rules_do_not_over_grant() -> None:
    acl = compile_ttl(SDK_COPY, DOC + ".acl")
    # Bob's rule names /c/other, not the document this ACL controls.
    assert modes(acl, DOC, agent=BOB) == Mode(0)
    # acl:default on a document is dropped: nothing can inherit from it.
    assert acl.by_default == {}
    assert all(rule.default == frozenset() for rule in acl.rules)


def test_acl_default_on_a_document_is_harmless_in_a_container_acl() -> None:
    acl = compile_ttl(
        f"""
        <#odd> a acl:Authorization ; acl:agent <{BOB}> ;
            acl:default </c/doc> ; acl:mode acl:Read .
        """,
        C + ".acl",
    )
    assert modes(acl, C, agent=BOB) == Mode(0)
    assert modes(acl, DOC, default_for=C, agent=BOB) == Mode(0)
    assert modes(acl, C + "doc/x", default_for=C, agent=BOB) == Mode(0)


def test_untyped_authorizations_are_ignored() -> None:
    # WAC, Authorization Conformance: an applicable Authorization has "At least one
    # rdf:type property whose object is acl:Authorization."
    acl = compile_ttl(
        """
        <#untyped> acl:agentClass foaf:Agent ; acl:accessTo </c/doc> ; acl:mode acl:Read .
        """,
        DOC + ".acl",
    )
    assert acl.rules == ()
    assert modes(acl, DOC) == Mode(0)


def test_unknown_and_foreign_modes_are_skipped_not_fatal() -> None:
    acl = compile_ttl(
        """
        <#r> a acl:Authorization ; acl:agentClass foaf:Agent ; acl:accessTo </c/doc> ;
            acl:mode acl:Read, acl:write, acl:Access, <https://example.org/Delete>, "Write" .
        """,
        DOC + ".acl",
    )
    assert modes(acl, DOC) == Mode.READ


def test_blank_node_authorizations_work() -> None:
    acl = compile_ttl(
        f"""
        [] a acl:Authorization ; acl:agent <{ALICE}> ; acl:accessTo </c/doc> ;
            acl:mode acl:Append .
        """,
        DOC + ".acl",
    )
    assert modes(acl, DOC, agent=ALICE) == Mode.APPEND


def test_empty_acl_grants_nothing() -> None:
    acl = compile_acl(parse("", DOC + ".acl"), DOC + ".acl")
    assert acl.rules == ()
    assert modes(acl, DOC, agent=ALICE) == Mode(0)


def test_literal_targets_and_agents_grant_nothing() -> None:
    acl = compile_ttl(
        f"""
        <#lit> a acl:Authorization ; acl:agent "{ALICE}" ; acl:accessTo "{DOC}" ;
            acl:mode acl:Read .
        """,
        DOC + ".acl",
    )
    assert modes(acl, DOC, agent=ALICE) == Mode(0)


def test_compiled_acl_holds_plain_strings_only(monkeypatch: pytest.MonkeyPatch) -> None:
    # Evaluation must not touch rdflib: compiled rules hold str, not rdflib terms
    # (whose __eq__/__hash__ are slow), and evaluating works with rdflib disabled.
    acl = compile_ttl(SDK_COPY, DOC + ".acl")
    strings = [s for rule in acl.rules for s in (*rule.agents, *rule.access_to, rule.node)]
    assert strings
    assert {type(s) for s in [*strings, *acl.by_access_to]} == {str}

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("rdflib used at evaluation time")

    monkeypatch.setattr(Graph, "triples", forbidden)
    monkeypatch.setattr(Graph, "objects", forbidden)
    assert (
        modes(acl, DOC, agent=ALICE, origin="https://app.example")
        == Mode.READ | Mode.WRITE | Mode.APPEND | Mode.CONTROL
    )
