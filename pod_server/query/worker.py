"""The query engine's process: an Oxigraph store of documents, one graph per document.

Oxigraph evaluates a query in Rust, where no Python exception can reach it: the only way
to really stop an over-long evaluation is to end the process doing it. So queries run in
worker processes (``pool``) that the server kills at the time limit and starts afresh.

Each worker keeps the documents it was sent (graph = document URL, with the version it
holds); before each query the server sends it the readable documents it lacks or holds
in an older version, and the graphs to drop. This module imports only small leaf modules
of the server (media types, the worker-pipe reader): a worker starts in a fraction of a
second.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

import pyoxigraph as ox
from rdflib.namespace import RDF

from pod_server.ldp.media_types import JSON_LD, N_TRIPLES, RDF_XML, TURTLE
from pod_server.ldp.process_lane import jobs

# Result formats by media type: solutions and booleans, then graphs (CONSTRUCT/DESCRIBE).
RESULTS = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
GRAPHS = {
    TURTLE: ox.RdfFormat.TURTLE,
    JSON_LD: ox.RdfFormat.JSON_LD,
    N_TRIPLES: ox.RdfFormat.N_TRIPLES,
    RDF_XML: ox.RdfFormat.RDF_XML,
}
# A dataset of this many graphs or more, part of a storage, gets a store of its own (a view):
# Oxigraph scans a list of graphs as one scan per graph, a store's union graph as one.
VIEW_MIN_GRAPHS = 4
MAX_VIEWS = 4  # per worker, least recently used dropped first
# Stored syntaxes the worker parses itself; others come as N-Triples from the server.
PARSED = {
    TURTLE: ox.RdfFormat.TURTLE,
    N_TRIPLES: ox.RdfFormat.N_TRIPLES,
    RDF_XML: ox.RdfFormat.RDF_XML,
}


@dataclass(frozen=True, slots=True)
class Document:
    """One document to (re)load: its graph name, version, syntax and bytes."""

    url: str
    etag: str
    media_type: str
    body: bytes


@dataclass(frozen=True, slots=True)
class Hierarchy:
    """What RDFS entailment adds to a document here (rules rdfs9 and rdfs7 with the
    vocabularies' rdfs:subClassOf / rdfs:subPropertyOf closed transitively): for each
    ``(sub, super)`` class pair, ``?x a super`` beside ``?x a sub``; for each property
    pair, ``?s super ?o`` beside ``?s sub ?o``. Added within the document's own graph, so
    an entailed triple is in a dataset exactly when the document it follows from is."""

    classes: tuple[tuple[str, str], ...] = ()
    properties: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Job:
    """Load, drop, then run ``query`` over ``default`` (merged) and ``named`` graphs, all
    documents of the storage at ``root`` (a URL)."""

    root: str
    query: str
    base: str
    default: tuple[str, ...]
    named: tuple[str, ...]
    results_type: str  # the media type for solutions and booleans
    graph_type: str  # the media type for CONSTRUCT/DESCRIBE
    max_bytes: int  # refuse results larger than this
    load: tuple[Document, ...] = ()
    drop: tuple[str, ...] = ()
    entail: Hierarchy | None = None  # the server's query_entailment = "rdfs"


@dataclass(frozen=True, slots=True)
class Answer:
    """What a job gave: ``kind`` "ok" (``body`` in ``media_type``), "syntax" (the parser's
    message: a 400), "large" (over ``max_bytes``) or "unparsable" (documents the worker
    could not parse: the server sends them again as N-Triples)."""

    kind: str
    body: bytes = b""
    media_type: str = ""
    message: str = ""
    unparsable: tuple[str, ...] = ()


class _TooLarge(Exception):
    pass


class _Capped(io.RawIOBase):
    """A byte sink that refuses to grow past ``limit`` (so a huge result costs no memory)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[bytes] = []
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.size += len(data)
        if self.size > self.limit:
            raise _TooLarge
        self.parts.append(bytes(data))
        return len(data)


@dataclass
class Engine:
    """A worker's stores, one per storage (so that a dataset of all of a storage's
    documents is its store's union graph, which Oxigraph scans an order of magnitude
    faster than a list of graphs), and the version of each document it holds."""

    stores: dict[str, ox.Store] = field(default_factory=dict)
    held: dict[str, str] = field(default_factory=dict)
    # Views: stores of part of a storage (what one caller may read), by documents' versions.
    views: dict[tuple[str, frozenset[tuple[str, str]]], ox.Store] = field(default_factory=dict)

    def run(self, job: Job) -> Answer:
        store = self.stores.setdefault(job.root, ox.Store())
        for url in job.drop:
            self._drop(store, url)
        unparsable = []
        for doc in job.load:
            self._drop(store, doc.url)
            try:
                store.load(
                    doc.body,
                    format=PARSED.get(doc.media_type, ox.RdfFormat.N_TRIPLES),
                    base_iri=doc.url,
                    to_graph=ox.NamedNode(doc.url),
                )
            except (SyntaxError, ValueError):
                store.remove_graph(ox.NamedNode(doc.url))  # what a failed load left
                unparsable.append(doc.url)
                continue
            if job.entail is not None:
                _entail(store, ox.NamedNode(doc.url), job.entail)
            _merge_into_default(store, doc.url)
            self.held[doc.url] = doc.etag
        if unparsable:
            return Answer("unparsable", unparsable=tuple(unparsable))
        try:
            target, dataset = self._target(store, job)
            result = target.query(job.query, base_iri=job.base, **dataset)
        except SyntaxError as exc:
            return Answer("syntax", message=str(exc))
        sink = _Capped(job.max_bytes)
        try:
            if isinstance(result, ox.QueryTriples):
                media = job.graph_type
                result.serialize(sink, format=GRAPHS[media])
            else:
                media = job.results_type
                result.serialize(sink, format=RESULTS[media])
        except _TooLarge:
            return Answer("large")
        return Answer("ok", b"".join(sink.parts), media)

    def _target(self, store: ox.Store, job: Job) -> tuple[ox.Store, dict[str, object]]:
        """Where to run ``job`` and its dataset as Oxigraph's arguments: a store's own
        union graph when the dataset is every graph it holds (the storage's, or a view of
        the documents a caller may read, kept for the next queries); the lists otherwise
        (a dataset the query narrowed)."""
        # The store's default graph, the merge of its documents (the query's FROM was read
        # by the server into ``job``: this overrides it).
        union: dict[str, object] = {"default_graph": ox.DefaultGraph()}
        held = {url for url in self.held if url.startswith(job.root)}
        wanted = set(job.default)
        if wanted == held and set(job.named) == held:
            return store, union
        if wanted == set(job.named) and len(wanted) >= VIEW_MIN_GRAPHS:
            key = (job.root, frozenset((url, self.held[url]) for url in wanted))
            view = self.views.pop(key, None)
            if view is None:
                view = ox.Store()
                for url in wanted:
                    view.extend(store.quads_for_pattern(None, None, None, ox.NamedNode(url)))
                    _merge_into_default(view, url)
            self.views[key] = view  # the most recently used last
            while len(self.views) > MAX_VIEWS:
                del self.views[next(iter(self.views))]
            return view, union
        if len(job.default) <= 1:
            return store, {
                "default_graph": [ox.NamedNode(g) for g in job.default],
                "named_graphs": [ox.NamedNode(g) for g in job.named],
            }
        # Several FROM graphs: Oxigraph would scan each (a triple in two, found twice), so a
        # store for this query whose default graph is their merge.
        narrowed = ox.Store()  # graphs beyond job.named: invisible, the named list is given
        for url in dict.fromkeys((*job.named, *job.default)):
            narrowed.extend(store.quads_for_pattern(None, None, None, ox.NamedNode(url)))
        for url in job.default:
            _merge_into_default(narrowed, url)
        return narrowed, {**union, "named_graphs": [ox.NamedNode(g) for g in job.named]}

    def _drop(self, store: ox.Store, url: str) -> None:
        if self.held.pop(url, None) is None:
            return
        graph = ox.NamedNode(url)
        # Out of the merged default graph unless another document holds it too. (A graph
        # name is a valid IRI, Oxigraph checks: it can be written between <> as it is.)
        store.update(
            f"DELETE {{ ?s ?p ?o }} WHERE {{ GRAPH <{url}> {{ ?s ?p ?o }}"
            f" FILTER NOT EXISTS {{ GRAPH ?h {{ ?s ?p ?o }} FILTER(?h != <{url}>) }} }}"
        )
        store.remove_graph(graph)


def _entail(store: ox.Store, graph: ox.NamedNode, hierarchy: Hierarchy) -> None:
    """Adds to ``graph`` what ``hierarchy`` entails from its triples (see ``Hierarchy``)."""
    kind = ox.NamedNode(str(RDF.type))
    added = [
        ox.Quad(q.subject, kind, ox.NamedNode(sup), graph)
        for sub, sup in hierarchy.classes
        for q in store.quads_for_pattern(None, kind, ox.NamedNode(sub), graph)
    ]
    added += [
        ox.Quad(q.subject, ox.NamedNode(sup), q.object, graph)
        for sub, sup in hierarchy.properties
        for q in store.quads_for_pattern(None, ox.NamedNode(sub), None, graph)
    ]
    store.extend(added)


def _merge_into_default(store: ox.Store, url: str) -> None:
    """Adds the triples of ``store``'s graph ``url`` to its default graph.

    SPARQL's default graph here is the RDF merge of the dataset's documents: a triple that
    two documents hold matches once. Oxigraph's union default graph and its lists of
    default graphs are bag unions (the triple twice), so each store keeps the merge as its
    default graph (a set), beside the documents' named graphs. An update copies them in
    Rust (twice as fast as through Python), blank nodes as they are; ``url`` is a graph
    name, an IRI Oxigraph checked, so it goes between <> as it is."""
    store.update(f"INSERT {{ ?s ?p ?o }} WHERE {{ GRAPH <{url}> {{ ?s ?p ?o }} }}")


def serve(conn: Connection) -> None:
    """A worker's loop: a Job in, an Answer out, until the pipe closes."""
    engine = Engine()
    for job in jobs(conn):
        try:
            answer = engine.run(job)
        except Exception as exc:  # an engine failure answers this job, the worker goes on
            answer = Answer("error", message=f"{type(exc).__name__}: {exc}")
        conn.send(answer)


if __name__ == "__main__":  # started by pool.Worker with its end of a socket pair
    import sys

    # Under its own name, so that what it sends unpickles as this module's classes.
    from pod_server.query import worker

    worker.serve(Connection(int(sys.argv[1])))
