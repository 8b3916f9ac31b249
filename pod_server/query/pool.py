"""Worker processes for queries, bounded by the server's ``WorkLimits``.

At most ``limits.jobs`` workers run queries at once; at most ``limits.queue`` more wait
(for at most the time limit), else 503 with Retry-After. A query still running at
``limits.seconds`` is stopped by killing its worker (Oxigraph cannot be interrupted
otherwise): the caller gets 422 and the next query starts a fresh worker. The event
loop never waits on a worker: each round trip runs on a thread of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

from pod_server.errors import ServiceUnavailable
from pod_server.ldp.budget import RETRY_AFTER_SECONDS, OverTime, Slots, WorkLimits
from pod_server.query.worker import Answer, Job


@dataclass(eq=False)  # a worker is itself, hashed by identity
class Worker:
    """One engine process, and what the server knows it holds (document URL -> etag)."""

    process: subprocess.Popen[bytes]
    conn: Connection
    held: dict[str, str] = field(default_factory=dict)

    @classmethod
    def start(cls) -> Worker:
        """A fresh ``python -m pod_server.query.worker`` (not multiprocessing's spawn,
        which would import the server's main module again in the child), talking over a
        socket pair."""
        ours, theirs = socket.socketpair()
        with ours, theirs:
            process = subprocess.Popen(
                [sys.executable, "-m", "pod_server.query.worker", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
            )
            return cls(process, Connection(ours.detach()))

    def ask(self, job: Job, seconds: float) -> Answer | None:
        """Send ``job``; its answer, or None when none came within ``seconds``."""
        self.conn.send(job)
        if not self.conn.poll(seconds):
            return None
        answer: Answer = self.conn.recv()
        return answer

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()
        self.conn.close()


# Builds a worker's job from what it holds (the caller reads the documents it lacks).
Prepare = Callable[[Worker], Awaitable[Job]]


class QueryPool:
    """The engine processes of one server process (started on first use)."""

    def __init__(self, limits: WorkLimits) -> None:
        self.limits = limits
        self._idle: list[Worker] = []
        self._slots = Slots(limits, _busy)
        self._busy: set[Worker] = set()

    async def run(self, prepare: Prepare) -> Answer:
        """Run the job ``prepare`` makes for a free worker; 422 past the time limit."""
        await self._slots.acquire()
        worker: Worker | None = None
        try:
            worker = self._idle.pop() if self._idle else await asyncio.to_thread(Worker.start)
            self._busy.add(worker)
            try:
                job = await prepare(worker)
            except BaseException:  # nothing was sent: the worker is as it was
                self._busy.discard(worker)
                self._idle.append(worker)
                worker = None
                raise
            answer = await asyncio.to_thread(worker.ask, job, self.limits.seconds)
            if answer is None:
                raise OverTime(self.limits.seconds)
            _remember(worker, job, answer)
            self._idle.append(worker)
            self._busy.discard(worker)
            worker = None
            return answer
        finally:
            if worker is not None:  # over time, cancelled or failed: its state is unknown
                self._busy.discard(worker)
                await asyncio.to_thread(worker.kill)
            self._slots.release()

    async def close(self) -> None:
        for worker in [*self._idle, *self._busy]:
            with contextlib.suppress(OSError):
                worker.conn.send(None)
            await asyncio.to_thread(worker.kill)
        self._idle.clear()
        self._busy.clear()


def _remember(worker: Worker, job: Job, answer: Answer) -> None:
    """Mirror in ``worker.held`` what the worker did with the job's documents."""
    for url in job.drop:
        worker.held.pop(url, None)
    refused = set(answer.unparsable)
    for doc in job.load:
        if doc.url in refused:
            worker.held.pop(doc.url, None)
        else:
            worker.held[doc.url] = doc.etag


def _busy() -> ServiceUnavailable:
    return ServiceUnavailable(
        "The server is busy with other queries; try again shortly",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )
