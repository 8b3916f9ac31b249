"""The SPARQL 1.1 Protocol's request forms and the dataset a query may see (pure: no I/O).

A query comes as ``GET ?query=``, a ``POST`` of an HTML form (``query=``), or a ``POST``
of ``application/sparql-query``; ``default-graph-uri``/``named-graph-uri`` parameters
name its dataset. The dataset a query runs over is always a subset of the documents the
caller may read (``narrow``): a dataset clause or parameter can narrow it, never widen it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl

from pod_server.errors import BadRequest, UnsupportedMediaType

FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"

# Strings, IRIs and comments of a SPARQL text (as ldp.budget's scan): keywords inside
# them are no keywords. IRIs as SPARQL's IRIREF (no space or control character), so that
# nothing the engine reads as code is taken for an IRI here: "?a < ?b" is no IRI.
_OPAQUE = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""'
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n\r]|\\.)*"'
    r"|'(?:[^'\\\n\r]|\\.)*'"
    r'|<[^<>"{}|^`\\\x00-\x20]*>'
    r"|#[^\n\r]*",
    re.DOTALL,
)
# A keyword is neither part of a prefixed name (ex:service, service:x) nor of a variable.
_SERVICE = re.compile(r"(?<![\w:?$-])SERVICE(?![\w:-])", re.IGNORECASE)
_FROM = re.compile(r"(?<![\w:?$-])FROM(?![\w:-])", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class QueryRequest:
    """A query and the dataset its request named (None: none named)."""

    text: str
    default_graphs: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None


def parse_request(
    method: str,
    query: Mapping[str, str] | Iterable[tuple[str, str]],
    content_type: str,
    body: bytes,
) -> QueryRequest:
    """The query a protocol request carries, or 400/415 saying what is wrong with it."""
    params = list(query.items() if isinstance(query, Mapping) else query)
    if method == "POST":
        media = content_type.split(";")[0].strip().lower()
        if media == FORM:
            params += parse_qsl(_text(body), keep_blank_values=True)
        elif media == SPARQL_QUERY:
            if any(name == "query" for name, _ in params):
                raise BadRequest("A query is sent once: in the body or as ?query=, not both")
            params.append(("query", _text(body)))
        else:
            raise UnsupportedMediaType(
                f"Send a query as {SPARQL_QUERY} or as an HTML form ({FORM})"
            )
    texts = [value for name, value in params if name == "query"]
    if len(texts) != 1 or not texts[0].strip():
        raise BadRequest("Send exactly one SPARQL query (the 'query' parameter)")
    if any(name == "update" for name, _ in params):
        raise BadRequest("This endpoint answers queries only; change data with PUT or PATCH")
    default = tuple(v for n, v in params if n == "default-graph-uri")
    named = tuple(v for n, v in params if n == "named-graph-uri")
    given = bool(default or named)  # either one names the whole dataset (SPARQL 1.1 §13.2)
    return QueryRequest(texts[0], default if given else None, named if given else None)


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("A query must be UTF-8 text") from None


def keywords(text: str) -> str:
    """``text`` with its strings, IRIs and comments blanked out."""
    return _OPAQUE.sub(" ", text)


def check_query(text: str) -> None:
    """Refuse federated queries: SERVICE would make the server fetch other URLs for the
    caller (the engine would do it). Updates are refused by the query parser itself."""
    if _SERVICE.search(keywords(text)):
        raise BadRequest("SERVICE is not allowed: this endpoint answers over this pod only")


def names_dataset(text: str) -> bool:
    """Whether the query may hold a dataset clause (FROM / FROM NAMED)."""
    return bool(_FROM.search(keywords(text)))


@dataclass(frozen=True, slots=True)
class Dataset:
    """The graphs (document URLs) a query's default graph merges, and its named graphs."""

    default: tuple[str, ...]
    named: tuple[str, ...]


def narrow(
    readable: Sequence[str],
    default: Iterable[str] | None,
    named: Iterable[str] | None,
) -> Dataset:
    """The dataset of a query: every readable document as default graph (their union) and
    as named graphs, unless the request named a dataset (FROM / FROM NAMED, or the
    protocol's parameters); then what it named that is readable. A graph named but not
    readable is left out, the same as one that does not exist: the answer says nothing
    about documents the caller cannot read."""
    if default is None and named is None:
        return Dataset(tuple(readable), tuple(readable))
    allowed = set(readable)
    return Dataset(
        tuple(dict.fromkeys(g for g in default or () if g in allowed)),
        tuple(dict.fromkeys(g for g in named or () if g in allowed)),
    )
