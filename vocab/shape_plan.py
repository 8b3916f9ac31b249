"""SHACL shapes compiled to plain Python checks, for the common case of a conforming write.

pyshacl (``vocab.validation``) is the reference: it decides every verdict we report and
writes every SHACL report. This module only answers "does this data conform?" fast, and
only where it agrees with pyshacl exactly:

* **Compile time.** A shape using anything outside the supported subset (a SPARQL
  constraint, sh:closed, sh:severity, a path other than one IRI, a recursive shape...)
  is not compiled: it is kept as *pyshacl's*, and data that has focus nodes for it
  makes the plan ``Undecided``. A shapes graph that declares its own constraint
  components, or targets this module cannot compute, is undecided as a whole.
* **Run time.** Each component follows pyshacl 0.40's own reading, including rdflib's
  literal semantics (lexical normalisation, ill-typed values, value types): literals are
  taken at their lexical form only where that form is one rdflib keeps unchanged and
  reads as a well-typed value (tested for every generated string of those forms);
  anything else is handed to rdflib itself. A comparison pyshacl would fail on (blank
  nodes under sh:lessThan, incomparable values) raises ``Undecided``.

Callers treat ``Undecided`` and any violation the same way: run pyshacl. So this engine
can only make a conforming write faster, never change a verdict; ``tests/unit/vocab/
test_shape_plan_parity.py`` runs every shipped example and systematic mutations of them
through both engines and requires identical verdicts and results.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, TypeAlias

import pyoxigraph as ox
from pyshacl.rdfutil.compare import compare_literal
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH, XSD
from rdflib.term import Node

Term: TypeAlias = ox.NamedNode | ox.BlankNode | ox.Literal
#: (focus node, result path or None, constraint component local name, value or None)
Result: TypeAlias = tuple[Term, str | None, str, Term | None]
#: (focus node, its value nodes) for every focus node a shape is validated on
Pairs: TypeAlias = list[tuple[Term, list[Term]]]
#: (focus node, its entry in ``Data.out``) for the focus nodes of a property shape
Rows: TypeAlias = list[tuple[Term, dict[str, list[Term]]]]
Check: TypeAlias = Callable[["Data", Pairs, list[Result]], None]

RDF_TYPE = str(RDF.type)
SUBCLASS_OF = str(RDFS.subClassOf)
XSD_STRING = str(XSD.string)
_LANG_STRING = str(RDF.langString)


class Unsupported(Exception):
    """A shape uses something this module does not evaluate exactly as pyshacl does."""


class Undecided(Exception):
    """This data needs pyshacl: an uncompiled shape applies, or a value is out of reach."""


# --------------------------------------------------------------------------- literals

# Lexical forms rdflib keeps as they are and reads as well-typed values of the datatype
# (tests/unit/vocab/test_shape_plan.py generates strings of these forms and checks).
# Anything else is looked up through rdflib itself.
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]{0,27})\.[0-9]{1,27}|-?(?:0|[1-9][0-9]{0,27})")
_INTEGER = re.compile(r"0|-?[1-9][0-9]{0,17}")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_FAST_FORMS: dict[str, re.Pattern[str]] = {
    str(XSD.decimal): _DECIMAL,
    str(XSD.integer): _INTEGER,
    str(XSD.date): _DATE,
}
# pyshacl's check that a literal's value is really of the datatype it names.
_VALUE_TYPES: dict[str, type | tuple[type, ...]] = {
    XSD_STRING: (str, bytes),
    _LANG_STRING: (str, bytes),
    str(XSD.integer): int,
    str(XSD.float): float,
    str(XSD.decimal): Decimal,
    str(XSD.boolean): bool,
    str(XSD.date): date,
    str(XSD.time): time,
    str(XSD.dateTime): datetime,
}


# sh:datatype rules a literal satisfies besides its own datatype (pyshacl's reading).
_LANGUAGE_RULES = (str(RDFS.Literal), _LANG_STRING)
_PLAIN_RULES = (str(RDFS.Literal), XSD_STRING)
_OTHER_RULES = (str(RDFS.Literal), str(RDFS.Datatype))


def _fast_form(value: str, datatype: str) -> bool:
    """True when rdflib keeps ``value`` unchanged and reads it as a valid ``datatype``."""
    form = _FAST_FORMS.get(datatype)
    if form is None:
        return False
    match = form.fullmatch(value)
    if match is None:
        return False
    if form is _DATE:
        year, month, day = map(int, match.groups())
        if year < 1 or not 1 <= month <= 12 or not 1 <= day <= _month_days(year, month):
            return False
    return True


def _month_days(year: int, month: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


class Literals:
    """rdflib's reading of Oxigraph literals, computed only when the fast forms do not
    settle it, and remembered (a month repeats its dates and currencies)."""

    def __init__(self) -> None:
        self._rdflib: dict[ox.Literal, Literal] = {}
        # Reading an Oxigraph literal's parts costs more than a dict lookup: remember.
        self._parts: dict[ox.Literal, tuple[str, str, str | None, bool]] = {}

    def rdflib(self, lit: ox.Literal) -> Literal:
        found = self._rdflib.get(lit)
        if found is None:
            found = self._rdflib[lit] = to_rdflib(lit)  # type: ignore[assignment]
        return found  # type: ignore[return-value]

    def _read(self, lit: ox.Literal) -> tuple[str, str, str | None, bool]:
        """(value, datatype IRI, language, whether ``_fast_form`` settles it), read once
        for ``lexical`` and ``has_datatype`` both."""
        found = self._parts.get(lit)
        if found is None:
            value, datatype, language = lit.value, lit.datatype.value, lit.language
            fast = not language and _fast_form(value, datatype)
            found = self._parts[lit] = (value, datatype, language, fast)
        return found

    def lexical(self, lit: ox.Literal) -> str:
        """rdflib's ``str()`` of the literal: its lexical form after rdflib's normalisation."""
        value, datatype, language, fast = self._read(lit)
        if language or fast or datatype == XSD_STRING:
            return value
        return str(self.rdflib(lit))

    def key(self, term: Term) -> object:
        """What rdflib's term equality compares."""
        if isinstance(term, ox.Literal):
            value, datatype, language, _fast = self._read(term)
            if language:
                return ("L", value, None, language.lower())
            return ("L", self.lexical(term), None if datatype == XSD_STRING else datatype, None)
        return term

    def has_datatype(self, lit: Term, rule: str) -> bool:
        """pyshacl's sh:datatype test (DatatypeConstraintComponent.evaluate)."""
        if not isinstance(lit, ox.Literal):
            return False
        _value, datatype, language, fast = self._read(lit)
        if language:  # rdflib: no datatype, a language
            return rule in _LANGUAGE_RULES
        if datatype == XSD_STRING:  # rdflib: a plain literal
            return rule in _PLAIN_RULES
        if datatype != rule:
            return rule in _OTHER_RULES
        if fast:
            return True
        value = self.rdflib(lit)
        if getattr(value, "ill_typed", None) is True:
            return False
        expected = _VALUE_TYPES.get(rule)
        return expected is None or isinstance(value.value, expected)


def to_rdflib(term: Term) -> Node:
    """The rdflib term ``turtle_check.parse_rdf11`` makes of an Oxigraph term."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language.lower())
    if term.datatype.value == XSD_STRING:
        return Literal(term.value)
    return Literal(term.value, datatype=URIRef(term.datatype.value))


# --------------------------------------------------------------------------- data


@dataclass
class Data:
    """A data graph indexed for validation: subject -> predicate IRI -> objects."""

    out: dict[Term, dict[str, list[Term]]] = field(default_factory=dict)
    typed: dict[Term, list[Term]] = field(default_factory=dict)  # class -> instances
    subclasses: dict[Term, list[Term]] = field(default_factory=dict)  # class -> subclasses
    literals: Literals = field(default_factory=Literals)

    def add(self, s: Term, p: str, o: Term) -> None:
        by_predicate = self.out.get(s)
        if by_predicate is None:
            by_predicate = self.out[s] = {}
        values = by_predicate.get(p)
        if values is None:
            by_predicate[p] = [o]
        else:
            values.append(o)
        if p == RDF_TYPE:
            self.typed.setdefault(o, []).append(s)
        elif p == SUBCLASS_OF:
            self.subclasses.setdefault(o, []).append(s)

    @classmethod
    def from_quads(cls, quads: Iterable[ox.Quad]) -> Data:
        data = cls()
        out = data.out
        special = (RDF_TYPE, SUBCLASS_OF)
        last: Term | None = None
        by_predicate: dict[str, list[Term]] = {}
        # ``add``, inlined: this loop is most of the cost. A parser gives a subject's
        # triples one after another, so comparing with the last subject (one Rust
        # comparison) mostly replaces hashing it; attribute reads beat unpacking the quad.
        for quad in quads:
            s = quad.subject
            if s != last:
                found = out.get(s)
                by_predicate = out[s] = {} if found is None else found
                last = s
            predicate = quad.predicate.value
            o = quad.object
            values = by_predicate.get(predicate)
            if values is None:
                by_predicate[predicate] = [o]
            else:
                values.append(o)
            if predicate in special:
                target = data.typed if predicate == RDF_TYPE else data.subclasses
                target.setdefault(o, []).append(s)
        return data

    @classmethod
    def from_rdflib(cls, graph: Graph) -> Data:
        """The same data as an rdflib graph; Undecided for a graph the server's parser
        would not produce (``"x"^^xsd:string``, upper-case language tags), whose reading
        this module does not model."""
        data = cls()
        blanks: dict[Node, ox.BlankNode] = {}

        def term(node: Node) -> Term:
            if isinstance(node, URIRef):
                return ox.NamedNode(str(node))
            if isinstance(node, BNode):
                found = blanks.get(node)
                if found is None:
                    found = blanks[node] = ox.BlankNode()
                return found
            if isinstance(node, Literal):
                if node.language:
                    if node.language != node.language.lower():
                        raise Undecided("a language tag in upper case")
                    return ox.Literal(str(node), language=node.language)
                if node.datatype is None:
                    return ox.Literal(str(node))
                if str(node.datatype) == XSD_STRING:
                    raise Undecided("an explicit xsd:string literal")
                return ox.Literal(str(node), datatype=ox.NamedNode(str(node.datatype)))
            raise Undecided(f"an unexpected term {node!r}")

        try:
            for s, p, o in graph:
                data.add(term(s), str(p), term(o))
        except ValueError as exc:  # a term Oxigraph refuses (a malformed IRI, say)
            raise Undecided(str(exc)) from None
        return data

    def values(self, focus: Term, path: str) -> list[Term]:
        """The distinct objects of ``focus`` by ``path``, distinct as rdflib sees them."""
        by_predicate = self.out.get(focus)
        if by_predicate is None:
            return []
        found = by_predicate.get(path)
        if not found:
            return []
        if len(found) == 1:
            return found
        # Values equal to rdflib ("false" and "false0"^^xsd:boolean both read "false")
        # are one triple in its graph: the first added, as here the first parsed, stays.
        key = self.literals.key
        kept: dict[object, Term] = {}
        for v in found:
            kept.setdefault(key(v), v)
        return list(kept.values())

    def instances(self, cls: Term) -> Iterator[Term]:
        """pyshacl's targets of sh:targetClass: typed ``cls`` or one of its subclasses
        (rdfs:subClassOf in the data graph, transitively)."""
        seen = {cls}
        pending = [cls]
        while pending:
            current = pending.pop()
            yield from self.typed.get(current, ())
            for sub in self.subclasses.get(current, ()):
                if sub not in seen:
                    seen.add(sub)
                    pending.append(sub)

    def is_instance(self, node: Term, cls: Term) -> bool:
        """pyshacl's sh:class test: a type of ``node`` is ``cls`` or reaches it by
        rdfs:subClassOf in the data graph."""
        if isinstance(node, ox.Literal):
            return False
        for kind in self.out.get(node, {}).get(RDF_TYPE, ()):
            seen = {kind}
            pending = [kind]
            while pending:
                current = pending.pop()
                if current == cls:
                    return True
                for sup in self.out.get(current, {}).get(SUBCLASS_OF, ()):
                    if sup not in seen:
                        seen.add(sup)
                        pending.append(sup)
        return False


# --------------------------------------------------------------------------- shapes

_NOTHING: dict[str, list[Term]] = {}


# Predicates of a shape that change nothing in pyshacl's verdict or results' nodes.
_INERT = frozenset(
    str(t)
    for t in (
        RDF.type,
        RDFS.label,
        RDFS.comment,
        SH.message,
        SH.name,
        SH.description,
        SH.order,
        SH.group,
        SH.defaultValue,
        SH.targetClass,  # handled by the plan
    )
)
_SH = str(SH)


@dataclass
class Shape:
    node: Node
    path: str | None = None
    checks: list[Check] = field(default_factory=list)
    # sh:minCount, sh:maxCount, and (component, test) of the components that judge each
    # value node alone: evaluated together (``_install_counts_and_values``)
    min_count: int | None = None
    max_count: int | None = None
    value_tests: list[tuple[str, Callable[[Data, Term], bool]]] = field(default_factory=list)
    counts_and_values: bool = False  # whether their check is installed

    def validate(self, data: Data, focus: Iterable[Term], out: list[Result]) -> None:
        """Validate the distinct nodes ``focus``, all at once: each check loops over them
        in one call."""
        if self.path is None:
            self._run(data, [(f, [f]) for f in focus], out)
        else:
            subjects = data.out
            self.validate_rows(data, [(f, subjects.get(f, _NOTHING)) for f in focus], out)

    def validate_rows(self, data: Data, rows: Rows, out: list[Result]) -> None:
        """``validate`` on the focus nodes of ``rows``, their index entries already found
        (once for all the property shapes of a node shape). Only for a property shape."""
        path = self.path
        assert path is not None
        pairs: Pairs = []
        for f, by_predicate in rows:
            found = by_predicate.get(path)
            if found is None:
                pairs.append((f, []))
            elif len(found) == 1:
                pairs.append((f, found))
            else:
                pairs.append((f, data.values(f, path)))
        self._run(data, pairs, out)

    def _run(self, data: Data, pairs: Pairs, out: list[Result]) -> None:
        for check in self.checks:
            check(data, pairs, out)

    def conforms(self, data: Data, node: Term) -> bool:
        found: list[Result] = []
        self.validate(data, (node,), found)
        return not found


@dataclass
class Plan:
    """A shapes graph compiled: the shapes it evaluates, and the classes whose instances
    only pyshacl may judge (targets of shapes it could not compile)."""

    shapes: list[tuple[Shape, list[Term]]]
    uncompiled: dict[str, list[Term]]  # shape -> its target classes
    whole_graph_unsupported: str | None = None  # why, when nothing can be decided here

    def check(self, data: Data) -> list[Result]:
        """Every result pyshacl would report; raises Undecided where it cannot say."""
        if self.whole_graph_unsupported is not None:
            raise Undecided(self.whole_graph_unsupported)
        for shape, classes in self.uncompiled.items():
            for cls in classes:
                if next(data.instances(cls), None) is not None:
                    raise Undecided(f"{shape} applies and is left to pyshacl")
        out: list[Result] = []
        for shape, classes in self.shapes:
            focus = {node: None for cls in classes for node in data.instances(cls)}
            shape.validate(data, focus, out)
        return out


def compile_plan(graph: Graph) -> Plan:
    """Compile every shape of ``graph`` that has targets (nothing else has focus nodes)."""
    compiler = _Compiler(graph)
    reason = compiler.whole_graph_problem()
    if reason is not None:
        return Plan([], {}, reason)
    shapes: list[tuple[Shape, list[Term]]] = []
    uncompiled: dict[str, list[Term]] = {}
    for node in sorted(set(graph.subjects(SH.targetClass, None)), key=str):
        classes = [_ox(c) for c in graph.objects(node, SH.targetClass)]
        try:
            shapes.append((compiler.shape(node), classes))
        except Unsupported:
            uncompiled[str(node)] = classes
    return Plan(shapes, uncompiled)


def _ox(node: Node) -> Term:
    if isinstance(node, URIRef):
        return ox.NamedNode(str(node))
    raise Unsupported(f"{node!r} where an IRI is expected")


def _single(values: list[Node], what: str) -> Node:
    if len(values) != 1:
        raise Unsupported(f"{len(values)} values of {what}")
    return values[0]


def _count(value: Node, what: str) -> int:
    if not (isinstance(value, Literal) and isinstance(value.value, int)):
        raise Unsupported(f"{what} {value!r} is not an integer")
    if isinstance(value.value, bool) or value.value < 0:
        raise Unsupported(f"{what} {value!r}")
    return value.value


class _Compiler:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self._done: dict[Node, Shape] = {}
        self._busy: set[Node] = set()

    def whole_graph_problem(self) -> str | None:
        """Why no shape of this graph can be compiled, or None."""
        g = self.graph
        if (None, RDF.type, SH.ConstraintComponent) in g or (None, SH.parameter, None) in g:
            return "the shapes graph declares its own constraint components"
        for kind in (SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target):
            if (None, kind, None) in g:
                return f"the shapes graph uses {kind}"
        for shape_kind in (SH.NodeShape, SH.PropertyShape):
            for shape in g.subjects(RDF.type, shape_kind):
                if (shape, RDF.type, RDFS.Class) in g or (shape, RDF.type, OWL_CLASS) in g:
                    return "a shape is also a class (implicit class targets)"
        return None

    def shape(self, node: Node) -> Shape:
        done = self._done.get(node)
        if done is not None:
            return done
        if node in self._busy:
            raise Unsupported(f"recursive shape {node}")
        self._busy.add(node)
        try:
            shape = self._compile(node)
        finally:
            self._busy.discard(node)
        self._done[node] = shape
        return shape

    def _compile(self, node: Node) -> Shape:
        g = self.graph
        params: dict[str, list[Node]] = {}
        for p, o in g.predicate_objects(node):
            params.setdefault(str(p), []).append(o)
        for p in params:
            if p.startswith(_SH) and p not in _INERT and p not in _COMPONENTS:
                raise Unsupported(f"{p} is not compiled")
        for p in (SH.deactivated, SH.severity):
            if str(p) in params:
                raise Unsupported(f"{p}")
        path: str | None = None
        if str(SH.path) in params:
            raw = _single(params[str(SH.path)], "sh:path")
            if not isinstance(raw, URIRef):
                raise Unsupported("a path other than a single IRI")
            path = str(raw)
        shape = Shape(node, path)
        for build in dict.fromkeys(_COMPONENTS[p] for p in params if p in _COMPONENTS):
            build(self, shape, params)
        return shape

    def items(self, head: Node) -> list[Node]:
        return list(Collection(self.graph, head))  # type: ignore[arg-type]


OWL_CLASS = URIRef("http://www.w3.org/2002/07/owl#Class")


# --------------------------------------------------------------------------- components
# Each builder reads a shape's parameters and appends a check that reports what
# pyshacl's component of the same name reports: (focus, path, component, value).


def _value_check(shape: Shape, component: str, ok: Callable[[Data, Term], bool]) -> None:
    """Add a test of each value node alone (given the data)."""
    _install_counts_and_values(shape)
    shape.value_tests.append((component, ok))


def _install_counts_and_values(shape: Shape) -> None:
    """One check, added once per shape, for its sh:minCount, sh:maxCount and every test of
    a value node alone: one loop over the focus nodes, and each distinct value tested once
    (a month repeats its currency, dates, account and categories; equal Oxigraph terms are
    the same term, with the same verdict)."""
    if shape.counts_and_values:
        return
    shape.counts_and_values = True
    path = shape.path
    tests = shape.value_tests

    def check(data: Data, pairs: Pairs, out: list[Result]) -> None:
        least, most = shape.min_count, shape.max_count
        failing_of: dict[Term, list[str]] = {}
        for f, values in pairs:
            if least is not None and len(values) < least:
                out.append((f, path, "MinCountConstraintComponent", None))
            if most is not None and len(values) > most:
                out.append((f, path, "MaxCountConstraintComponent", None))
            if not tests:
                continue
            for v in values:
                failing = failing_of.get(v)
                if failing is None:
                    failing = failing_of[v] = [c for c, test in tests if not test(data, v)]
                for c in failing:
                    out.append((f, path, c, v))

    shape.checks.append(check)


def _datatype(c: _Compiler, shape: Shape, params: dict[str, list[Node]]) -> None:
    rule = str(_single(params[str(SH.datatype)], "sh:datatype"))
    _value_check(
        shape, "DatatypeConstraintComponent", lambda d, v: d.literals.has_datatype(v, rule)
    )


_KINDS: dict[str, tuple[type, ...]] = {
    str(SH.IRI): (ox.NamedNode,),
    str(SH.BlankNode): (ox.BlankNode,),
    str(SH.Literal): (ox.Literal,),
    str(SH.BlankNodeOrIRI): (ox.BlankNode, ox.NamedNode),
    str(SH.BlankNodeOrLiteral): (ox.BlankNode, ox.Literal),
    str(SH.IRIOrLiteral): (ox.NamedNode, ox.Literal),
}


def _node_kind(c: _Compiler, shape: Shape, params: dict[str, list[Node]]) -> None:
    kinds = _KINDS.get(str(_single(params[str(SH.nodeKind)], "sh:nodeKind")))
    if kinds is None:
        raise Unsupported("an unknown sh:nodeKind")
    _value_check(shape, "NodeKindConstraintComponent", lambda d, v: isinstance(v, kinds))


def _cardinality(c: _Compiler, shape: Shape, params: dict[str, list[Node]]) -> None:
    low = params.get(str(SH.minCount))
    high = params.get(str(SH.maxCount))
    if low is not None:
        shape.min_count = _count(_single(low, "sh:minCount"), "sh:minCount")
    if high is not None:
        shape.max_count = _count(_single(high, "sh:maxCount"), "sh:maxCount")
    _install_counts_and_values(shape)


def _text(data: Data, v: Term) -> str | None:
    """pyshacl's string of a value node for string constraints; None for a blank node."""
    if isinstance(v, ox.NamedNode):
        return v.value
    if isinstance(v, ox.Literal):
        return data.literals.lexical(v)
    return None


def _pattern(c: _Compiler, shape: Shape, params: dict[str, list[Node]]) -> None:
    if str(SH.flags) in params:
        raise Unsupported("sh:flags")
    raw = _single(params[str(SH.pattern)], "sh:pattern")
    if not isinstance(raw, Literal) or len(str(raw)) < 2:
        raise Unsupported("an unusual sh:pattern")
    regex = re.compile(str(raw))

    def ok(data: Data, v: Term) -> bool:
        text = _text(data, v)
        return text is not None and regex.search(text) is not None

    _value_check(shape, "PatternConstraintComponent", ok)


def _lengths(c: _Compiler, shape: Shape, params: dict[str, list[Node]]) -> None:
    low = params.get(str(SH.minLength))
    high = params.get(str(SH.maxLength))
    if low is not None:
        least = _count(_single(low, "sh:minLength"), "sh:minLength")

        def long_enough(data: Data, v: Term) -> bool:
            if least == 0:
                return True
            text = _text(data, v)
            return text is not None and len(text) >= least

        _value_check(shape, "MinLengthConstraintComponent", long_enough)
    if high is not None:
        most = _count(_single(high, "sh:maxLength"), "sh:maxLength")

        def short_enough(data: Data, v: Term) -> bool:
            text = _text(data, v)
            return text is not None and len(text) <= most

        _value_check(shape, "MaxLengthConstraintComponent", short_enough)


def _shape_key(node: Node) -> object:
    """The key ``Literals.key`` gives the same term in data."""
    if isinstance(node, URIRef):
        return ox.NamedNode(str(node))
    if isinstance(node, Literal):
        lang = node.language.lower() if node.language else None
        datatype = str(node.datatype) if node.datatype is not None else None
        return ("L", str(node), datatype, lang)
    raise Unsupported("a blank node as a constant")


def _in(c: _Compiler, shape: Shape, params: dict[str, list[Node]]) -> None:
    allowed = {_shape_key(item) for item in c.items(_single(params[str(SH["in"])], "sh:in"))}
    _value_check(shape, "InConstraintComponent", lambda d, v: d.literals.key(v) in allowed)


def _has_value(c: _Compiler, shape: Shape, params: dict[str, list[Node]]) -> None:
    path = shape.path
    for raw in params[str(SH.hasValue)]:
        wanted = _shape_key(raw)

        def check(data: Data, pairs: Pairs, out: list[Result], wanted: object = wanted) -> None:
            key = data.literals.key
            for f, values in pairs:
                if not any(key(v) == wanted for v in values):
                    out.append((f, path, "HasValueConstraintComponent", None))

        shape.checks.append(check)


def _class(c: _Compiler, shape: Shape, params: dict[str, list[Node]]) -> None:
    for raw in params[str(SH["class"])]:
        cls = _ox(raw)
        _value_check(shape, "ClassConstraintComponent", lambda d, v, cls=cls: d.is_instance(v, cls))


_RANGES = {
    str(SH.minInclusive): ("MinInclusiveConstraintComponent", lambda cmp: cmp >= 0),
    str(SH.minExclusive): ("MinExclusiveConstraintComponent", lambda cmp: cmp > 0),
    str(SH.maxInclusive): ("MaxInclusiveConstraintComponent", lambda cmp: cmp <= 0),
    str(SH.maxExclusive): ("MaxExclusiveConstraintComponent", lambda cmp: cmp < 0),
}


def _range(c: _Compiler, shape: Shape, params: dict[str, list[Node]]) -> None:
    for parameter, (component, accept) in _RANGES.items():
        if parameter not in params:
            continue
        bound = _single(params[parameter], parameter)
        if not isinstance(bound, Literal):
            raise Unsupported(f"{parameter} is not a literal")

        def ok(data: Data, v: Term, bound: Literal = bound, accept: Any = accept) -> bool:
            # pyshacl's value range test, on rdflib's reading of the value.
            if not isinstance(v, ox.Literal):
                return False
            value = data.literals.rdflib(v)
            if isinstance(value.value, str) != isinstance(bound.value, str):
                return False
            try:
                return bool(accept(compare_literal(value, bound)))
            except (TypeError, NotImplementedError):
                return False

        _value_check(shape, component, ok)


def _pair(c: _Compiler, shape: Shape, params: dict[str, list[Node]]) -> None:
    path = shape.path
    for parameter, component, strict in (
        (str(SH.lessThan), "LessThanConstraintComponent", True),
        (str(SH.lessThanOrEquals), "LessThanOrEqualsConstraintComponent", False),
    ):
        if parameter not in params:
            continue
        other = _single(params[parameter], parameter)
        if not isinstance(other, URIRef):
            raise Unsupported(f"{parameter} with a complex path")
        other_path = str(other)

        def check(
            data: Data,
            pairs: Pairs,
            out: list[Result],
            other_path: str = other_path,
            component: str = component,
            strict: bool = strict,
        ) -> None:
            for f, values in pairs:
                others = data.values(f, other_path)
                _compare_pair(data, f, values, others, out, path, component, strict)

        shape.checks.append(check)


def _compare_pair(
    data: Data,
    f: Term,
    values: list[Term],
    others: list[Term],
    out: list[Result],
    path: str | None,
    component: str,
    strict: bool,
) -> None:
    """pyshacl's sh:lessThan(OrEquals) test: a result for every failing pair."""
    for v in values:
        left_is_text, left = _comparable(data, v)
        for w in others:
            right_is_text, right = _comparable(data, w)
            if left_is_text != right_is_text:
                out.append((f, path, component, v))
                continue
            try:
                fine = left < right if strict else left <= right  # type: ignore[operator]
            except TypeError as exc:  # pyshacl itself fails here
                raise Undecided(f"incomparable values under {component}") from exc
            if not fine:
                out.append((f, path, component, v))


def _comparable(data: Data, v: Term) -> tuple[bool, Any]:
    """What pyshacl compares under sh:lessThan(OrEquals), and whether it counts as a
    string (an rdflib Literal is a ``str`` subclass, so the flag is kept apart): the text
    of IRIs and string literals, the rdflib literal otherwise. Blank nodes make it fail."""
    if isinstance(v, ox.BlankNode):
        raise Undecided("a blank node under sh:lessThan")
    if isinstance(v, ox.NamedNode):
        return True, v.value
    value = data.literals.rdflib(v)
    if isinstance(value.value, str):
        return True, value.value
    return False, value


def _property(c: _Compiler, shape: Shape, params: dict[str, list[Node]]) -> None:
    subs: list[Shape] = []
    for raw in params[str(SH.property)]:
        sub = c.shape(raw)
        if sub.path is None:
            raise Unsupported("sh:property to a shape without sh:path")
        subs.append(sub)
    own_path = shape.path

    def check(data: Data, pairs: Pairs, out: list[Result]) -> None:
        # Each value node once, whatever number of focus nodes lead to it (a node shape's
        # focus nodes are already distinct), and looked up once for all property shapes.
        if own_path is None:
            nodes: Iterable[Term] = [f for f, _vs in pairs]
        else:
            nodes = dict.fromkeys(v for _f, vs in pairs for v in vs)
        subjects = data.out
        rows = [(v, subjects.get(v, _NOTHING)) for v in nodes]
        for sub in subs:
            sub.validate_rows(data, rows, out)

    shape.checks.append(check)


def _node(c: _Compiler, shape: Shape, params: dict[str, list[Node]]) -> None:
    for raw in params[str(SH.node)]:
        sub = c.shape(raw)
        if sub.path is not None:
            raise Unsupported("sh:node to a property shape")
        _value_check(shape, "NodeConstraintComponent", lambda d, v, sub=sub: sub.conforms(d, v))


def _not(c: _Compiler, shape: Shape, params: dict[str, list[Node]]) -> None:
    for raw in params[str(SH["not"])]:
        sub = c.shape(raw)
        _value_check(shape, "NotConstraintComponent", lambda d, v, sub=sub: not sub.conforms(d, v))


def _or(c: _Compiler, shape: Shape, params: dict[str, list[Node]]) -> None:
    for raw in params[str(SH["or"])]:
        members = list(dict.fromkeys(c.items(raw)))
        if not members:
            raise Unsupported("an empty sh:or")
        subs = [c.shape(m) for m in members]
        _value_check(
            shape,
            "OrConstraintComponent",
            lambda d, v, subs=subs: any(s.conforms(d, v) for s in subs),
        )


def _qualified(c: _Compiler, shape: Shape, params: dict[str, list[Node]]) -> None:
    path = shape.path
    disjoint = params.get(str(SH.qualifiedValueShapesDisjoint), [])
    if any(not (isinstance(d, Literal) and d.value is False) for d in disjoint):
        raise Unsupported("sh:qualifiedValueShapesDisjoint")
    sub = c.shape(_single(params[str(SH.qualifiedValueShape)], "sh:qualifiedValueShape"))
    low = params.get(str(SH.qualifiedMinCount))
    high = params.get(str(SH.qualifiedMaxCount))
    least = _count(_single(low, "sh:qualifiedMinCount"), "sh:qualifiedMinCount") if low else None
    most = _count(_single(high, "sh:qualifiedMaxCount"), "sh:qualifiedMaxCount") if high else None
    if least is None and most is None:
        raise Unsupported("sh:qualifiedValueShape without a count")

    def check(data: Data, pairs: Pairs, out: list[Result]) -> None:
        for f, values in pairs:
            if not values and (least is None or least < 1):
                continue
            conforming = sum(1 for v in values if sub.conforms(data, v))
            if most is not None and conforming > most:
                out.append((f, path, "QualifiedMaxCountConstraintComponent", None))
            if least is not None and conforming < least:
                out.append((f, path, "QualifiedMinCountConstraintComponent", None))

    shape.checks.append(check)


def _parameter_only(c: _Compiler, shape: Shape, params: dict[str, list[Node]]) -> None:
    """sh:path: read by ``_Compiler._compile`` itself."""


def _qualified_parts(c: _Compiler, shape: Shape, params: dict[str, list[Node]]) -> None:
    if str(SH.qualifiedValueShape) not in params:
        raise Unsupported("a qualified count without sh:qualifiedValueShape")
    _qualified(c, shape, params)


# The supported constraint parameters and the builder that reads each (a builder runs
# once per shape however many of its parameters the shape has).
_COMPONENTS: dict[str, Callable[[_Compiler, Shape, dict[str, list[Node]]], None]] = {
    str(SH.path): _parameter_only,
    str(SH.property): _property,
    str(SH.node): _node,
    str(SH.datatype): _datatype,
    str(SH.nodeKind): _node_kind,
    str(SH.minCount): _cardinality,
    str(SH.maxCount): _cardinality,
    str(SH.pattern): _pattern,
    str(SH.minLength): _lengths,
    str(SH.maxLength): _lengths,
    str(SH["in"]): _in,
    str(SH.hasValue): _has_value,
    str(SH["class"]): _class,
    str(SH.minInclusive): _range,
    str(SH.minExclusive): _range,
    str(SH.maxInclusive): _range,
    str(SH.maxExclusive): _range,
    str(SH.lessThan): _pair,
    str(SH.lessThanOrEquals): _pair,
    str(SH["not"]): _not,
    str(SH["or"]): _or,
    str(SH.qualifiedValueShape): _qualified_parts,
    str(SH.qualifiedMinCount): _qualified_parts,
    str(SH.qualifiedMaxCount): _qualified_parts,
    str(SH.qualifiedValueShapesDisjoint): _qualified_parts,
}
