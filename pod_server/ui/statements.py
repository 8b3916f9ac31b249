"""An RDF document as rows for people: each statement with readable names and links."""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import RDF, BNode, Graph, Literal, URIRef
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


def cell(node: Node, document: str, lang: str, vocab_base: str, *, term: bool, this: str) -> Cell:
    """How one term shows: a named IRI as its label, else the document itself as
    ``this``, a place in it as ``#me``, a vocabulary ``term`` (a property, a class) by its
    local name and any other IRI whole; a literal as its text, a blank node as a mark."""
    if isinstance(node, URIRef):
        iri = str(node)
        named = label(iri, lang, vocab_base)
        if named is None:
            if iri == document:
                named = this
            elif iri.startswith(document + "#"):
                named = iri[len(document) :]
            else:
                named = local_name(iri) if term else iri
        return Cell(named, iri)
    if isinstance(node, Literal):
        return Cell(str(node), None, node.language)
    if isinstance(node, BNode):
        return Cell(f"_:{str(node)[:8]}")
    return Cell(str(node))


def rows(graph: Graph, document: str, lang: str, vocab_base: str, this: str) -> list[Row]:
    """The statements in a stable order (by subject, property, value), at most MAX_ROWS;
    ``this`` names the document itself in the page's language."""
    triples = sorted(graph, key=lambda t: (str(t[0]), str(t[1]), str(t[2])))[:MAX_ROWS]
    found = []
    for s, p, o in triples:
        a_class = p == RDF.type
        found.append(
            Row(
                cell(s, document, lang, vocab_base, term=False, this=this),
                cell(p, document, lang, vocab_base, term=True, this=this),
                cell(o, document, lang, vocab_base, term=a_class, this=this),
            )
        )
    return found
