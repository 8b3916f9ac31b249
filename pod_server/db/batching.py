"""Group commit: concurrent writes share one durable commit, each keeping its own outcome.

A durable commit costs a flush to disk (``fsync``) whatever it holds, so committing
sixteen concurrent requests' writes one after the other costs sixteen flushes where one
would do. A :class:`CommitQueue` sends the first write at once; writes submitted while a
commit is under way wait for it and then go together in the next one. Each submitter is
answered only when the commit holding its write is durable, with its own result or its
own error: a backend runs each write of a batch in a savepoint, so one write refused (a
stale precondition, a quota) does not take the others with it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

I = TypeVar("I")  # noqa: E741 (an item, as in Generic[I, R])
R = TypeVar("R")

MAX_BATCH = 64  # writes per commit: bounds how long one commit holds the write lock

# What a batch commit gives back for each item, in order: its result or its own error.
Outcomes = Sequence["R | Exception"]


class CommitQueue(Generic[I, R]):
    """``await queue.submit(item)``: ``item`` committed with whatever else is waiting.

    ``commit(items)`` commits a batch in one transaction and returns one outcome per item
    (a result, or the exception that item's submitter gets); if it raises, every item of
    the batch gets that exception. Batches never overlap, so commits keep submission order.
    """

    def __init__(
        self, commit: Callable[[list[I]], Awaitable[Outcomes[R]]], max_batch: int = MAX_BATCH
    ) -> None:
        self._commit = commit
        self._max = max_batch
        self._waiting: list[tuple[I, asyncio.Future[R]]] = []
        self._drainer: asyncio.Task[None] | None = None  # held: a bare task may be collected

    async def submit(self, item: I) -> R:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        self._waiting.append((item, future))
        if self._drainer is None:
            # A task of its own: a cancelled submitter must not stop the others' commit.
            self._drainer = loop.create_task(self._drain())
        # Not shielded (a shield costs two loop turns): a submitter cancelled cancels only
        # its own future, which the drain then skips (no unread error is logged).
        return await future

    async def _drain(self) -> None:
        batch: list[tuple[I, asyncio.Future[R]]] = []
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[: self._max], self._waiting[self._max :]
                try:
                    outcomes = await self._commit([item for item, _ in batch])
                except Exception as exc:  # the whole commit failed: every submitter says so
                    outcomes = [exc] * len(batch)
                for (_, future), outcome in zip(batch, outcomes, strict=True):
                    if future.done():
                        continue
                    if isinstance(outcome, Exception):
                        future.set_exception(outcome)
                    else:
                        future.set_result(outcome)
        finally:
            self._drainer = None
            # Cancelled (the loop is closing): nobody will answer these any more.
            for _, future in [*batch, *self._waiting]:
                if not future.done():
                    future.set_exception(RuntimeError("The store closed during this commit"))
            self._waiting = []
