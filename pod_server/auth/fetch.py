"""Outbound GETs for authentication: issuer discovery, JWKS and WebID profiles.

A ``Fetcher`` is any async callable ``(url, accept) -> Fetched``; unit tests pass a
fake, the server uses ``AiohttpFetcher``. ``GuardedFetcher`` wraps either with the
limits hostile input must not get around: a timeout, a size cap and a concurrency
cap, and turns every transport failure into ``FetchError``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol

import aiohttp

USER_AGENT = "solid-pods-auth/0.1"
MAX_REDIRECTS = 5


class FetchError(Exception):
    """A document could not be fetched; the message names no credentials.

    ``transient``: the failure says nothing about the document (a timeout, a refused or
    dropped connection, a 5xx or 429 answer), so asking again soon may well succeed.
    """

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True, slots=True)
class Fetched:
    url: str  # after redirects: the base URI for relative references (RFC 3986 §5.1.3)
    content_type: str  # media type only, lower-case, without parameters
    body: bytes


class Fetcher(Protocol):
    """Fetch ``url``; raise FetchError (or OSError / TimeoutError) when that fails.

    Only a 200 response counts; ``AiohttpFetcher`` follows up to 5 redirects and
    reports every failure, timeouts included, as FetchError.
    """

    async def __call__(self, url: str, accept: str) -> Fetched: ...


class AiohttpFetcher:
    """The default Fetcher: one lazily created aiohttp session, bounded reads."""

    def __init__(self, timeout: float, max_bytes: int) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_bytes = max_bytes
        self._session: aiohttp.ClientSession | None = None

    async def __call__(self, url: str, accept: str) -> Fetched:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=self._timeout, headers={"User-Agent": USER_AGENT}
            )
        headers = {"Accept": accept}
        try:
            async with self._session.get(
                url, headers=headers, max_redirects=MAX_REDIRECTS
            ) as response:
                if response.status != 200:
                    busy = response.status >= 500 or response.status == 429
                    raise FetchError(f"GET answered {response.status}", transient=busy)
                body = await self._read(response)
                return Fetched(str(response.url), response.content_type.lower(), body)
        except TimeoutError as exc:  # ClientTimeout: so direct callers see FetchError too
            raise FetchError("GET timed out", transient=True) from exc
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, OSError) as exc:
            raise FetchError(f"GET failed: {type(exc).__name__}", transient=True) from exc
        except (aiohttp.ClientError, ValueError) as exc:  # ValueError: yarl / IDNA
            raise FetchError(f"GET failed: {type(exc).__name__}") from exc

    async def _read(self, response: aiohttp.ClientResponse) -> bytes:
        """Stop reading as soon as the document exceeds the cap (no declared-length trust)."""
        if (response.content_length or 0) > self._max_bytes:
            raise FetchError("document too large")
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(65_536):
            size += len(chunk)
            if size > self._max_bytes:
                raise FetchError("document too large")
            chunks.append(chunk)
        return b"".join(chunks)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class GuardedFetcher:
    """Applies timeout, size and concurrency limits around any Fetcher."""

    def __init__(self, fetch: Fetcher, timeout: float, max_bytes: int, concurrency: int) -> None:
        self._fetch = fetch
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._slots = asyncio.Semaphore(concurrency)

    async def get(self, url: str, accept: str) -> Fetched:
        try:
            async with self._slots, asyncio.timeout(self._timeout):
                fetched = await self._fetch(url, accept)
        except TimeoutError as exc:
            raise FetchError("GET timed out", transient=True) from exc
        except OSError as exc:
            raise FetchError(f"GET failed: {type(exc).__name__}", transient=True) from exc
        if len(fetched.body) > self._max_bytes:
            raise FetchError("document too large")
        return fetched
