"""CommitQueue: group commit with one outcome per submitter."""

from __future__ import annotations

import asyncio

import pytest

from pod_server.db.batching import CommitQueue, Outcomes


class Recorder:
    """A commit that records its batches and waits until released, like an fsync."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.release = asyncio.Event()

    async def __call__(self, items: list[int]) -> Outcomes[str]:
        self.batches.append(items)
        await self.release.wait()
        return [ValueError(f"odd {i}") if i % 2 else f"ok {i}" for i in items]


async def test_writes_waiting_for_a_commit_go_together_in_the_next() -> None:
    commit = Recorder()
    queue: CommitQueue[int, str] = CommitQueue(commit)
    first = asyncio.create_task(queue.submit(0))
    await asyncio.sleep(0)
    rest = [asyncio.create_task(queue.submit(i)) for i in range(1, 6)]
    await asyncio.sleep(0)
    assert commit.batches == [[0]]  # the first went alone, at once
    commit.release.set()
    assert await first == "ok 0"
    outcomes = await asyncio.gather(*rest, return_exceptions=True)
    assert commit.batches == [[0], [1, 2, 3, 4, 5]]
    assert outcomes[1] == "ok 2" and outcomes[3] == "ok 4"
    assert [str(o) for o in outcomes[::2]] == ["odd 1", "odd 3", "odd 5"]


async def test_batches_are_bounded() -> None:
    commit = Recorder()
    commit.release.set()
    queue: CommitQueue[int, str] = CommitQueue(commit, max_batch=3)
    await asyncio.gather(*(queue.submit(i * 2) for i in range(8)))
    assert all(len(batch) <= 3 for batch in commit.batches)
    assert sorted(i for batch in commit.batches for i in batch) == [i * 2 for i in range(8)]


async def test_a_failed_commit_fails_every_write_in_it() -> None:
    async def broken(_items: list[int]) -> Outcomes[str]:
        raise OSError("disk full")

    queue: CommitQueue[int, str] = CommitQueue(broken)
    outcomes = await asyncio.gather(*(queue.submit(i) for i in range(4)), return_exceptions=True)
    assert all(isinstance(o, OSError) for o in outcomes)
    with pytest.raises(OSError):  # and the queue still works afterwards
        await queue.submit(9)


async def test_a_cancelled_submitter_does_not_stop_the_commit() -> None:
    commit = Recorder()
    queue: CommitQueue[int, str] = CommitQueue(commit)
    gone = asyncio.create_task(queue.submit(0))
    stays = asyncio.create_task(queue.submit(2))
    await asyncio.sleep(0)
    gone.cancel()
    commit.release.set()
    assert await stays == "ok 2"
    assert sorted(i for batch in commit.batches for i in batch) == [0, 2]
