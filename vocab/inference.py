"""Materialising what the ontologies imply, so generic queries find domain data.

A bank:CurrentAccount is a schema:BankAccount, an energy:Invoice a schema:Invoice, every
organisation record a prov:Entity: ``infer`` adds those triples (and the super-property
ones: bank:amount values become schema:amount values) with owlrl.

RDFS semantics is the default: our mappings are rdfs:subClassOf / rdfs:subPropertyOf,
and equivalences (owl:equivalentClass / owl:equivalentProperty) are rewritten into
mutual subclass / subproperty axioms first, so RDFS covers them. OWL-RL is available
but costs an order of magnitude more time.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal as Choice

import owlrl
from rdflib import Graph
from rdflib.namespace import OWL, RDFS

from vocab.catalog import dependencies, ontology
from vocab.iris import check_base

_EQUIVALENCES = (
    (OWL.equivalentClass, RDFS.subClassOf),
    (OWL.equivalentProperty, RDFS.subPropertyOf),
)


def ontologies(domains: Iterable[str], base: str | None = None) -> Graph:
    """The ontologies of ``domains`` and of everything they import, merged."""
    base = check_base(base)
    names: list[str] = []
    for domain in domains:
        for name in [*dependencies(domain, base), domain]:
            if name not in names:
                names.append(name)
    merged = Graph()
    for name in names:
        merged += ontology(name, base)
    return merged


def infer(
    graph: Graph,
    domains: Iterable[str],
    base: str | None = None,
    semantics: Choice["rdfs", "owlrl"] = "rdfs",
) -> Graph:
    """A new graph: ``graph``, the ontologies of ``domains`` and what they entail.

    ``graph`` itself is not modified. Axiomatic triples (rdf:type rdf:Property for every
    RDF keyword and the like) are left out: they answer no application's question.
    """
    closure = Graph()
    closure += graph
    closure += ontologies(domains, base)
    if semantics == "rdfs":
        for equivalence, sub in _EQUIVALENCES:
            for a, b in list(closure.subject_objects(equivalence)):
                closure.add((a, sub, b))
                closure.add((b, sub, a))
        kind = owlrl.RDFS_Semantics
    elif semantics == "owlrl":
        kind = owlrl.OWLRL_Semantics
    else:
        raise ValueError(f"semantics must be 'rdfs' or 'owlrl', not {semantics!r}")
    owlrl.DeductiveClosure(kind, axiomatic_triples=False, datatype_axioms=False).expand(closure)
    for prefix, namespace in graph.namespaces():
        closure.bind(prefix, namespace, override=False)
    return closure
