"""Hypothesis strategies for raw HTTP requests against the pod server (tests/integration/test_fuzz.py).

A request is drawn as plain data (method, raw path, header list, body) so a failing
example prints as something one can replay with curl. Paths are raw: percent-encodings
and dot segments are kept as drawn and must reach the server unnormalised.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from hypothesis import strategies as st

LDP = "http://www.w3.org/ns/ldp#"
SENTINEL_NAME = "sentinel.txt"  # a file beside the storage root, never to be reached
CURRENT_ETAG = "<current>"  # replaced by the target's ETag at request time

METHODS = ("GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE")
ODD_METHODS = ("PROPFIND", "MKCOL", "TRACE", "COPY", "MOVE", "FOO", "get", "Put", "M-SEARCH")
WRITE_METHODS = ("PUT", "POST", "PATCH", "DELETE")
WRITES = frozenset(WRITE_METHODS)


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # raw, as sent on the request line
    headers: tuple[tuple[str, str], ...]
    body: bytes | None
    chunked: bool = False  # the body sent with Transfer-Encoding: chunked, no Content-Length

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


def one_in(n: int) -> st.SearchStrategy[bool]:
    """True about once in ``n`` draws (``integers`` would favour its bounds)."""
    return st.sampled_from((False,) * (n - 1) + (True,))  # shrinks to False, the plain case


# --- paths -------------------------------------------------------------------------------

# Names the seeded storage has (see test_fuzz.SEED), so writes also hit existing resources.
KNOWN = ("f", "doc.ttl", "bin", "sub", "x.jsonld", "new", "new.ttl", "storage", SENTINEL_NAME)
AUX = (".acl", ".meta", "doc.ttl.acl", "doc.ttl.meta", "bin.meta", "x.acl.acl", ".meta.acl")
TRICKY = (
    "..",
    ".",
    "%2e%2e",
    "%2E%2e",
    ".%2e",
    "%2e.",
    "%2e",
    "..%2f..",
    "%2f",
    "%2F",
    "%5c",
    "..%5c..",
    "%00",
    "a%00b",
    "%c0%ae%c0%ae",
    "%ff",
    "%",
    "%g1",
    "%2",
    "~",
    "%7e",
    "a;b=c",
    "%25",
    "%252e%252e",
    "caf%C3%A9",
    "café",
    "%e2%80%ae",
    "x%0d%0ay",
    "%20",
    "+",
    "@:$&'()*,=",
)
# A text segment that needs no encoding, and one that does (unicode, spaces, reserved).
_PLAIN = st.text("abcdefghijklmnopqrstuvwxyz0123456789-._~", min_size=1, max_size=12)
_UNICODE = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12
).map(lambda s: quote(s, safe=""))
# Around the 255-byte segment limit, past the 2048-byte path limit, past aiohttp's 8190-byte
# request line.
_LONG = st.one_of(
    st.integers(200, 300).map(lambda n: "a" * n),
    st.integers(100, 150).map(lambda n: quote("é" * n, safe="")),
    st.sampled_from((2100, 9000)).map(lambda n: "b" * n),
)

_valid_segments = st.one_of(
    st.sampled_from(KNOWN), st.sampled_from(KNOWN), st.sampled_from(AUX), _PLAIN, _UNICODE
)
_odd_segments = st.sampled_from(TRICKY) | _LONG


@st.composite
def paths(draw: st.DrawFn) -> str:
    """A raw absolute path, mostly under the seeded container ``/f/``; one in four has an
    odd segment (dot segment, bad encoding, too long ...) somewhere."""
    prefix = draw(st.sampled_from(("/", "/f/", "/f/", "/f/", "/f/sub/")))
    parts = draw(st.lists(_valid_segments, max_size=3))
    if draw(one_in(4)):
        parts.insert(draw(st.integers(0, len(parts))), draw(_odd_segments))
    path = prefix + "/".join(parts)
    if draw(one_in(12)):  # an empty segment
        path = path.replace("/", "//", 1)
    if draw(st.booleans()) and not path.endswith("/"):
        path += "/"
    query = draw(
        st.sampled_from(
            (
                "",
                "",
                "",
                "",
                "",
                "?page-size=2",
                "?page-size=0",
                "?page-size=x",
                "?after=..",
                "?page-size=1&after=doc.ttl",
                "?x=%2e%2e",
                "?",
            )
        )
    )
    return path + query


# --- headers -----------------------------------------------------------------------------

# What a client may put in a header value: printable ASCII, plus some Latin-1.
_header_text = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=40
)

RDF_TYPES = (
    "text/turtle",
    "text/n3",
    "application/n-triples",
    "application/n-quads",
    "application/ld+json",
    "application/rdf+xml",
)
PATCH_TYPES = ("application/sparql-update", "text/n3")
OTHER_TYPES = (
    "text/plain",
    "application/octet-stream",
    "image/png",
    "application/json",
    "text/html",
    "multipart/form-data; boundary=x",
)
CT_ODD = (
    "text/turtle; charset=utf-8",
    'text/turtle;charset="UTF-8"',
    "TEXT/Turtle",
    "text/turtle ;",
    "text/turtle;;",
    "text/turtle; q=0.5; foo",
    "text/turtle; charset=",
    'text/turtle; a="unterminated',
    "text/",
    "/turtle",
    "text",
    "*/*",
    "text/*",
    'application/ld+json; profile="http://www.w3.org/ns/json-ld#expanded"',
    ";",
    "",
    "text/turtle, application/ld+json",
)
content_types = st.one_of(
    st.sampled_from(RDF_TYPES + PATCH_TYPES + OTHER_TYPES), st.sampled_from(CT_ODD), _header_text
)

_TYPE_LINKS = tuple(
    f'<{LDP}{t}>; rel="type"'
    for t in (
        "BasicContainer",
        "Container",
        "Resource",
        "RDFSource",
        "NonRDFSource",
        "DirectContainer",
        "IndirectContainer",
    )
)
links = st.one_of(
    st.sampled_from(_TYPE_LINKS),
    st.sampled_from(
        (
            f"<{LDP}BasicContainer>; rel=type",
            f"<{LDP}BasicContainer>",
            '<>; rel="type"',
            "<x",
            '; rel="type"',
            f'<{LDP}Resource>; rel="type", <{LDP}BasicContainer>; rel="type"',
            '<http://example.org/acl>; rel="acl"',
            f'<{LDP}BasicContainer>; rel="type"; rel="type"',
            f'<{LDP}BasicContainer>; rel="TYPE"',
        )
    ),
    _header_text,
)
slugs = st.one_of(
    st.sampled_from(KNOWN + AUX + TRICKY + ("a/b", "../x", "/", "", "x/")), _header_text, _LONG
)
etags = st.one_of(
    st.sampled_from(
        (
            CURRENT_ETAG,
            "*",
            '"x"',
            'W/"x"',
            f'"x", {CURRENT_ETAG}',
            '"a", "b"',
            '*, "x"',
            '"',
            "W/",
            "x",
            "",
        )
    ),
    _header_text,
)
ranges = st.one_of(
    st.sampled_from(
        (
            "bytes=0-0",
            "bytes=0-",
            "bytes=-5",
            "bytes=0-1,3-4",
            "bytes=5-1",
            "bytes=99999-",
            "bytes=",
            "bytes=-0",
            "chars=0-1",
            "bytes=0-99999999999999999999999",
            "bytes=--1",
            "bytes=1-2,",
            "bytes = 0-1",
            "bytes=0-0,-1",
        )
    ),
    _header_text,
)
prefers = st.one_of(
    st.sampled_from(
        (
            f'return=representation; include="{LDP}PreferContainment"',
            f'return=representation; omit="{LDP}PreferContainment"',
            "return=representation; page-size=2",
            "return=representation; max-page-size=0",
            "return=representation; page-size=99999999999999999999",
            "return=minimal",
            "respond-async, wait=1",
            'return=representation; page-size="',
            "return=representation; page-size=-1",
        )
    ),
    _header_text,
)
accepts = st.one_of(
    st.sampled_from((*RDF_TYPES, "*/*", "text/*", "text/html", "application/json", "image/png")),
    st.sampled_from(
        (
            "text/turtle;q=0",
            "text/turtle;q=abc",
            "*/*;q=0",
            "application/ld+json;q=0.9, text/turtle;q=0.1",
            'application/ld+json; profile="http://www.w3.org/ns/json-ld#compacted"',
            ",,,",
            "text/turtle;q=1.0001",
        )
    ),
    _header_text,
)
dates = st.sampled_from(
    (
        "Mon, 01 Jan 2001 00:00:00 GMT",
        "Fri, 01 Jan 2100 00:00:00 GMT",
        "garbage",
        "",
        "Sun, 06 Nov 1994 08:49:37 GMT x",
    )
)
auths = st.sampled_from(
    ("Bearer x", "DPoP x", "DPoP", "Basic Zm9vOmJhcg==", "Bearer " + "a." * 40, "x")
)

# Each header is present or not; some may repeat (Link, Prefer).
optional_headers: dict[str, st.SearchStrategy[str]] = {
    "Content-Type": content_types,
    "Link": links,
    "Slug": slugs,
    "If-Match": etags,
    "If-None-Match": etags,
    "If-Modified-Since": dates,
    "If-Unmodified-Since": dates,
    "If-Range": etags,
    "Range": ranges,
    "Prefer": prefers,
    "Accept": accepts,
    "Authorization": auths,
    "Origin": st.sampled_from(("https://app.example", "null", "x")),
}


REPEATABLE = ("Link", "Prefer", "If-Match", "Accept")


@st.composite
def header_lists(draw: st.DrawFn) -> tuple[tuple[str, str], ...]:
    chosen = draw(st.lists(st.sampled_from(sorted(optional_headers)), max_size=5, unique=True))
    if draw(one_in(8)):  # a header that may be given twice, given twice
        chosen.append(draw(st.sampled_from(REPEATABLE)))
    return tuple((name, draw(optional_headers[name])) for name in chosen)


# --- bodies ------------------------------------------------------------------------------

VALID_BODIES: dict[str, tuple[str, ...]] = {
    "text/turtle": (
        "<#a> <#b> <#c>.",
        '@prefix ex: <http://example.org/>. ex:s ex:p "x"@en, 1, 2.5, true; ex:q [ ex:r ( 1 2 ) ].',
        "",
    ),
    "text/n3": ("<#a> <#b> <#c>.", "@prefix : <#>. { :a :b :c } => { :a :d :e }."),
    "application/n-triples": ('<http://a.example/s> <http://a.example/p> "o" .\n',),
    "application/n-quads": (
        '<http://a.example/s> <http://a.example/p> "o" <http://a.example/g> .\n',
    ),
    "application/ld+json": (
        '{"@id": "#a", "http://example.org/p": "x"}',
        '{"@context": {"ex": "http://example.org/"}, "@graph": [{"@id": "ex:a", "ex:p": {"@id": "ex:b"}}]}',
    ),
    "application/rdf+xml": (
        '<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
        ' xmlns:ex="http://example.org/"><rdf:Description rdf:about="#a"><ex:p>x</ex:p>'
        "</rdf:Description></rdf:RDF>",
    ),
    "application/sparql-update": (
        "INSERT DATA { <#a> <#b> <#c> . }",
        "DELETE DATA { <#a> <#b> <#c> . }",
        "PREFIX ex: <http://example.org/> DELETE { ?s ex:p ?o } INSERT { ?s ex:p 1 } WHERE { ?s ex:p ?o }",
        "INSERT DATA { <#a> <#b> 1 . }; DELETE WHERE { <#a> <#b> ?x }",
    ),
    "text/n3+patch": (
        "@prefix solid: <http://www.w3.org/ns/solid/terms#>. _:p a solid:InsertDeletePatch;"
        " solid:inserts { <#a> <#b> <#c>. }.",
        "@prefix solid: <http://www.w3.org/ns/solid/terms#>. _:p a solid:InsertDeletePatch;"
        " solid:where { ?s <#b> ?o. }; solid:deletes { ?s <#b> ?o. }.",
    ),
}
_GARBAGE = (
    "{",
    "}",
    "<",
    ">",
    ".",
    ";",
    "@prefix",
    '"',
    "'''",
    "[",
    "(",
    "\\u0000",
    "\x00",
    "ä",
    "?x",
    "_:",
    "]]>",
    "<!--",
)


@st.composite
def malformed(draw: st.DrawFn, text: str) -> str:
    """``text`` cut short, or with a syntax character spliced in."""
    if draw(st.booleans()):
        return text[: draw(st.integers(0, max(0, len(text) - 1)))]
    at = draw(st.integers(0, len(text)))
    return text[:at] + draw(st.sampled_from(_GARBAGE)) + text[at:]


def nested(kind: str, depth: int) -> str:
    """A syntactically valid body nested ``depth`` levels deep."""
    if kind == "text/turtle":
        return "<#a> <#b> " + "[ <#p> " * depth + "1" + " ]" * depth + "."
    if kind == "application/ld+json":
        return (
            '{"@id": "#a", "http://example.org/p": '
            + '{"http://example.org/p": ' * depth
            + "1"
            + "}" * depth
            + "}"
        )
    if kind == "application/rdf+xml":
        head = '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://example.org/">'
        inner = '<ex:p rdf:parseType="Resource">' * depth + "</ex:p>" * depth
        return head + f'<rdf:Description rdf:about="#a">{inner}</rdf:Description></rdf:RDF>'
    if kind == "application/sparql-update":
        return "INSERT { <#a> <#b> 1 } WHERE " + "{ " * depth + "}" * depth
    if kind == "text/n3+patch":
        return (
            "@prefix solid: <http://www.w3.org/ns/solid/terms#>. _:p a solid:InsertDeletePatch;"
            " solid:inserts { <#a> <#b> " + "[ <#p> " * depth + "1" + " ]" * depth + " }."
        )
    return "<#a> <#b> " + "( " * depth + ")" * depth + "."  # text/n3: nested lists


NESTABLE = (
    "text/turtle",
    "application/ld+json",
    "application/rdf+xml",
    "application/sparql-update",
    "text/n3",
    "text/n3+patch",
)


@st.composite
def bodies(draw: st.DrawFn, patch: bool = False) -> tuple[str | None, bytes | None]:
    """A body and the Content-Type that names it (None: send none of that header);
    ``patch``: mostly a patch document."""
    kind = draw(st.sampled_from(("valid", "malformed", "nested", "binary", "empty", "none")))
    if kind == "none":
        return None, None
    if kind == "binary":
        return draw(st.sampled_from(OTHER_TYPES + RDF_TYPES)), draw(st.binary(max_size=2048))
    if kind == "empty":
        return draw(st.sampled_from(RDF_TYPES + PATCH_TYPES + OTHER_TYPES)), b""
    if kind == "nested":
        media = draw(st.sampled_from(NESTABLE))
        depth = draw(st.sampled_from((2, 50, 2000)))
        if media == "application/rdf+xml":  # 2,000 levels take rdflib ~2 s: keep examples fast
            depth = min(depth, 300)
        return media.removesuffix("+patch"), nested(media, depth).encode()
    media = draw(st.sampled_from(sorted(VALID_BODIES)))
    if patch and not draw(one_in(4)):
        media = draw(st.sampled_from(("application/sparql-update", "text/n3+patch")))
    text = draw(st.sampled_from(VALID_BODIES[media]))
    if kind == "malformed":
        text = draw(malformed(text))
    return media.removesuffix("+patch"), text.encode("utf-8", "surrogatepass")


@st.composite
def requests(draw: st.DrawFn) -> Request:
    method = draw(st.sampled_from(ODD_METHODS if draw(one_in(10)) else METHODS + WRITE_METHODS))
    path = draw(paths())
    headers = list(draw(header_lists()))
    body = None
    if method.upper() in WRITES or draw(one_in(10)):  # bodies on GET etc. too, rarely
        media, body = draw(bodies(patch=method == "PATCH"))
        if media is not None and not any(k == "Content-Type" for k, _ in headers):
            headers.append(("Content-Type", media))
    chunked = body is not None and draw(one_in(5))
    return Request(method, path, tuple(headers), body, chunked)
