"""Which requests get the pod's pages (pod_server.ui), which get the data (pure functions).

Solid apps and RDF libraries must never see a page: a page is served only to a GET or
HEAD that carries no credentials of the API (``Authorization``, ``DPoP``), names no
``format``, and whose ``Accept`` prefers ``text/html`` over every RDF type *strictly*,
with ``text/html`` (or ``text/*``) written out: ``*/*`` alone, or HTML only as good as
Turtle, get RDF. A browser navigating (``text/html,...,*/*;q=0.8``) gets the page.

Stored files people upload are served with a sandbox (``safety_headers``): whatever
they hold, they never run as the pages' origin.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from pod_server.ldp import conneg
from pod_server.ldp.media_types import JSON_LD, TURTLE
from pod_server.ldp.rdf import RDF_TYPES

HTML = "text/html"
FORMAT_PARAM = "format"
# ``?format=`` names what the page's "raw data" links fetch: an Accept to use instead.
FORMATS: dict[str, str] = {
    "turtle": TURTLE,
    "jsonld": JSON_LD,
    "raw": "*/*",
}
# Types a browser would run or render as a document of the origin.
ACTIVE_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/javascript",
        "application/javascript",
        "application/ecmascript",
        "text/ecmascript",
        "application/xml",
        "text/xml",
    }
)
SANDBOX = "sandbox"


def prefers_html(accept: str | None) -> bool:
    """Whether ``accept`` names HTML and weighs it above every RDF type."""
    if accept is not None and len(accept) > conneg.MEMO_HEADER_LENGTH:
        return _prefers_html(accept)
    return _prefers_html_memo(accept)  # clients send the same few headers over and over


def _prefers_html(accept: str | None) -> bool:
    ranges = conneg.parse_accept(accept)
    if not any(r.type == "text" and r.subtype in ("html", "*") and r.q > 0 for r in ranges):
        return False
    # RDF types first: on a tie the server's order decides, so HTML must win outright.
    return conneg.choose(accept, (*RDF_TYPES, HTML)) == HTML


_prefers_html_memo = functools.lru_cache(maxsize=1024)(_prefers_html)


def wants_page(method: str, headers: Mapping[str, str], query: Mapping[str, str]) -> bool:
    """Whether this request gets a page rather than the resource's data."""
    if method not in ("GET", "HEAD") or FORMAT_PARAM in query:
        return False
    if "Authorization" in headers or "DPoP" in headers:
        return False
    return prefers_html(headers.get("Accept"))


def raw_for_pages(method: str, headers: Mapping[str, str], query: Mapping[str, str]) -> bool:
    """A page's own link to the data (``?format=``: a preview, "open the file itself",
    the Turtle link) that the browser session may name the person for: a read, with no
    API credentials, that Fetch Metadata says came from this origin's pages or from the
    person themselves (typed, bookmarked). Never another site's request, nor a browser
    that does not say where a request came from."""
    if method not in ("GET", "HEAD") or FORMAT_PARAM not in query:
        return False
    if "Authorization" in headers or "DPoP" in headers:
        return False
    return headers.get("Sec-Fetch-Site", "").lower() in ("same-origin", "none")


def format_accept(query: Mapping[str, str]) -> str | None:
    """The Accept that ``?format=`` stands for (None: no such parameter, or unknown)."""
    return FORMATS.get(query.get(FORMAT_PARAM, ""))


def essence(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def safety_headers(content_type: str, navigated: bool) -> dict[str, str]:
    """Headers for a stored file the server did not make: no script of it runs with the
    server's origin (a sandbox makes its origin opaque), no sniffing into something
    active, and an active type opened by navigation is downloaded, not shown."""
    found = {"Content-Security-Policy": SANDBOX, "X-Content-Type-Options": "nosniff"}
    if navigated and essence(content_type) in ACTIVE_TYPES:
        found["Content-Disposition"] = "attachment"
    return found


def is_navigation(headers: Mapping[str, str]) -> bool:
    """A top-level or frame navigation (Fetch Metadata), or an old browser's page load."""
    mode = headers.get("Sec-Fetch-Mode")
    if mode is not None:
        return mode.lower() == "navigate"
    return prefers_html(headers.get("Accept"))
