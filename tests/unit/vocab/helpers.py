"""Shared helpers for the vocabulary tests."""

from __future__ import annotations

from functools import cache

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SH, XSD
from rdflib.term import Node

import vocab
from vocab.iris import namespace


def term(domain: str, local: str) -> URIRef:
    return URIRef(namespace(domain) + local)


@cache
def _example(domain: str, name: str, media_type: str) -> Graph:
    for example in vocab.examples(domain):
        if example.name == name and example.media_type == media_type:
            return vocab.example_graph(example)
    raise LookupError(f"no example {domain}/{name} ({media_type})")


def example(domain: str, name: str, media_type: str = "text/turtle") -> Graph:
    """A fresh copy of an example graph (tests mutate it)."""
    copy = Graph()
    copy += _example(domain, name, media_type)
    return copy


ALL_EXAMPLES = [(e.domain, e) for d in vocab.domains() for e in vocab.examples(d)]


def _targeted_properties(domain: str, constraint: URIRef) -> list[tuple[URIRef, URIRef, Node]]:
    """(target class, path, value of ``constraint``) for each property shape of a node
    shape that names its target class itself, sorted: the constraints that surely apply."""
    shapes = vocab.shapes(domain)
    found = []
    for node_shape, cls in shapes.subject_objects(SH.targetClass):
        for prop in shapes.objects(node_shape, SH.property):
            path = shapes.value(prop, SH.path)
            value = shapes.value(prop, constraint)
            if isinstance(path, URIRef) and isinstance(cls, URIRef) and value is not None:
                found.append((cls, path, value))
    return sorted(found)


def _first_focus(graph: Graph, cls: URIRef, path: URIRef) -> Node | None:
    return next(
        (f for f in sorted(graph.subjects(RDF.type, cls)) if (f, path, None) in graph), None
    )


def broken_copies(domain: str, graph: Graph) -> dict[str, Graph]:
    """Copies of a valid ``graph`` that the shapes of ``domain`` must refuse, derived from
    the shapes: a required property dropped, and a value of the wrong datatype."""
    broken: dict[str, Graph] = {}
    for cls, path, min_count in _targeted_properties(domain, SH.minCount):
        focus = _first_focus(graph, cls, path)
        if focus is not None and int(str(min_count)) >= 1 and "required" not in broken:
            broken["required"] = Graph() + graph
            broken["required"].remove((focus, path, None))
    for cls, path, datatype in _targeted_properties(domain, SH.datatype):
        focus = _first_focus(graph, cls, path)
        if focus is not None and datatype != XSD.string and "datatype" not in broken:
            broken["datatype"] = Graph() + graph
            broken["datatype"].set((focus, path, Literal("not a value")))  # an xsd:string
    return broken
