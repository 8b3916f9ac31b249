"""The engine answers over the dataset it is given and nothing else, whatever else it holds
(documents loaded for another caller): no pattern, OPTIONAL, EXISTS, aggregate, DESCRIBE or
dataset clause in the text reaches a graph outside it."""

from __future__ import annotations

import json
from dataclasses import replace

import pyoxigraph as ox
import pytest

from pod_server.query.worker import MAX_VIEWS, Document, Engine, Job

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
    assert engine._target(engine.stores[ROOT], job) == (
        engine.stores[ROOT],
        {"default_graph": ox.DefaultGraph()},
    )
    assert values(run(engine, "SELECT ?v { ?s <http://ex/v> ?v }", graphs=both), "v") == {
        "1",
        "7",
        "99",
    }
    assert values(run(engine, "SELECT ?g { GRAPH ?g { } }", graphs=both), "g") == set(both)
    part = Job(ROOT, "ASK {}", "http://p/q", (OPEN,), both, JSON, "text/turtle", 100)
    assert "default_graph" in engine._target(engine.stores[ROOT], part)[1]
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
    assert other._target(other.stores["http://q/"], job)[1] == {"default_graph": ox.DefaultGraph()}


def test_a_callers_part_of_a_storage_becomes_a_view_rebuilt_when_a_document_changes() -> None:
    engine = Engine()
    docs = tuple(
        Document(f"http://p/d{i}", "1", "text/turtle", f"<#s> <http://ex/v> {i} .".encode())
        for i in range(6)
    )
    part = tuple(d.url for d in docs[:4])
    query = "SELECT ?v ?g { { ?s <http://ex/v> ?v } UNION { GRAPH ?g { } } }"
    found = run(engine, query, graphs=part, load=docs)
    assert values(found, "v") == {"0", "1", "2", "3"} and values(found, "g") == set(part)
    assert len(engine.views) == 1
    changed = Document("http://p/d0", "2", "text/turtle", b"<#s> <http://ex/v> 42 .")
    assert values(run(engine, query, graphs=part, load=(changed,)), "v") == {"42", "1", "2", "3"}
    assert len(engine.views) == 2  # a new version, a new view (the old one ages out)
    for i in range(5):  # five different parts: at most MAX_VIEWS views are kept
        narrow = tuple(d.url for d in docs if d.url != f"http://p/d{i}")[:4]
        expected = {"42" if url == "http://p/d0" else url[-1] for url in narrow}
        assert values(run(engine, query, graphs=narrow), "v") == expected
    assert len(engine.views) == MAX_VIEWS


def test_a_triple_two_documents_hold_matches_once_in_the_default_graph() -> None:
    """SPARQL's default graph is the RDF merge of the dataset's graphs: a set. Oxigraph's
    union default graph and default graph lists are bag unions; the engine keeps the merge."""
    engine = Engine()
    same = b"<http://s> <http://p> 1 ."
    docs = tuple(Document(f"{ROOT}d{i}", "1", "text/turtle", same) for i in range(5))
    all5 = tuple(d.url for d in docs)
    run(engine, "ASK {}", load=docs)
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    assert values(run(engine, count, graphs=all5), "n") == {"1"}  # the store's own
    assert values(run(engine, count, graphs=all5[:4]), "n") == {"1"}  # a view
    narrowed = Job(ROOT, count, ROOT + "q", all5[:2], all5[:3], JSON, "text/turtle", 10**6)
    assert values(json.loads(engine.run(narrowed).body), "n") == {"1"}  # FROM, FROM NAMED
    in_graphs = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    assert values(json.loads(engine.run(replace(narrowed, query=in_graphs)).body), "n") == {"3"}
    # Dropping documents keeps the triple while one still holds it, then drops it.
    run(engine, "ASK {}", graphs=all5[4:], drop=all5[:4])
    assert values(run(engine, count, graphs=all5[4:]), "n") == {"1"}
    blank = Document(f"{ROOT}b", "1", "text/turtle", b"[] <http://p> 2 .")
    run(engine, "ASK {}", graphs=(), drop=all5[4:], load=(blank,))
    run(engine, "ASK {}", graphs=(), drop=(blank.url,))
    assert not list(engine.stores[ROOT])  # blank nodes too
