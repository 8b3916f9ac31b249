"""Durable appends of audit entries that do not ride on a write (reads, refusals, failures).

Concurrent requests' entries are grouped: while one batch commits, the next gathers, and
each goes to the backend as one ``apply`` (one transaction). Every caller awaits its own
batch's commit, so a read's entry is durable before its response is sent; if the batch
cannot be written, every caller in it gets a 503 (no unaudited access).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from pod_server.audit.entry import AuditEntry
from pod_server.audit.signing import CheckpointKey
from pod_server.errors import ServiceUnavailable
from pod_server.storage.base import Backend, Log

log = logging.getLogger(__name__)

MAX_BATCH = 1000  # entries per transaction


class Checkpoints:
    """Signs a root's log head every ``every`` entries this process appended (0: never
    by count), and on demand (``sign``); ``due()`` are the roots appended to since their
    last checkpoint, which the upkeep signs periodically."""

    def __init__(
        self,
        backend: Backend,
        key: CheckpointKey,
        every: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.backend, self.key, self.every, self.clock = backend, key, every, clock
        self._counts: dict[str, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def count(self, root: str, added: int = 1) -> None:
        total = self._counts.get(root, 0) + added
        self._counts[root] = total
        if self.every and total >= self.every:
            self._counts[root] = 0
            task = asyncio.get_running_loop().create_task(self._sign_quietly(root))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def due(self) -> list[str]:
        return [root for root, count in self._counts.items() if count]

    async def sign(self, root: str) -> None:
        """Sign the log's current head (nothing to sign in an empty log)."""
        self._counts.pop(root, None)
        state = await self.backend.log_state(root)
        if state.seq:
            await self.backend.add_checkpoint(self.key.sign(root, state, self.clock()))

    async def _sign_quietly(self, root: str) -> None:
        try:
            await self.sign(root)
        except Exception:  # the upkeep signs it later
            log.exception("Signing an audit checkpoint of %s failed", root)
            self._counts[root] = self._counts.get(root, 0) + 1

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


class AuditWriter:
    """Appends entries in batches; ``append`` returns once the entry is durable."""

    def __init__(self, backend: Backend, checkpoints: Checkpoints | None = None) -> None:
        self.backend = backend
        self.checkpoints = checkpoints
        self._pending: list[tuple[Log, asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None

    async def append(self, entry: AuditEntry) -> None:
        """Commit ``entry`` with whatever else is waiting; ServiceUnavailable if it fails."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((entry.mutation(), future))
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._drain())
        # Not shielded (a shield costs two loop turns): a caller cancelled (its client
        # gone) cancels only its own future, and its entry stays in the batch.
        await future

    def count(self, root: str, added: int = 1) -> None:
        """Entries committed to ``root``'s log (here, or with a write) near a checkpoint."""
        if self.checkpoints is not None:
            self.checkpoints.count(root, added)

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            logs = [entry for entry, _ in batch]
            try:
                await self.backend.apply([], logs)
            except Exception as err:
                log.error("Writing %d audit entries failed: %s", len(batch), err)
                for _, future in batch:
                    if not future.done():
                        future.set_exception(
                            ServiceUnavailable("The audit log cannot be written; try again")
                        )
                continue
            for _, future in batch:
                if not future.done():
                    future.set_result(None)
            for entry in logs:
                self.count(entry.root)

    async def close(self) -> None:
        """Let the last batch finish."""
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task
