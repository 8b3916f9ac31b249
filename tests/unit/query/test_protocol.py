"""The SPARQL Protocol's request forms and the dataset rule: never wider than readable."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pod_server.errors import BadRequest, UnsupportedMediaType
from pod_server.query.protocol import (
    Dataset,
    QueryRequest,
    check_query,
    names_dataset,
    narrow,
    parse_request,
)

Q = "SELECT * WHERE { ?s ?p ?o }"


def test_get_post_form_and_direct_post() -> None:
    assert parse_request("GET", {"query": Q}, "", b"") == QueryRequest(Q)
    form = b"query=SELECT+*+WHERE+%7B+%3Fs+%3Fp+%3Fo+%7D&named-graph-uri=http%3A%2F%2Fa%2Fb"
    assert parse_request("POST", {}, "application/x-www-form-urlencoded", form) == QueryRequest(
        Q, (), ("http://a/b",)
    )
    direct = parse_request(
        "POST",
        [("default-graph-uri", "http://a/c")],
        "application/sparql-query; charset=utf-8",
        Q.encode(),
    )
    assert direct == QueryRequest(Q, ("http://a/c",), ())


@pytest.mark.parametrize(
    ("method", "params", "ctype", "body", "error"),
    [
        ("GET", {}, "", b"", BadRequest),  # no query
        ("GET", [("query", Q), ("query", Q)], "", b"", BadRequest),  # two
        ("GET", {"query": "  "}, "", b"", BadRequest),
        ("POST", {}, "text/plain", Q.encode(), UnsupportedMediaType),
        ("POST", {"query": Q}, "application/sparql-query", Q.encode(), BadRequest),
        ("POST", {}, "application/sparql-query", b"\xff\xfe", BadRequest),  # not UTF-8
        ("POST", {}, "application/x-www-form-urlencoded", b"update=DROP+ALL", BadRequest),
    ],
)
def test_bad_requests(
    method: str, params: object, ctype: str, body: bytes, error: type[Exception]
) -> None:
    with pytest.raises(error):
        parse_request(method, params, ctype, body)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE { SERVICE <http://evil/> { ?s ?p ?o } }",
        "select * where { service silent <http://evil/> { ?s ?p ?o } }",
        "SELECT * WHERE { ?s ?p ?o SERVICE ?x { ?a ?b ?c } }",
    ],
)
def test_service_is_refused(query: str) -> None:
    with pytest.raises(BadRequest, match="SERVICE"):
        check_query(query)


@pytest.mark.parametrize(
    "query",
    [
        'SELECT * WHERE { ?s <http://ex/service> "SERVICE" }',
        "PREFIX service: <http://ex/> SELECT * WHERE { ?s service:x ?service } # SERVICE",
        "SELECT * WHERE { ?s ex:service ?o }",
    ],
)
def test_the_word_elsewhere_is_no_service(query: str) -> None:
    check_query(query)


def test_dataset_clauses_are_spotted_outside_strings() -> None:
    assert names_dataset("SELECT * FROM <http://a/> WHERE { ?s ?p ?o }")
    assert names_dataset("select * from named <x> where {}")
    assert not names_dataset('SELECT * WHERE { ?s ?p "from" . ?s <http://ex/from> ?from }')


READABLE = ["http://p/a", "http://p/b"]


def test_without_a_dataset_everything_readable_is_in_both_parts() -> None:
    assert narrow(READABLE, None, None) == Dataset(tuple(READABLE), tuple(READABLE))


def test_a_dataset_narrows_but_never_widens() -> None:
    assert narrow(READABLE, ["http://p/a", "http://p/secret"], None) == Dataset(("http://p/a",), ())
    assert narrow(READABLE, None, ["http://p/secret", "http://p/b", "http://p/b"]) == Dataset(
        (), ("http://p/b",)
    )
    assert narrow([], ["http://p/a"], ["http://p/a"]) == Dataset((), ())


def test_an_iri_with_a_control_character_hides_nothing() -> None:
    with pytest.raises(BadRequest, match="SERVICE"):
        check_query("SELECT * WHERE { FILTER(?a <\x01SERVICE\x01> 1) }")


PORT_9 = "SERVICE <http://127.0.0.1:9/> { ?s ?p ?o }"  # the engine refuses port 9 on its own
FRAGMENTS = ['"', "'", '"""', "'''", "<", ">", "#", "\n", "\\", "?s ?p ?o .", "a", " ", PORT_9]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=12))
def test_what_the_check_lets_through_never_calls_a_service(parts: list[str]) -> None:
    """The lexical check agrees with the engine's parser: no string, IRI or comment it
    skips over is code for Oxigraph (an executed SERVICE raises OSError for port 9)."""
    query = "SELECT * WHERE { " + "".join(parts) + " }"
    try:
        check_query(query)
    except BadRequest:
        return
    try:
        list(ox.Store().query(query))
    except SyntaxError:
        pass
    except OSError as exc:
        raise AssertionError(f"a SERVICE got through: {query!r}") from exc
