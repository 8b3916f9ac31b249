"""An RDF document as rows for people: each statement with readable names and links."""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from pod_server.ui.labels import label, local_name

MAX_ROWS = 2000


@dataclass(frozen=True, slots=True)
class Cell:
    text: str
    url: str | None = None  # a link to follow (the IRI itself), None for a literal
    lang: str | None = None  # a literal's language tag


@dataclass(frozen=True, slots=True)
class Row:
    subject: Cell
    predicate: Cell
    object: Cell


def cell(node: Node, document: str, lang: str, vocab_base: str) -> Cell:
    """How one term shows: a named IRI as its label (or its place in this document,
    ``#me``, or its local name), a literal as its text, a blank node as a mark."""
    if isinstance(node, URIRef):
        iri = str(node)
        named = label(iri, lang, vocab_base)
        if named is None:
            if iri == document:
                named = "<>"
            elif iri.startswith(document + "#"):
                named = iri[len(document) :]
            elif iri.startswith(document.rsplit("/", 1)[0] + "/"):
                named = iri[len(document.rsplit("/", 1)[0]) + 1 :] or iri
            else:
                named = local_name(iri)
        return Cell(named, iri)
    if isinstance(node, Literal):
        return Cell(str(node), None, node.language)
    if isinstance(node, BNode):
        return Cell(f"_:{str(node)[:8]}")
    return Cell(str(node))


def rows(graph: Graph, document: str, lang: str, vocab_base: str) -> list[Row]:
    """The statements in a stable order (by subject, property, value), at most MAX_ROWS."""
    triples = sorted(graph, key=lambda t: (str(t[0]), str(t[1]), str(t[2])))[:MAX_ROWS]
    return [Row(*(cell(term, document, lang, vocab_base) for term in triple)) for triple in triples]
