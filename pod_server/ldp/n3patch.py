"""N3 Patch (Solid Protocol 0.11, "Modifying Resources Using N3 Patches"), as pure functions.

A patch is an N3 document holding one ``solid:InsertDeletePatch`` resource with up to one
``solid:where``, ``solid:deletes`` and ``solid:inserts`` formula each::

    _:rename a solid:InsertDeletePatch;
      solid:where   { ?person ex:familyName "Garcia". };
      solid:inserts { ?person ex:givenName "Alex". };
      solid:deletes { ?person ex:givenName "Claudia". }.

Applying it is strict, as the spec demands: the ``where`` formula must match the document in
exactly one way, and every triple to delete must be present; otherwise 409 and nothing changes.

Status codes: N3 that does not parse is 400; a parsed document that breaks the spec's
structural constraints is 422 ("Servers MUST respond with a 422 status code [RFC4918] if a
patch document does not satisfy all of the above constraints"); a condition that fails
against the current document is 409.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pyoxigraph as ox
from rdflib import RDF, XSD, BNode, Graph, Literal, URIRef, Variable
from rdflib.graph import QuotedGraph
from rdflib.plugins.parsers.notation3 import BadSyntax, RDFSink, SinkParser
from rdflib.term import Node

from pod_server.errors import BadRequest, Conflict, UnprocessableEntity
from pod_server.ldp.budget import DEFAULT_MAX_NESTING, DEFAULT_MAX_SOLUTIONS, check_nesting
from pod_server.ldp.vocabulary import SOLID

Pattern = tuple[Node, Node, Node]
Binding = dict[Node, Node]  # Variable or where-clause BNode -> value
_Kinds = type | tuple[type, ...]

# Candidate triples the where-matcher may examine per allowed solution before giving up. A
# well-formed where clause needs a handful; this bound stops a crafted cross product.
STEPS_PER_SOLUTION = 20

_CLAUSES = (SOLID.where, SOLID.inserts, SOLID.deletes)
# RFC 3987 excludes these from IRIs; rdflib only logs a warning and stores the bad IRI, which
# would later make the document unserializable.
_BAD_IRI_CHARS = re.compile(r'[\x00-\x20<>"{}|\\^`]')


@dataclass(frozen=True)
class N3Patch:
    """A validated N3 Patch. Patterns may hold ``?variables``; conditions also blank nodes."""

    conditions: tuple[Pattern, ...]
    insertions: tuple[Pattern, ...]
    deletions: tuple[Pattern, ...]

    @property
    def deletes(self) -> bool:
        # "When ?deletions is non-empty, servers MUST treat the request as a Read and Write."
        return bool(self.deletions)

    @property
    def has_where(self) -> bool:
        # "When ?conditions is non-empty, servers MUST treat the request as a Read operation."
        return bool(self.conditions)

    def apply(self, graph: Graph, max_solutions: int = DEFAULT_MAX_SOLUTIONS) -> None:
        """Apply in place (the caller passes a copy): match, check deletions, delete, insert.
        The matcher examines at most ``STEPS_PER_SOLUTION * max_solutions`` candidates."""
        mapping = _single_mapping(graph, self.conditions, STEPS_PER_SOLUTION * max_solutions)
        deletions = [_substitute(pattern, mapping) for pattern in self.deletions]
        missing = [triple for triple in deletions if triple not in graph]
        if missing:
            # "If the set of triples resulting from ?deletions is non-empty and the dataset
            # does not contain all of these triples, the server MUST respond with a 409."
            raise Conflict(
                f"N3 Patch: triple to delete is not in the document: {_show(missing[0])}"
            )
        insertions = [_substitute(pattern, mapping) for pattern in self.insertions]
        for triple in insertions:
            _check_insertable(triple)
        for triple in deletions:
            graph.remove(triple)
        for triple in insertions:
            graph.add(triple)


class GroundInsert:
    """An N3 Patch that only inserts ground triples (no where clause, no deletions, no
    blank nodes): what clients send most, parsed by Oxigraph and kept as its terms.

    rdflib's terms cost five times Oxigraph's parse to build, so they are made on first
    use of ``insertions`` (applying or appending the patch), the same as ``N3Patch``'s; a
    new document that the compiled shapes accept is stored without them (``writing``).
    """

    deletes = False
    has_where = False
    conditions: tuple[Pattern, ...] = ()
    deletions: tuple[Pattern, ...] = ()

    def __init__(self, quads: tuple[ox.Quad, ...]) -> None:
        self.quads = quads  # as parsed: the graph of each is the inserts formula

    @functools.cached_property
    def insertions(self) -> tuple[Pattern, ...]:
        return _patterns(self.quads)

    def apply(self, graph: Graph, max_solutions: int = DEFAULT_MAX_SOLUTIONS) -> None:
        """Add the triples to ``graph`` in place (ground: nothing to match or check)."""
        graph.addN((s, p, o, graph) for s, p, o in self.insertions)


def parse_n3_patch(
    text: str, base: str, max_nesting: int = DEFAULT_MAX_NESTING
) -> N3Patch | GroundInsert:
    """Parse and validate an N3 Patch; relative IRIs resolve against ``base``."""
    check_nesting(text, max_nesting, "N3")  # before the parser recurses once per level
    simple = _parse_simple(text, base, max_nesting)
    if simple is not None:
        return simple
    root = _parse_n3(text, base)
    subject = _patch_resource(root)
    where = _clause(root, subject, SOLID.where)
    if len(where) > max_nesting:
        # The matcher goes one level deeper per where triple: the nesting limit bounds both.
        raise UnprocessableEntity(
            f"N3 Patch solid:where has {len(where)} triples; this server's limit is {max_nesting}"
        )
    inserts = _clause(root, subject, SOLID.inserts)
    deletes = _clause(root, subject, SOLID.deletes)
    for name, patterns in (("inserts", inserts), ("deletes", deletes)):
        _reject_blank_nodes(name, patterns)
        _reject_unbound_variables(name, patterns, _variables(where))
    return N3Patch(conditions=where, insertions=inserts, deletions=deletes)


# --- parsing -------------------------------------------------------------------------------


# Where Oxigraph's terms cannot say what rdflib's parser would make of the text, the
# patch takes the general path: an explicit ^^xsd:string (Oxigraph cannot tell it from a
# plain literal; rdflib keeps it), or a language tag with capitals (Oxigraph lower-cases).
_AMBIGUOUS = re.compile(r"\^\^\s*\S*string|@[a-z]*[A-Z]")


def _parse_simple(text: str, base: str, max_nesting: int) -> N3Patch | GroundInsert | None:
    """The common patch (variable-free clauses of plain triples) parsed with Oxigraph's N3
    parser, 50 times faster than rdflib's; None for anything else, which the general path
    then parses and judges (variables, odd structure, errors and their messages).

    Same result as the general path: the same rdflib terms (``Literal`` normalises lexical
    forms as rdflib's parser does), and only documents the general path accepts as they
    are: one typed patch resource whose clauses are formulae of IRIs and literals (blank
    nodes in none: lists and ``[]`` are left to the general path), nothing else at the top
    level. A patch that only inserts is a ``GroundInsert``, which makes those rdflib terms
    only when they are asked for.
    """
    if _AMBIGUOUS.search(text):
        return None
    top: list[tuple[str, str, str]] = []  # (subject, predicate, object) by value
    formulae: dict[str, list[ox.Quad]] = {}  # formula (blank node) -> its triples
    try:
        for quad in ox.parse(text, format=ox.RdfFormat.N3, base_iri=base):
            subject, predicate, obj, graph = quad
            if isinstance(graph, ox.DefaultGraph):
                top.append((_key(subject), predicate.value, _key(obj)))
            else:
                formulae.setdefault("_:" + graph.value, []).append(quad)
    except (SyntaxError, ValueError):
        return None
    clauses = _simple_clauses(top)
    if clauses is None or set(formulae) - set(clauses.values()):
        return None  # nested formulae, or formulae that are no clause
    where, inserts, deletes = (
        formulae.get(clauses[name], []) if name in clauses else [] for name in _CLAUSE_IRIS
    )
    if not _ground(where + inserts + deletes):
        return None  # blank nodes, literals as subjects: the general path judges them
    if not where and not deletes:
        return GroundInsert(tuple(inserts))
    where_, inserts_, deletes_ = (_patterns(clause) for clause in (where, inserts, deletes))
    if len(where_) > max_nesting:
        return None
    return N3Patch(conditions=where_, insertions=inserts_, deletions=deletes_)


def _ground(quads: Iterable[ox.Quad]) -> bool:
    """Every triple has an IRI subject and predicate and an IRI or RDF 1.1 literal object,
    and no IRI has characters rdflib's parser would refuse."""
    iris: set[ox.NamedNode] = set()  # each checked once: a month repeats its predicates
    for subject, predicate, obj, _ in quads:
        if not (isinstance(subject, ox.NamedNode) and isinstance(predicate, ox.NamedNode)):
            return False
        if isinstance(obj, ox.NamedNode):
            iris.add(obj)
        elif not isinstance(obj, ox.Literal) or obj.direction is not None:
            return False  # a directional language tag is RDF 1.2, not RDF 1.1
        iris.add(subject)
        iris.add(predicate)
    return not any(_BAD_IRI_CHARS.search(iri.value) for iri in iris)


def _patterns(quads: Iterable[ox.Quad]) -> tuple[Pattern, ...]:
    """The distinct triples of ``quads`` as rdflib terms (distinct as rdflib sees them)."""
    return tuple(dict.fromkeys((_term(s), _term(p), _term(o)) for s, p, o, _ in quads))


def _simple_clauses(top: list[tuple[str, str, str]]) -> dict[str, str] | None:
    """The clause formulae (by blank node) of a patch resource that is the only subject at
    the top level, typed solid:InsertDeletePatch once, with at most one of each clause."""
    subjects = {subject for subject, _, _ in top}
    if len(subjects) != 1 or '"' in subjects:
        return None
    clauses: dict[str, str] = {}
    typed = False
    for _, predicate, obj in top:
        if predicate == _RDF_TYPE and not typed and obj == _INSERT_DELETE_PATCH:
            typed = True
        elif predicate in _CLAUSE_IRIS and predicate not in clauses and obj.startswith("_:"):
            clauses[predicate] = obj
        else:
            return None
    return clauses if typed else None


def _key(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> str:
    """A top-level term as a string: an IRI as itself, a blank node as ``_:name``."""
    if isinstance(term, ox.NamedNode):
        return term.value
    if isinstance(term, ox.BlankNode):
        return "_:" + term.value
    return '"'  # a literal or quoted triple: never a patch resource, type or formula


_RDF_TYPE = str(RDF.type)
_INSERT_DELETE_PATCH = str(SOLID.InsertDeletePatch)
_CLAUSE_IRIS = tuple(str(clause) for clause in _CLAUSES)  # where, inserts, deletes
_XSD_STRING = str(XSD.string)


def _term(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> Node:
    """The rdflib term rdflib's own N3 parser makes of the same text."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language is not None:
            if term.direction is not None:
                raise ValueError("directional language tags are not RDF 1.1")
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        if datatype == _XSD_STRING:
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(datatype))
    raise ValueError("quoted triples are not N3 Patch")


def _parse_n3(text: str, base: str) -> Graph:
    """Parse N3 into a graph whose formulae are ``QuotedGraph`` terms.

    rdflib's ``Graph.parse(format="n3")`` sets the deprecated ``Dataset.default_context``
    (a DeprecationWarning on every call in rdflib 7.x), so drive its public ``SinkParser``
    directly: top-level triples land in ``root``, each ``{ ... }`` becomes a QuotedGraph.
    """
    # The default Memory store is formula-aware, as the N3 sink needs; binding rdflib's ~30
    # default prefixes would cost more than parsing a typical patch.
    root = Graph(bind_namespaces="none")
    parser = SinkParser(RDFSink(root), baseURI=base, turtle=False)
    try:
        parser.loadBuf(text)
    except BadSyntax as exc:
        # str(exc) embeds bytes reprs (b'...'); build a clean message from its parts.
        reason = getattr(exc, "_why", "") or "syntax error"
        raise BadRequest(f"Invalid N3 at line {exc.lines + 1}: {reason}") from None
    except RecursionError:  # the parser recurses per nesting level of [ ], ( ) and { }
        raise BadRequest("Invalid N3: nested too deeply") from None
    except (IndexError, ValueError, AssertionError) as exc:
        # rdflib's N3 parser reports some malformed input with these instead of BadSyntax:
        # IndexError at a missing final ".", ValueError for a bad language tag,
        # AssertionError for an unterminated long string.
        reason = "unexpected end of document" if isinstance(exc, IndexError) else str(exc)
        raise BadRequest(f"Invalid N3 near line {parser.lines + 1}: {reason}") from None
    return root


def _patch_resource(root: Graph) -> URIRef | BNode:
    """The one patch resource ("The patch document MUST contain exactly one patch resource")."""
    typed = set(root.subjects(RDF.type, SOLID.InsertDeletePatch))
    patch_like = typed | set(root.subjects(RDF.type, SOLID.Patch))
    patch_like |= {s for s, p, _ in root if p in _CLAUSES}
    if not typed:
        # "A patch resource MUST contain a triple ?patch rdf:type solid:InsertDeletePatch."
        detail = "found none" if not patch_like else "other patch types are not supported"
        raise UnprocessableEntity(
            f"N3 Patch must contain a resource of type solid:InsertDeletePatch ({detail})"
        )
    if len(patch_like) > 1:
        names = ", ".join(sorted(term.n3() for term in patch_like))
        raise UnprocessableEntity(
            f"N3 Patch must contain exactly one patch resource; found {len(patch_like)}: {names}"
        )
    (subject,) = typed
    if not isinstance(subject, URIRef | BNode):
        # "A patch resource MUST be identified by a URI or blank node."
        raise UnprocessableEntity("N3 Patch resource must be identified by an IRI or blank node")
    return subject


def _clause(root: Graph, subject: Node, predicate: URIRef) -> tuple[Pattern, ...]:
    """The triples of one clause formula; an absent clause is the empty formula."""
    name = predicate.removeprefix(str(SOLID))
    values = list(root.objects(subject, predicate))
    if len(values) > 1:
        # "A patch resource MUST contain at most one triple of the form ?patch solid:<name> …"
        raise UnprocessableEntity(f"N3 Patch has {len(values)} solid:{name} clauses; at most 1")
    if not values:
        return ()
    formula = values[0]
    if not isinstance(formula, QuotedGraph):
        raise UnprocessableEntity(f"N3 Patch solid:{name} must be a formula {{ ... }}")
    patterns = tuple(formula.triples((None, None, None)))
    for pattern in patterns:
        _check_pattern(name, pattern)
    return patterns


def _check_pattern(clause: str, pattern: Pattern) -> None:
    """Formulae MUST be "non-nested cited formulae consisting only of triples and/or triple
    patterns"; anything rdflib's permissive N3 parser lets through beyond that is refused."""
    subject, predicate, _ = pattern
    if any(isinstance(term, QuotedGraph) for term in pattern):
        raise UnprocessableEntity(f"N3 Patch solid:{clause} must not contain nested formulae")
    if isinstance(subject, Literal):
        raise UnprocessableEntity(
            f"N3 Patch solid:{clause} has a literal as subject: {_show(pattern)}"
        )
    if not isinstance(predicate, URIRef | Variable):
        raise UnprocessableEntity(
            f"N3 Patch solid:{clause} predicate must be an IRI or variable: {_show(pattern)}"
        )
    for term in pattern:
        if isinstance(term, URIRef) and _BAD_IRI_CHARS.search(term):
            raise BadRequest(f"Invalid IRI in N3 Patch: {term!r}")


def _reject_blank_nodes(clause: str, patterns: Iterable[Pattern]) -> None:
    # "The ?insertions and ?deletions formulae MUST NOT contain blank nodes." (Blank nodes
    # in ?conditions are allowed; they match existentially, see _single_mapping.)
    for pattern in patterns:
        if any(isinstance(term, BNode) for term in pattern):
            raise UnprocessableEntity(
                f"N3 Patch solid:{clause} must not contain blank nodes ([], _:x or lists): "
                f"{_show(pattern)}"
            )


def _reject_unbound_variables(
    clause: str, patterns: Iterable[Pattern], bound: set[Variable]
) -> None:
    # "The ?insertions and ?deletions formulae MUST NOT contain variables that do not
    # occur in the ?conditions formula."
    unbound = _variables(patterns) - bound
    if unbound:
        names = ", ".join(sorted(variable.n3() for variable in unbound))
        raise UnprocessableEntity(
            f"N3 Patch solid:{clause} uses variables not occurring in solid:where: {names}"
        )


def _variables(patterns: Iterable[Pattern]) -> set[Variable]:
    return {term for pattern in patterns for term in pattern if isinstance(term, Variable)}


# --- matching ------------------------------------------------------------------------------


def _single_mapping(
    graph: Graph, where: tuple[Pattern, ...], max_steps: int
) -> dict[Variable, Node]:
    """The one variable mapping under which every where-triple is in ``graph``.

    "If no such mapping exists, or if multiple mappings exist, the server MUST respond with a
    409 status code." Mappings are over ``?variables`` only: blank nodes in the where formula
    are existential, so two matches differing only in a blank node are the same mapping.
    An empty where clause has exactly one (empty) mapping.
    """
    found: list[dict[Variable, Node]] = []
    budget = [max_steps]
    try:
        for solution in _solve(graph, list(where), {}, budget):
            mapping = {k: v for k, v in solution.items() if isinstance(k, Variable)}
            if mapping not in found:
                found.append(mapping)
                if len(found) > 1:
                    raise Conflict(
                        "N3 Patch: solid:where matches the document in more than one way"
                    )
    except RecursionError:  # one level per pattern; parse_n3_patch bounds the patterns
        raise UnprocessableEntity("N3 Patch: solid:where has too many triples") from None
    if not found:
        raise Conflict("N3 Patch: solid:where does not match the document")
    return found[0]


def _solve(
    graph: Graph, patterns: list[Pattern], binding: Binding, budget: list[int]
) -> Iterator[Binding]:
    if not patterns:
        yield binding
        return
    if not any(_is_free(term, binding, Variable) for pattern in patterns for term in pattern):
        # Only blank nodes are left unbound: one witness decides, more would repeat the mapping.
        witness = next(_extend(graph, patterns, binding, budget), None)
        if witness is not None:
            yield witness
        return
    yield from _extend(graph, patterns, binding, budget)


def _extend(
    graph: Graph, patterns: list[Pattern], binding: Binding, budget: list[int]
) -> Iterator[Binding]:
    """Match the most constrained pattern next, then recurse on the rest."""
    index = min(range(len(patterns)), key=lambda i: _free_count(patterns[i], binding))
    pattern, rest = patterns[index], patterns[:index] + patterns[index + 1 :]
    query = tuple(None if _is_free(t, binding) else binding.get(t, t) for t in pattern)
    for triple in graph.triples(query):  # type: ignore[arg-type]
        budget[0] -= 1
        if budget[0] < 0:
            raise UnprocessableEntity("N3 Patch: solid:where is too expensive to evaluate")
        extended = _unify(pattern, triple, binding)
        if extended is not None:
            yield from _solve(graph, rest, extended, budget)


def _unify(pattern: Pattern, triple: Pattern, binding: Binding) -> Binding | None:
    """Bind the pattern's variables to the triple; None if a repeated variable disagrees."""
    extended = dict(binding)
    for term, value in zip(pattern, triple, strict=True):
        if isinstance(term, Variable | BNode) and extended.setdefault(term, value) != value:
            return None
    return extended


def _is_free(term: Node, binding: Binding, kinds: _Kinds = (Variable, BNode)) -> bool:
    """Is ``term`` a not-yet-bound variable (or blank node, by default)?"""
    return isinstance(term, kinds) and term not in binding


def _free_count(pattern: Pattern, binding: Binding) -> int:
    return sum(_is_free(term, binding) for term in pattern)


# --- applying ------------------------------------------------------------------------------


def _substitute(pattern: Pattern, mapping: dict[Variable, Node]) -> Pattern:
    s, p, o = (mapping.get(t, t) if isinstance(t, Variable) else t for t in pattern)
    return (s, p, o)


def _check_insertable(triple: Pattern) -> None:
    # A variable bound to a literal can land in subject position; the result is not RDF.
    subject, predicate, _ = triple
    if isinstance(subject, Literal) or not isinstance(predicate, URIRef):
        raise Conflict(f"N3 Patch: the where binding yields an invalid triple: {_show(triple)}")


def _show(triple: Pattern) -> str:
    return " ".join(term.n3() for term in triple) + " ."
