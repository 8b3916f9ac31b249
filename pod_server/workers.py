"""``serve --workers N``: N server processes on one port, each a whole pod server.

Every worker binds the same address with SO_REUSEPORT, so the kernel spreads connections
over them; they share nothing but the storage and the state store (SQLite files under the
root, or PostgreSQL), which is all the state there is. The parent only supervises: it
restarts a worker that dies (a crash loses that worker's in-flight requests, never an
acknowledged write: those are committed before the response), stops restarting when
workers keep dying right after they start (a port taken, a bad database URL), and passes
SIGTERM/SIGINT on so every worker drains its requests before it exits.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import time
from collections.abc import Callable
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from types import FrameType

from pod_server.settings import Settings

log = logging.getLogger("pod_server.workers")

EARLY_DEATH_SECONDS = 5.0  # a worker dying sooner than this after its start failed to start
MAX_EARLY_DEATHS = 3  # per worker slot, in a row: then the server gives up
RESTART_DELAY = 0.5


class Supervisor:
    """Keeps ``count`` processes running ``target(settings)`` until told to stop."""

    def __init__(
        self,
        settings: Settings,
        target: Callable[[Settings], None],
        count: int,
        grace: float,
    ) -> None:
        self._settings = settings
        self._target = target
        self._count = count
        self._grace = grace
        self._context = multiprocessing.get_context("spawn")  # no inherited threads or loops
        self._workers: dict[int, BaseProcess] = {}
        self._started: dict[int, float] = {}
        self._early_deaths: dict[int, int] = {}
        self._stopping = False

    def run(self) -> int:
        """Run until SIGTERM/SIGINT (exit status 0) or a crash loop (status 1)."""
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            for slot in range(self._count):
                self._spawn(slot)
            status = self._supervise()
        finally:
            self._shutdown()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return status

    def _stop(self, _signum: int, _frame: FrameType | None) -> None:
        self._stopping = True

    def _spawn(self, slot: int) -> None:
        process = self._context.Process(
            target=self._target, args=(self._settings,), name=f"pod-server-worker-{slot}"
        )
        process.start()
        self._workers[slot] = process
        self._started[slot] = time.monotonic()

    def _supervise(self) -> int:
        while not self._stopping:
            sentinels = {p.sentinel: slot for slot, p in self._workers.items()}
            for ready in wait(list(sentinels), timeout=0.5):
                slot = next(s for sentinel, s in sentinels.items() if sentinel == ready)
                if self._stopping:
                    break
                if not self._replace(slot):
                    return 1
        return 0

    def _replace(self, slot: int) -> bool:
        """Restart the worker in ``slot``, unless it keeps dying at once (then False)."""
        process = self._workers[slot]
        process.join()
        lived = time.monotonic() - self._started[slot]
        early = self._early_deaths.get(slot, 0) + 1 if lived < EARLY_DEATH_SECONDS else 0
        self._early_deaths[slot] = early
        log.warning(
            "worker %s (pid %s) exited with status %s after %.1f s",
            slot,
            process.pid,
            process.exitcode,
            lived,
        )
        if early >= MAX_EARLY_DEATHS:
            log.error("worker %s failed to start %d times in a row: stopping", slot, early)
            return False
        time.sleep(RESTART_DELAY * early)
        self._spawn(slot)
        return True

    def _shutdown(self) -> None:
        """SIGTERM every worker (each drains its requests), then wait; kill stragglers."""
        for process in self._workers.values():
            if process.is_alive():
                process.terminate()
        deadline = time.monotonic() + self._grace + 5.0
        for process in self._workers.values():
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                log.error("worker pid %s did not stop in time: killing it", process.pid)
                process.kill()
                process.join()
