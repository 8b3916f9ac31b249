"""The RDFS entailment a query may ask for (``query_entailment = "rdfs"``): subclass and
subproperty closure over this project's vocabularies (vocab/), so that
``?x a schema:MonetaryAmount`` finds a bank:Amount. The hierarchy is computed once per
server process from the ontologies (``vocab.inference.ontologies``, equivalences read as
mutual subclass/subproperty axioms as ``vocab.inference`` does) and sent with each job;
the worker adds the entailed triples to each document's graph as it loads it."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDFS

import vocab.catalog as catalog
from pod_server.query.worker import Hierarchy
from vocab.inference import ontologies

CHOICES = ("", "rdfs")  # "" (the default): no entailment


def closed(pairs: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """The transitive closure of ``pairs`` (sub, super), without reflexive pairs."""
    supers: dict[str, set[str]] = {}
    for sub, sup in pairs:
        supers.setdefault(sub, set()).add(sup)
    found: set[tuple[str, str]] = set()
    for start in supers:
        seen: set[str] = set()
        pending = list(supers[start])
        while pending:
            node = pending.pop()
            if node in seen:
                continue
            seen.add(node)
            pending += supers.get(node, ())
        found |= {(start, node) for node in seen if node != start}
    return tuple(sorted(found))


def _pairs(graph: Graph, sub: URIRef, equivalent: URIRef) -> list[tuple[str, str]]:
    pairs = [
        (str(a), str(b))
        for a, b in graph.subject_objects(sub)
        if isinstance(a, URIRef) and isinstance(b, URIRef)
    ]
    for a, b in graph.subject_objects(equivalent):
        if isinstance(a, URIRef) and isinstance(b, URIRef):
            pairs += [(str(a), str(b)), (str(b), str(a))]
    return pairs


def hierarchy(ontology: Graph) -> Hierarchy:
    """``ontology``'s class and property hierarchies, closed."""
    return Hierarchy(
        closed(_pairs(ontology, RDFS.subClassOf, OWL.equivalentClass)),
        closed(_pairs(ontology, RDFS.subPropertyOf, OWL.equivalentProperty)),
    )


@functools.cache
def vocabularies() -> Hierarchy:
    """The hierarchy of every vocabulary of vocab/ (their canonical IRIs)."""
    return hierarchy(ontologies(catalog.domains()))


def for_setting(choice: str) -> Hierarchy | None:
    """The hierarchy the setting asks for, None for none."""
    return vocabularies() if choice == "rdfs" else None
