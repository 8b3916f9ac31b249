"""The names WebID profiles on other servers give, for the owner's pages ("Bank X asks for
access"): fetched with the provider's guarded fetcher (timeout, size and concurrency
limits), a failure or a profile with no name is simply no name, and what was found (or
not) is kept for a while so that a page view costs at most one short wait.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web
from rdflib import Graph, URIRef
from rdflib.namespace import FOAF, SDO

from pod_server.auth.fetch import Fetched
from pod_server.ldp.media_types import JSON_LD, TURTLE
from pod_server.ldp.vocabulary import VCARD

NAME_TERMS = (FOAF.name, VCARD.fn, SDO.name)
ACCEPT = f"{TURTLE}, {JSON_LD};q=0.9"
TTL = 3600.0
WAIT = 3.0  # seconds a page waits for all the names it needs
MAX_NAME = 200
MAX_KNOWN = 1000
Get = Callable[[str, str], Awaitable[Fetched]]


def name_in(graph: Graph, webid: str) -> str | None:
    """The first name the profile gives its subject (foaf:name, vcard:fn, schema:name)."""
    for term in NAME_TERMS:
        value = graph.value(URIRef(webid), term)
        if value is not None and str(value).strip():
            return str(value).strip()[:MAX_NAME]
    return None


class RemoteNames:
    def __init__(self, get: Get, clock: Callable[[], float] = time.monotonic) -> None:
        self._get = get  # GuardedFetcher.get
        self._clock = clock
        self._known: dict[str, tuple[float, str | None]] = {}

    async def names(self, webids: Iterable[str]) -> dict[str, str]:
        wanted = sorted({w for w in webids if w.startswith(("https://", "http://"))})
        now = self._clock()
        missing = [w for w in wanted if w not in self._known or self._known[w][0] < now]
        if missing:
            tasks = [asyncio.ensure_future(self._one(w)) for w in missing]
            _, late = await asyncio.wait(tasks, timeout=WAIT)
            for task in late:
                task.cancel()
        return {w: name for w in wanted if (name := self._known.get(w, (0, None))[1])}

    async def _one(self, webid: str) -> None:
        name = None
        try:
            fetched = await self._get(webid.split("#", 1)[0], ACCEPT)
            graph = Graph().parse(
                data=fetched.body, format=_format(fetched.content_type), publicID=fetched.url
            )
            name = name_in(graph, webid)
        except Exception:  # unreachable, refused, not RDF (any parser's error): no name,
            name = None  # and the page shows the WebID
        if len(self._known) >= MAX_KNOWN:
            self._known.clear()  # a simple bound: names are cheap to find again
        self._known[webid] = (self._clock() + TTL, name)


def _format(content_type: str) -> str:
    return "json-ld" if "json" in content_type else "turtle"


REMOTE_NAMES: web.AppKey[RemoteNames] = web.AppKey("remote_names", RemoteNames)
