"""RDFS entailment for queries: the vocabularies' hierarchies closed, and what the worker
adds to a document's graph (only there: a dataset without the document lacks it)."""

from __future__ import annotations

import json

import pytest
from rdflib import Graph

from pod_server.query.entailment import closed, for_setting, hierarchy
from pod_server.query.worker import Document, Engine, Hierarchy, Job
from pod_server.settings import Settings, SettingsError, validate

BANK = "https://w3id.org/solid-pods/vocab/bank#"
SCHEMA = "http://schema.org/"
JSON = "application/sparql-results+json"


def test_closure_is_transitive_and_survives_cycles() -> None:
    assert closed([("a", "b"), ("b", "c"), ("c", "a"), ("d", "d")]) == (
        ("a", "b"),
        ("a", "c"),
        ("b", "a"),
        ("b", "c"),
        ("c", "a"),
        ("c", "b"),
    )
    assert closed([]) == ()


def test_hierarchy_reads_subclass_subproperty_and_equivalences() -> None:
    ontology = Graph().parse(
        data="""@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
        @prefix owl: <http://www.w3.org/2002/07/owl#> .
        <http://x/A> rdfs:subClassOf <http://x/B> . <http://x/B> owl:equivalentClass <http://x/C> .
        <http://x/p> rdfs:subPropertyOf <http://x/q> . _:b rdfs:subClassOf <http://x/A> .""",
        format="turtle",
    )
    found = hierarchy(ontology)
    assert set(found.classes) == {
        ("http://x/A", "http://x/B"),
        ("http://x/A", "http://x/C"),
        ("http://x/B", "http://x/C"),
        ("http://x/C", "http://x/B"),
    }
    assert found.properties == (("http://x/p", "http://x/q"),)


def test_the_vocabularies_say_a_current_account_is_a_bank_account() -> None:
    vocabularies = for_setting("rdfs")
    assert vocabularies is not None and for_setting("") is None
    assert (BANK + "CurrentAccount", SCHEMA + "BankAccount") in vocabularies.classes
    assert (BANK + "amount", SCHEMA + "amount") in vocabularies.properties


def test_the_setting_takes_rdfs_or_nothing() -> None:
    validate(Settings(query_entailment="rdfs"))
    with pytest.raises(SettingsError, match="query_entailment"):
        validate(Settings(query_entailment="owl"))


def test_the_worker_entails_within_each_documents_graph() -> None:
    entail = Hierarchy(
        ((BANK + "CurrentAccount", SCHEMA + "BankAccount"),),
        ((BANK + "amount", SCHEMA + "amount"),),
    )
    doc = Document(
        "http://p/a",
        "1",
        "text/turtle",
        f"<#acct> a <{BANK}CurrentAccount>; <{BANK}amount> 5 .".encode(),
    )
    other = Document("http://p/b", "1", "text/turtle", b"<#x> <http://ex/v> 1 .")
    engine = Engine()

    def ask(query: str, graphs: tuple[str, ...], **kw: object) -> set[str]:
        job = Job(
            "http://p/", query, "http://p/q", graphs, graphs, JSON, "text/turtle", 10**6, **kw
        )  # type: ignore[arg-type]
        answer = engine.run(job)
        assert answer.kind == "ok", answer
        rows = json.loads(answer.body)["results"]["bindings"]
        return {cell["value"] for row in rows for cell in row.values()}

    both = ("http://p/a", "http://p/b")
    kinds = f"SELECT ?x WHERE {{ ?x a <{SCHEMA}BankAccount> }}"
    assert ask(kinds, both, load=(doc, other), entail=entail) == {"http://p/a#acct"}
    assert ask(f"SELECT ?v WHERE {{ ?x <{SCHEMA}amount> ?v }}", both) == {"5"}
    assert ask(f"SELECT ?g WHERE {{ GRAPH ?g {{ ?x a <{SCHEMA}BankAccount> }} }}", both) == {
        "http://p/a"
    }
    assert ask(kinds, ("http://p/b",)) == set()  # the entailment is the document's
    plain = Engine()  # off (the default): nothing added
    job = Job("http://p/", kinds, "http://p/q", both, both, JSON, "text/turtle", 10**6, (doc,))
    assert json.loads(plain.run(job).body)["results"]["bindings"] == []
