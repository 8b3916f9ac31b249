"""The one module that parses and serialises RDF.

Everything that turns bytes into an rdflib ``Graph`` or back goes through ``parse`` and
``serialize``; nothing else in the server imports rdflib's parsers, serialisers or pyld.
Both functions are synchronous and pure so callers can run big bodies in a thread. The
Turtle the server stores is written by ``storage_turtle`` (``turtle_writer``'s plain
writer, rdflib's as a fallback), or by ``storage_turtle_of_new`` from Oxigraph's terms.

A resource is one graph: documents with named graphs are refused, not merged.

Hostile-input rules enforced here:

* JSON-LD never touches the network. Remote ``@context`` URLs are refused unless the
  document was registered with ``register_context``.
* RDF/XML goes through xml.sax's expat reader with external entities off (its
  default, pinned by a test), so ``<!ENTITY x SYSTEM "file:...">`` reads nothing.
  Entity bombs hit expat's amplification limit (a 400), and text is buffered so that
  rdflib's quadratic text handling cannot be driven by entities or many short lines.
* Every parsed term is checked: absolute IRIs free of characters no RDF syntax can
  write back, no lone surrogates, no N3 formulae or variables. So a graph this module
  accepts can always be serialised again.
* Parser failures become ``BadRequest`` with a one-line message (and the line number
  when known), never a traceback or a 500. Deeply nested input is a 400, not a crash.
"""

from __future__ import annotations

import codecs
import functools
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, TypeAlias
from urllib.parse import urlsplit
from xml.sax import SAXParseException, handler
from xml.sax.expatreader import ExpatParser
from xml.sax.xmlreader import InputSource

import pyoxigraph as ox
from pyld import jsonld
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.exceptions import ParserError
from rdflib.namespace import DC, DCTERMS, FOAF, OWL, PROV, RDF, RDFS, SKOS, XSD, NamespaceManager
from rdflib.plugins.parsers.notation3 import BadSyntax, RDFSink, SinkParser
from rdflib.plugins.parsers.ntriples import W3CNTriplesParser, r_tail, r_wspace
from rdflib.plugins.parsers.rdfxml import RDFXMLHandler
from rdflib.plugins.serializers.nt import _nt_row
from rdflib.plugins.serializers.turtle import VERB, RecursiveSerializer, TurtleSerializer
from rdflib.term import Node

import vocab
from pod_server.errors import BadRequest, NotAcceptable, UnsupportedMediaType
from pod_server.ldp.budget import DEFAULT_MAX_NESTING, check_nesting, json_depth, too_deep
from pod_server.ldp.conneg import parse_content_type
from pod_server.ldp.media_types import JSON_LD, N3, N_QUADS, N_TRIPLES, RDF_XML, TURTLE
from pod_server.ldp.turtle_check import parse_rdf11, quick_check
from pod_server.ldp.turtle_writer import Unwritable, terms_of, terms_of_oxigraph, write_turtle
from pod_server.ldp.turtle_writer import relative as _relative
from pod_server.ldp.vocabulary import ACL, AS, CERT, LDP, PIM, POSIX, SOLID, VCARD

#: Every RDF media type we read and write; the order is the server's preference.
RDF_TYPES: tuple[str, ...] = (TURTLE, JSON_LD, N_TRIPLES, N_QUADS, N3, RDF_XML)

#: Prefixes offered to every serialiser (only those a graph uses are written).
PREFIXES: Mapping[str, str] = MappingProxyType(
    {
        "rdf": str(RDF),
        "rdfs": str(RDFS),
        "xsd": str(XSD),
        "owl": str(OWL),
        "ldp": str(LDP),
        "dcterms": str(DCTERMS),
        "dc": str(DC),
        "posix": str(POSIX),
        "foaf": str(FOAF),
        "vcard": str(VCARD),
        "acl": str(ACL),
        "cert": str(CERT),
        "solid": str(SOLID),
        "pim": str(PIM),
        "schema": "http://schema.org/",
        "as": str(AS),
        "skos": str(SKOS),
        "prov": str(PROV),
    }
)

_XSD_STRING = str(XSD.string)
_RDF_LANG_STRING = str(RDF.langString)

# IRIREF of Turtle/N-Triples, minus escapes: an absolute IRI without space, controls,
# the characters <>"{}|^`\ or lone surrogates.
_IRI = re.compile(r'^[A-Za-z][A-Za-z0-9+.\-]*:[^\x00-\x20<>"{}|^`\\\ud800-\udfff]*$')
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# Characters XML 1.0 cannot carry even as references; RDF/XML cannot write them.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
# XML 1.0 (5th ed.) NCName. rdflib's is_ncname also lets "%", "(" and ")" through.
_NAME_START = (
    "A-Z_a-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff"
    "\u200c\u200d\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd"
    "\U00010000-\U000effff"
)
_NCNAME = re.compile(f"^[{_NAME_START}][{_NAME_START}\\-.0-9\u00b7\u0300-\u036f\u203f\u2040]*$")
# rdflib prefixes RDF/XML errors with "systemId:line:column: ".
_XML_LOCATION = re.compile(r"^.*?:(\d+):\d+: (.*)$", re.DOTALL)
# Turtle's nesting ([ ... ] inside [ ... ]) beyond this depth is written flat instead:
# rdflib's serialiser recurses per level and overflows the stack at a few hundred.
_MAX_TURTLE_NESTING = 24
_MAX_MESSAGE = 200
_XML_TEXT_BUFFER = 1 << 20

_Parser: TypeAlias = Callable[[bytes, str, int], Graph]  # data, base, nesting limit
_Writer: TypeAlias = Callable[[Graph, str | None, Mapping[str, str]], bytes]


# --------------------------------------------------------------------------- contexts

# url -> JSON text. Written rarely (at start-up), read per parse; a dict store is atomic.
_contexts: dict[str, str] = {}


def register_context(url: str, document: Mapping[str, Any]) -> None:
    """Make the JSON-LD context document at ``url`` available without network access.

    ``document`` is the whole context document, i.e. a mapping with an ``@context``
    key. It is stored as JSON text, so later changes to the caller's object do not leak
    in and every parse gets a fresh copy.
    """
    if "@context" not in document:
        raise ValueError(f"context document for {url} has no @context")
    _contexts[url] = json.dumps(document)


class _RemoteContextRefused(Exception):
    """Raised by the document loader; pyld wraps it, ``_jsonld_error`` digs it out."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


def _load_document(url: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """pyld document loader that serves registered contexts and refuses everything else."""
    text = _contexts.get(url)
    if text is None:
        raise _RemoteContextRefused(url)
    return {
        "contentType": JSON_LD,
        "contextUrl": None,
        "documentUrl": url,
        "document": json.loads(text),
    }


# --------------------------------------------------------------------------- helpers


@functools.lru_cache(maxsize=256)  # stored and offered types: a handful, over and over
def _essence(media_type: str) -> str:
    return parse_content_type(media_type)[0]


def is_rdf(media_type: str) -> bool:
    """Whether ``media_type`` (parameters allowed) is an RDF syntax we read and write."""
    return _essence(media_type) in RDF_TYPES


def _short(text: object) -> str:
    """One printable line, bounded: parser messages quote arbitrary client input."""
    line = " ".join(str(text).split())
    if len(line) > _MAX_MESSAGE:
        line = line[: _MAX_MESSAGE - 3] + "..."
    return "".join(c if c.isprintable() else "\ufffd" for c in line)


def _bad(syntax: str, why: str, line: int | None = None) -> BadRequest:
    where = f" at line {line}" if line else ""
    return BadRequest(f"Invalid {syntax}{where}: {_short(why) or 'syntax error'}")


def _decode(data: bytes, syntax: str) -> str:
    """Strict UTF-8 (these syntaxes allow nothing else), dropping a leading BOM."""
    try:
        return codecs.decode(data, "utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _bad(syntax, "not valid UTF-8", line) from None


def _check_base(base: str) -> None:
    # A programming error, not the client's: every resource has an absolute URL.
    if not _IRI.match(base):
        raise ValueError(f"base must be an absolute IRI, got {base!r}")


# --------------------------------------------------------------------------- validation


def _valid_iri(term: URIRef, seen: set[str]) -> bool:
    if term in seen:
        return True
    if not _IRI.match(term):
        return False
    try:
        urlsplit(term)  # e.g. "[" outside an IPv6 host, which RDF/XML's parser rejects
    except ValueError:
        return False
    seen.add(term)
    return True


def _check_term(term: Node, position: str, seen: set[str]) -> None:
    if isinstance(term, URIRef):
        if not _valid_iri(term, seen):
            raise BadRequest(f"Invalid IRI <{_short(term)}>: not absolute, or illegal characters")
    elif isinstance(term, Literal):
        if position != "object":
            raise BadRequest("A literal can only be an object")
        if _SURROGATE.search(term):
            raise BadRequest("A literal contains an unpaired surrogate")
        if term.datatype is not None and not _valid_iri(term.datatype, seen):
            raise BadRequest(f"Invalid datatype IRI <{_short(term.datatype)}>")
    elif isinstance(term, BNode):
        if position == "predicate":
            raise BadRequest("A blank node cannot be a predicate")
    else:
        # N3 formulae ({ ... }) and variables (?x) parse, but are not RDF.
        raise BadRequest("N3 formulae and variables are not supported")


def _checked(graph: Graph) -> Graph:
    """Refuse terms no RDF syntax can round-trip, and put literals in canonical form.

    Every format then reads the same data as the same graph. rdflib keeps apart what
    RDF 1.1 makes equal: ``"x"^^xsd:string`` and ``"x"``, and language tags differing
    only in case (pyld lower-cases tags, rdflib's other parsers keep them).
    """
    seen: set[str] = set()
    changes: list[tuple[Node, Node, Literal, Literal]] = []
    for s, p, o in graph:
        _check_term(s, "subject", seen)
        _check_term(p, "predicate", seen)
        _check_term(o, "object", seen)
        if isinstance(o, Literal):
            canonical = _canonical(o)
            if canonical is not None:
                changes.append((s, p, o, canonical))
    for s, p, o, canonical in changes:
        graph.remove((s, p, o))
        graph.add((s, p, canonical))
    return graph


def _canonical(literal: Literal) -> Literal | None:
    """The canonical form of ``literal`` if it differs, else None."""
    if literal.datatype == XSD.string:
        return Literal(str(literal))
    if literal.language and literal.language != literal.language.lower():
        return Literal(str(literal), lang=literal.language.lower())
    return None


def _new_graph() -> Graph:
    # No default bindings: only the document's own prefixes end up on the graph.
    return Graph(bind_namespaces="none")


# --------------------------------------------------------------------------- parsers


# What rdflib 7.6's Turtle/N3 parser raises on malformed input besides BadSyntax, found
# by fuzzing: AssertionError (unterminated strings: a bare assert), IndexError (input
# ending mid-token), AttributeError (an N3 ?variable in Turtle mode), ValueError
# (malformed language tag), and, by reading the code, ParserError (RDFSink's "Formula
# used as predicate" guard). It also raises bare Exception; see below.
_N3_FAILURES: tuple[type[Exception], ...] = (
    AssertionError,
    IndexError,
    AttributeError,
    ValueError,
    ParserError,
)


def _parse_n3_family(data: bytes, base: str, limit: int, *, turtle: bool) -> Graph:
    """Turtle (``turtle=True``) or N3, driving rdflib's SinkParser directly.

    Going below ``Graph.parse`` gives us the parser's line counter for every failure
    (rdflib raises AssertionError/IndexError, not only BadSyntax, on broken input) and
    avoids rdflib 7's own DeprecationWarning in its N3 entry point.
    """
    syntax = "Turtle" if turtle else "N3"
    text = _decode(data, syntax)
    check_nesting(text, limit, syntax)  # before the parser recurses once per level
    graph = _new_graph()
    parser = SinkParser(RDFSink(graph), baseURI=base, turtle=turtle)
    try:
        parser.loadBuf(text)
    except BadSyntax as exc:
        raise _bad(syntax, exc._why, exc.lines + 1) from None
    except RecursionError:
        raise _bad(syntax, "nested too deeply", parser.lines + 1) from None
    except _N3_FAILURES as exc:
        raise _bad(syntax, str(exc) or type(exc).__name__, parser.lines + 1) from None
    except Exception as exc:
        # rdflib also raises *bare* Exception here ("Invalid unicode code point" for
        # \U00110000, "variable with empty string as name" for a lone ?). Only that
        # exact type is the client's fault; a subclass we did not list is our bug.
        if type(exc) is not Exception:
            raise
        raise _bad(syntax, str(exc), parser.lines + 1) from None
    # Keep the document's own prefixes so re-serialising looks familiar to its author
    # (what rdflib's TurtleParser does with the same private attribute).
    for prefix, namespace in parser._bindings.items():
        graph.bind(prefix, namespace, override=True, replace=True)
    return graph


def _parse_turtle(data: bytes, base: str, limit: int) -> Graph:
    # Oxigraph reads RDF 1.1 Turtle ten times faster; rdflib decides the rest.
    check_turtle_nesting(data, limit)
    fast = parse_rdf11(data, base)
    return fast if fast is not None else _parse_n3_family(data, base, limit, turtle=True)


def check_turtle_nesting(data: bytes, limit: int) -> None:
    """400 if Turtle ``data`` nests ``[``, ``(`` or ``{`` deeper than ``limit``: deep
    nesting makes every parser slow (a blank node and a frame per level)."""
    check_nesting(codecs.decode(data, "utf-8", "replace"), limit, "Turtle")


def _parse_n3(data: bytes, base: str, limit: int) -> Graph:
    return _parse_n3_family(data, base, limit, turtle=False)


class _NamedGraphFound(Exception):
    """A quad named a graph; not a ParserError so rdflib's loop does not rewrap it."""


class _LineParser(W3CNTriplesParser):
    """rdflib's N-Triples parser, counting lines and accepting N-Quads' default graph.

    rdflib's own N-Quads parser needs a Dataset and trips rdflib 7's deprecation
    warnings on every line; since a resource is one graph we only need to know that a
    fourth term is present in order to refuse it.
    """

    __slots__ = ("lineno", "quads")

    def __init__(self, graph: Graph, *, quads: bool) -> None:
        super().__init__(_GraphSink(graph))
        self.lineno = 0
        self.quads = quads

    def parseline(self, bnode_context: dict[str, BNode] | None = None) -> None:
        self.lineno += 1
        if not self.quads:
            super().parseline(bnode_context)
            return
        self.eat(r_wspace)
        if not self.line or self.line.startswith("#"):
            return
        subject = self.subject(bnode_context)
        self.eat(r_wspace)
        predicate = self.predicate()
        self.eat(r_wspace)
        obj = self.object(bnode_context)
        self.eat(r_wspace)
        if self.peek("<") or self.peek("_:"):
            raise _NamedGraphFound
        self.eat(r_tail)
        if self.line:
            raise ParserError("trailing garbage")
        self.sink.triple(subject, predicate, obj)


class _GraphSink:
    """The sink interface W3CNTriplesParser expects: one ``triple`` method."""

    __slots__ = ("graph",)

    def __init__(self, graph: Graph) -> None:
        self.graph = graph

    def triple(self, s: Node, p: Node, o: Node) -> None:
        self.graph.add((s, p, o))


def _parse_lines(data: bytes, *, quads: bool) -> Graph:
    syntax = "N-Quads" if quads else "N-Triples"
    text = _decode(data, syntax)
    graph = _new_graph()
    parser = _LineParser(graph, quads=quads)
    try:
        parser.parse(io.StringIO(text))
    except _NamedGraphFound:
        raise BadRequest("named graphs are not supported in a resource") from None
    except (ParserError, ValueError) as exc:
        # rdflib's message is "Invalid line: <rest of line>"; the number says more.
        raise _bad(syntax, str(exc).partition(":")[2] or str(exc), parser.lineno) from None
    return graph


def _parse_ntriples(data: bytes, base: str, limit: int) -> Graph:
    # N-Triples has no relative IRIs, so there is nothing to resolve against base.
    return _parse_lines(data, quads=False)


def _parse_nquads(data: bytes, base: str, limit: int) -> Graph:
    return _parse_lines(data, quads=True)


class _BufferedExpatReader(ExpatParser):
    """xml.sax's expat reader with expat's own text buffering switched on.

    rdflib's RDF/XML handler appends every character-data callback to a ``str``, which
    is quadratic in the callbacks per element. Unbuffered expat makes one per line, per
    character reference and per entity expansion: 160 KB of newlines took 0.5 s and a
    600-byte document of nested entities (1 MB of text) took 24 s. Buffered, the text
    arrives in a handful of large chunks.
    """

    def reset(self) -> None:
        super().reset()
        self._parser.buffer_text = True
        self._parser.buffer_size = _XML_TEXT_BUFFER


class _DepthHandler(RDFXMLHandler):
    """rdflib's RDF/XML handler, refusing elements nested deeper than ``limit``."""

    def __init__(self, graph: Graph, limit: int) -> None:
        super().__init__(graph)
        self.limit = limit
        self.open = 0

    def startElementNS(self, name: Any, qname: Any, attrs: Any) -> None:
        self.open += 1
        if self.open > self.limit:
            raise too_deep("RDF/XML", self.limit)
        super().startElementNS(name, qname, attrs)

    def endElementNS(self, name: Any, qname: Any) -> None:
        self.open -= 1
        super().endElementNS(name, qname)


def _parse_rdfxml(data: bytes, base: str, limit: int) -> Graph:
    """RDF/XML via rdflib's SAX handler on our buffered expat reader.

    External entities stay unresolved: xml.sax's expat reader skips them unless
    ``feature_external_ges`` is turned on, which we never do.
    """
    graph = _new_graph()
    source = InputSource(base)
    source.setPublicId(base)  # rdflib resolves relative IRIs against this
    source.setByteStream(io.BytesIO(data))
    reader = _BufferedExpatReader()
    reader.setFeature(handler.feature_namespaces, True)
    reader.setContentHandler(_DepthHandler(graph, limit))
    reader.setErrorHandler(handler.ErrorHandler())  # raise on every error
    try:
        reader.parse(source)
    except SAXParseException as exc:
        raise _bad("RDF/XML", exc.getMessage(), exc.getLineNumber()) from None
    except ParserError as exc:
        match = _XML_LOCATION.match(str(exc))
        line, why = (int(match[1]), match[2]) if match else (None, str(exc))
        raise _bad("RDF/XML", why, line) from None
    except RecursionError:
        raise _bad("RDF/XML", "nested too deeply") from None
    except ValueError as exc:  # e.g. urljoin on a malformed rdf:about
        raise _bad("RDF/XML", str(exc)) from None
    except LookupError as exc:  # an encoding="..." Python does not know
        raise _bad("RDF/XML", str(exc)) from None
    return graph


def _jsonld_error(exc: jsonld.JsonLdError) -> BadRequest:
    """Turn pyld's error (possibly wrapping our loader's refusal) into one line."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, _RemoteContextRefused):
            return BadRequest(
                f"Remote JSON-LD context <{_short(cause.url)}> is not loaded by this server;"
                " embed the context in the document instead"
            )
        cause = cause.__cause__ or cause.__context__
    why = exc.args[0] if exc.args else exc.code
    return _bad("JSON-LD", f"{why} ({exc.code})" if exc.code else str(why))


# pyld 3.x raises JsonLdError for invalid documents, but fuzzing shows some malformed
# structures reach code that assumes well-formed input: KeyError (@reverse with a null
# @language), AttributeError (@included as a string), TypeError (a dict where a string
# is expected). IndexError and ValueError come from the same kind of code paths.
_PYLD_FAILURES: tuple[type[Exception], ...] = (
    KeyError,
    AttributeError,
    TypeError,
    IndexError,
    ValueError,
)


def _parse_jsonld(data: bytes, base: str, limit: int) -> Graph:
    """JSON-LD via pyld's ``to_rdf`` with a loader that never touches the network."""
    text = _decode(data, "JSON-LD")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _bad("JSON", exc.msg, exc.lineno) from None
    except RecursionError:
        raise _bad("JSON", "nested too deeply") from None
    except ValueError as exc:  # e.g. an integer beyond Python's 4300-digit limit
        raise _bad("JSON", str(exc)) from None
    # A bare string would be taken by pyld as a URL to fetch.
    if not isinstance(document, dict | list):
        raise _bad("JSON-LD", "the document must be a JSON object or array")
    if json_depth(document, limit) > limit:  # pyld recurses per level, several frames each
        raise too_deep("JSON-LD", limit)
    options = {"base": base, "documentLoader": _load_document}
    try:
        dataset = jsonld.to_rdf(document, options)
    except jsonld.JsonLdError as exc:
        raise _jsonld_error(exc) from None
    except RecursionError:
        raise _bad("JSON-LD", "nested too deeply") from None
    except _PYLD_FAILURES as exc:
        raise _bad("JSON-LD", f"malformed document ({type(exc).__name__})") from None
    return _graph_from_dataset(dataset)


def _graph_from_dataset(dataset: Mapping[str, list[dict[str, Any]]]) -> Graph:
    if any(triples for name, triples in dataset.items() if name != "@default"):
        raise BadRequest("named graphs are not supported in a resource")
    graph = _new_graph()
    bnodes: dict[str, BNode] = {}
    try:
        graph.addN(
            (
                _from_pyld(t["subject"], bnodes),
                _from_pyld(t["predicate"], bnodes),
                _from_pyld(t["object"], bnodes),
                graph,
            )
            for t in dataset.get("@default", ())
        )
    except ValueError as exc:  # rdflib refuses e.g. a malformed language tag
        raise _bad("JSON-LD", str(exc)) from None
    return graph


def _from_pyld(term: Mapping[str, str] | None, bnodes: dict[str, BNode]) -> Node:
    if term is None:
        # pyld leaves a hole where a list item was an invalid IRI (it silently drops
        # other triples with invalid IRIs). A list with a hole is not what was sent.
        raise _bad("JSON-LD", "a list item is not a valid IRI")
    kind, value = term["type"], term["value"]
    if kind == "IRI":
        return URIRef(value)
    if kind == "blank node":
        # Fresh nodes: pyld's labels (_:b0) are only unique within one document.
        node = bnodes.get(value)
        if node is None:
            node = bnodes[value] = BNode()
        return node
    language = term.get("language")
    if language:
        return Literal(value, lang=language)
    datatype = term.get("datatype", _XSD_STRING)
    return Literal(value) if datatype == _XSD_STRING else Literal(value, datatype=URIRef(datatype))


_PARSERS: Mapping[str, _Parser] = MappingProxyType(
    {
        TURTLE: _parse_turtle,
        JSON_LD: _parse_jsonld,
        N_TRIPLES: _parse_ntriples,
        N_QUADS: _parse_nquads,
        N3: _parse_n3,
        RDF_XML: _parse_rdfxml,
    }
)


def parse(data: bytes, media_type: str, base: str, max_nesting: int = DEFAULT_MAX_NESTING) -> Graph:
    """Parse ``data`` in ``media_type`` (parameters ignored) into a new graph.

    Relative IRIs resolve against ``base`` (the resource's absolute URL). Literals come
    back canonical: language tags lower-cased, ``xsd:string`` as plain. Malformed or
    unsafe input raises BadRequest (with the line number when the parser knows it);
    named graphs raise BadRequest; a non-RDF media type raises UnsupportedMediaType.
    Brackets, JSON values or XML elements nested deeper than ``max_nesting`` are a 400,
    found before any recursive parser runs. Synchronous and CPU-bound: large bodies go
    to ``budget.Runner``.
    """
    essence = _essence(media_type)
    parser = _PARSERS.get(essence)
    if parser is None:
        raise UnsupportedMediaType(f"Cannot read {essence or 'an untyped body'} as RDF")
    _check_base(base)
    return _checked(parser(data, base, max_nesting))


def parse_stored(
    data: bytes, media_type: str, base: str, max_nesting: int = DEFAULT_MAX_NESTING
) -> Graph:
    """``parse`` for a body this server stored: Turtle that Oxigraph refuses is read by
    rdflib's parser, which is more lenient. Documents stored before writes were checked
    with Oxigraph (an IRI with a second ``#`` from JSON-LD, say) stay readable."""
    try:
        return parse(data, media_type, base, max_nesting)
    except BadRequest:
        if _essence(media_type) != TURTLE:
            raise
        return _checked(_parse_n3_family(data, base, max_nesting, turtle=True))


# --------------------------------------------------------------------------- writers


def _prefix_table(graph: Graph, extra: Mapping[str, str] | None) -> dict[str, str]:
    """prefix -> namespace: the graph's own, then ours, then the caller's, later winning.

    A graph's prefix (from the uploaded document) survives only if it clashes with
    neither a prefix nor a namespace of ours, so ``foaf:`` always means FOAF.
    """
    ours = {**PREFIXES, **(extra or {})}
    namespaces = set(ours.values())
    table = {
        prefix: str(ns)
        for prefix, ns in graph.namespaces()
        if prefix not in ours and str(ns) not in namespaces
    }
    table.update(ours)
    return table


def _with_prefixes(graph: Graph, table: Mapping[str, str]) -> Graph:
    """``graph``'s triples seen through a namespace manager bound to exactly ``table``.

    Serialisers read prefixes from, and bind generated ``ns1:`` prefixes into, the
    graph's own manager; this one keeps its bindings in a store of its own, so the
    caller's graph is never touched. A plain Graph is viewed in place (no copy).
    """
    manager = NamespaceManager(Graph(bind_namespaces="none"), bind_namespaces="none")
    for prefix, namespace in table.items():
        manager.bind(prefix, namespace, override=True, replace=True)
    if type(graph) is Graph:
        return Graph(store=graph.store, identifier=graph.identifier, namespace_manager=manager)
    # Subclasses (ConjunctiveGraph, Dataset) may span several graphs: copy the triples.
    out = Graph(namespace_manager=manager)
    out.addN((s, p, o, out) for s, p, o in graph.triples((None, None, None)))
    return out


class _TurtleWriter(TurtleSerializer):
    """rdflib's Turtle serialiser with correct relative IRIs and bounded nesting."""

    def relativize(self, uri: Any) -> Any:
        if not isinstance(uri, URIRef):
            return uri
        rel = _relative(uri, self.base)
        return uri if rel is None else URIRef(rel)

    def preprocessTriple(self, triple: tuple[Node, Node, Node]) -> None:
        # Replaces rdflib's version, which decides with its own (wrong) relativising rule
        # which predicates get a generated ns1: prefix. Here: only predicates we cannot
        # write as a relative IRI. Every prefix must be registered now, before the
        # header is written; one first met while writing would be used undeclared.
        RecursiveSerializer.preprocessTriple(self, triple)  # reference counts
        for position, node in enumerate(triple):
            if position == VERB and node in self.keywords:
                continue
            generate = position == VERB and _relative(node, self.base) is None
            self.get_pname(node, gen_prefix=generate)
            if isinstance(node, Literal) and node.datatype is not None:
                self.get_pname(node.datatype, gen_prefix=False)

    def label(self, node: Node, position: int) -> str:
        # Prefixed names first, then a relative IRI, then the absolute one. rdflib
        # relativises first and then tries prefixes on the *relative* string.
        if isinstance(node, URIRef) and node != RDF.nil:
            if position == VERB and node in self.keywords:
                return self.keywords[node]
            pname = self.get_pname(node, gen_prefix=False)
            if pname:
                return pname
            rel = _relative(node, self.base)
            return f"<{rel}>" if rel is not None else node.n3()
        return super().label(node, position)

    def p_squared(self, node: Node, position: int, newline: bool = False) -> bool:
        # Past the limit, a blank node is written as _:label and as its own statement.
        if self.depth > _MAX_TURTLE_NESTING:
            return False
        return super().p_squared(node, position, newline)


def _write_turtle(graph: Graph, base: str | None, table: Mapping[str, str]) -> bytes:
    # Also used for N3: Turtle as rdflib writes it is a subset of N3.
    out = _with_prefixes(graph, table)
    stream = io.BytesIO()
    _TurtleWriter(out).serialize(stream, base=base, encoding="utf-8")
    return stream.getvalue()


@functools.cache
def _storage_prefixes() -> Mapping[str, str]:
    """PREFIXES and, for stored documents, the project's vocabularies (``bank:``), which
    most organisation data is written in. Ours win a clash of names or namespaces."""
    taken = set(PREFIXES.values())
    domains = {d: vocab.namespace(d) for d in vocab.domains()}
    extra = {d: ns for d, ns in domains.items() if d not in PREFIXES and ns not in taken}
    return MappingProxyType({**extra, **PREFIXES})


def storage_turtle(graph: Graph, base: str) -> bytes:
    """The Turtle the server stores for ``graph``: IRIs relative to ``base`` where safe,
    no ``@base`` line, the prefixes it uses of the prefix table and the vocabularies (see
    ``turtle_writer``). rdflib's serialiser writes what that writer does not handle."""
    table = _prefix_table(graph, _storage_prefixes())
    try:
        data = write_turtle(terms_of(graph), base, table)
    except Unwritable:
        data = _write_turtle(graph, base, table)
        data = data[data.index(b"\n") + 1 :] if data.startswith(b"@base ") else data
    check_readable(data, base)
    return data


def check_readable(data: bytes, base: str) -> None:
    """400 unless the server's Turtle reader takes ``data`` back: rdflib's parsers (JSON-LD,
    N-Triples, RDF/XML, N3) accept IRIs that Turtle's grammar refuses (a second ``#``, say),
    and a document stored with one could no longer be read, patched or converted."""
    try:
        quick_check(data, base)
    except BadRequest as exc:
        # Oxigraph's positions are in the stored text, which the client never saw.
        detail = re.sub(
            r"^.*?: |\s*\(line \d+\)$", "", exc.message.removeprefix("Invalid Turtle: ")
        )
        raise BadRequest(f"The data holds a term that is not valid RDF: {detail}") from None


def storage_turtle_of_new(
    quads: Iterable[ox.Quad], base: str, lexical: Callable[[ox.Literal], str]
) -> bytes | None:
    """``storage_turtle`` of a new document holding the triples of Oxigraph's ``quads``,
    without an rdflib graph: the same text as for the graph of those triples (``lexical``
    must give rdflib's lexical forms) added to the empty graph ``Reader.graph_of`` gives
    for an absent document. None for a term the plain writer does not handle."""
    try:
        return write_turtle(dict.fromkeys(terms_of_oxigraph(quads, lexical)), base, _new_table())
    except Unwritable:
        return None


@functools.cache
def _new_table() -> Mapping[str, str]:
    # Graph(): what Reader.graph_of gives for an absent document (rdflib's default prefixes).
    return MappingProxyType(_prefix_table(Graph(), _storage_prefixes()))


def _write_ntriples(graph: Graph, base: str | None, table: Mapping[str, str]) -> bytes:
    # Also used for N-Quads: default-graph-only N-Quads is exactly N-Triples.
    return graph.serialize(format="nt", encoding="utf-8")


def ntriples(triples: Iterable[tuple[Node, Node, Node]]) -> bytes:
    """Ground triples as N-Triples, exactly as ``serialize`` writes them, without building
    a graph first (the insert-only PATCH path appends a patch's triples this way)."""
    return "".join(_nt_row(triple) for triple in triples).encode("utf-8")


def _write_rdfxml(graph: Graph, base: str | None, table: Mapping[str, str]) -> bytes:
    """Flat RDF/XML with absolute IRIs.

    "xml", not "pretty-xml": the pretty writer recurses per nesting level and is 3x
    slower. No base: rdflib's RDF/XML relativiser is a plain string-prefix cut.
    """
    for o in graph.objects():
        if isinstance(o, Literal) and _NOT_XML.search(o):
            raise NotAcceptable("This resource has characters RDF/XML cannot represent")
        # rdflib writes rdf:datatype unescaped (subjects and objects are escaped).
        if isinstance(o, Literal) and "&" in (o.datatype or ""):
            raise NotAcceptable(f"RDF/XML cannot carry the datatype <{_short(o.datatype)}>")
    out = _with_prefixes(graph, table)
    for predicate in set(out.predicates()):
        _check_xml_predicate(out, predicate)
    return out.serialize(format="xml", encoding="utf-8")


def _check_xml_predicate(graph: Graph, predicate: Node) -> None:
    """Refuse predicates rdflib would write as broken XML.

    RDF/XML needs every predicate as an element name ``prefix:local``. rdflib raises
    for IRIs with no NCName tail (e.g. ending in "/"), but for others it produces local
    names with "%" or "(" and writes namespaces with "&" unescaped; both give XML no
    parser accepts. This is the same (cached) call the serialiser makes.
    """
    try:
        prefix, namespace, local = graph.namespace_manager.compute_qname_strict(predicate)
    except ValueError:
        prefix, namespace, local = "", "", ""
    # An empty prefix is fine: rdflib then writes a default xmlns="...".
    valid_prefix = not prefix or _NCNAME.match(prefix)
    if not _NCNAME.match(local) or not valid_prefix or "&" in namespace:
        raise NotAcceptable(f"RDF/XML cannot carry the predicate <{_short(predicate)}>")


def _to_pyld(term: Node, bnodes: dict[Node, str]) -> dict[str, str]:
    if isinstance(term, URIRef):
        return {"type": "IRI", "value": str(term)}
    if isinstance(term, Literal):
        if term.language:
            return {
                "type": "literal",
                "value": str(term),
                "datatype": _RDF_LANG_STRING,
                "language": term.language,
            }
        datatype = str(term.datatype) if term.datatype is not None else _XSD_STRING
        return {"type": "literal", "value": str(term), "datatype": datatype}
    label = bnodes.get(term)
    if label is None:
        # Short, stable labels instead of rdflib's 33-character random ones.
        label = bnodes[term] = f"_:b{len(bnodes)}"
    return {"type": "blank node", "value": label}


def _expanded_iris(expanded: list[Any]) -> Iterator[str]:
    """Every IRI compaction could abbreviate in pyld's expanded output: property names,
    @type values, @id values and literal datatypes. Iterative: lists can be long."""
    stack: list[Any] = list(expanded)
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            for key, value in item.items():
                if key in ("@id", "@type"):
                    yield from value if isinstance(value, list) else [value]
                elif not key.startswith("@") or key in ("@list", "@set", "@graph"):
                    if not key.startswith("@"):
                        yield key
                    stack.append(value)


def _jsonld_context(expanded: list[Any], table: Mapping[str, str]) -> dict[str, str]:
    """The prefixes of ``table`` that abbreviate some IRI in the document.

    A prefix named like a scheme the document uses ("urn") is left out: JSON-LD would
    then read every absolute ``urn:...`` IRI as a compact IRI. "_" means blank node.
    """
    iris = set(_expanded_iris(expanded))
    schemes = {iri.partition(":")[0] for iri in iris}
    # JSON-LD 1.1 only uses a term as a prefix if its IRI ends in a gen-delim.
    candidates = {
        prefix: ns
        for prefix, ns in table.items()
        if prefix not in ("", "_")
        and ":" not in prefix
        and prefix not in schemes
        and ns[-1:] in ("/", "#", ":")
    }
    used = {
        prefix
        for iri in iris
        for prefix, ns in candidates.items()
        if iri.startswith(ns) and len(iri) > len(ns)
    }
    return {prefix: candidates[prefix] for prefix in sorted(used)}


def _expanded(graph: Graph) -> list[Any]:
    """Expanded JSON-LD for ``graph``, with well-formed RDF lists as ``@list``."""
    bnodes: dict[Node, str] = {}
    dataset = {
        "@default": [
            {
                "subject": _to_pyld(s, bnodes),
                "predicate": _to_pyld(p, bnodes),
                "object": _to_pyld(o, bnodes),
            }
            for s, p, o in graph
        ]
    }
    try:
        return jsonld.from_rdf(dataset, {"useNativeTypes": False, "useRdfType": False})
    except KeyError:
        # pyld 3 bug: a list cell with rdf:rest but no rdf:first raises KeyError while
        # folding lists. Such a graph is valid RDF; write it without @list folding.
        return _flat_expanded(graph, bnodes)


def _flat_expanded(graph: Graph, bnodes: dict[Node, str]) -> list[Any]:
    """Expanded JSON-LD, one node object per subject, no list folding."""
    nodes: dict[str, dict[str, Any]] = {}
    for s, p, o in graph:
        subject = _to_pyld(s, bnodes)["value"]
        node = nodes.setdefault(subject, {"@id": subject})
        if p == RDF.type and not isinstance(o, Literal):
            node.setdefault("@type", []).append(_to_pyld(o, bnodes)["value"])
        else:
            node.setdefault(str(p), []).append(_expanded_value(_to_pyld(o, bnodes)))
    return list(nodes.values())


def _expanded_value(term: Mapping[str, str]) -> dict[str, str]:
    if term["type"] != "literal":
        return {"@id": term["value"]}
    if "language" in term:
        return {"@value": term["value"], "@language": term["language"]}
    if term["datatype"] == _XSD_STRING:
        return {"@value": term["value"]}
    return {"@value": term["value"], "@type": term["datatype"]}


def _write_jsonld(graph: Graph, base: str | None, table: Mapping[str, str]) -> bytes:
    """Compact JSON-LD: pyld's from_rdf + compact with the prefixes in use.

    @ids stay absolute (no @base): safer for clients that copy nodes between documents.
    Literals keep their lexical form (no native numbers), so the round trip is exact.
    """
    # The input is already expanded; pyld would otherwise expand it again (half the time).
    options = {"documentLoader": _load_document, "skipExpansion": True}
    try:
        expanded = _expanded(graph)
        context = {"@context": _jsonld_context(expanded, table)}
        compacted = jsonld.compact(expanded, context, options)
    except jsonld.JsonLdError as exc:
        # e.g. an rdf:JSON literal whose text is not JSON.
        why = _short(exc.args[0])
        raise NotAcceptable(f"This resource cannot be written as JSON-LD: {why}") from None
    return json.dumps(compacted, ensure_ascii=False, indent=2).encode("utf-8")


_WRITERS: Mapping[str, _Writer] = MappingProxyType(
    {
        TURTLE: _write_turtle,
        JSON_LD: _write_jsonld,
        N_TRIPLES: _write_ntriples,
        N_QUADS: _write_ntriples,
        N3: _write_turtle,
        RDF_XML: _write_rdfxml,
    }
)


def serialize(
    graph: Graph, media_type: str, base: str | None, prefixes: Mapping[str, str] | None = None
) -> bytes:
    """Serialise ``graph`` as ``media_type`` (one of RDF_TYPES; parameters ignored).

    Turtle/N3 use ``base`` for relative IRIs (and write ``@base``); the other formats,
    and Turtle when ``base`` is None, write absolute IRIs. ``prefixes`` adds to or
    overrides PREFIXES; only prefixes the graph uses appear. The caller's graph is never
    modified. Raises NotAcceptable for a non-RDF type or when the format cannot express
    this graph (RDF/XML's limits).

    Reading the output back gives an isomorphic graph for graphs in the canonical form
    ``parse`` returns; JSON-LD lower-cases language tags of hand-built graphs.
    """
    essence = _essence(media_type)
    writer = _WRITERS.get(essence)
    if writer is None:
        raise NotAcceptable(f"Cannot write RDF as {essence or 'an unknown type'}")
    return writer(graph, base, _prefix_table(graph, prefixes))
