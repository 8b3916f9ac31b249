"""The request machinery every part of the client shares: authentication, DPoP nonces,
redirects, errors with guidance, and the ETags of what was read."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from client.auth import Session
from client.errors import PodClientError, error_for_status
from client.transport import AiohttpTransport, Body, Request, Response, Transport

LDP = "http://www.w3.org/ns/ldp#"
PIM_STORAGE = "http://www.w3.org/ns/pim/space#Storage"
REDIRECTS = (301, 302, 303, 307, 308)
MAX_REDIRECTS = 5
MESSAGE_LIMIT = 2000
_LINK = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]+)*)")
_PARAM = re.compile(r';\s*([^=;\s]+)\s*=\s*(?:"([^"]*)"|([^;,\s]+))')


class _Auto:
    """``if_match`` default: the ETag this client last saw for the URL, if any."""

    def __repr__(self) -> str:
        return "AUTO"


AUTO: Any = _Auto()


def parse_links(values: list[str], base: str) -> dict[str, list[str]]:
    """``Link`` headers (RFC 8288) as ``{rel: [absolute target, ...]}``."""
    links: dict[str, list[str]] = {}
    for value in values:
        for match in _LINK.finditer(value):
            target = urljoin(base, match.group(1).strip())
            for name, quoted, bare in _PARAM.findall(match.group(2)):
                if name.lower() != "rel":
                    continue
                for rel in (quoted or bare).split():
                    links.setdefault(rel, []).append(target)
    return links


def parse_wac_allow(value: str | None) -> dict[str, set[str]]:
    """``WAC-Allow: user="read write", public="read"`` as ``{"user": {...}, ...}``."""
    result: dict[str, set[str]] = {}
    for group, modes in re.findall(r'(\w+)\s*=\s*"([^"]*)"', value or ""):
        result[group.lower()] = set(modes.split())
    return result


def media_type(value: str | None) -> str:
    return (value or "").split(";")[0].strip().lower()


@dataclass
class Resource:
    """What a request answered: status, headers, body, and what Solid puts in them."""

    url: str
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes = b""
    links: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, url: str, response: Response, body: bytes = b"") -> Resource:
        links = parse_links(response.headers.getall("Link", []), url)
        return cls(url, response.status, response.headers, body, links)

    @property
    def content_type(self) -> str:
        return media_type(self.headers.get("Content-Type"))

    @property
    def etag(self) -> str | None:
        return self.headers.get("ETag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("Last-Modified")

    @property
    def location(self) -> str | None:
        loc = self.headers.get("Location")
        return urljoin(self.url, loc) if loc else None

    @property
    def types(self) -> list[str]:
        return self.links.get("type", [])

    @property
    def is_container(self) -> bool:
        return self.url.endswith("/") or f"{LDP}Container" in self.types

    @property
    def is_storage(self) -> bool:
        return PIM_STORAGE in self.types

    @property
    def acl_url(self) -> str | None:
        return next(iter(self.links.get("acl", [])), None)

    @property
    def describedby(self) -> str | None:
        return next(iter(self.links.get("describedby", [])), None)

    @property
    def size(self) -> int | None:
        value = self.headers.get("Content-Length")
        return int(value) if value and value.isdigit() else None

    @property
    def wac_allow(self) -> dict[str, set[str]]:
        return parse_wac_allow(self.headers.get("WAC-Allow"))

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def origin(url: str) -> tuple[str, str]:
    """The scheme and authority of ``url``, compared case-insensitively: who speaks for it."""
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def normalize_url(url: str) -> str:
    """An absolute http(s) URL, percent-encoded as it will be sent, without fragment."""
    url = urldefrag(str(url))[0]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise PodClientError(f"{url!r} is not an absolute http(s) URL", url=url)
    return str(URL(url))


def mode_needed(method: str, url: str) -> str:
    """The WAC mode a request most likely needed, for guidance on 401/403."""
    if url.endswith(".acl"):
        return "Control"
    return {"GET": "Read", "HEAD": "Read", "POST": "Append"}.get(method.upper(), "Write")


async def server_message(response: Response) -> str:
    """The server's explanation of an error: text, or an OAuth/JSON description."""
    raw = b""
    async for chunk in response.iter_bytes():
        raw += chunk
        if len(raw) > MESSAGE_LIMIT * 4:
            break
    await response.aclose()
    text = raw.decode("utf-8", errors="replace").strip()
    ctype = media_type(response.headers.get("Content-Type"))
    if "json" in ctype:
        try:
            doc = json.loads(text)
        except ValueError:
            doc = None
        if isinstance(doc, dict):
            for key in ("error_description", "message", "error", "title"):
                if isinstance(doc.get(key), str):
                    return str(doc[key])[:MESSAGE_LIMIT]
    if "html" in ctype:
        text = re.sub(r"<[^>]+>", " ", text)
        text = re.sub(r"\s+", " ", text).strip()
    return text[:MESSAGE_LIMIT]


class PodCore:
    """Holds the transport, the session and the ETags of resources read."""

    def __init__(self, session: Session | None = None, *, transport: Transport | None = None):
        self.session = session
        self.transport: Transport = transport or AiohttpTransport()
        self._etags: dict[str, str] = {}

    async def aclose(self) -> None:
        await self.transport.aclose()

    async def __aenter__(self) -> Any:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @property
    def webid(self) -> str | None:
        """Who this client acts as (None when anonymous)."""
        return self.session.webid if self.session else None

    def known_etag(self, url: str) -> str | None:
        return self._etags.get(normalize_url(url))

    def _remember(self, url: str, response: Response) -> None:
        etag = response.headers.get("ETag")
        if etag:
            self._etags[url] = etag

    def _forget(self, url: str) -> None:
        self._etags.pop(url, None)

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: Body = None,
        ok: tuple[int, ...] = (),
    ) -> Response:
        """Send one request as this session; follow redirects of GET/HEAD, answer DPoP
        nonce challenges, renew a token the server no longer takes (once), and raise the
        matching :class:`PodClientError` for any error status not listed in ``ok``.

        The response body is not read: read it, stream it, or ``aclose()`` it.
        """
        method = method.upper()
        url = normalize_url(url)
        replayable = body is None or isinstance(body, bytes)
        renewed = nonce_retried = False
        for _hop in range(MAX_REDIRECTS + 1):
            sent: CIMultiDict[str] = CIMultiDict(headers or {})
            if self.session is not None:
                sent.update(await self.session.headers_for(method, url, self.transport))
            response = await self.transport.send(Request(method, url, sent, body))
            if response.status in REDIRECTS and method in ("GET", "HEAD"):
                location = response.headers.get("Location")
                await response.aclose()
                if location:
                    url = normalize_url(urljoin(url, location))
                    continue
            if response.status in (400, 401) and self.session is not None and replayable:
                challenge = response.headers.get("WWW-Authenticate", "")
                if (
                    not nonce_retried
                    and "use_dpop_nonce" in challenge + response.headers.get("DPoP-Nonce", "")
                    and self.session.remember_nonce(url, response)
                ):
                    nonce_retried = True
                    await response.aclose()
                    continue
                if response.status == 401 and not renewed and "invalid_token" in challenge:
                    renewed = True
                    await response.aclose()
                    await self.session.renew(self.transport, force=True)
                    continue
            if response.status >= 400 and response.status not in ok:
                raise await self._error(method, url, response)
            return response
        raise PodClientError("too many redirects", url=url, method=method)

    async def _error(self, method: str, url: str, response: Response) -> PodClientError:
        message = await server_message(response)
        hint = None
        mode = mode_needed(method, url)
        if response.status == 401:
            if self.session is None:
                hint = f"You are not signed in; this resource needs {mode} access. " + (
                    "Sign in first (pod login)."
                )
            else:
                found = re.search(
                    r'error_description="([^"]*)"', response.headers.get("WWW-Authenticate", "")
                )
                why = f" ({found.group(1)})" if found else ""
                hint = (
                    f"The server did not accept the session of {self.webid or 'this client'}"
                    f"{why}; this resource needs {mode} access. Sign in again (pod login), "
                    f"or check that the server trusts the issuer {self.session.issuer}."
                )
        elif response.status == 403:
            who = self.webid or "this client"
            hint = (
                f"You are signed in as {who}; this resource needs {mode} access, which "
                "you do not have. Ask whoever controls it to grant it "
                f"(pod acl grant URL --agent {who} --modes {mode.lower()})."
            )
        elif response.status == 412:
            hint = (
                "Someone changed the resource since you read it: read it again, apply your "
                "change to the new version, and save again."
            )
        elif response.status == 409 and method == "PATCH":
            hint = (
                "The resource no longer holds what the patch expected (it changed since "
                "you read it?): read it again and retry."
            )
        return error_for_status(response.status, url, method, message, hint)


__all__ = [
    "AUTO",
    "PodCore",
    "Resource",
    "media_type",
    "mode_needed",
    "normalize_url",
    "parse_links",
    "parse_wac_allow",
]
