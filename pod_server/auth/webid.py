"""WebID profiles: which OpenID issuers a WebID trusts (Solid-OIDC §5.3), cached."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from urllib.parse import urldefrag

from rdflib import URIRef

from pod_server.auth.agent import InvalidCredentials
from pod_server.auth.cache import SingleFlight, TtlCache
from pod_server.auth.config import AuthConfig
from pod_server.auth.fetch import FetchError, GuardedFetcher
from pod_server.errors import BadRequest, UnsupportedMediaType
from pod_server.ldp import rdf
from pod_server.ldp.media_types import TURTLE
from pod_server.ldp.vocabulary import SOLID

SOLID_OIDC_ISSUER = SOLID.oidcIssuer


class WebIdProfiles:
    """The solid:oidcIssuer values of WebIDs, fetched through a GuardedFetcher."""

    def __init__(
        self, fetch: GuardedFetcher, config: AuthConfig, clock: Callable[[], float]
    ) -> None:
        self._fetch = fetch
        self._config = config
        self._clock = clock
        self._issuers: TtlCache[str, frozenset[str]] = TtlCache(config.max_cached_documents, clock)
        self._failures: TtlCache[str, str] = TtlCache(config.max_cached_documents, clock)
        # Last known issuers, kept a cache_ttl longer: served while the profile's server is
        # overloaded or down, so a busy pod does not turn its own owners away.
        self._known: TtlCache[str, frozenset[str]] = TtlCache(config.max_cached_documents, clock)
        self._flight: SingleFlight[str, frozenset[str]] = SingleFlight()

    async def issuers(self, webid: str) -> frozenset[str]:
        """The issuers the profile of ``webid`` names; raises InvalidCredentials."""
        cached = self._issuers.get(webid)
        if cached is not None:
            return cached
        if self._failures.get(webid) is not None:
            raise InvalidCredentials("WebID profile could not be read recently")
        return await self._flight.run(webid, lambda: self._load(webid))

    async def _load(self, webid: str) -> frozenset[str]:
        document_url = urldefrag(webid).url
        try:
            # Solid WebID Profile §3: profiles are available as Turtle, so that is what we
            # ask for; a server answering in another RDF syntax is still understood (ldp.rdf
            # parses it without network access, JSON-LD contexts included).
            fetched = await self._fetch.get(document_url, TURTLE)
        except FetchError as exc:
            if not exc.transient:
                raise self._failed(webid, f"WebID profile could not be fetched ({exc})") from exc
            known = self._known.get(webid)
            retry_at = self._clock() + self._config.transient_retry
            if known is not None:
                self._issuers.put(webid, known, retry_at)
                return known
            self._failures.put(webid, "WebID profile could not be fetched", retry_at)
            raise InvalidCredentials(f"WebID profile could not be fetched ({exc})") from exc
        media_type = fetched.content_type or TURTLE
        # Parsing a large profile takes a while; keep the event loop serving meanwhile.
        try:
            issuers = await asyncio.to_thread(
                _issuers_in, fetched.body, media_type, fetched.url, webid
            )
        except (BadRequest, UnsupportedMediaType) as exc:
            raise self._failed(webid, "WebID profile is not readable RDF") from exc
        now = self._clock()
        self._issuers.put(webid, issuers, now + self._config.cache_ttl)
        self._known.put(webid, issuers, now + 2 * self._config.cache_ttl)
        return issuers

    def _failed(self, webid: str, reason: str) -> InvalidCredentials:
        self._failures.put(webid, reason, self._clock() + self._config.refresh_interval)
        return InvalidCredentials(reason)

    async def close(self) -> None:
        await self._flight.cancel_all()


def _issuers_in(body: bytes, media_type: str, base: str, webid: str) -> frozenset[str]:
    """``<webid> solid:oidcIssuer ?issuer`` objects of a profile document."""
    graph = rdf.parse(body, media_type, base)
    return frozenset(
        str(obj)
        for obj in graph.objects(URIRef(webid), SOLID_OIDC_ISSUER)
        if isinstance(obj, URIRef)
    )
