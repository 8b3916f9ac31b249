"""Strict Content-Type parsing for request bodies, and the charsets RDF may declare."""

from __future__ import annotations

import time

import pytest

from pod_server.errors import BadRequest, UnsupportedMediaType
from pod_server.ldp.conneg import parse_media_type, require_utf8


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("text/turtle", ("text/turtle", {})),
        ("Text/Turtle ; Charset=UTF-8", ("text/turtle", {"charset": "UTF-8"})),
        ('text/turtle;charset="utf-8"', ("text/turtle", {"charset": "utf-8"})),
        ("text/plain;;a=b;", ("text/plain", {"a": "b"})),  # empty parameters are allowed
        ('application/ld+json; profile="a;b, c"', ("application/ld+json", {"profile": "a;b, c"})),
        ('text/plain; x="a\\"b"', ("text/plain", {"x": 'a"b'})),
        ("text/plain; x=1; x=1", ("text/plain", {"x": "1"})),
    ],
)
def test_well_formed_types_parse(header: str, expected: tuple[str, dict[str, str]]) -> None:
    assert parse_media_type(header) == expected


@pytest.mark.parametrize(
    "header",
    [
        'text/turtle; charset="unterminated',
        "text/",
        "/turtle",
        "text",
        ";;;",
        "*/*",
        "text/*",
        "text/tur tle",
        "text/turtle; charset",
        "text/turtle; charset=",
        "text/turtle; =utf-8",
        "text/turtle, text/plain",
        "text/turtle; charset=utf-8; charset=latin1",
        "text/turtle; é=1",
    ],
)
def test_malformed_types_are_a_bad_request(header: str) -> None:
    with pytest.raises(BadRequest, match="Content-Type"):
        parse_media_type(header)


def test_a_long_malformed_header_fails_fast_with_a_short_message() -> None:
    header = "a/b" + " ; " * 3000 + "@"
    started = time.monotonic()
    with pytest.raises(BadRequest) as caught:
        parse_media_type(header)
    assert time.monotonic() - started < 0.5
    assert len(str(caught.value)) < 200


@pytest.mark.parametrize("charset", [None, "utf-8", "UTF-8", "utf8", "us-ascii", "US-ASCII"])
def test_utf8_and_ascii_are_accepted(charset: str | None) -> None:
    require_utf8("text/turtle", {} if charset is None else {"charset": charset})


@pytest.mark.parametrize("charset", ["iso-8859-1", "unknown-thing", "utf-16", ""])
def test_other_charsets_are_unsupported(charset: str) -> None:
    with pytest.raises(UnsupportedMediaType, match="charset"):
        require_utf8("text/turtle", {"charset": charset})
