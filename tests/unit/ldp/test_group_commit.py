from __future__ import annotations

import asyncio

import pytest

from pod_server.ldp.locks import GroupCommit


async def test_concurrent_submissions_share_writes_and_all_land() -> None:
    writes: list[list[bytes]] = []
    running = 0

    async def write(key: str, items: list[bytes]) -> int:
        nonlocal running
        running += 1
        assert running == 1, "writes of one key overlapped"
        writes.append(items)
        await asyncio.sleep(0.01)
        running -= 1
        return len(writes)

    group: GroupCommit[int] = GroupCommit(write)
    results = await asyncio.gather(*(group.submit("k", bytes([i])) for i in range(20)))
    assert sorted(b for batch in writes for b in batch) == [bytes([i]) for i in range(20)]
    assert len(writes) < 20  # coalesced
    assert all(r >= 1 for r in results)


async def test_a_failed_write_fails_its_submitters_only() -> None:
    calls = 0

    async def write(key: str, items: list[bytes]) -> str:
        nonlocal calls
        calls += 1
        if b"bad" in items:
            raise ValueError("refused")
        return "ok"

    group: GroupCommit[str] = GroupCommit(write)
    with pytest.raises(ValueError, match="refused"):
        await group.submit("k", b"bad")
    assert await group.submit("k", b"good") == "ok"
