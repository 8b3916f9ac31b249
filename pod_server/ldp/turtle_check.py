"""A fast syntax check for Turtle bodies that are stored as they came.

rdflib's Turtle parser is pure Python (about 1 ms for a 1 KB document); Oxigraph's
(pyoxigraph, Rust) checks the same document in tens of microseconds. The check accepts
exactly RDF 1.1 Turtle: anything using RDF 1.2 syntax is handed to rdflib's parser instead
(which refuses what it cannot read back later), so whatever passes here is also readable
by the rdflib-based conversions that serve other formats.
"""

from __future__ import annotations

import re

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Node

from pod_server.errors import BadRequest
from vocab.shape_plan import Data

XSD_STRING = str(XSD.string)

# RDF 1.2 Turtle syntax: triple terms, reifiers, annotations, VERSION, directional tags.
_RDF_12 = re.compile(rb"<<|>>|\{\||\|\}|~|@version|\bVERSION\b|--(?:ltr|rtl)", re.IGNORECASE)
# Substrings one of which every match of ``_RDF_12`` contains (lower-cased). The regex
# scans a 180 KB body in ~4 ms; these ``in`` tests take ~0.7 ms and leave it for the rare
# body that contains one of them ("|" stands for "{|" and "|}": one byte is found faster).
_RDF_12_SYMBOLS = (b"<<", b">>", b"|", b"~")
_RDF_12_WORDS = (b"version", b"--ltr", b"--rtl")


def _rdf12_syntax(data: bytes) -> bool:
    """Whether ``data`` may use RDF 1.2 Turtle syntax (``_RDF_12`` finds something)."""
    if not any(s in data for s in _RDF_12_SYMBOLS):
        lowered = data.lower()  # ASCII only, as re.IGNORECASE on bytes
        if not any(w in lowered for w in _RDF_12_WORDS):
            return False
    return _RDF_12.search(data) is not None


def quick_check(data: bytes, base: str) -> bool:
    """True when ``data`` is valid RDF 1.1 Turtle; False when only rdflib can tell.

    Raises BadRequest for a syntax error, with Oxigraph's line and column.
    """
    if _rdf12_syntax(data):
        return False
    try:
        for quad in ox.parse(data, format=ox.RdfFormat.TURTLE, base_iri=base):
            if isinstance(quad.subject, ox.Triple) or isinstance(quad.object, ox.Triple):
                return False
    except SyntaxError as exc:
        raise BadRequest(f"Invalid Turtle: {exc}") from None
    return True


def index_rdf11(data: bytes, base: str) -> Data | None:
    """RDF 1.1 Turtle read by Oxigraph into the index the compiled shapes check (no rdflib
    graph: building one costs ten times the parse); None when RDF 1.2 syntax means only
    rdflib's parser can decide. Raises BadRequest for a syntax error, like ``quick_check``."""
    if _rdf12_syntax(data):
        return None
    try:
        index = Data.from_quads(ox.parse(data, format=ox.RdfFormat.TURTLE, base_iri=base))
    except SyntaxError as exc:
        raise BadRequest(f"Invalid Turtle: {exc}") from None
    # No triple terms to look for: Turtle writes them only with "<<", refused above.
    return index


def parse_rdf11(data: bytes, base: str) -> Graph | None:
    """RDF 1.1 Turtle parsed by Oxigraph into an rdflib graph (about ten times faster than
    rdflib's parser), with the document's prefixes; None when RDF 1.2 syntax means only
    rdflib's parser can decide. Raises BadRequest for a syntax error."""
    if _rdf12_syntax(data):
        return None
    graph = Graph(bind_namespaces="none")
    blanks: dict[str, BNode] = {}  # fresh rdflib blank nodes, one per document label
    add = graph.add
    try:
        parser = ox.parse(data, format=ox.RdfFormat.TURTLE, base_iri=base)
        for quad in parser:
            if isinstance(quad.subject, ox.Triple) or isinstance(quad.object, ox.Triple):
                return None
            add(
                (
                    _term(quad.subject, blanks),
                    URIRef(quad.predicate.value),
                    _term(quad.object, blanks),
                )
            )
    except SyntaxError as exc:
        raise BadRequest(f"Invalid Turtle: {exc}") from None
    for prefix, namespace in parser.prefixes.items():
        graph.bind(prefix, namespace, override=True, replace=True)
    return graph


def _term(term: object, blanks: dict[str, BNode]) -> Node:
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        node = blanks.get(term.value)
        if node is None:
            node = blanks[term.value] = BNode()
        return node
    assert isinstance(term, ox.Literal)
    if term.language:
        return Literal(term.value, lang=term.language.lower())
    if term.datatype.value == XSD_STRING:
        return Literal(term.value)
    return Literal(term.value, datatype=URIRef(term.datatype.value))
