"""Finding a person's data of one kind and reading it, document by document, with what was
computed from each document cached in the app's own folder.

Where: the type index first (a ``solid:instanceContainer`` for the class, inside the
person's storage), else the folder the app declared in its needs (the page says so).

The cache (``<own folder><name>.json``) keeps, per document, what ``extract`` made of it
(plain JSON) under a stamp taken from the container listing (modification time and
size). A second visit reads the listing and the cache, and only documents changed since.
It is written with ``If-Match`` on the ETag read (or ``If-None-Match: *``): two tabs
never overwrite each other's cache blindly; the loser simply does not save.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rdflib import Graph

from client import Forbidden, NotFound, PodClient, PodClientError, Unauthorized
from client.containers import Entry
from client.discovery import TypeRegistration

CONCURRENCY = 8  # documents read at once (paged reads: one document per account/meter and month)
MAX_DEPTH = 3
PREFETCH_MIN = 4  # documents missing from the cache before one query is worth it
Extract = Callable[[Graph], dict[str, Any]]
# Many documents at once (say by one SPARQL query): url -> what extract would make of it.
Prefetch = Callable[[list[str]], Awaitable[dict[str, dict[str, Any]]]]


class NoAccess(Exception):
    """The app may not read the person's data (or does not know where it is)."""


@dataclass(frozen=True)
class Place:
    storage: str
    data: str  # the container of the person's data of this kind
    via_type_index: bool
    own: str  # the app's own container


@dataclass
class Read:
    documents: dict[str, dict[str, Any]]  # url -> what extract made of it, in listing order
    count: int  # documents listed
    from_cache: int = 0
    prefetched: int = 0  # documents answered by the prefetch (one query)
    refused: list[str] = field(default_factory=list)  # documents the app may not read
    seconds: float = 0.0
    cache_saved: bool = False


@dataclass
class Progress:
    """How far a read has gone, for a page that refreshes itself while it waits."""

    total: int = 0  # documents listed (0: still listing)
    done: int = 0


def choose_container(
    registrations: Sequence[TypeRegistration], storage: str, fallback_path: str
) -> tuple[str, bool]:
    """The first registered container inside ``storage``; else the declared fallback.
    (url, found through the type index)."""
    for reg in registrations:
        for url in reg.containers:
            if url.startswith(storage):
                return url, True
    return storage + fallback_path, False


async def locate(
    pod: PodClient, webid: str, for_class: str, data_path: str, own_path: str
) -> Place:
    storages = await pod.storages(webid)
    if not storages:
        raise NoAccess("Your profile names no storage (pim:storage): there is no data to find.")
    storage = storages[0] if storages[0].endswith("/") else storages[0] + "/"
    try:
        regs = await pod.type_registrations(webid, for_class)
    except (Forbidden, Unauthorized, NotFound):
        regs = []
    data, via_index = choose_container(regs, storage, data_path)
    return Place(storage, data, via_index, storage + own_path)


def stamp_of(entry: Entry) -> str | None:
    """What says a document changed, from the listing alone; None: cannot tell."""
    if entry.modified is None:
        return None
    return f"{entry.modified.isoformat()}|{entry.size}"


async def list_documents(pod: PodClient, container: str, what: str, depth: int = 0) -> list[Entry]:
    """The documents in ``container`` and below; NoAccess when the container itself
    cannot be read (``what`` names the data in the message)."""
    try:
        members = await pod.list(container)
    except Forbidden as exc:
        if depth == 0:
            raise NoAccess(
                f"This app may not read your {what} at {container}. "
                f"Sign out, then sign in again and allow it “Your {what}”."
            ) from exc
        return []
    except NotFound:
        if depth == 0:
            raise NoAccess(f"There is no {what} at {container} yet.") from None
        return []
    found = [m for m in members if not m.is_container]
    if depth < MAX_DEPTH:
        for sub in (m for m in members if m.is_container):
            found += await list_documents(pod, sub.url, what, depth + 1)
    return found


async def _read_cache(pod: PodClient, url: str, version: int) -> tuple[dict[str, Any], str | None]:
    try:
        res = await pod.get(url, accept="application/json")
        data = json.loads(res.body)
    except (NotFound, Forbidden, Unauthorized, ValueError):
        return {}, None
    if not isinstance(data, dict) or data.get("version") != version:
        return {}, res.etag
    docs = data.get("documents")
    return (docs if isinstance(docs, dict) else {}), res.etag


async def _write_cache(
    pod: PodClient, url: str, version: int, docs: dict[str, Any], etag: str | None
) -> bool:
    body = json.dumps({"version": version, "documents": docs}, separators=(",", ":"))
    try:
        if etag is None:
            await pod.put(url, body, "application/json", create_only=True)
        else:
            await pod.put(url, body, "application/json", if_match=etag)
    except PodClientError:
        return False  # a concurrent visit saved first, or the app's folder is not writable
    return True


async def read_cached(
    pod: PodClient,
    place: Place,
    what: str,
    cache: str,
    version: int,
    extract: Extract,
    prefetch: Prefetch | None = None,
    progress: Progress | None = None,
) -> Read:
    """Every document of ``place.data`` through ``extract``, from the cache when unchanged;
    when many are not, ``prefetch`` first (one query), then document by document for
    what it did not answer."""
    started = time.monotonic()
    entries = await list_documents(pod, place.data, what)
    progress = progress or Progress()
    progress.total = len(entries)
    cache_url = place.own + cache
    cached, etag = await _read_cache(pod, cache_url, version)
    fresh: dict[str, dict[str, Any]] = {}
    result = Read({}, len(entries))
    gate = asyncio.Semaphore(CONCURRENCY)
    missing = []
    for entry in entries:
        stamp, hit = stamp_of(entry), cached.get(entry.url)
        if stamp is not None and isinstance(hit, dict) and hit.get("stamp") == stamp:
            fresh[entry.url] = hit
            result.from_cache += 1
            progress.done += 1
        else:
            missing.append(entry)
    if prefetch is not None and len(missing) >= PREFETCH_MIN:
        # Listed before asking: a document changed since has a newer stamp next time.
        try:
            got = await prefetch([e.url for e in missing])
        except PodClientError:
            got = {}  # no endpoint, too much work for it, refused: read the documents
        for entry in missing:
            if entry.url in got:
                fresh[entry.url] = {"stamp": stamp_of(entry), **got[entry.url]}
                result.prefetched += 1
        progress.done = result.from_cache + result.prefetched  # whatever it reported itself
        missing = [e for e in missing if e.url not in got]

    async def one(entry: Entry) -> None:
        stamp = stamp_of(entry)
        async with gate:
            try:
                graph = await pod.read_graph(entry.url)
            except (Forbidden, Unauthorized):
                result.refused.append(entry.url)
                return
            except (NotFound, PodClientError):
                return  # deleted meanwhile, or not RDF: not this kind of data
            finally:
                progress.done += 1
        fresh[entry.url] = {"stamp": stamp, **extract(graph)}

    await asyncio.gather(*(one(e) for e in missing))
    result.documents = {e.url: fresh[e.url] for e in entries if e.url in fresh}
    if fresh != cached:
        result.cache_saved = await _write_cache(pod, cache_url, version, fresh, etag)
    result.seconds = time.monotonic() - started
    return result
