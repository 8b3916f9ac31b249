"""The engine answers over the dataset it is given and nothing else, whatever else it holds
(documents loaded for another caller): no pattern, OPTIONAL, EXISTS, aggregate, DESCRIBE or
dataset clause in the text reaches a graph outside it."""

from __future__ import annotations

import json

import pytest

from pod_server.query.worker import Document, Engine, Job

ROOT, OPEN, SECRET = "http://p/", "http://p/open", "http://p/secret"
DOCS = (
    Document(OPEN, "1", "text/turtle", b"<#a> <http://ex/v> 1 ; <http://ex/knows> <secret#b> ."),
    Document(SECRET, "1", "text/turtle", b"<#b> <http://ex/v> 99 . <open#a> <http://ex/v> 7 ."),
)
JSON = "application/sparql-results+json"


def run(engine: Engine, query: str, graphs: tuple[str, ...] = (OPEN,), **kw: object) -> object:
    job = Job(
        ROOT, query, "http://p/sparql", graphs, graphs, JSON, "application/n-triples", 10**6, **kw
    )  # type: ignore[arg-type]
    answer = engine.run(job)
    assert answer.kind == "ok", answer
    return json.loads(answer.body) if answer.media_type == JSON else answer.body.decode()


@pytest.fixture
def engine() -> Engine:
    engine = Engine()
    run(engine, "ASK {}", load=DOCS)
    assert engine.held == {OPEN: "1", SECRET: "1"}
    return engine


def values(result: object, name: str) -> set[str]:
    return {row[name]["value"] for row in result["results"]["bindings"] if name in row}  # type: ignore[index]


@pytest.mark.parametrize(
    ("query", "name", "expected"),
    [
        ("SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", "g", {OPEN}),
        ("SELECT ?v WHERE { ?s <http://ex/v> ?v }", "v", {"1"}),
        (
            "SELECT ?v WHERE { ?s <http://ex/knows> ?o OPTIONAL { ?o <http://ex/v> ?v } }",
            "v",
            set(),
        ),
        ("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "n", {"2"}),
        ("SELECT (SUM(?v) AS ?n) WHERE { GRAPH ?g { ?s <http://ex/v> ?v } }", "n", {"1"}),
        (
            "SELECT ?s WHERE { ?s ?p ?o FILTER EXISTS { ?x <http://ex/v> 99 } }",
            "s",
            set(),
        ),
        (f"SELECT ?v FROM <{SECRET}> WHERE {{ ?s <http://ex/v> ?v }}", "v", {"1"}),
        (
            f"SELECT ?v WHERE {{ GRAPH <{SECRET}> {{ ?s <http://ex/v> ?v }} }}",
            "v",
            set(),
        ),
    ],
)
def test_nothing_outside_the_dataset(
    engine: Engine, query: str, name: str, expected: set[str]
) -> None:
    assert values(run(engine, query), name) == expected


def test_describe_and_construct_stay_inside(engine: Engine) -> None:
    described = run(engine, "DESCRIBE <http://p/secret#b> <http://p/open#a>")
    assert "99" not in described and '"7"' not in described  # type: ignore[operator]
    built = run(engine, "CONSTRUCT WHERE { ?s ?p ?o }")
    assert "http://p/open#a" in built and "99" not in built  # type: ignore[operator]


def test_an_empty_dataset_answers_nothing(engine: Engine) -> None:
    assert run(engine, "ASK { ?s ?p ?o }", graphs=())["boolean"] is False  # type: ignore[index]
    assert run(engine, "ASK { GRAPH ?g { ?s ?p ?o } }", graphs=())["boolean"] is False  # type: ignore[index]


def test_reloading_replaces_a_document_and_dropping_removes_it(engine: Engine) -> None:
    newer = Document(OPEN, "2", "text/turtle", b"<#z> <http://ex/v> 5 .")
    assert values(run(engine, "SELECT ?v { ?s <http://ex/v> ?v }", load=(newer,)), "v") == {"5"}
    run(engine, "ASK {}", drop=(OPEN,))
    assert engine.held == {SECRET: "1"}
    assert values(run(engine, "SELECT ?v { ?s <http://ex/v> ?v }"), "v") == set()


def test_malformed_query_large_result_and_unparsable_document(engine: Engine) -> None:
    job = Job(ROOT, "SELEC *", "http://p/q", (OPEN,), (OPEN,), JSON, "text/turtle", 100)
    answer = engine.run(job)
    assert answer.kind == "syntax" and answer.message
    job = Job(
        ROOT,
        "CONSTRUCT WHERE { ?s ?p ?o }",
        "http://p/q",
        (OPEN,),
        (OPEN,),
        JSON,
        "text/turtle",
        10,
    )
    assert engine.run(job).kind == "large"
    bad = Document("http://p/bad", "1", "text/turtle", b"<a> <b> .")
    answer = engine.run(Job(ROOT, "ASK {}", "http://p/q", (), (), JSON, "text/turtle", 100, (bad,)))
    assert answer.kind == "unparsable" and answer.unparsable == ("http://p/bad",)
    assert "http://p/bad" not in engine.held


def test_the_whole_storage_is_its_union_graph_and_a_part_is_listed(engine: Engine) -> None:
    both = (OPEN, SECRET)
    job = Job(ROOT, "ASK {}", "http://p/q", both, both, JSON, "text/turtle", 100)
    assert engine._dataset(job) == {"use_default_graph_as_union": True}
    assert values(run(engine, "SELECT ?v { ?s <http://ex/v> ?v }", graphs=both), "v") == {
        "1",
        "7",
        "99",
    }
    assert values(run(engine, "SELECT ?g { GRAPH ?g { } }", graphs=both), "g") == set(both)
    part = Job(ROOT, "ASK {}", "http://p/q", (OPEN,), both, JSON, "text/turtle", 100)
    assert "default_graph" in engine._dataset(part)
    other = Engine()
    run(other, "ASK {}", load=DOCS)
    elsewhere = Document("http://q/x", "1", "text/turtle", b"<#x> <http://ex/v> 5 .")
    job = Job(
        "http://q/",
        "ASK {}",
        "http://q/q",
        ("http://q/x",),
        ("http://q/x",),
        JSON,
        "text/turtle",
        100,
        (elsewhere,),
    )
    assert other.run(job).kind == "ok"
    assert other._dataset(job) == {"use_default_graph_as_union": True}  # other storage's alone
