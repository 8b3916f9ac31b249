"""The audit log's periodic upkeep in every server process: expire entries past the
retention (``audit_retention_days``; 0 keeps them forever) and sign a checkpoint of every
log this process appended to since its last one."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from pod_server.audit.writer import Checkpoints
from pod_server.storage.base import Backend

log = logging.getLogger(__name__)

DAY = 86400.0
INTERVAL = 600.0  # seconds between rounds


class Upkeep:
    def __init__(
        self,
        backend: Backend,
        checkpoints: Checkpoints,
        retention_days: int,
        interval: float = INTERVAL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.backend, self.checkpoints = backend, checkpoints
        self.retention_days, self.interval, self.clock = retention_days, interval, clock
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> int:
        """One round: return how many entries expired."""
        expired = 0
        if self.retention_days > 0:
            expired = await self.backend.log_trim(self.clock() - self.retention_days * DAY)
        for root in self.checkpoints.due():
            await self.checkpoints.sign(root)
        return expired

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._forever())

    async def stop(self) -> None:
        """Stop the rounds, then sign what this process appended since the last one."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.checkpoints.close()
        for root in self.checkpoints.due():
            with contextlib.suppress(Exception):
                await self.checkpoints.sign(root)

    async def _forever(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.run_once()
            except Exception:  # the next round tries again
                log.exception("Audit log upkeep failed")
