"""SPARQL 1.1 Update as a PATCH format, restricted to the target resource; pure functions.

Accepted: ``INSERT DATA``, ``DELETE DATA``, ``DELETE/INSERT … WHERE``, ``DELETE WHERE``,
``PREFIX``/``BASE``, several operations separated by ``;`` (a trailing ``;`` included).
Refused with 422, because the Solid Protocol says servers "MUST NOT allow a request with a
PATCH method to change other resources than the target resource": LOAD, CLEAR, CREATE, DROP,
COPY, MOVE, ADD, and GRAPH, WITH, USING and SERVICE anywhere (SERVICE would also make rdflib
fetch a remote endpoint).

Parsing and translation are rdflib's. Evaluation is ours, built on rdflib's pattern matcher
(``evalPart``), because rdflib's ``evalUpdate`` interleaves deletes and inserts solution by
solution; SPARQL 1.1 Update §3.1.3 deletes for all solutions first, then inserts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from pyparsing import ParseBaseException, ParseResults
from rdflib import BNode, Graph, Literal, URIRef, Variable
from rdflib.plugins.sparql.algebra import _traverseAgg, analyse, translateUpdate
from rdflib.plugins.sparql.evaluate import evalBGP, evalPart
from rdflib.plugins.sparql.operators import and_
from rdflib.plugins.sparql.parser import parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.plugins.sparql.sparql import QueryContext, SPARQLError, Update
from rdflib.term import Node

from pod_server.errors import BadRequest, UnprocessableEntity
from pod_server.ldp.budget import (
    DEFAULT_MAX_NESTING,
    DEFAULT_MAX_SOLUTIONS,
    check_nesting,
    too_many_solutions,
)

Triple = tuple[Node, Node, Node]
Solution = Mapping[Variable, Node]

# Operations that act on whole graphs, named graphs, or the network.
_FORBIDDEN_OPERATIONS = {
    "Load": "LOAD",
    "Clear": "CLEAR",
    "Create": "CREATE",
    "Drop": "DROP",
    "Copy": "COPY",
    "Move": "MOVE",
    "Add": "ADD",
}
# "GraphGraphPattern" is the untranslated form rdflib leaves inside FILTER (NOT) EXISTS.
_FORBIDDEN_PATTERNS = {
    "Graph": "GRAPH",
    "GraphGraphPattern": "GRAPH",
    "ServiceGraphPattern": "SERVICE",
}
_ONLY_TARGET = "a PATCH may only change the target resource"
TRIPLES_PER_SOLUTION = 10  # instantiated template triples allowed per allowed solution


@dataclass(frozen=True)
class SparqlUpdate:
    """A validated update: rdflib algebra operations, applied in lexical order."""

    operations: tuple[CompValue, ...]

    @property
    def deletes(self) -> bool:
        return any(_may_delete(op) for op in self.operations)

    @property
    def has_where(self) -> bool:
        return any(op.name in ("DeleteWhere", "Modify") for op in self.operations)

    def apply(self, graph: Graph, max_solutions: int = DEFAULT_MAX_SOLUTIONS) -> None:
        """Apply in place (the caller passes a copy, which also makes the request atomic).
        A WHERE with more than ``max_solutions`` solutions is a 422, found as they come."""
        for op in self.operations:
            _APPLY[op.name](graph, op, max_solutions)


def parse_sparql_update(
    text: str, base: str, max_nesting: int = DEFAULT_MAX_NESTING
) -> SparqlUpdate:
    """Parse, resolve against ``base`` and validate a SPARQL Update request."""
    check_nesting(text, max_nesting, "SPARQL Update")  # pyparsing recurses per level
    try:
        parsed = parseUpdate(text)
    except ParseBaseException as exc:
        raise BadRequest(f"Invalid SPARQL Update: {exc}") from None
    except RecursionError:  # pyparsing recurses per nesting level: ~100 "{" are enough
        raise BadRequest("Invalid SPARQL Update: nested too deeply") from None
    if not parsed.request:  # an empty request (or only a prologue) is a valid no-op
        return SparqlUpdate(())
    _check_prefixes(parsed)
    _resolve_iris(parsed, base)
    _keep_constant_filters(parsed)
    operations = tuple(_translate(parsed, base).algebra)
    for op in operations:
        _check_operation(op)
        if op.name == "Modify":
            # Mark joins lazy as rdflib's query translation does (update translation does
            # not): a lazy join streams solutions, where an eager one first builds the set of
            # all solutions of its right side, millions for a few unconstrained patterns,
            # before the solution limit could see one.
            _traverseAgg(op.where, visitor=analyse)
    return SparqlUpdate(operations)


# --- validation ----------------------------------------------------------------------------


def _check_prefixes(parsed: CompValue) -> None:
    """Refuse undeclared prefixes, which rdflib would silently resolve.

    rdflib pre-binds ~30 prefixes (foaf:, schema: -> https://schema.org/, ...), so a missing
    PREFIX line would not fail but could store triples in an unintended namespace. A prologue
    applies to its operation and every later one, as in the grammar
    (``Update ::= Prologue ( Update1 ( ';' Update )? )?``).
    """
    declared: set[str] = set()
    # After a trailing ";" there is one more prologue than operations, hence strict=False.
    for prologue, request in zip(parsed.prologue, parsed.request, strict=False):
        declared |= {d.prefix or "" for d in prologue if d.name == "PrefixDecl"}
        for node in _walk(request):
            if isinstance(node, CompValue) and node.name == "pname":
                prefix = node.prefix or ""
                if prefix not in declared:
                    raise BadRequest(f"Invalid SPARQL Update: undeclared prefix '{prefix}:'")


def _resolve_iris(parsed: CompValue, base: str) -> None:
    """Resolve every IRI in the parse tree against the base in force, in place (RFC 3986 §5).

    rdflib resolves a relative IRI only if it has no ":" anywhere (so not <a/b:c> or <#t:1>),
    resets the base to the request URL for every operation, and takes a relative BASE as is.
    After this pass its translation only ever sees absolute IRIs. A BASE, like a PREFIX,
    holds for its operation and all later ones.
    """
    for prologue, request in zip(parsed.prologue, parsed.request, strict=False):
        for declaration in prologue:
            declaration["iri"] = URIRef(_join(base, declaration.iri))
            if declaration.name == "Base":
                base = declaration.iri
        _resolve_in(request, base)


def _keep_constant_filters(parsed: CompValue) -> None:
    """Stop rdflib from dropping ``FILTER(false)``, ``FILTER(0)`` or ``FILTER("")``.

    Its translation tests the group's filter expression for truth in Python, and a falsy
    constant Literal fails that test, so the filter vanished and ``DELETE … WHERE { …
    FILTER(false) }`` deleted every match. ``c && c`` has the same value (and errors) as
    ``c`` but is a non-empty expression node, which survives.
    """
    for node in _walk(parsed):
        if isinstance(node, CompValue) and node.name == "Filter":
            constant = _constant(node.expr)
            if constant is not None:
                node["expr"] = and_(constant, constant)


def _constant(expr: object) -> Literal | None:
    """The literal an expression is, once rdflib simplifies its one-operand wrappers."""
    while isinstance(expr, CompValue) and list(expr.keys()) in (["expr"], ["string"]):
        expr = next(iter(expr.values()))  # a wrapper, or a plain string literal
    return expr if isinstance(expr, Literal) else None


def _join(base: str, iri: str) -> str:
    """RFC 3986 resolution that keeps an empty fragment: urljoin drops the ``#`` of
    ``<http://ex.org/ns#>``, which would turn every ``ex:name`` into ``<…nsname>``."""
    joined = urljoin(base, iri)
    return joined + "#" if iri.endswith("#") and not joined.endswith("#") else joined


def _resolve_in(node: object, base: str) -> None:
    if isinstance(node, ParseResults | list):
        slots: Iterable[tuple[Any, object]] = list(enumerate(node))
    elif isinstance(node, CompValue):
        slots = list(node.items())
    else:
        return
    for key, value in slots:
        if isinstance(value, URIRef):
            node[key] = URIRef(_join(base, value))
        else:
            _resolve_in(value, base)


def _translate(parsed: CompValue, base: str) -> Update:
    try:
        return translateUpdate(parsed, base=base)
    except Exception as exc:
        # rdflib's algebra translation reports bad input with bare ``Exception``s; convert
        # exactly those, and let every other type (a real bug) propagate.
        if type(exc) is not Exception:
            raise
        raise BadRequest(f"Invalid SPARQL Update: {exc}") from None


def _check_operation(op: CompValue) -> None:
    # Optional parts are read as attributes: CompValue.get(key) returns the *key* when it is
    # missing, while a missing attribute is None.
    keyword = _FORBIDDEN_OPERATIONS.get(op.name)
    if keyword:
        raise UnprocessableEntity(f"SPARQL Update: {keyword} is not allowed; {_ONLY_TARGET}")
    if op.withClause is not None:
        raise UnprocessableEntity(f"SPARQL Update: WITH is not allowed; {_ONLY_TARGET}")
    if op.using:
        raise UnprocessableEntity(f"SPARQL Update: USING is not allowed; {_ONLY_TARGET}")
    if any(quads for _, quads, _ in _templates(op)):
        raise UnprocessableEntity(f"SPARQL Update: GRAPH is not allowed; {_ONLY_TARGET}")
    for node in _walk(op):
        pattern = _FORBIDDEN_PATTERNS.get(node.name) if isinstance(node, CompValue) else None
        if pattern:
            raise UnprocessableEntity(f"SPARQL Update: {pattern} is not allowed; {_ONLY_TARGET}")
    for role, _, triples in _templates(op):
        _check_template(op.name, role, triples)


def _templates(op: CompValue) -> Iterator[tuple[str, Mapping[Node, list[Triple]], list[Triple]]]:
    """(role, quads-by-graph, default-graph triples) for each data block or template."""
    if op.name == "Modify":
        for role in ("delete", "insert"):
            clause = getattr(op, role)
            if clause is not None:
                yield role, clause.quads, clause.triples
    else:
        role = "insert" if op.name == "InsertData" else "delete"
        yield role, op.quads, op.triples


def _check_template(op_name: str, role: str, triples: Iterable[Triple]) -> None:
    """Grammar rules rdflib's parser does not enforce, and IRIs it failed to resolve."""
    for triple in triples:
        for term in triple:
            if op_name in ("InsertData", "DeleteData") and isinstance(term, Variable):
                # SPARQL 1.1 Update §3.1.1/§3.1.2: variables are not allowed in QuadData.
                raise BadRequest("Invalid SPARQL Update: variables are not allowed in DATA blocks")
            if role == "delete" and isinstance(term, BNode):
                # SPARQL 1.1 Update §3.1.2/§3.1.3: no blank nodes in DELETE DATA, DELETE
                # WHERE or a DELETE template (they could never identify existing triples).
                raise BadRequest("Invalid SPARQL Update: blank nodes are not allowed in DELETE")
            if isinstance(term, URIRef) and not urlsplit(term).scheme:
                # Backstop: _resolve_iris made every IRI absolute, unless a base was relative.
                raise BadRequest(f"Invalid SPARQL Update: could not resolve relative IRI <{term}>")


def _walk(value: object) -> Iterator[object]:
    """Every node of a parse tree or algebra expression (CompValues, lists, terms)."""
    yield value
    # ParseResults first: pyparsing registers it as a MutableMapping, whose values() would
    # hold only the named results and skip the positional tokens (the triples).
    if isinstance(value, ParseResults | list | tuple):
        children: Iterable[object] = value
    elif isinstance(value, Mapping):
        children = value.values()
    else:
        return
    for child in children:
        yield from _walk(child)


def _may_delete(op: CompValue) -> bool:
    return op.name in ("DeleteData", "DeleteWhere") or (
        op.name == "Modify" and op.delete is not None
    )


# --- evaluation ----------------------------------------------------------------------------


def _insert_data(graph: Graph, op: CompValue, max_solutions: int) -> None:
    # Blank nodes in INSERT DATA are new nodes: rdflib keeps the label (``_:b`` -> BNode("b")),
    # which could collide with a node already in the document, so rename them.
    fresh: defaultdict[BNode, BNode] = defaultdict(BNode)
    for triple in op.triples:
        s, p, o = (fresh[t] if isinstance(t, BNode) else t for t in triple)
        graph.add((s, p, o))


def _delete_data(graph: Graph, op: CompValue, max_solutions: int) -> None:
    # SPARQL semantics: deleting an absent triple is a no-op (SPARQL 1.1 Update §3.1.2:
    # "Deleting triples that are not present … will have no effect and will result in
    # success"). N3 Patch is strict and answers 409 instead; each format keeps its own.
    for triple in op.triples:
        graph.remove(triple)


def _delete_where(graph: Graph, op: CompValue, max_solutions: int) -> None:
    # DELETE WHERE { P } is DELETE { P } WHERE { P } (SPARQL 1.1 Update §3.1.3.3).
    solutions = _solutions(graph, op, lambda ctx: evalBGP(ctx, op.triples), max_solutions)
    _replace(graph, _instantiate(op.triples, solutions, max_solutions), set())


def _modify(graph: Graph, op: CompValue, max_solutions: int) -> None:
    solutions = _solutions(graph, op, lambda ctx: evalPart(ctx, op.where), max_solutions)
    deletions = _instantiate(op.delete.triples, solutions, max_solutions) if op.delete else set()
    insertions = _instantiate(op.insert.triples, solutions, max_solutions) if op.insert else set()
    _replace(graph, deletions, insertions)


def _solutions(
    graph: Graph,
    op: CompValue,
    evaluate: Callable[[QueryContext], Iterable[Solution]],
    limit: int,
) -> list[Solution]:
    """All WHERE solutions, materialised before the graph changes under the iterator;
    422 as soon as there are more than ``limit`` (a few triple patterns over a small
    document can have millions)."""
    # initBindings={} rather than None: rdflib's FrozenBindings.get() on an unbound variable
    # raises TypeError when the context has no initBindings.
    ctx = QueryContext(graph, initBindings={})
    ctx.prologue = op.prologue
    found: list[Solution] = []
    try:
        for solution in evaluate(ctx):
            if len(found) == limit:
                raise too_many_solutions("SPARQL Update: the WHERE clause", limit)
            found.append(solution)
    except SPARQLError as exc:
        raise UnprocessableEntity(f"SPARQL Update: could not evaluate WHERE: {exc}") from None
    return found


def _instantiate(
    template: list[Triple], solutions: list[Solution], max_solutions: int
) -> set[Triple]:
    """Fill the template per solution (SPARQL 1.1 Update §3.1.3): triples with an unbound
    variable or an illegal construct (literal subject, non-IRI predicate) are skipped, and
    each solution gets its own fresh blank nodes. A large template times many solutions
    could fill memory before any time limit: at most ``TRIPLES_PER_SOLUTION`` times the
    solution limit, else 422."""
    limit = TRIPLES_PER_SOLUTION * max_solutions
    if len(template) * len(solutions) > limit:
        raise UnprocessableEntity(
            f"SPARQL Update: the template would produce more than {limit} triples;"
            " this server's limit"
        )
    result: set[Triple] = set()
    for solution in solutions:
        fresh: defaultdict[BNode, BNode] = defaultdict(BNode)
        for pattern in template:
            s, p, o = (_fill(term, solution, fresh) for term in pattern)
            if s is None or o is None or isinstance(s, Literal) or not isinstance(p, URIRef):
                continue
            result.add((s, p, o))
    return result


def _fill(term: Node, solution: Solution, fresh: defaultdict[BNode, BNode]) -> Node | None:
    if isinstance(term, Variable):
        return solution.get(term)
    return fresh[term] if isinstance(term, BNode) else term


def _replace(graph: Graph, deletions: set[Triple], insertions: set[Triple]) -> None:
    for triple in deletions:
        graph.remove(triple)
    for triple in insertions:
        graph.add(triple)


_APPLY: dict[str, Callable[[Graph, CompValue, int], None]] = {
    "InsertData": _insert_data,
    "DeleteData": _delete_data,
    "DeleteWhere": _delete_where,
    "Modify": _modify,
}
