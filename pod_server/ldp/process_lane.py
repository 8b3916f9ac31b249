"""Heavy pure-Python steps in worker processes, so that they use another core.

A step on a ``budget.Runner`` thread holds the GIL against the event loop; in a worker
process it runs beside it. The lane has the Runner's bounds: at most ``limits.jobs``
steps at once, at most ``limits.queue`` more waiting (for at most the time limit), else
503 with Retry-After. A step still running at ``limits.seconds`` is stopped by killing
its worker (Oxigraph cannot be interrupted otherwise): 422 ``OverTime``, and the next
step starts a fresh worker; so does a worker that died (503 for its step).

A step is a module-level function and picklable arguments; what it returns or raises
(a ``PodError`` keeps its class and message) comes back to the caller. Workers are
``python -m pod_server.ldp.process_lane`` processes, started on first use (never a fork
of the threaded server; not multiprocessing's spawn, which would import the server's
main module again), each talking over its own socket pair.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from pod_server.errors import ServiceUnavailable
from pod_server.ldp.budget import RETRY_AFTER_SECONDS, OverTime, Slots, WorkLimits

T = TypeVar("T")

_DONE, _FAILED = "done", "failed"


class WorkerLost(ServiceUnavailable):
    """503: the worker process ended during the step (killed from outside, out of memory)."""

    def __init__(self) -> None:
        super().__init__(
            "A worker process ended while processing this request; try again",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )


@dataclass(eq=False)  # a worker is itself, hashed by identity
class Worker:
    process: subprocess.Popen[bytes]
    conn: Connection

    @classmethod
    def start(cls) -> Worker:
        # -P as the server had it: else ``-m`` puts the working directory first on the path,
        # and the worker could import another tree's pod_server than the server's.
        flags = ["-P"] if sys.flags.safe_path else []
        ours, theirs = socket.socketpair()
        with ours, theirs:
            process = subprocess.Popen(
                [sys.executable, *flags, "-m", "pod_server.ldp.process_lane", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
            )
            return cls(process, Connection(ours.detach()))

    def call(self, fn: Callable[..., Any], args: tuple[Any, ...], seconds: float) -> Any:
        """``fn(*args)`` in the worker; OverTime when no answer came within ``seconds``,
        WorkerLost when the worker ended first."""
        try:
            self.conn.send((fn, args))
            if not self.conn.poll(seconds):
                raise OverTime(seconds)
            outcome, value = self.conn.recv()
        except (EOFError, OSError):
            raise WorkerLost() from None
        if outcome == _FAILED:
            raise value
        return value

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()
        self.conn.close()


class ProcessLane:
    """The worker processes of one server process (started on first use)."""

    def __init__(self, limits: WorkLimits) -> None:
        self.limits = limits
        self._idle: list[Worker] = []
        self._busy: set[Worker] = set()
        self._slots = Slots(limits)

    @property
    def workers(self) -> int:
        """How many worker processes are up (idle or busy)."""
        return len(self._idle) + len(self._busy)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in a worker process, under the time limit (422 past it)."""
        await self._slots.acquire()
        try:
            return await self._call(fn, args)
        finally:
            self._slots.release()

    async def _call(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        worker = self._idle.pop() if self._idle else await asyncio.to_thread(Worker.start)
        self._busy.add(worker)
        healthy = False
        try:
            result: T = await asyncio.to_thread(worker.call, fn, args, self.limits.seconds)
            healthy = True
            return result
        except (OverTime, WorkerLost):
            raise
        except Exception:
            healthy = True  # the step raised: the worker answered and goes on
            raise
        finally:
            self._busy.discard(worker)
            if healthy:
                self._idle.append(worker)
            else:  # over time, dead or cancelled mid-step: its state is unknown
                await asyncio.to_thread(worker.kill)

    def close(self) -> None:
        """End every worker (a running step's caller gets WorkerLost)."""
        for worker in [*self._idle, *self._busy]:
            with contextlib.suppress(OSError):
                worker.conn.send(None)
            worker.kill()
        self._idle.clear()
        self._busy.clear()


def jobs(conn: Connection) -> Iterator[Any]:
    """What a worker process is sent, one at a time, until the server sends None or
    closes its end (this lane's workers and the query engines both read this way)."""
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        yield job


def serve(conn: Connection) -> None:
    """A worker's loop: a step in, its outcome out, until the pipe closes."""
    for fn, args in jobs(conn):
        try:
            answer = (_DONE, fn(*args))
        except Exception as exc:  # the step's error answers it; the worker goes on
            answer = (_FAILED, exc)
        try:
            conn.send(answer)  # pickled whole before anything is written
        except Exception as exc:  # a result or error that cannot be pickled: say so
            conn.send((_FAILED, RuntimeError(f"{fn.__qualname__}: {exc!r}")))


if __name__ == "__main__":  # started by Worker.start with its end of a socket pair
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server ends its workers itself
    serve(Connection(int(sys.argv[1])))
