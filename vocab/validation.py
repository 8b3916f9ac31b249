"""Validating a graph against a vocabulary's SHACL shapes, with a readable report.

Performance choices (a bank's monthly write is ~300 transactions, ~4,500 triples):

* no inference in pyshacl (``inference="none"``): the shapes target every concrete
  class explicitly, so RDFS reasoning over the data is not needed and would multiply
  the graph;
* the data graph is validated in place (pyshacl does not copy it without inference);
* the parsed shapes graph is compiled once per (domain, base) and reused;
* property shapes are evaluated once for all focus nodes (vocab._pyshacl_speedup), the
  one change that matters: ~10x on a bank month;
* amounts are checked with inline sh:datatype/sh:pattern, not a shared sh:node shape,
  which pyshacl would evaluate afresh for every value;
* checksums (IBAN, GTIN) run in Python after pyshacl, see vocab.checks;
* ``conforms_fast`` answers the common question, "does this write conform?", with the
  shapes compiled to Python checks (vocab.shape_plan) in a few milliseconds; it only
  ever says yes where pyshacl would, and anything else goes to ``validate``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache

import pyoxigraph as ox
from pyshacl import Validator
from pyshacl.errors import ReportableRuntimeError
from pyshacl.graph_abstraction import DataGraph
from pyshacl.shapes_graph import ShapesGraph
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SH
from rdflib.term import Node

from vocab import _pyshacl_speedup, catalog, shape_plan
from vocab.checks import CHECKS
from vocab.iris import check_base, namespace, shapes_iri

#: sh:sourceConstraintComponent of the checksum results added by vocab (not a SHACL
#: core component: SHACL engines other than ``validate`` do not produce them).
CHECKSUM_COMPONENT_FRAGMENT = "ChecksumConstraintComponent"

_pyshacl_speedup.enable()


@dataclass(frozen=True)
class Violation:
    """One validation result, flattened. A result nested under sh:node (sh:detail) is
    reported against the record that was validated (``focus``), with ``via`` naming the
    properties that lead from it to the node actually at fault (``node``)."""

    focus: Node
    path: Node | None
    message: str
    severity: str  # "Violation", "Warning" or "Info"
    value: Node | None = None
    shape: Node | None = None
    component: Node | None = None
    via: tuple[Node, ...] = ()
    node: Node | None = None  # the node at fault, when nested; else the focus itself

    def describe(self, graph: Graph | None = None) -> str:
        """One line: "<focus> bank:iban: message (value ...)"."""

        def name(term: Node) -> str:
            if graph is not None and isinstance(term, URIRef):
                try:
                    return graph.namespace_manager.normalizeUri(term)
                except ValueError:  # a name rdflib cannot shorten stays long
                    pass
            return term.n3()

        path = " / ".join(name(p) for p in (*self.via, self.path) if p is not None)
        where = f"{name(self.focus)} {path}" if path else name(self.focus)
        text = f"{where}: {self.message}"
        if self.value is not None:
            text += f" (value {name(self.value)})"
        return text


@dataclass
class Report:
    """The outcome of ``validate``."""

    conforms: bool
    violations: list[Violation]
    graph: Graph = field(repr=False)  # the SHACL validation report (sh:ValidationReport)
    problem: str | None = None  # why pyshacl could not validate the data at all

    @property
    def turtle(self) -> str:
        """The report graph as Turtle, for a 422 response body."""
        return self.graph.serialize(format="turtle")

    def summary(self, limit: int = 5) -> str:
        """A short human message: the count and the first ``limit`` violations."""
        if self.conforms:
            return "The data conforms to the shapes."
        if self.problem is not None:
            return f"The data cannot be validated: {self.problem}"
        lines = [f"{len(self.violations)} SHACL violation(s):"]
        lines += [f"- {v.describe(self.graph)}" for v in self.violations[:limit]]
        if len(self.violations) > limit:
            lines.append(f"- ... and {len(self.violations) - limit} more")
        return "\n".join(lines)


# --------------------------------------------------------------------------- shapes cache


class _Compiled:
    """A shapes graph pyshacl has already analysed, reused across validations.

    pyshacl builds a ShapesGraph (finding shapes, parsing paths, preparing constraint
    components) on every call; that is pure work on the shapes, so we keep it. The lock
    serialises validations per shapes graph, since pyshacl's caches are not meant to be
    shared between threads.
    """

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.shapes_graph = ShapesGraph(graph)
        _ = self.shapes_graph.shapes  # harvest now, not on the first request
        self.lock = threading.Lock()
        # The same shapes as Python checks, for ``conforms_fast``: built with pyshacl's
        # analysis and dropped with it, so the two always read the same shapes.
        self.plan = shape_plan.compile_plan(graph)


@cache
def _compiled_once(domain: str, base: str) -> _Compiled:
    return _Compiled(catalog.shapes(domain, base))


_read_from: dict[tuple[str, str], tuple[tuple[str, int, int], ...]] = {}


def _compiled_domain(domain: str, base: str) -> _Compiled:
    """The domain's compiled shapes, compiled again when a shapes file changed (an
    operator editing a copy of the vocabularies expects the next write to see it)."""
    key = (domain, base)
    files = catalog.shapes_files_state(domain, base)
    if _read_from.get(key, files) != files:
        catalog.forget_parsed()
        _compiled_once.cache_clear()
        _read_from.clear()
    _read_from[key] = files
    return _compiled_once(domain, base)


def compile_shapes(graph: Graph) -> _Compiled:
    """Prepare an arbitrary shapes graph once, for repeated ``validate`` calls."""
    return _Compiled(graph)


def _checks(domain: str, base: str) -> dict[URIRef, tuple[object, str, str]]:
    """predicate -> (check, message, shapes document) for ``domain`` and its dependencies."""
    found: dict[URIRef, tuple[object, str, str]] = {}
    for name in [*catalog.dependencies(domain, base), domain]:
        for local, (check, message) in CHECKS.get(name, {}).items():
            found[URIRef(namespace(name, base) + local)] = (check, message, shapes_iri(name, base))
    return found


# --------------------------------------------------------------------------- validation


def conforms_fast(data: shape_plan.Data, domain: str, base: str | None = None) -> bool:
    """True when the domain's compiled shapes (and checksums) accept ``data``; False when
    they find a violation or cannot decide: then ``validate`` (pyshacl) must decide."""
    try:
        return not fast_results(data, domain, base)
    except shape_plan.Undecided:
        return False


def fast_results(
    data: shape_plan.Data, domain: str, base: str | None = None
) -> list[shape_plan.Result]:
    """What ``validate`` would report, from the compiled shapes: (focus, path, component,
    value) of each result. Raises shape_plan.Undecided where only pyshacl can tell."""
    base = check_base(base)
    found = _compiled_domain(domain, base).plan.check(data)
    lexical = data.literals.lexical
    checks = _checks_by_iri(domain, base)
    for subject, by_predicate in data.out.items():
        for predicate, check in checks:
            if predicate not in by_predicate:
                continue
            for value in data.values(subject, predicate):  # distinct, as in the graph
                # As ``_checksum_failures``: only literals; other values fail the shapes.
                if isinstance(value, ox.Literal) and not check(lexical(value)):
                    found.append((subject, predicate, CHECKSUM_COMPONENT_FRAGMENT, value))
    return found


@cache
def _checks_by_iri(domain: str, base: str) -> tuple[tuple[str, Callable[[str], bool]], ...]:
    return tuple((str(p), check) for p, (check, _m, _d) in _checks(domain, base).items())  # type: ignore[misc]


def validate(
    graph: Graph,
    shapes: str | Graph | _Compiled,
    base: str | None = None,
) -> Report:
    """Validate ``graph`` against a domain's shapes (by name) or a shapes graph.

    With a domain name, the domain's shapes merged with its dependencies' are used, and
    the checksums of vocab.checks apply. ``graph`` is not modified.
    """
    base = check_base(base)
    checks: dict[URIRef, tuple[object, str, str]] = {}
    if isinstance(shapes, str):
        compiled = _compiled_domain(shapes, base)
        checks = _checks(shapes, base)
    elif isinstance(shapes, _Compiled):
        compiled = shapes
    else:
        compiled = _Compiled(shapes)

    with compiled.lock:
        validator = Validator(
            DataGraph.from_rdflib(graph),
            shacl_graph=compiled.graph,
            options={"inference": "none", "advanced": False, "allow_warnings": True},
        )
        validator.shacl_graph = compiled.shapes_graph
        try:
            conforms, report_graph, _text = validator.run()
        except (ReportableRuntimeError, TypeError) as exc:
            # pyshacl gives up on values it cannot order under sh:lessThan(OrEquals): a
            # blank node (ReportableRuntimeError) or an ill-typed literal (a bare
            # TypeError from rdflib's comparison). The data is refused, not a crash.
            return _unvalidatable(str(exc) or type(exc).__name__)

    extra = list(_checksum_failures(graph, checks))
    if extra:
        conforms = False
        _add_results(report_graph, extra)
    return Report(bool(conforms), list(_violations(report_graph)), report_graph)


def _unvalidatable(problem: str) -> Report:
    report = Graph()
    node = BNode()
    report.add((node, RDF.type, SH.ValidationReport))
    report.add((node, SH.conforms, Literal(False)))
    report.add((node, RDFS.comment, Literal(f"pyshacl could not validate the data: {problem}")))
    return Report(False, [], report, problem=f"{problem} (values that cannot be compared)")


def _checksum_failures(
    graph: Graph, checks: dict[URIRef, tuple[object, str, str]]
) -> Iterator[tuple[Node, URIRef, Literal, str, str]]:
    for predicate, (check, message, document) in checks.items():
        for subject, value in graph.subject_objects(predicate):
            # A value of the wrong form already fails the shapes' sh:pattern.
            if isinstance(value, Literal) and not check(str(value)):  # type: ignore[operator]
                yield subject, predicate, value, message, document


def _add_results(report: Graph, failures: list[tuple[Node, URIRef, Literal, str, str]]) -> None:
    node = report.value(predicate=RDF.type, object=SH.ValidationReport)
    report.set((node, SH.conforms, Literal(False)))
    for focus, path, value, message, document in failures:
        result = BNode()
        report.add((node, SH.result, result))
        report.add((result, RDF.type, SH.ValidationResult))
        report.add((result, SH.focusNode, focus))
        report.add((result, SH.resultPath, path))
        report.add((result, SH.value, value))
        report.add((result, SH.resultSeverity, SH.Violation))
        report.add((result, SH.resultMessage, Literal(message)))
        component = URIRef(f"{document}#{CHECKSUM_COMPONENT_FRAGMENT}")
        report.add((result, SH.sourceConstraintComponent, component))


def _violations(report: Graph) -> Iterator[Violation]:
    top = report.value(predicate=RDF.type, object=SH.ValidationReport)
    results = sorted(report.objects(top, SH.result), key=lambda r: _sort_key(report, r))
    for result in results:
        yield from _flatten(report, result, report.value(result, SH.focusNode), ())


def _sort_key(report: Graph, result: Node) -> tuple[str, str]:
    return (str(report.value(result, SH.focusNode)), str(report.value(result, SH.resultPath)))


def _flatten(
    report: Graph, result: Node, focus: Node, via: tuple[Node, ...]
) -> Iterator[Violation]:
    """The leaves of a result: an sh:node failure is explained by its sh:detail results."""
    details = list(report.objects(result, SH.detail))
    path = report.value(result, SH.resultPath)
    if details:
        for detail in details:
            yield from _flatten(report, detail, focus, (*via, path) if path is not None else via)
        return
    severity = report.value(result, SH.resultSeverity)
    messages = sorted(str(m) for m in report.objects(result, SH.resultMessage))
    yield Violation(
        focus=focus,
        node=report.value(result, SH.focusNode),
        path=path,
        message="; ".join(messages) or "constraint violated",
        severity=str(severity).rpartition("#")[2] if severity is not None else "Violation",
        value=report.value(result, SH.value),
        shape=report.value(result, SH.sourceShape),
        component=report.value(result, SH.sourceConstraintComponent),
        via=via,
    )
