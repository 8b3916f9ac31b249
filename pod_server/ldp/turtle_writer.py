"""The Turtle the server stores: a plain, fast writer over a graph's triples.

rdflib's Turtle serialiser spends most of its time deciding how to nest blank nodes and
lists and computing qnames through its namespace manager; for the documents the server
stores (a PATCH result, a container's own triples) none of that sugar is needed. This
writer groups triples by subject (``;``) and predicate (``,``) and writes every term as
one token:

* IRIs as a prefixed name when a namespace of the prefix table starts them and the rest
  is a plain PN_LOCAL (letters, digits, ``_``, ``-``, inner ``.``: no ``:``, ``%`` or
  escapes), else relative to the document when ``relative`` says that is safe, else
  ``<absolute>``; ``a`` for rdf:type as a predicate;
* literals quoted with N-Triples' escapes (valid Turtle), integers, decimals and
  booleans in their bare Turtle form when the lexical form is exactly that form;
* blank nodes as ``_:b0``, ``_:b1``, ... in order of appearance (no ``[]``, no lists).

Output is sorted (subjects, then predicates with rdf:type first, then objects) so the
same graph is always written the same way; blank nodes are ordered by what they say, so
isomorphic graphs give the same text too unless two blank nodes say the same thing. No
``@base`` line: stored data follows the resource if its public URL changes. A graph
holding a term this writer does not handle (an IRI with characters Turtle cannot write,
an N3 formula) raises ``Unwritable``; the caller then uses rdflib's serialiser.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from urllib.parse import urlsplit

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import RDF, XSD
from rdflib.term import Node

#: A term as plain strings: (kind, IRI / lexical form / blank id, datatype, language);
#: "" for no datatype (a plain literal) and no language. Sorting compares these tuples.
Term = tuple[int, str, str, str]
IRI, LITERAL, BLANK = 0, 1, 2
_TYPE: Term = (IRI, str(RDF.type), "", "")
_XSD_STRING = str(XSD.string)

# Turtle's PN_CHARS_BASE, PN_CHARS_U and PN_CHARS (RDF 1.1 Turtle, section 6.5).
_BASE = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff"
    "\u200c\u200d\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd"
    "\U00010000-\U000effff"
)
_CHARS = _BASE + "_\\-0-9\u00b7\u0300-\u036f\u203f\u2040"
# PN_PREFIX, and a strict PN_LOCAL: no ':' and no %-escapes or \-escapes (PLX), which
# parsers disagree on; an IRI whose rest needs them is written in full.
_PREFIX = re.compile(f"(?:[{_BASE}](?:[{_CHARS}.]*[{_CHARS}])?)?")
_LOCAL = re.compile(f"(?:[{_BASE}_0-9](?:[{_CHARS}.]*[{_CHARS}])?)?")
# What IRIREF allows unescaped: no controls, space, <>"{}|^`\ or lone surrogates.
_IRIREF = re.compile(r'[^\x00-\x20<>"{}|^`\\\ud800-\udfff]*')
_LANGTAG = re.compile(r"[a-zA-Z]+(?:-[a-zA-Z0-9]+)*")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# A literal needing any escape: quote, backslash, a control character.
_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f\x7f]')
_ESCAPES = {
    **{code: f"\\u{code:04X}" for code in (*range(0x20), 0x7F)},
    ord("\\"): "\\\\",
    ord('"'): '\\"',
    ord("\n"): "\\n",
    ord("\r"): "\\r",
    ord("\t"): "\\t",
}
# Lexical forms Turtle writes bare with the same datatype and the same lexical form.
_BARE = {
    str(XSD.integer): re.compile(r"[+-]?[0-9]+"),
    str(XSD.decimal): re.compile(r"[+-]?[0-9]*\.[0-9]+"),
    str(XSD.boolean): re.compile(r"true|false"),
}


class Unwritable(ValueError):
    """A term this writer does not write; rdflib's serialiser decides what to do."""


def _unambiguous(reference: str) -> str | None:
    """None if a parser could take ``reference`` for an absolute IRI.

    A colon before any slash reads as a scheme ("a:b"); rdflib's resolver even applies
    that to fragments ("#me:" comes back as the IRI "#me:"), so refuse them all.
    """
    colon, slash = reference.find(":"), reference.find("/")
    if colon >= 0 and (slash < 0 or colon < slash):
        return None
    return reference


def relative(iri: str, base: str | None) -> str | None:
    """``iri`` as a relative reference that resolves back to it against ``base``.

    Only the safe cases: the base itself (``<>``), a fragment of it (``<#me>``), and
    paths below the base's directory without dot segments. rdflib's own relativiser is
    wrong for IRIs that merely share a string prefix with the base (it turns
    ``.../doc2`` into ``<2>`` against ``.../doc``), so we do not use it.
    """
    if not base:
        return None
    iri = str(iri)  # rdflib terms never compare equal to plain strings
    base = base.partition("#")[0]
    if iri == base:
        return ""
    if iri.startswith(base + "#"):
        return _unambiguous(iri[len(base) :])
    parts = urlsplit(base)
    if not parts.scheme or not parts.netloc or not parts.path.startswith("/"):
        return None
    directory_path = parts.path[: parts.path.rfind("/") + 1]
    if "/./" in directory_path or "/../" in directory_path:
        return None
    directory = f"{parts.scheme}://{parts.netloc}{directory_path}"
    if not iri.startswith(directory):
        return None
    rest = _unambiguous(iri[len(directory) :])
    if rest is None:
        return None
    path = re.split(r"[?#]", rest, maxsplit=1)[0]
    if not path or path.startswith("/"):
        return None  # "" would mean the base document, "/x" the root, "//x" a host
    if any(segment in (".", "..") for segment in path.split("/")):
        return None
    return rest


def _escape(text: str) -> str:
    if _SURROGATE.search(text):
        raise Unwritable("a literal with an unpaired surrogate")
    return text.translate(_ESCAPES) if _NEEDS_ESCAPE.search(text) else text


class _Labels:
    """Each term's Turtle token, computed once per term and write."""

    def __init__(self, base: str | None, table: Mapping[str, str]) -> None:
        self.base = base
        # Longest namespace first: the most specific prefix wins; then by prefix name.
        self.namespaces = sorted(
            (
                (namespace, prefix)
                for prefix, namespace in table.items()
                if namespace and _PREFIX.fullmatch(prefix) and _IRIREF.fullmatch(namespace)
            ),
            key=lambda item: (-len(item[0]), item[1]),
        )
        self.used: dict[str, str] = {}  # prefix -> namespace, of the names written
        self.tokens: dict[Term, str] = {}
        self.blanks = 0

    def generate(self, iris: Iterable[str]) -> None:
        """Make up ``nsN:`` prefixes for the namespaces of ``iris`` (predicates: rdflib's
        writer did the same) that have neither a prefix nor a relative form, so a
        vocabulary the prefix table does not know is not written out in full each time."""
        taken = {prefix for _, prefix in self.namespaces}
        known = {namespace for namespace, _ in self.namespaces}
        made = 0
        for iri in sorted(iris):
            cut = max(iri.rfind("#"), iri.rfind("/")) + 1
            namespace, local = iri[:cut], iri[cut:]
            if namespace in known or not cut or not local or not _LOCAL.fullmatch(local):
                continue
            if not _IRIREF.fullmatch(namespace) or self._prefixed(iri) is not None:
                continue
            if relative(iri, self.base) is not None:
                continue
            made += 1
            while f"ns{made}" in taken:
                made += 1
            known.add(namespace)
            self.namespaces.append((namespace, f"ns{made}"))
        self.namespaces.sort(key=lambda item: (-len(item[0]), item[1]))

    def term(self, term: Term) -> str:
        found = self.tokens.get(term)
        if found is None:
            found = self.tokens[term] = self._token(term)
        return found

    def _token(self, term: Term) -> str:
        kind, text, datatype, language = term
        if kind == IRI:
            return self._iri(text)
        if kind == BLANK:
            self.blanks += 1
            return f"_:b{self.blanks - 1}"
        if language:
            if not _LANGTAG.fullmatch(language):
                raise Unwritable(f"a language tag Turtle cannot write: {language!r}")
            return f'"{_escape(text)}"@{language}'
        if not datatype:
            return f'"{_escape(text)}"'
        bare = _BARE.get(datatype)
        if bare is not None and bare.fullmatch(text):
            return text
        return f'"{_escape(text)}"^^{self.term((IRI, datatype, "", ""))}'

    def _iri(self, iri: str) -> str:
        if not _IRIREF.fullmatch(iri):
            raise Unwritable(f"an IRI Turtle cannot write: {iri!r}")
        found = self._prefixed(iri)
        if found is not None:
            namespace, prefix = found
            self.used[prefix] = namespace
            return f"{prefix}:{iri[len(namespace) :]}"
        rel = relative(iri, self.base)
        return f"<{iri if rel is None else rel}>"

    def _prefixed(self, iri: str) -> tuple[str, str] | None:
        """The (namespace, prefix) to write ``iri`` with, if any."""
        for namespace, prefix in self.namespaces:
            if iri.startswith(namespace) and _LOCAL.fullmatch(iri, len(namespace)):
                return namespace, prefix
        return None


def from_rdflib(node: Node) -> Term:
    """The term tuple of an rdflib term; Unwritable for anything but IRIs, blank nodes
    and literals (N3 formulae, variables)."""
    if isinstance(node, URIRef):
        return (IRI, str(node), "", "")
    if isinstance(node, Literal):
        datatype = node.datatype
        return (LITERAL, str(node), "" if datatype is None else str(datatype), node.language or "")
    if isinstance(node, BNode):
        return (BLANK, str(node), "", "")
    raise Unwritable(f"not an RDF term: {type(node).__name__}")


def terms_of(triples: Iterable[tuple[Node, Node, Node]]) -> Iterator[tuple[Term, Term, Term]]:
    """rdflib triples as term tuples, each distinct term converted once."""
    seen: dict[Node, Term] = {}
    for triple in triples:
        converted = []
        for node in triple:
            term = seen.get(node)
            if term is None:
                term = seen[node] = from_rdflib(node)
            converted.append(term)
        yield converted[0], converted[1], converted[2]


def terms_of_oxigraph(
    quads: Iterable[ox.Quad], lexical: Callable[[ox.Literal], str]
) -> Iterator[tuple[Term, Term, Term]]:
    """The triples of Oxigraph ``quads`` (graph names ignored) as term tuples, each distinct
    term converted once. ``lexical`` gives a literal's lexical form: the caller's choice of
    normalisation (``shape_plan.Literals.lexical`` gives rdflib's, so the text is what
    rdflib's terms of the same triples would write)."""
    seen: dict[object, Term] = {}

    def convert(term: object) -> Term:
        if isinstance(term, ox.NamedNode):
            return (IRI, term.value, "", "")
        if isinstance(term, ox.BlankNode):
            return (BLANK, term.value, "", "")
        if isinstance(term, ox.Literal):
            if term.language:
                return (LITERAL, term.value, "", term.language)
            datatype = term.datatype.value
            return (LITERAL, lexical(term), "" if datatype == _XSD_STRING else datatype, "")
        raise Unwritable(f"not an RDF 1.1 term: {type(term).__name__}")

    for quad in quads:
        converted = []
        for node in (quad.subject, quad.predicate, quad.object):
            term = seen.get(node)
            if term is None:
                term = seen[node] = convert(node)
            converted.append(term)
        yield converted[0], converted[1], converted[2]


Grouped = dict[Term, dict[Term, list[Term]]]


def _grouped(triples: Iterable[tuple[Term, Term, Term]]) -> Grouped:
    subjects: Grouped = {}
    for s, p, o in triples:
        predicates = subjects.get(s)
        if predicates is None:
            subjects[s] = {p: [o]}
            continue
        objects = predicates.get(p)
        if objects is None:
            predicates[p] = [o]
        else:
            objects.append(o)
    return subjects


def _blank_keys(subjects: Grouped) -> dict[Term, tuple[object, ...]]:
    """Sort keys for blank nodes from what they say (blank objects left out), so their
    order, hence their labels, does not depend on their random ids where their
    descriptions differ. Blank nodes sort after IRIs and literals."""
    keys: dict[Term, tuple[object, ...]] = {}
    for subject, predicates in subjects.items():
        if subject[0] == BLANK:
            said = sorted(
                (p, o) for p, objects in predicates.items() for o in objects if o[0] != BLANK
            )
            keys[subject] = (BLANK, tuple(said), subject[1])
    return keys


def write_turtle(
    triples: Iterable[tuple[Term, Term, Term]], base: str | None, table: Mapping[str, str]
) -> bytes:
    """Turtle for ``triples`` of term tuples (each given once, as a graph holds them) with
    IRIs relative to ``base`` where safe and the prefixes of ``table`` (prefix ->
    namespace) it uses. Raises Unwritable for a term it does not handle (see the module's
    docstring)."""
    subjects = _grouped(triples)
    if not subjects:
        return b""
    labels = _Labels(base, table)
    labels.generate({p[1] for predicates in subjects.values() for p in predicates if p[0] == IRI})
    term = labels.term
    blank_keys = _blank_keys(subjects)

    def key(node: Term) -> tuple[object, ...]:
        return blank_keys.get(node) or node

    statements: list[str] = []
    for subject in sorted(subjects, key=key):
        if subject[0] == LITERAL:
            raise Unwritable("a literal as subject")
        predicates = subjects[subject]
        said = []
        for predicate in sorted(predicates, key=_verb_key):
            if predicate[0] != IRI:
                raise Unwritable("a predicate that is not an IRI")
            objects = predicates[predicate]
            if len(objects) > 1:
                objects.sort(key=key)
            verb = "a" if predicate == _TYPE else term(predicate)
            said.append(verb + " " + " ,\n        ".join(map(term, objects)))
        statements.append(term(subject) + " " + " ;\n    ".join(said) + " .\n")
    prefixes = sorted(labels.used.items())
    header = "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in prefixes)
    text = (header + "\n" if header else "") + "\n".join(statements)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate in an IRI
        raise Unwritable("a term with an unpaired surrogate") from None


def _verb_key(predicate: Term) -> tuple[bool, Term]:
    return (predicate != _TYPE, predicate)
