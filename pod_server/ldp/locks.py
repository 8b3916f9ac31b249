"""Per-key coordination: locks that disappear when unused, and group commit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Generic, TypeVar

R = TypeVar("R")


class KeyedLock:
    """``async with locks(key):`` serialises coroutines that use the same key."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def __call__(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


class GroupCommit(Generic[R]):
    """Coalesce concurrent submissions for one key into one write.

    While a write for a key is under way, later submissions for that key queue up; the
    next write takes them all at once, and every submitter gets that write's result.
    Writers of one key never overlap, and a submission is never in two writes. Used for
    appends to one resource: sixteen clients inserting into a document cost a few
    durable writes instead of sixteen in a row.
    """

    def __init__(self, write: Callable[[str, list[bytes]], Awaitable[R]]) -> None:
        self._write = write
        self._queues: dict[str, list[tuple[bytes, asyncio.Future[R]]]] = {}
        self._writers: set[str] = set()

    async def submit(self, key: str, item: bytes) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queues.setdefault(key, []).append((item, future))
        if key not in self._writers:
            self._writers.add(key)
            # A task of its own: a cancelled submitter must not stop others' writes.
            asyncio.get_running_loop().create_task(self._drain(key))
        # Not shielded (a shield costs two loop turns): a submitter cancelled cancels only
        # its own future, which the drain skips; its item is still written.
        return await future

    async def _drain(self, key: str) -> None:
        try:
            while self._queues.get(key):
                batch = self._queues.pop(key)
                try:
                    result = await self._write(key, [item for item, _ in batch])
                except Exception as exc:  # handed to every submitter, who reports it
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                else:
                    for _, future in batch:
                        if not future.done():
                            future.set_result(result)
        finally:
            self._writers.discard(key)
