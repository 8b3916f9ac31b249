"""``reindex`` and ``verify``: what rebuilding and checking the query index mean here.

There is no persistent index: each query worker holds copies of documents, each under the
etag it was loaded at, and before every query the server reloads any document whose etag
in storage differs. So the index cannot lag behind a write made through the server. What
can go wrong is a copy that no longer matches the bytes stored under the same etag
(storage edited or restored behind the server's back, an engine fault). Hence:

- ``reindex``: give every RDF document of a storage a new etag (the backend's ``Touch``,
  no byte changes). Every worker of every server process and host compares etags before
  its next query, so each drops its copy and reloads from storage: the etag is the
  generation counter they all see. Side effects, stated: clients holding the old etags get
  412 on conditional writes and re-read; subscribers may hear of an unchanged update.
- ``verify``: load a storage's documents into a fresh engine the way the endpoint does
  and compare each graph with what rdflib parses from the stored bytes (isomorphic), and
  the default graph with their merge. Problems are returned as lines.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyoxigraph as ox
from rdflib import Graph
from rdflib.compare import isomorphic

from pod_server.ldp import conneg, rdf
from pod_server.ldp.media_types import N_TRIPLES, TURTLE
from pod_server.query.readable import documents
from pod_server.query.worker import PARSED, Document, Engine, Job
from pod_server.storage.base import Backend, Meta, Touch

BATCH = 1000  # documents touched per transaction


async def reindex(backend: Backend, root: str) -> int:
    """Give each RDF document under ``root`` a new etag; how many there were."""
    found = await documents(backend, root)
    for start in range(0, len(found), BATCH):
        await backend.apply([], [Touch(m.path) for m in found[start : start + BATCH]])
    return len(found)


async def _stored(backend: Backend, meta: Meta, url: str) -> tuple[Document, Graph]:
    """The document as the endpoint sends it to a worker, and rdflib's reading of it."""
    stored = await backend.read(meta.path)
    try:
        data = await stored.read_all()
    finally:
        stored.close()
    media = conneg.parse_content_type(meta.content_type)[0]
    graph = rdf.parse(data, media, url)
    if media in PARSED:
        return Document(url, meta.etag, media, data), graph
    return Document(url, meta.etag, N_TRIPLES, rdf.serialize(graph, N_TRIPLES, None)), graph


def _graph_of(store: ox.Store, graph: ox.NamedNode | ox.DefaultGraph) -> Graph:
    triples = [
        ox.Triple(q.subject, q.predicate, q.object)
        for q in store.quads_for_pattern(None, None, None, graph)
    ]
    text = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
    return Graph().parse(data=text or b"", format="nt")


async def verify(backend: Backend, root: str, base: str) -> tuple[int, list[str]]:
    """How many documents, and the problems found loading the storage at ``root``
    (documents named ``base`` + path) into a fresh engine: none when the engine holds
    exactly what storage holds."""
    problems: list[str] = []
    loaded: list[Document] = []
    expected: dict[str, Graph] = {}
    listed = await documents(backend, root)
    for meta in listed:
        url = base + meta.path
        try:
            document, graph = await _stored(backend, meta, url)
        except Exception as exc:  # a document storage holds but cannot be read as RDF
            problems.append(f"{meta.path}: not readable as {meta.content_type}: {exc}")
            continue
        loaded.append(document)
        expected[url] = graph
    engine = Engine()
    answer = engine.run(
        Job(
            base + root,
            "ASK {}",
            base + root,
            (),
            (),
            "text/csv",
            TURTLE,
            100,
            tuple(loaded),
        )
    )
    problems += [f"{u[len(base) :]}: the engine could not parse it" for u in answer.unparsable]
    store = engine.stores.get(base + root, ox.Store())
    merged = Graph()
    for url, graph in expected.items():
        if url in answer.unparsable:
            continue
        held = _graph_of(store, ox.NamedNode(url))
        if not isomorphic(held, graph):
            problems.append(
                f"{url[len(base) :]}: the engine holds {len(held)} triples,"
                f" storage {len(graph)}, not the same graph"
            )
        merged += held
    default = _graph_of(store, ox.DefaultGraph())
    if not isomorphic(default, merged):
        problems.append(
            f"the default graph holds {len(default)} triples, the documents' merge {len(merged)}"
        )
    return len(listed), problems


def report(problems: Sequence[str], count: int) -> str:
    if not problems:
        return f"{count} documents: the query engine holds exactly what storage holds"
    return "\n".join([f"{len(problems)} problems in {count} documents:", *problems])
