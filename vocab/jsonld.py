"""JSON-LD with our contexts resolved locally: for examples, tests and the HTML pages.

The pod server parses JSON-LD with its own module (pod_server.ldp.rdf), into which
``vocab.register_contexts`` feeds the same context documents. This module is the
server-independent equivalent, and like the server it never fetches a remote context.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyld import jsonld
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import XSD

from vocab.catalog import context, domains
from vocab.iris import check_base, context_iri


class RemoteContextRefused(ValueError):
    """A document named a context that is not one of ours."""


def document_loader(base: str | None = None) -> Any:
    """A pyld document loader serving our context documents for ``base`` only."""
    base = check_base(base)
    known = {context_iri(name, base): name for name in domains()}

    def load(url: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
        name = known.get(url)
        if name is None:
            raise RemoteContextRefused(f"context {url} is not a vocabulary context")
        return {
            "contentType": "application/ld+json",
            "contextUrl": None,
            "documentUrl": url,
            "document": context(name, base),
        }

    return load


def _term(term: Mapping[str, str], bnodes: dict[str, BNode]) -> URIRef | BNode | Literal:
    value = term["value"]
    if term["type"] == "IRI":
        return URIRef(value)
    if term["type"] == "blank node":
        return bnodes.setdefault(value, BNode())
    if "language" in term:
        return Literal(value, lang=term["language"])
    datatype = term.get("datatype")
    # A plain string and "x"^^xsd:string are the same RDF 1.1 literal; rdflib keeps
    # them apart, so write the plain form like every other parser we use.
    if datatype in (None, str(XSD.string)):
        return Literal(value)
    return Literal(value, datatype=URIRef(datatype))


def to_graph(document: Any, base: str | None = None, document_url: str | None = None) -> Graph:
    """The default graph of a JSON-LD ``document`` (parsed JSON) as an rdflib Graph."""
    options: dict[str, Any] = {"documentLoader": document_loader(base)}
    if document_url is not None:
        options["base"] = document_url
    try:
        dataset = jsonld.to_rdf(document, options)
    except jsonld.JsonLdError as exc:
        cause: BaseException | None = exc
        while cause is not None:
            if isinstance(cause, RemoteContextRefused):
                raise cause from None
            cause = cause.__cause__ or getattr(cause, "cause", None)
        raise
    graph = Graph()
    bnodes: dict[str, BNode] = {}
    for quad in dataset.get("@default", []):
        graph.add(
            (
                _term(quad["subject"], bnodes),
                _term(quad["predicate"], bnodes),
                _term(quad["object"], bnodes),
            )
        )
    return graph
