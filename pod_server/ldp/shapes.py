"""Shape-validated containers: members must satisfy the SHACL shapes their container names.

A container declares ``<container> ldp:constrainedBy <shapes>`` in its description
resource (``container/.meta``; ``<>`` there, the description itself, counts too). Every
PUT, POST and PATCH result inside it is validated before commit; a violation is a 422
with the SHACL report and stores nothing. The shapes are the project's vocabularies
(``vocab``), named by their canonical IRIs (``https://w3id.org/solid-pods/vocab/bank/shapes``)
or those of this server's copies (``BASE/vocab/bank/shapes``); either way they validate
data written with the canonical terms, the same on every server.

Most writes conform, so the question is first put to the shapes compiled to Python checks
(``vocab.conforms_fast``): a Turtle body is read by Oxigraph straight into their index
(``conforms_turtle``, no rdflib graph at all), so are the triples of an N3 Patch creating
a document (``conforming_index``), any other graph is converted. Only a yes is
taken from them; a violation, or a shape they leave to pyshacl, goes to pyshacl
(``vocab.validate``), which decides and writes the report of the 422.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import pyoxigraph as ox
from rdflib import Graph, URIRef

import vocab
from pod_server.errors import BadRequest, UnprocessableEntity
from pod_server.ldp import paths
from pod_server.ldp.media_types import TURTLE
from pod_server.ldp.turtle_check import index_rdf11
from pod_server.ldp.vocabulary import LDP
from pod_server.storage.base import Meta
from vocab.shape_plan import Data, Undecided

LDP_CONSTRAINED_BY = LDP.constrainedBy
VALIDATE_IN_THREAD_ABOVE = 200  # triples; small graphs validate faster than a thread hop

GraphReader = Callable[[str], Awaitable[tuple[Meta | None, Graph]]]
MetaReader = Callable[[str], Awaitable[Meta | None]]


class ShapeViolation(UnprocessableEntity):
    """A write whose result does not satisfy its container's shapes: 422 with the report."""

    content_type = TURTLE

    def __init__(self, summary: str, report_turtle: str, shapes: tuple[str, ...]) -> None:
        links = ", ".join(f'<{iri}>; rel="{LDP_CONSTRAINED_BY}"' for iri in shapes)
        super().__init__(summary, headers={"Link": links} if links else None)
        # The human summary as Turtle comments, then the SHACL report: one valid document.
        comment = "".join(f"# {line}\n" for line in summary.splitlines())
        self.body = (comment + "\n" + report_turtle).encode("utf-8")


class ShapeConstraints:
    """Which shapes a container imposes, cached by the etag of its description resource."""

    # Runs a large validation off the loop under the time limit; the store sets its runner.
    run_heavy: Callable[..., Awaitable[Any]] = staticmethod(asyncio.to_thread)

    def __init__(self, served_at: str, read_meta: MetaReader, read_graph: GraphReader) -> None:
        # The terms, hence the shapes' targets, are the canonical IRIs on every server;
        # ``served_at`` is only where this server publishes copies of the documents.
        self.vocab_base = vocab.DEFAULT_BASE
        self.served_at = served_at
        self._meta = read_meta
        self._graph = read_graph
        self._cache: OrderedDict[tuple[str, str], tuple[str, ...]] = OrderedDict()

    async def of(self, container: str, container_url: str) -> tuple[str, ...]:
        """Shapes IRIs the container at ``container`` names (empty when none)."""
        description = container + paths.META_SUFFIX
        meta = await self._meta(description)
        if meta is None:
            return ()
        key = (description, meta.etag)
        if key not in self._cache:
            _, graph = await self._graph(description)
            self._cache[key] = self.declared(graph, container_url)
            while len(self._cache) > 1024:
                self._cache.popitem(last=False)
        return self._cache[key]

    @staticmethod
    def declared(graph: Graph, container_url: str) -> tuple[str, ...]:
        """The shapes the description ``graph`` names for the container at ``container_url``.

        The subject may be the container (``<./>`` in its ``.meta``) or the description
        document itself: ``<>`` in ``.meta`` is the ``.meta``, and people write it to mean
        "this container", so both count.
        """
        shapes = {
            str(o)
            for subject in _subjects(container_url)
            for o in graph.objects(subject, URIRef(LDP_CONSTRAINED_BY))
        }
        return tuple(sorted(shapes))

    def check_description(self, graph: Graph, container_url: str) -> None:
        """Refuse a container description whose ``ldp:constrainedBy`` would constrain
        nothing: one about another subject (400), or naming shapes unknown here (422)."""
        allowed = _subjects(container_url)
        for subject in graph.subjects(URIRef(LDP_CONSTRAINED_BY), None):
            if subject not in allowed:
                raise BadRequest(
                    f"ldp:constrainedBy in {container_url}{paths.META_SUFFIX} must be about "
                    f"the container <{container_url}> (or <>), not <{subject}>"
                )
        self.check_known(self.declared(graph, container_url))

    def check_known(self, shapes: tuple[str, ...]) -> None:
        """Refuse a description naming shapes this server cannot apply: silently not
        validating would let careless writers corrupt what apps rely on."""
        for iri in shapes:
            if _domain(iri, self.served_at) is None:
                known = ", ".join(vocab.shapes_iri(d) for d in vocab.domains())
                raise UnprocessableEntity(
                    f"ldp:constrainedBy <{iri}> is not a shapes graph this server knows; use one "
                    f"of {known} (or its copy under {self.served_at})"
                )

    def conforms_turtle(self, data: bytes, base: str, shapes: tuple[str, ...]) -> bool:
        """True when the compiled shapes accept the Turtle ``data`` as it is; False when
        pyshacl must decide (on the graph ``rdf.parse`` makes). Synchronous, for a worker.
        Raises BadRequest for a syntax error."""
        return conforms_turtle(data, base, shapes, self.served_at, self.vocab_base)

    def conforms_graph(self, graph: Graph, shapes: tuple[str, ...]) -> bool:
        """``conforms_turtle`` for a graph already parsed (JSON-LD, a patched document)."""
        try:
            index = Data.from_rdflib(graph)
        except Undecided:
            return False
        return self._conforms_fast(index, shapes)

    def conforming_index(self, quads: Iterable[ox.Quad], shapes: tuple[str, ...]) -> Data | None:
        """The compiled shapes' index of the triples of Oxigraph's ``quads`` when those
        shapes accept them; None when pyshacl must decide (``validate``)."""
        index = Data.from_quads(quads)
        return index if self._conforms_fast(index, shapes) else None

    def _conforms_fast(self, index: Data, shapes: tuple[str, ...]) -> bool:
        return _conforms_fast(index, shapes, self.served_at, self.vocab_base)

    async def validate(self, graph: Graph, shapes: tuple[str, ...]) -> None:
        heavy = len(graph) > VALIDATE_IN_THREAD_ABOVE
        if heavy:
            fine = await self.run_heavy(self.conforms_graph, graph, shapes)
        else:
            fine = self.conforms_graph(graph, shapes)
        if fine:
            return
        for iri in shapes:
            domain = _domain(iri, self.served_at)
            if domain is None:
                continue  # refused when declared; a stale declaration constrains nothing
            if heavy:
                report = await self.run_heavy(vocab.validate, graph, domain, self.vocab_base)
            else:
                report = vocab.validate(graph, domain, self.vocab_base)
            if not report.conforms:
                raise ShapeViolation(
                    f"The data does not satisfy <{iri}>:\n{report.summary()}", report.turtle, shapes
                )


def conforms_turtle(
    data: bytes, base: str, shapes: tuple[str, ...], served_at: str, vocab_base: str
) -> bool:
    """``ShapeConstraints.conforms_turtle`` from its settings alone: picklable arguments,
    for a worker process (``process_lane``)."""
    index = index_rdf11(data, base)
    return index is not None and _conforms_fast(index, shapes, served_at, vocab_base)


def _conforms_fast(index: Data, shapes: tuple[str, ...], served_at: str, vocab_base: str) -> bool:
    domains = [d for d in (_domain(iri, served_at) for iri in shapes) if d is not None]
    return all(vocab.conforms_fast(index, d, vocab_base) for d in domains)


def _domain(iri: str, served_at: str) -> str | None:
    """The domain whose shapes ``iri`` names, by its canonical IRI or the copy at ``served_at``."""
    found = vocab.split(iri) or vocab.split(iri, served_at)
    return found[0] if found is not None and found[1] == "shapes" else None


def _subjects(container_url: str) -> tuple[URIRef, URIRef]:
    """The subjects an ``ldp:constrainedBy`` in a container's ``.meta`` may have."""
    return URIRef(container_url), URIRef(container_url + paths.META_SUFFIX)
