"""Property: whatever the engine holds (documents loaded for other callers, older versions,
views), a query over a dataset answers exactly what the same query answers over a store
holding only the dataset's documents (as named graphs, and their merge as the default graph,
so a triple two documents hold matches once in it). Random documents, readable parts and queries."""

from __future__ import annotations

import json

import pyoxigraph as ox
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pod_server.query.worker import Document, Engine, Job

ROOT = "http://p/"
TERMS = ["a", "b", "c", "d"]
PREDICATES = ["p", "q"]
JSON = "application/sparql-results+json"

triples = st.lists(
    st.tuples(st.sampled_from(TERMS), st.sampled_from(PREDICATES), st.sampled_from(TERMS)),
    max_size=5,
)
documents = st.lists(triples, min_size=1, max_size=7)
variables = st.sampled_from(["?x", "?y", "?z"])
positions = st.one_of(variables, st.sampled_from([f"<http://t/{t}>" for t in TERMS]))
patterns = st.lists(
    st.tuples(positions, st.sampled_from([f"<http://t/{p}>" for p in PREDICATES]), positions),
    min_size=1,
    max_size=3,
)
SHAPES = [
    "SELECT * WHERE {{ {0} }}",
    "SELECT * WHERE {{ GRAPH ?g {{ {0} }} }}",
    "SELECT * WHERE {{ ?x ?p0 ?y0 OPTIONAL {{ {0} }} }}",
    "SELECT * WHERE {{ ?x ?p0 ?y0 FILTER EXISTS {{ {0} }} }}",
    "SELECT (COUNT(*) AS ?n) WHERE {{ {0} }}",
    "SELECT ?g (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ {0} }} }} GROUP BY ?g",
]


def turtle(doc: list[tuple[str, str, str]]) -> bytes:
    return "".join(f"<http://t/{s}> <http://t/{p}> <http://t/{o}> .\n" for s, p, o in doc).encode()


def answer(
    engine_or_store: Engine | ox.Store,
    query: str,
    graphs: tuple[str, ...],
    load: tuple[Document, ...] = (),
) -> list[str]:
    if isinstance(engine_or_store, Engine):
        job = Job(ROOT, query, ROOT + "q", graphs, graphs, JSON, "text/turtle", 10**7, load)
        result = engine_or_store.run(job)
        assert result.kind == "ok", result
        body = json.loads(result.body)
    else:
        found = engine_or_store.query(query)
        body = json.loads(found.serialize(format=ox.QueryResultsFormat.JSON))
    return sorted(json.dumps(row, sort_keys=True) for row in body["results"]["bindings"])


ENGINE = Engine()  # shared by every example: it holds what earlier ones loaded
VERSION = iter(range(10**9))


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    docs=documents,
    readable=st.lists(st.booleans(), min_size=7, max_size=7),
    pattern=patterns,
    shape=st.sampled_from(SHAPES),
)
def test_an_answer_depends_only_on_the_dataset(
    docs: list[list[tuple[str, str, str]]],
    readable: list[bool],
    pattern: list[tuple[str, str, str]],
    shape: str,
) -> None:
    version = str(next(VERSION))
    # Some documents change between examples (a new version), others stay as they were.
    loaded = tuple(
        Document(f"{ROOT}d{i}", version, "text/turtle", turtle(doc)) for i, doc in enumerate(docs)
    )
    stale = [u for u in ENGINE.held if u not in {d.url for d in loaded}]
    ENGINE.run(
        Job(ROOT, "ASK {}", ROOT + "q", (), (), JSON, "text/turtle", 100, loaded, tuple(stale))
    )
    dataset = tuple(d.url for d, ok in zip(loaded, readable, strict=False) if ok)
    reference = ox.Store()
    for d in loaded:
        if d.url in dataset:
            reference.load(d.body, format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(d.url))
            # SPARQL's default graph: the merge (a set) of the documents, each triple once.
            reference.load(d.body, format=ox.RdfFormat.TURTLE)
    query = shape.format(" . ".join(" ".join(t) for t in pattern))
    assert answer(ENGINE, query, dataset) == answer(reference, query, dataset)
