"""Where the person's bank data is, and reading it: type index first, then the bank
container the app declared in its needs; results cached in the app's own container.

The cache (``cache.json`` in the app's container) keeps each bank document's
transactions under a stamp taken from the container listing (modification time and
size), so a second visit reads the listing and the cache, and only documents changed
since. It is written with ``If-Match`` on the ETag read (or ``If-None-Match: *``): two
tabs never overwrite each other's cache blindly; the loser simply does not save.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from apps.budget.records import (
    Balance,
    Tx,
    balances_of,
    overrides_graph,
    overrides_of,
    transactions_of,
)
from client import Forbidden, NotFound, PodClient, PodClientError, Unauthorized
from client.containers import Entry
from client.discovery import TypeRegistration
from vocab.namespaces import BANK

CACHE_VERSION = 1
CONCURRENCY = 8  # documents read at once (paged reads: one document per account and month)
MAX_DEPTH = 3


class NoAccess(Exception):
    """The app may not read the person's bank data (or does not know where it is)."""


@dataclass(frozen=True)
class Place:
    storage: str
    bank: str  # container of bank documents
    via_type_index: bool
    own: str  # the app's own container


@dataclass
class Loaded:
    transactions: list[Tx]
    documents: int
    from_cache: int  # documents whose transactions came from the cache
    skipped: int = 0  # transaction nodes without date or amount
    refused: list[str] = field(default_factory=list)  # documents the app may not read
    seconds: float = 0.0
    cache_saved: bool = False
    balances: list[Balance] = field(default_factory=list)  # as the bank stated them


def choose_bank_container(
    registrations: Sequence[TypeRegistration], storage: str, fallback_path: str
) -> tuple[str, bool]:
    """The first registered container for ``bank:Transaction`` inside ``storage``; else
    the declared fallback. (url, found through the type index)."""
    for reg in registrations:
        for url in reg.containers:
            if url.startswith(storage):
                return url, True
    return storage + fallback_path, False


async def locate(pod: PodClient, webid: str, bank_path: str, own_path: str) -> Place:
    storages = await pod.storages(webid)
    if not storages:
        raise NoAccess(
            "Your profile names no storage (pim:storage), so there is no bank data to find."
        )
    storage = storages[0] if storages[0].endswith("/") else storages[0] + "/"
    try:
        regs = await pod.type_registrations(webid, str(BANK.Transaction))
    except (Forbidden, Unauthorized, NotFound):
        regs = []
    bank, via_index = choose_bank_container(regs, storage, bank_path)
    return Place(storage, bank, via_index, storage + own_path)


def stamp_of(entry: Entry) -> str | None:
    """What says a document changed, from the listing alone; None: cannot tell."""
    if entry.modified is None:
        return None
    return f"{entry.modified.isoformat()}|{entry.size}"


async def _documents(pod: PodClient, container: str, depth: int = 0) -> list[Entry]:
    try:
        members = await pod.list(container)
    except (Forbidden, Unauthorized) as exc:
        if depth == 0:
            raise NoAccess(
                f"This app may not read your bank data at {container}. "
                "Sign in again and allow it “Your bank transactions”."
            ) from exc
        return []
    except NotFound:
        if depth == 0:
            raise NoAccess(f"There is no bank data at {container} yet.") from None
        return []
    found = [m for m in members if not m.is_container]
    if depth < MAX_DEPTH:
        for sub in (m for m in members if m.is_container):
            found += await _documents(pod, sub.url, depth + 1)
    return found


async def _read_cache(pod: PodClient, url: str) -> tuple[dict[str, Any], str | None]:
    try:
        res = await pod.get(url, accept="application/json")
        data = json.loads(res.body)
    except (NotFound, Forbidden, Unauthorized, ValueError):
        return {}, None
    if not isinstance(data, dict) or data.get("version") != CACHE_VERSION:
        return {}, res.etag
    docs = data.get("documents")
    return (docs if isinstance(docs, dict) else {}), res.etag


async def _write_cache(pod: PodClient, url: str, docs: dict[str, Any], etag: str | None) -> bool:
    body = json.dumps({"version": CACHE_VERSION, "documents": docs}, separators=(",", ":"))
    try:
        if etag is None:
            await pod.put(url, body, "application/json", create_only=True)
        else:
            await pod.put(url, body, "application/json", if_match=etag)
    except PodClientError:
        return False  # a concurrent visit saved first, or the app's folder is not writable
    return True


async def load(pod: PodClient, place: Place) -> Loaded:
    started = time.monotonic()
    entries = await _documents(pod, place.bank)
    cache_url = place.own + "cache.json"
    cached, etag = await _read_cache(pod, cache_url)
    fresh: dict[str, Any] = {}
    result = Loaded([], len(entries), 0)
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(entry: Entry) -> None:
        stamp = stamp_of(entry)
        hit = cached.get(entry.url)
        if stamp is not None and isinstance(hit, dict) and hit.get("stamp") == stamp:
            fresh[entry.url] = hit
            result.from_cache += 1
            return
        async with gate:
            try:
                graph = await pod.read_graph(entry.url)
            except (Forbidden, Unauthorized):
                result.refused.append(entry.url)
                return
            except (NotFound, PodClientError):
                return  # deleted meanwhile, or not RDF: not bank data
        txs, skipped = transactions_of(graph)
        result.skipped += skipped
        fresh[entry.url] = {
            "stamp": stamp,
            "txs": [t.to_json() for t in txs],
            "balances": [[b.account, b.day.isoformat(), str(b.amount)] for b in balances_of(graph)],
        }

    await asyncio.gather(*(one(e) for e in entries))
    for entry in entries:
        doc = fresh.get(entry.url)
        if doc is not None:
            result.transactions += [Tx.from_json(t) for t in doc["txs"]]
            result.balances += [
                Balance(a, date.fromisoformat(d), Decimal(v)) for a, d, v in doc["balances"]
            ]
    result.transactions.sort(key=lambda t: (t.booked, t.id))
    if fresh != cached:
        result.cache_saved = await _write_cache(pod, cache_url, fresh, etag)
    result.seconds = time.monotonic() - started
    return result


async def read_overrides(pod: PodClient, place: Place) -> dict[str, str]:
    try:
        return overrides_of(await pod.read_graph(place.own + "categories.ttl"))
    except (NotFound, Forbidden, Unauthorized):
        return {}


async def save_override(pod: PodClient, place: Place, tx: str, category: str) -> None:
    """Record the person's category for ``tx`` in the app's own document (a read, then a
    patch with ``If-Match`` on what was read: another tab's change is not lost)."""
    url = place.own + "categories.ttl"
    try:
        current = overrides_of(await pod.read_graph(url))
    except NotFound:
        current = {}
    current[tx] = category
    await pod.save_graph(url, overrides_graph(current))
