"""A per-process cache of resource metadata that stays exact across processes and hosts.

Every GET asks for a resource's and its ancestors' ACLs' metadata; asking the database
each time is most of a read's cost. A backend keeps the answers here (absent paths too:
most ACL candidates do not exist) and, before answering from them, brings the cache up to
date with the storage's change log:

- every ``apply`` records each path it changes in a log written in its own transaction
  (``changes`` in the SQLite index, ``outbox`` on PostgreSQL), so the log is exactly the
  committed history, in commit order, whoever wrote it;
- every ``meta``/``metas`` call first reads what the log gained since the cache's cursor
  (on SQLite behind ``PRAGMA data_version``, a few microseconds when nothing changed; on
  PostgreSQL one small query) and drops those paths.

So a read never answers from an entry older than a write committed (by any process)
before the read began: a missed invalidation is impossible, not just unlikely. When the
log cannot say what changed (it was pruned past the cursor, or the cursor is too old),
the whole cache is dropped.

Where a sync is a round trip (PostgreSQL), concurrent reads share one: a read joins the
next sync to *start* after it asked (``NextRun``), never one already under way, whose
snapshot may predate a write acknowledged just before the read began.

Within one HTTP request (``reads_since``, set as the request arrives) the reads may share
the last sync that *started* after the request arrived: they then see every write committed
(by any process) before the request arrived, as each read did with a sync of its own; the
process's own writes are dropped from the cache as they commit. Only for ``SHARE_WINDOW``
seconds: longer-lived work (a WebSocket, a task the request started) syncs per read again.

A lookup that awaits the database may race a sync that drops the paths it is reading:
``fill`` keeps the rows only when no invalidation happened since the lookup began
(``epoch``), so an answer read before a change can never be cached after it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar

from pod_server.storage.base import Meta

# Paths remembered (present or absent), and the characters of those paths at most: an
# entry costs ~200 bytes besides its path, and clients choose paths (up to 2 KB each).
DEFAULT_ENTRIES = 100_000
DEFAULT_CHARACTERS = 8_000_000


SHARE_WINDOW = 1.0  # seconds after its start a request's reads may share a sync

# time.monotonic() when the current request arrived (None: outside one; every read syncs).
reads_since: ContextVar[float | None] = ContextVar("reads_since", default=None)


def synced_for_this_request(synced: float) -> bool:
    """Whether a sync started at ``synced`` (time.monotonic()) serves the current read."""
    since = reads_since.get()
    return since is not None and synced >= since and time.monotonic() - since < SHARE_WINDOW


_GONE = object()


class MetaCache:
    """Path -> Meta (or None: known absent), dropped by ``invalidate``/``clear``."""

    def __init__(
        self, entries: int = DEFAULT_ENTRIES, characters: int = DEFAULT_CHARACTERS
    ) -> None:
        self.entries, self.characters = entries, characters
        self.epoch = 0  # bumped by every invalidation (see ``fill``)
        self._known: dict[str, Meta | None] = {}
        self._size = 0  # characters of the paths in _known

    def lookup(self, paths: Sequence[str]) -> tuple[dict[str, Meta], list[str]]:
        """The cached metadata of ``paths`` that exist, and the paths not cached."""
        found: dict[str, Meta] = {}
        missing: list[str] = []
        known = self._known
        for path in paths:
            try:
                meta = known[path]
            except KeyError:
                missing.append(path)
                continue
            if meta is not None:
                found[path] = meta
        return found, missing

    def fill(self, paths: Iterable[str], found: Mapping[str, Meta], epoch: int) -> None:
        """Remember what a lookup that began at ``epoch`` read for ``paths``."""
        if epoch != self.epoch:
            return  # something changed meanwhile: the rows may predate it
        known = self._known
        for path in paths:
            if path not in known:
                self._size += len(path)
            known[path] = found.get(path)
        # Oldest first out (insertion order): cheaper than LRU bookkeeping on every hit,
        # and the ACLs every request needs are read again at once if they go.
        while len(known) > self.entries or self._size > self.characters:
            oldest = next(iter(known))
            del known[oldest]
            self._size -= len(oldest)

    def invalidate(self, paths: Iterable[str]) -> None:
        self.epoch += 1
        known = self._known
        for path in paths:
            if known.pop(path, _GONE) is not _GONE:
                self._size -= len(path)

    def clear(self) -> None:
        self.epoch += 1
        self._known.clear()
        self._size = 0

    def __len__(self) -> int:
        return len(self._known)


class NextRun:
    """Runs ``work`` for many callers at once: each caller waits for a run that starts
    after its call: a run queued but not started yet if there is one, else one started
    now if fewer than ``parallel`` are under way, else one queued to start when a run
    ends. Under load one run serves every read that arrived meanwhile."""

    def __init__(self, work: Callable[[], Awaitable[None]], parallel: int = 2) -> None:
        self._work = work
        self._parallel = parallel
        self._running = 0
        self._queued: asyncio.Future[None] | None = None

    async def __call__(self) -> None:
        if self._queued is not None:
            waited = self._queued
        elif self._running < self._parallel:
            waited = self._start()
        else:
            waited = self._queued = asyncio.get_running_loop().create_future()
        # Shielded: a caller cancelled (a client gone) must not cancel the others' run.
        await asyncio.shield(waited)

    def _start(self) -> asyncio.Future[None]:
        self._running += 1
        run = asyncio.ensure_future(self._work())
        run.add_done_callback(self._ended)
        return run

    def _ended(self, run: asyncio.Future[None]) -> None:
        if not run.cancelled():
            run.exception()  # retrieved: its callers raise it (or all have gone)
        self._running -= 1
        queued, self._queued = self._queued, None
        if queued is not None:
            self._start().add_done_callback(lambda ran: _settle(queued, ran))


def _settle(future: asyncio.Future[None], ran: asyncio.Future[None]) -> None:
    """Give ``future`` the outcome of ``ran``."""
    if future.done():
        return
    if ran.cancelled():
        future.cancel()
    elif ran.exception() is not None:
        future.set_exception(ran.exception())  # type: ignore[arg-type]
    else:
        future.set_result(None)
