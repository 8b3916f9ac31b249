"""Which requests get a page and which the data; the headers of people's stored files."""

from __future__ import annotations

import pytest

from pod_server.http.negotiation import (
    format_accept,
    is_navigation,
    prefers_html,
    raw_for_pages,
    safety_headers,
    wants_page,
)

CHROMIUM_NAVIGATION = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)
FIREFOX_NAVIGATION = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
# What rdflib sends when parsing a URL with no format named (all its parsers' types).
RDFLIB_DEFAULT = (
    "application/rdf+xml, text/n3, text/turtle, application/n-triples, application/ld+json,"
    " application/n-quads, application/trix, application/trig"
)


@pytest.mark.parametrize("accept", [CHROMIUM_NAVIGATION, FIREFOX_NAVIGATION, "text/html"])
def test_a_browser_navigating_gets_the_page(accept: str) -> None:
    assert wants_page("GET", {"Accept": accept}, {})
    assert wants_page("HEAD", {"Accept": accept}, {})


@pytest.mark.parametrize(
    "accept",
    [
        None,  # curl without -H, Python's urllib
        "*/*",  # curl, fetch() defaults, the Inrupt client for files
        "text/turtle",
        "application/ld+json",
        "text/turtle, application/ld+json;q=0.9, */*;q=0.1",
        RDFLIB_DEFAULT,
        "text/html, text/turtle",  # a tie: the data wins
        "text/turtle, text/html;q=0.9",
        "text/*",  # as good for Turtle as for HTML
        "text/html;q=0",
        "garbage",
    ],
)
def test_rdf_clients_get_the_data(accept: str | None) -> None:
    headers = {} if accept is None else {"Accept": accept}
    assert not wants_page("GET", headers, {})


def test_html_above_rdf_with_a_wildcard_for_the_rest() -> None:
    assert prefers_html("text/html, */*;q=0.5")
    assert not prefers_html("text/html;q=0.5, */*")


@pytest.mark.parametrize("header", ["Authorization", "DPoP"])
def test_api_credentials_always_get_the_data(header: str) -> None:
    assert not wants_page("GET", {"Accept": CHROMIUM_NAVIGATION, header: "x"}, {})


def test_the_pages_links_to_the_data_come_from_this_origin_only() -> None:
    query = {"format": "raw"}
    assert raw_for_pages("GET", {"Sec-Fetch-Site": "same-origin"}, query)
    assert raw_for_pages("HEAD", {"Sec-Fetch-Site": "none"}, query)  # typed by the person
    for site in ("cross-site", "same-site", ""):
        assert not raw_for_pages("GET", {"Sec-Fetch-Site": site}, query)
    assert not raw_for_pages("GET", {}, query)
    assert not raw_for_pages("GET", {"Sec-Fetch-Site": "same-origin"}, {})
    assert not raw_for_pages("POST", {"Sec-Fetch-Site": "same-origin"}, query)
    headers = {"Sec-Fetch-Site": "same-origin", "Authorization": "DPoP x"}
    assert not raw_for_pages("GET", headers, query)


def test_a_format_link_gets_the_data() -> None:
    headers = {"Accept": CHROMIUM_NAVIGATION}
    assert not wants_page("GET", headers, {"format": "turtle"})
    assert format_accept({"format": "turtle"}) == "text/turtle"
    assert format_accept({"format": "jsonld"}) == "application/ld+json"
    assert format_accept({"format": "raw"}) == "*/*"
    assert format_accept({"format": "nonsense"}) is None
    assert format_accept({}) is None


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_only_reads_get_pages(method: str) -> None:
    assert not wants_page(method, {"Accept": CHROMIUM_NAVIGATION}, {})


def test_stored_files_are_sandboxed_and_active_types_downloaded_when_navigated() -> None:
    plain = safety_headers("image/png", navigated=True)
    assert plain == {"Content-Security-Policy": "sandbox", "X-Content-Type-Options": "nosniff"}
    for active in ("text/html; charset=utf-8", "image/svg+xml", "text/javascript"):
        assert safety_headers(active, navigated=True)["Content-Disposition"] == "attachment"
        assert "Content-Disposition" not in safety_headers(active, navigated=False)


def test_navigation_from_fetch_metadata_else_accept() -> None:
    assert is_navigation({"Sec-Fetch-Mode": "navigate", "Accept": "*/*"})
    assert not is_navigation({"Sec-Fetch-Mode": "cors", "Accept": CHROMIUM_NAVIGATION})
    assert is_navigation({"Accept": CHROMIUM_NAVIGATION})
    assert not is_navigation({"Accept": "*/*"})
