"""A thin HTTP layer: every request returns a fully read ``Reply``, so checks stay short."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

# One Link value: <target>; param=value; param="quoted". Commas inside <> or quotes don't split.
_LINK_VALUE = re.compile(r'\s*<([^>]*)>\s*((?:;\s*[^;,=\s]+\s*(?:=\s*(?:"[^"]*"|[^;,]*))?\s*)*)')
_LINK_PARAM = re.compile(r';\s*([^;,=\s]+)\s*(?:=\s*("[^"]*"|[^;,]*))?')


@dataclass(frozen=True)
class Link:
    target: str  # absolute, resolved against the request URL
    rel: str
    params: dict[str, str] = field(default_factory=dict)


def parse_links(values: list[str], base: str) -> list[Link]:
    """RFC 8288 Link header values into links, one per ``rel`` token."""
    links: list[Link] = []
    for value in values:
        pos = 0
        while pos < len(value):
            match = _LINK_VALUE.match(value, pos)
            if not match:
                break
            params = {
                name.lower(): raw.strip().strip('"') if raw else ""
                for name, raw in _LINK_PARAM.findall(match.group(2))
            }
            target = urljoin(base, match.group(1).strip())
            for rel in params.get("rel", "").split():
                links.append(Link(target, rel, params))
            pos = match.end()
            while pos < len(value) and value[pos] in " ,":
                pos += 1
    return links


def split_tokens(values: list[str]) -> list[str]:
    """Comma-separated header values (Allow, Vary, Accept-Patch, ...) as trimmed tokens."""
    return [token.strip() for value in values for token in value.split(",") if token.strip()]


def without_query(url: str) -> str:
    """The URL as DPoP ``htu`` compares it: no query, no fragment (RFC 9449 section 4.3)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


@dataclass
class Reply:
    method: str
    url: str
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def all(self, name: str) -> list[str]:
        return self.headers.getall(name, [])

    def tokens(self, name: str) -> list[str]:
        return split_tokens(self.all(name))

    def links(self, rel: str | None = None) -> list[Link]:
        found = parse_links(self.all("Link"), self.url)
        return [link for link in found if rel is None or link.rel == rel]

    def link(self, rel: str) -> str | None:
        found = self.links(rel)
        return found[0].target if found else None

    @property
    def media_type(self) -> str:
        return (self.header("Content-Type") or "").split(";")[0].strip().lower()

    def location(self) -> str | None:
        value = self.header("Location")
        return urljoin(self.url, value) if value else None

    def describe(self) -> str:
        """A one-line summary for failure messages."""
        snippet = self.text[:160].replace("\n", " ")
        return f"{self.method} {self.url} -> {self.status}" + (f" ({snippet})" if snippet else "")


async def send(
    http: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    body: str | bytes | None = None,
    headers: dict[str, str] | CIMultiDict[str] | None = None,
    timeout: float = 30.0,
) -> Reply:
    """Send one request exactly as given (no redirects followed, URL not re-encoded)."""
    data = body.encode() if isinstance(body, str) else body
    kwargs: dict[str, Any] = {
        "data": data,
        "headers": headers or {},
        "allow_redirects": False,
        "timeout": aiohttp.ClientTimeout(total=timeout),
        # aiohttp would label any body application/octet-stream: checks set Content-Type
        # themselves, and some deliberately send none.
        "skip_auto_headers": {"Content-Type"},
    }
    async with http.request(method, URL(url, encoded=True), **kwargs) as response:
        payload = await response.read()
        return Reply(method, url, response.status, response.headers, payload)
