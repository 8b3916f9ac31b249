from __future__ import annotations

import pytest

from pod_server.ldp.conneg import MediaRange, choose, parse_accept, parse_content_type

RDF = ["text/turtle", "application/ld+json", "application/n-triples", "application/rdf+xml"]


# --------------------------------------------------------------------------- parse_accept


@pytest.mark.parametrize("header", [None, "", "   "])
def test_missing_or_blank_accept_means_anything(header: str | None) -> None:
    assert parse_accept(header) == [MediaRange("*", "*")]


def test_parse_accept_reads_types_params_and_weights_in_order() -> None:
    ranges = parse_accept('Text/Turtle;q=0.5, application/ld+json;profile="a,b";q=0.9, */*;q=0')
    assert [(r.essence, dict(r.params), r.q) for r in ranges] == [
        ("text/turtle", {}, 0.5),
        ("application/ld+json", {"profile": "a,b"}, 0.9),
        ("*/*", {}, 0.0),
    ]


@pytest.mark.parametrize(
    "garbage",
    [
        "text/turtle;q=abc",
        "text/turtle;q=1.5",
        "text/turtle;q=-1",
        "text/turtle;q=",
        "text",
        "/turtle",
        "text/",
        "*/turtle",
        "text/tur tle",
        "text/turtle;noequals",
        ";;;",
    ],
)
def test_garbage_elements_are_dropped_not_fatal(garbage: str) -> None:
    ranges = parse_accept(f"{garbage}, application/ld+json;q=0.3")
    assert [(r.essence, r.q) for r in ranges] == [("application/ld+json", 0.3)]


def test_java_style_bare_star_and_leading_dot_weight() -> None:
    # What HttpURLConnection sends by default.
    ranges = parse_accept("text/html, image/gif, *; q=.2, */*; q=.2")
    assert [(r.essence, r.q) for r in ranges] == [
        ("text/html", 1.0),
        ("image/gif", 1.0),
        ("*/*", 0.2),
        ("*/*", 0.2),
    ]


def test_parameters_after_the_weight_are_not_part_of_the_range() -> None:
    (media_range,) = parse_accept("text/turtle;charset=utf-8;q=0.4;ext=1")
    assert dict(media_range.params) == {"charset": "utf-8"}
    assert media_range.q == 0.4


def test_specificity_levels() -> None:
    wild, partial, exact, with_params = parse_accept("*/*, text/*, text/turtle, text/turtle;a=b")
    assert [r.specificity for r in (wild, partial, exact, with_params)] == [0, 1, 2, 3]


# --------------------------------------------------------------------------- choose


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        # Highest q wins, whatever the order in the header or the server preference.
        ("application/ld+json;q=0.9, text/turtle;q=0.5", "application/ld+json"),
        ("text/turtle;q=0.5, application/ld+json", "application/ld+json"),
        ("application/rdf+xml", "application/rdf+xml"),
        # The most specific range decides a type's weight (RFC 9110 example shape).
        ("text/*;q=0.1, text/turtle, */*;q=0.5", "text/turtle"),
        ("text/*, text/turtle;q=0.1, */*;q=0.5", "application/ld+json"),
        ("*/*;q=0.9, application/*;q=0.2, text/turtle;q=0.3", "text/turtle"),
        # Wildcards alone: the server's preference.
        ("*/*", "text/turtle"),
        ("application/*", "application/ld+json"),
        # q=0 excludes, even under a wildcard that allows everything else.
        ("text/turtle;q=0, */*", "application/ld+json"),
        ("text/*;q=0, application/ld+json;q=0, */*;q=0.1", "application/n-triples"),
        # Type and subtype are case-insensitive.
        ("TEXT/Turtle;Q=0.1, application/ld+json;q=0.05", "text/turtle"),
    ],
)
def test_choose(accept: str, expected: str) -> None:
    assert choose(accept, RDF) == expected


def test_ties_go_to_the_server_preference_order() -> None:
    accept = "application/rdf+xml, application/ld+json"
    assert choose(accept, RDF) == "application/ld+json"
    assert choose(accept, list(reversed(RDF))) == "application/rdf+xml"


def test_a_type_the_client_names_beats_one_it_only_allows_by_wildcard() -> None:
    # Same weight, but the client spelled out Turtle: that counts before server order.
    assert choose("*/*, application/rdf+xml", RDF) == "application/rdf+xml"
    assert choose("text/*, text/turtle", ["text/n3", "text/turtle"]) == "text/turtle"


def test_browser_accept_header_gets_the_servers_first_choice() -> None:
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert choose(accept, RDF) == "text/turtle"


@pytest.mark.parametrize(
    "accept",
    ["image/png", "text/html, application/json", "*/*;q=0", "text/turtle;q=0, application/*;q=0"],
)
def test_nothing_acceptable_gives_none(accept: str) -> None:
    assert choose(accept, RDF) is None


def test_nothing_offered_gives_none() -> None:
    assert choose("*/*", []) is None


@pytest.mark.parametrize("accept", [None, "", "garbage, more;garbage", "text/turtle;q=x"])
def test_missing_or_unusable_header_gets_the_first_offer(accept: str | None) -> None:
    assert choose(accept, RDF) == "text/turtle"


def test_offered_string_is_returned_unchanged() -> None:
    assert choose("text/plain", ["Text/Plain; charset=utf-8"]) == "Text/Plain; charset=utf-8"


def test_range_parameters_must_match_an_offer_that_has_parameters() -> None:
    offered = ["text/html;level=1", "text/html;level=2"]
    assert choose("text/html;level=2", offered) == "text/html;level=2"
    assert choose("text/html;level=3", offered) is None


def test_range_parameters_do_not_exclude_a_plain_offer() -> None:
    # ActivityPub clients ask for a JSON-LD profile; plain JSON-LD still satisfies them.
    accept = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
    assert choose(accept, RDF) == "application/ld+json"


# --------------------------------------------------------------------------- content type


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, ("", {})),
        ("", ("", {})),
        ("text/turtle", ("text/turtle", {})),
        ("Text/Turtle; Charset=UTF-8", ("text/turtle", {"charset": "UTF-8"})),
        (
            'application/ld+json; profile="http://www.w3.org/ns/json-ld#compacted"',
            ("application/ld+json", {"profile": "http://www.w3.org/ns/json-ld#compacted"}),
        ),
        ('text/plain; title="a;b\\"c"', ("text/plain", {"title": 'a;b"c'})),
        ("text/turtle; charset", ("text/turtle", {})),  # malformed parameter dropped
        ("turtle", ("", {})),
        ("text/*", ("", {})),
        ("*/*", ("", {})),
        ("text /turtle", ("", {})),
    ],
)
def test_parse_content_type(header: str | None, expected: tuple[str, dict[str, str]]) -> None:
    assert parse_content_type(header) == expected
