"""RDF helpers: parse a reply into a graph, and the vocabulary the checks use."""

from __future__ import annotations

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, XSD

from conformance.http import Reply

LDP = Namespace("http://www.w3.org/ns/ldp#")
PIM = Namespace("http://www.w3.org/ns/pim/space#")
SOLID = Namespace("http://www.w3.org/ns/solid/terms#")
ACL = Namespace("http://www.w3.org/ns/auth/acl#")
NOTIFY = Namespace("http://www.w3.org/ns/solid/notifications#")
STAT = Namespace("http://www.w3.org/ns/posix/stat#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
EX = Namespace("http://example.org/conformance#")

__all__ = [
    "ACL",
    "DCTERMS",
    "EX",
    "FOAF",
    "LDP",
    "NOTIFY",
    "PIM",
    "RDF",
    "SOLID",
    "STAT",
    "VCARD",
    "XSD",
    "Graph",
    "Literal",
    "Namespace",
    "URIRef",
    "graph_of",
    "parse",
]

_FORMATS = {
    "text/turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/n-triples": "nt",
    "application/n-quads": "nquads",
    "text/n3": "n3",
    "application/rdf+xml": "xml",
    "application/trig": "trig",
}


def parse(text: str | bytes, media_type: str, base: str) -> Graph:
    graph = Graph()
    fmt = _FORMATS.get(media_type)
    if fmt is None:
        raise ValueError(f"not an RDF media type: {media_type!r}")
    graph.parse(data=text, format=fmt, publicID=base)
    return graph


def graph_of(reply: Reply) -> Graph:
    """The reply's body as a graph; a ``Failed`` when it is not parseable RDF."""
    from conformance.registry import fail

    try:
        return parse(reply.body, reply.media_type or "text/turtle", reply.url)
    except Exception as error:  # rdflib raises many kinds; all mean "not valid RDF"
        fail(f"{reply.describe()}: body is not valid {reply.media_type}: {error}")
