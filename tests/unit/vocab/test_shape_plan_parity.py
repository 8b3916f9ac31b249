"""The compiled shapes (vocab.shape_plan) against pyshacl, the reference.

Every shipped example, and systematic mutations of each, go through both engines the
way the server runs them: the same Turtle bytes parsed by the server's reference route
(``rdf.parse`` then ``vocab.validate``) and by the fast route (Oxigraph quads into
``shape_plan.Data`` then ``validation.fast_results``), and the rdflib graph of the
reference route converted (``Data.from_rdflib``, the route of PATCH and JSON-LD).
Wherever the fast engine gives an answer, it must be pyshacl's: the same verdict and the
same results (focus node, path, constraint component, value). It may say "undecided"
(then the server asks pyshacl), but it must decide nearly every case, or it is useless.

The mutations, per subject and property of each example: the property dropped, an extra
value added, the value replaced by terms from a fixed panel (wrong kinds, wrong and
ill-typed datatypes, non-canonical lexical forms rdflib normalises, out-of-range numbers
and dates, strings too long, bad patterns and checksums) and by every constant of the
shapes (sh:in members, sh:hasValue values, target classes); per typed subject, its type
dropped, swapped for another target class, or reached through an rdfs:subClassOf chain
declared in the data. Each (subject, property) gets a rotating share of the panel so
that, across an example, every panel entry meets many properties.
"""

from __future__ import annotations

import itertools
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

import pyoxigraph as ox
import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SH

import vocab
from pod_server.ldp import rdf
from pod_server.ldp.media_types import TURTLE
from vocab import catalog, shape_plan, validation

BASE = "https://alice.pod.example/data/record"
XSD = "http://www.w3.org/2001/XMLSchema#"
OTHER = "https://elsewhere.example/terms#"
# How much of the panel each (subject, property) gets, and how many subjects of each set
# of types are mutated (a month has 300 alike transactions). The defaults keep the suite
# quick; SHAPE_PARITY=full is the exhaustive run reported in bench/README.md.
FULL = os.environ.get("SHAPE_PARITY") == "full"
PER_PAIR = 5 if FULL else 3
PER_KIND = 2 if FULL else 1


def _lit(value: str, datatype: str | None = None, lang: str | None = None) -> ox.Literal:
    if lang is not None:
        return ox.Literal(value, language=lang)
    if datatype is None:
        return ox.Literal(value)
    return ox.Literal(value, datatype=ox.NamedNode(XSD + datatype))


PANEL: list[ox.NamedNode | ox.BlankNode | ox.Literal] = [
    ox.NamedNode(OTHER + "thing"),
    ox.BlankNode("panel"),
    _lit("x"),
    _lit(""),
    _lit("y" * 600),
    _lit("EUR"),
    _lit("eur"),
    _lit("Texte", lang="fr"),
    _lit("12.5", "decimal"),
    _lit("-3.00", "decimal"),
    _lit("0042.50", "decimal"),
    _lit("+1.5", "decimal"),
    _lit("1.505", "decimal"),
    _lit("1e3", "decimal"),
    _lit("abc", "decimal"),
    _lit("0", "decimal"),
    _lit("-0.00", "decimal"),
    _lit("100000000.00", "decimal"),
    _lit("7", "integer"),
    _lit("01", "integer"),
    _lit("-1", "integer"),
    _lit("0", "integer"),
    _lit("1.0", "integer"),
    _lit("601", "integer"),
    _lit("2024-01-31", "date"),
    _lit("2024-02-30", "date"),
    _lit("1990-01-01", "date"),
    _lit("2099-12-31", "date"),
    _lit("2024-01-31Z", "date"),
    _lit("2024-1-31", "date"),
    _lit("2024-01-31T10:00:00Z", "dateTime"),
    _lit("2024-01-31T10:00:00", "dateTime"),
    _lit("2024-13-01T00:00:00", "dateTime"),
    _lit("true", "boolean"),
    _lit("1", "boolean"),
    _lit("yes", "boolean"),
    _lit("P1M", "duration"),
    _lit("P2M", "duration"),
    _lit("2024-03", "gYearMonth"),
    _lit("2024-3", "gYearMonth"),
    _lit("12.5", "float"),
    _lit("x", "string"),
    _lit("FR7630006000011234567890189"),
    _lit("FR7630006000011234567890188"),
    _lit("FR76 3000 6000 0112 3456 7890 189"),
    _lit("BNPAFRPPXXX"),
    _lit("3017620422003"),
    _lit("3017620422004"),
    _lit("+33612345678"),
    _lit("mailto:alice@example.org"),
]


# --------------------------------------------------------------------------- the engines


def _show(term: object) -> str:
    """A term as both engines' results can be compared: blank nodes are anonymous."""
    if term is None:
        return "-"
    if isinstance(term, ox.BlankNode | BNode):
        return "_:"
    if isinstance(term, ox.Literal | ox.NamedNode):
        term = shape_plan.to_rdflib(term)
    if isinstance(term, URIRef):
        return f"<{term}>"
    assert isinstance(term, Literal), term
    return repr((str(term), term.datatype, term.language))


def _component(iri: object) -> str:
    return str(iri).rpartition("#")[2]


def reference(graph: Graph, domain: str) -> tuple[bool, Counter[tuple[str, ...]]] | None:
    """pyshacl's verdict and results; None where it cannot validate at all (values it
    cannot compare under sh:lessThanOrEquals), which the fast engine must leave to it."""
    report = vocab.validate(graph, domain)
    if report.problem is not None:
        return None
    g = report.graph
    top = g.value(predicate=RDF.type, object=SH.ValidationReport)
    found: Counter[tuple[str, ...]] = Counter()
    for result in g.objects(top, SH.result):
        found[
            (
                _show(g.value(result, SH.focusNode)),
                str(g.value(result, SH.resultPath) or "-"),
                _component(g.value(result, SH.sourceConstraintComponent)),
                _show(g.value(result, SH.value)),
            )
        ] += 1
    return report.conforms, found


def fast(data: shape_plan.Data, domain: str) -> tuple[bool, Counter[tuple[str, ...]]] | None:
    try:
        results = validation.fast_results(data, domain)
    except shape_plan.Undecided:
        return None
    found = Counter((_show(f), p or "-", c, _show(v)) for f, p, c, v in results)
    return not results, found


@dataclass
class Tally:
    cases: int = 0
    decided: int = 0
    refused: int = 0  # cases pyshacl refuses (the mutations that matter)

    def compare(self, turtle: bytes, domain: str, what: str) -> None:
        graph = rdf.parse(turtle, TURTLE, BASE)
        self.cases += 1
        expected = reference(graph, domain)
        self.refused += expected is None or not expected[0]
        routes = {
            "oxigraph": lambda: shape_plan.Data.from_quads(
                ox.parse(turtle, format=ox.RdfFormat.TURTLE, base_iri=BASE)
            ),
            "rdflib": lambda: shape_plan.Data.from_rdflib(graph),
        }
        for route, build in routes.items():
            try:
                got = fast(build(), domain)
            except shape_plan.Undecided:
                got = None
            if got is None:
                continue
            if route == "oxigraph":
                self.decided += 1
            assert expected is not None, f"{what} ({route}): decided where pyshacl fails"
            assert got[0] == expected[0], f"{what} ({route}): verdict {got[0]} != {expected[0]}"
            assert got[1] == expected[1], (
                f"{what} ({route}): fast engine only {sorted(got[1] - expected[1])}, "
                f"pyshacl only {sorted(expected[1] - got[1])}"
            )


# --------------------------------------------------------------------------- mutations


@cache
def _triples(example: vocab.Example) -> tuple[ox.Triple, ...]:
    """The example as Oxigraph triples (JSON-LD examples through our own contexts)."""
    graph = vocab.example_graph(example)
    blanks: dict[BNode, ox.BlankNode] = {}

    def term(node: object) -> ox.NamedNode | ox.BlankNode | ox.Literal:
        if isinstance(node, BNode):
            return blanks.setdefault(node, ox.BlankNode())
        if isinstance(node, URIRef):
            return ox.NamedNode(str(node))
        assert isinstance(node, Literal)
        if node.language:
            return ox.Literal(str(node), language=node.language)
        if node.datatype is None:
            return ox.Literal(str(node))
        return ox.Literal(str(node), datatype=ox.NamedNode(str(node.datatype)))

    return tuple(ox.Triple(term(s), term(p), term(o)) for s, p, o in graph)  # type: ignore[arg-type]


@cache
def _constants(domain: str) -> tuple[list[ox.NamedNode | ox.Literal], list[ox.NamedNode]]:
    """Every sh:in member and sh:hasValue of the domain's shapes, and its target classes."""
    shapes = catalog.shapes(domain)
    values: list[ox.NamedNode | ox.Literal] = []
    for head in shapes.objects(None, SH["in"]):
        for item in shapes.items(head):
            values.append(_to_ox(item))
    values += [_to_ox(v) for v in shapes.objects(None, SH.hasValue)]
    classes = sorted({str(c) for c in shapes.objects(None, SH.targetClass)})
    return list(dict.fromkeys(values)), [ox.NamedNode(c) for c in classes]


def _to_ox(node: object) -> ox.NamedNode | ox.Literal:
    if isinstance(node, URIRef):
        return ox.NamedNode(str(node))
    assert isinstance(node, Literal)
    if node.datatype is None:
        return ox.Literal(str(node))
    return ox.Literal(str(node), datatype=ox.NamedNode(str(node.datatype)))


KINDS = ("drop", "extra", "replace", "type")


def _mutations(
    example: vocab.Example, kinds: tuple[str, ...] = KINDS
) -> Iterator[tuple[str, list[ox.Triple]]]:
    triples = list(_triples(example))
    if not FULL and len(triples) > 1000:  # the month: its first subjects are enough here
        first = list(dict.fromkeys(t.subject for t in triples))[:12]
        triples = [t for t in triples if t.subject in first]
    constants, classes = _constants(example.domain)
    replacements = PANEL + constants
    subjects = _chosen_subjects(triples)
    rotation = itertools.count()
    for subject in subjects:
        mine = [t for t in triples if t.subject == subject]
        rest = [t for t in triples if t.subject != subject]
        for predicate in dict.fromkeys(t.predicate for t in mine):
            if predicate.value == str(RDF.type):
                if "type" in kinds:
                    yield from _type_mutations(subject, mine, rest, classes)
                continue
            kept = [t for t in mine if t.predicate != predicate]
            values = [t.object for t in mine if t.predicate == predicate]
            name = f"{_show(subject)} {predicate.value}"
            if "drop" in kinds:
                yield f"{name} dropped", rest + kept
            if "extra" in kinds:
                for extra in (ox.NamedNode(OTHER + "extra"), _variant(values[0])):
                    more = [ox.Triple(subject, predicate, extra)]
                    yield f"{name} + {extra}", rest + mine + more
            for _ in range(PER_PAIR if "replace" in kinds else 0):
                new = replacements[next(rotation) % len(replacements)]
                changed = [ox.Triple(subject, predicate, new)]
                yield f"{name} := {new}", rest + kept + changed


def _chosen_subjects(triples: list[ox.Triple]) -> list[ox.NamedNode | ox.BlankNode]:
    """The first ``PER_KIND`` subjects of each set of types (untyped ones included)."""
    kinds: dict[ox.NamedNode | ox.BlankNode, set[str]] = {}
    for t in triples:
        types = kinds.setdefault(t.subject, set())
        if t.predicate.value == str(RDF.type):
            types.add(str(t.object))
    seen: Counter[frozenset[str]] = Counter()
    chosen = []
    for subject, types in kinds.items():
        seen[frozenset(types)] += 1
        if seen[frozenset(types)] <= PER_KIND:
            chosen.append(subject)
    return chosen


def _variant(value: ox.NamedNode | ox.BlankNode | ox.Literal) -> ox.NamedNode | ox.Literal:
    """Another value of the same kind (a second value for sh:maxCount)."""
    if isinstance(value, ox.Literal):
        if value.language:
            return ox.Literal(value.value + " bis", language=value.language)
        return ox.Literal(value.value + "0", datatype=value.datatype)
    return ox.NamedNode(OTHER + "variant")


def _type_mutations(
    subject: ox.NamedNode | ox.BlankNode,
    mine: list[ox.Triple],
    rest: list[ox.Triple],
    classes: list[ox.NamedNode],
) -> Iterator[tuple[str, list[ox.Triple]]]:
    rdf_type = ox.NamedNode(str(RDF.type))
    untyped = [t for t in mine if t.predicate != rdf_type]
    types = [t.object for t in mine if t.predicate == rdf_type]
    name = _show(subject)
    yield f"{name} untyped", rest + untyped
    for cls in [c for c in classes if c not in types][:: max(1, len(classes) // 4)]:
        yield f"{name} a {cls}", rest + untyped + [ox.Triple(subject, rdf_type, cls)]
    sub = ox.NamedNode(OTHER + "Special")
    chain = [
        ox.Triple(subject, rdf_type, sub),
        ox.Triple(sub, ox.NamedNode(str(RDFS.subClassOf)), ox.NamedNode(OTHER + "Middle")),
        ox.Triple(ox.NamedNode(OTHER + "Middle"), ox.NamedNode(str(RDFS.subClassOf)), types[0]),
    ]
    yield f"{name} a subclass of {types[0]}", rest + untyped + chain


def _turtle(triples: list[ox.Triple]) -> bytes:
    return ox.serialize(triples, format=ox.RdfFormat.TURTLE)


# --------------------------------------------------------------------------- tests

EXAMPLES = [e for d in vocab.domains() for e in vocab.examples(d)]
# JSON-LD examples hold the same data as their Turtle twins: mutated only in the full run.
MUTATED = [e for e in EXAMPLES if FULL or e.media_type == TURTLE]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: f"{e.domain}/{e.path}")
def test_every_example_is_decided_by_the_fast_engine_as_by_pyshacl(example: vocab.Example) -> None:
    tally = Tally()
    tally.compare(_turtle(list(_triples(example))), example.domain, "the example itself")
    assert (tally.cases, tally.decided, tally.refused) == (1, 1, 0)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("example", MUTATED, ids=lambda e: f"{e.domain}/{e.path}")
def test_fast_engine_agrees_with_pyshacl_on_mutations(example: vocab.Example, kind: str) -> None:
    tally = Tally()
    for what, triples in _mutations(example, (kind,)):
        tally.compare(_turtle(triples), example.domain, what)
    # Not a vacuous agreement: mutations that matter, and decided by the fast engine.
    assert tally.cases > 0
    assert tally.refused >= tally.cases // 4, tally
    assert tally.decided >= 0.95 * tally.cases, tally
