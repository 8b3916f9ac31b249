"""The engine processes under the work limits: answers, a worker killed at the time limit
(the evaluation really stops) and replaced, 503 when too many wait, a failed preparation
leaving its worker usable."""

from __future__ import annotations

import asyncio
import time

import pytest

from pod_server.errors import ServiceUnavailable
from pod_server.ldp.budget import OverTime, WorkLimits
from pod_server.query.pool import QueryPool, Worker
from pod_server.query.worker import Document, Job

ROOT = "http://p/"
DOC = Document(
    ROOT + "d", "1", "text/turtle", "".join(f"<#s{i}> <#p> {i} .\n" for i in range(200)).encode()
)
CROSS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
JSON = "application/sparql-results+json"


def job(query: str, worker: Worker) -> Job:
    load = () if DOC.url in worker.held else (DOC,)
    return Job(ROOT, query, ROOT + "q", (DOC.url,), (DOC.url,), JSON, "text/turtle", 10**6, load)


async def test_answers_and_remembers_what_the_worker_holds() -> None:
    pool = QueryPool(WorkLimits(seconds=20, jobs=1, queue=1))
    try:

        async def prepare(worker: Worker) -> Job:
            return job("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", worker)

        first = await pool.run(prepare)
        assert first.kind == "ok" and b'"200"' in first.body
        assert [w.held for w in pool._idle] == [{DOC.url: "1"}]
        again = await pool.run(prepare)  # the same worker, nothing sent again
        assert again.body == first.body and len(pool._idle) == 1
    finally:
        await pool.close()


async def test_over_time_kills_the_worker_and_the_next_query_gets_a_fresh_one() -> None:
    pool = QueryPool(WorkLimits(seconds=1, jobs=1, queue=1))
    try:
        workers: list[Worker] = []

        async def heavy(worker: Worker) -> Job:
            workers.append(worker)
            return job(CROSS, worker)  # 200^4 rows: far beyond a second

        started = time.monotonic()
        with pytest.raises(OverTime):
            await pool.run(heavy)
        assert time.monotonic() - started < 5
        assert workers[0].process.poll() is not None  # the process is gone
        assert not pool._idle

        async def light(worker: Worker) -> Job:
            assert worker.held == {}  # a new worker holds nothing
            return job("ASK { ?s ?p 7 }", worker)

        assert b"true" in (await pool.run(light)).body
    finally:
        await pool.close()


async def test_too_many_waiting_is_503() -> None:
    pool = QueryPool(WorkLimits(seconds=2, jobs=1, queue=1))
    gate = asyncio.Event()
    try:

        async def slow(worker: Worker) -> Job:
            await gate.wait()
            return job("ASK {}", worker)

        running = asyncio.create_task(pool.run(slow))
        await asyncio.sleep(0.5)  # it holds the only worker
        waiting = asyncio.create_task(pool.run(slow))  # one may wait
        await asyncio.sleep(0.05)
        with pytest.raises(ServiceUnavailable) as refused:
            await pool.run(slow)
        assert refused.value.headers["Retry-After"]
        gate.set()
        assert (await running).kind == "ok" and (await waiting).kind == "ok"
    finally:
        await pool.close()


async def test_a_failed_preparation_keeps_its_worker() -> None:
    pool = QueryPool(WorkLimits(seconds=20, jobs=1, queue=1))
    try:

        async def failing(worker: Worker) -> Job:
            raise ServiceUnavailable("storage down")

        with pytest.raises(ServiceUnavailable):
            await pool.run(failing)
        assert len(pool._idle) == 1 and pool._idle[0].process.poll() is None
    finally:
        await pool.close()
