"""Remote vcard:Group documents named by ACLs, fetched with bounds and cached."""

from __future__ import annotations

import time
from collections.abc import Callable

from rdflib import Graph

from pod_server.auth.cache import TtlCache
from pod_server.auth.fetch import Fetcher, FetchError
from pod_server.errors import PodError
from pod_server.ldp import conneg, rdf
from pod_server.ldp.media_types import JSON_LD, N_TRIPLES, TURTLE

ACCEPT = f"{TURTLE}, {JSON_LD};q=0.9, {N_TRIPLES};q=0.8"


class RemoteGroups:
    """``await groups(url)``: the parsed group document, or None when it cannot be had.

    A group that cannot be fetched has no members (deny by default); the answer, good or
    bad, is cached for ``ttl`` seconds so that an ACL naming a slow host cannot make
    every request wait on it.
    """

    def __init__(
        self,
        fetch: Fetcher,
        ttl: float = 300.0,
        max_entries: int = 1000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._fetch = fetch
        self._ttl = ttl
        self._clock = clock
        # Values are 1-tuples so that a cached failure (None) differs from a miss.
        self._cache: TtlCache[str, tuple[Graph | None]] = TtlCache(max_entries, clock)

    async def __call__(self, url: str) -> Graph | None:
        hit = self._cache.get(url)
        if hit is not None:
            return hit[0]
        graph = await self._load(url)
        self._cache.put(url, (graph,), self._clock() + self._ttl)
        return graph

    async def _load(self, url: str) -> Graph | None:
        try:
            fetched = await self._fetch(url, ACCEPT)
        except FetchError:
            return None
        media, _ = conneg.parse_content_type(fetched.content_type)
        if not rdf.is_rdf(media):
            return None
        try:
            return rdf.parse(fetched.body, media, fetched.url)
        except PodError:
            return None
