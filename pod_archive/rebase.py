"""Moving RDF from the URL a pod was exported from to the URL it is imported at."""

from __future__ import annotations

from typing import Any

from rdflib import Graph, URIRef


def rebase(graph: Graph, source: str, target: str) -> Graph:
    """``graph`` with every IRI under ``source`` moved under ``target`` (a new graph,
    unless the two are the same); other IRIs, blank nodes and literals are kept."""
    if source == target:
        return graph

    def move(term: Any) -> Any:
        if isinstance(term, URIRef) and str(term).startswith(source):
            return URIRef(target + str(term)[len(source) :])
        return term

    out = Graph()
    for s, p, o in graph:
        out.add((move(s), move(p), move(o)))
    return out
