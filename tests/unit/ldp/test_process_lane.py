"""The process lane: heavy steps in worker processes, under the Runner's bounds."""

from __future__ import annotations

import asyncio
import os
import threading
import time

import pytest

import pod_server
import vocab
from pod_server.errors import BadRequest, ServiceUnavailable, UnprocessableEntity
from pod_server.ldp.budget import WorkLimits
from pod_server.ldp.process_lane import ProcessLane, WorkerLost
from pod_server.ldp.shapes import ShapeConstraints
from pod_server.ldp.staging import conforms_turtle_job

BASE = "https://alice.pod.example/bank/month"
SERVED_AT = "http://127.0.0.1:1/vocab/"
SHAPES = (vocab.shapes_iri("bank"),)


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def test_a_step_runs_in_another_process_and_the_worker_is_kept() -> None:
    lane = ProcessLane(WorkLimits(jobs=1))
    try:
        pid = await lane.run(os.getpid)
        assert pid != os.getpid()
        assert await lane.run(sum, [1, 2]) == 3
        assert await lane.run(os.getpid) == pid  # started once, then reused
        # The worker runs this tree's code, not another pod_server found on its path.
        assert await lane.run(eval, "__import__('pod_server').__file__") == pod_server.__file__
    finally:
        lane.close()


async def test_the_time_limit_kills_the_worker_and_the_next_step_gets_a_fresh_one() -> None:
    lane = ProcessLane(WorkLimits(seconds=0.5, jobs=1))
    try:
        pid = await lane.run(os.getpid)
        started = time.perf_counter()
        with pytest.raises(UnprocessableEntity, match=r"0\.5-second processing limit"):
            await lane.run(time.sleep, 30)
        assert time.perf_counter() - started < 3
        assert _gone(pid)
        assert await lane.run(os.getpid) not in (pid, os.getpid())
    finally:
        lane.close()


async def test_a_worker_that_dies_is_a_503_and_is_replaced() -> None:
    lane = ProcessLane(WorkLimits(jobs=1))
    try:
        pid = await lane.run(os.getpid)
        with pytest.raises(WorkerLost) as lost:
            await lane.run(os._exit, 3)
        assert lost.value.status == 503 and lost.value.headers["Retry-After"].isdigit()
        assert _gone(pid)
        assert await lane.run(sum, [2, 2]) == 4
    finally:
        lane.close()


async def test_the_lane_is_busy_past_its_queue() -> None:
    lane = ProcessLane(WorkLimits(seconds=10, jobs=1, queue=1))
    try:
        running = asyncio.ensure_future(lane.run(time.sleep, 0.5))
        await asyncio.sleep(0.05)
        waiting = asyncio.ensure_future(lane.run(time.sleep, 0.1))
        await asyncio.sleep(0.05)
        with pytest.raises(ServiceUnavailable) as busy:
            await lane.run(time.sleep, 0.1)
        assert busy.value.status == 503 and busy.value.headers["Retry-After"].isdigit()
        assert await asyncio.gather(running, waiting) == [None, None]
    finally:
        lane.close()


async def test_closing_ends_the_workers_and_their_running_steps() -> None:
    lane = ProcessLane(WorkLimits(seconds=60, jobs=2))
    idle = await lane.run(os.getpid)
    running = asyncio.ensure_future(lane.run(time.sleep, 30))
    await asyncio.sleep(0.5)
    started = time.perf_counter()
    lane.close()
    with pytest.raises(WorkerLost):
        await running
    assert time.perf_counter() - started < 3
    assert _gone(idle)


async def test_errors_come_back_as_raised_and_the_worker_goes_on() -> None:
    lane = ProcessLane(WorkLimits(jobs=1))
    try:
        pid = await lane.run(os.getpid)
        with pytest.raises(ZeroDivisionError):
            await lane.run(divmod, 1, 0)
        # What cannot be pickled back is an error too, not a lost worker.
        with pytest.raises(RuntimeError, match="cannot pickle"):
            await lane.run(threading.Lock)
        assert await lane.run(os.getpid) == pid
    finally:
        lane.close()


def _inline(data: bytes) -> bool | BaseException:
    try:
        return conforms_turtle_job(data, BASE, 100, SHAPES, SERVED_AT, vocab.DEFAULT_BASE)
    except BadRequest as exc:
        return exc


async def test_the_shapes_job_gives_the_verdicts_and_errors_of_the_thread_path() -> None:
    month = vocab.read_text("bank", "examples/month.ttl").encode()
    bad_iban = month.replace(b"FR76", b"FR00", 1)
    bodies = [
        month,
        bad_iban,
        month[:-200] + b" ;;; <oops",  # bad syntax
        b"<a> <b> " + b"[ <c> " * 101 + b"]" * 101 + b" .",  # too deep
    ]
    constraints = ShapeConstraints(SERVED_AT, None, None)  # type: ignore[arg-type]
    assert constraints.conforms_turtle(month, BASE, SHAPES) is True
    assert constraints.conforms_turtle(bad_iban, BASE, SHAPES) is False
    lane = ProcessLane(WorkLimits(jobs=1))
    try:
        for data in bodies:
            expected = _inline(data)
            try:
                got: bool | BaseException = await lane.run(
                    conforms_turtle_job, data, BASE, 100, SHAPES, SERVED_AT, vocab.DEFAULT_BASE
                )
            except BadRequest as exc:
                got = exc
            if isinstance(expected, BaseException):
                assert type(got) is type(expected) and str(got) == str(expected)
                assert got.status == 400  # type: ignore[union-attr]
            else:
                assert got is expected
    finally:
        lane.close()
