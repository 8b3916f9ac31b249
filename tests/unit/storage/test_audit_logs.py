"""The audit-log part of the storage contract, run over every backend (see storage.base)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pod_server.audit.chain import verify
from pod_server.audit.entry import Action, AuditEntry
from pod_server.errors import StaleState
from pod_server.storage.base import (
    ABSENT,
    GENESIS,
    Backend,
    Checkpoint,
    Expect,
    LogQuery,
    LogState,
    Put,
    Quota,
    QuotaExceeded,
    Staged,
    link_hash,
)
from tests.unit.storage.test_backends import make_backend

ALICE = "/alice/"
BANK = "https://bank.example/#it"
SHOP = "https://shop.example/#it"


@pytest.fixture(params=["memory", "file", "postgres"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    store = make_backend(request.param, tmp_path)
    await store.start()
    yield store
    await store.close()


def entry(n: int, agent: str | None = BANK, outcome: int = 200, root: str = ALICE) -> AuditEntry:
    return AuditEntry(
        root, Action.READ, f"http://pod{root}doc{n}", outcome, agent=agent, at=1000.0 + n
    )


async def append(backend: Backend, *entries: AuditEntry) -> None:
    await backend.apply([], [e.mutation() for e in entries])


async def check(backend: Backend, root: str = ALICE) -> None:
    rows = await backend.log_rows(root, 0, 10_000)
    report = verify(rows, await backend.log_state(root), await backend.checkpoints(root))
    assert report.ok, report.problems


async def test_entries_are_numbered_and_chained(backend: Backend) -> None:
    assert await backend.log_state(ALICE) == LogState()
    await append(backend, entry(1), entry(2))
    await append(backend, entry(3))
    rows = await backend.log_rows(ALICE)
    assert [r.seq for r in rows] == [1, 2, 3]
    assert rows[0].prev == GENESIS
    assert rows[0].hash == link_hash(GENESIS, 1, entry(1).canonical())
    assert rows[1].prev == rows[0].hash and rows[2].prev == rows[1].hash
    assert rows[2].body == entry(3).canonical()
    state = await backend.log_state(ALICE)
    assert (state.seq, state.hash) == (3, rows[2].hash)
    await check(backend)


async def test_each_root_has_its_own_chain(backend: Backend) -> None:
    await append(backend, entry(1), entry(1, root="/bob/"), entry(2))
    assert [r.seq for r in await backend.log_rows(ALICE)] == [1, 2]
    assert [r.seq for r in await backend.log_rows("/bob/")] == [1]
    await check(backend)
    await check(backend, "/bob/")


async def test_an_entry_commits_with_the_write_or_not_at_all(backend: Backend) -> None:
    put = Put("/alice/x", "text/plain", Staged.of(b"x"))
    await backend.apply([Expect("/alice/x", ABSENT)], [put, entry(1).mutation()])
    assert await backend.meta("/alice/x") is not None
    with pytest.raises(StaleState):
        await backend.apply([Expect("/alice/x", ABSENT)], [put, entry(2).mutation()])
    assert [r.seq for r in await backend.log_rows(ALICE)] == [1]
    await backend.apply([], [Put("/alice/", "text/turtle")])
    await backend.set_limit("/alice/", 10)
    big = Put("/alice/y", "text/plain", Staged.of(b"y" * 100))
    with pytest.raises(QuotaExceeded):
        await backend.apply([], [big, entry(3).mutation()], Quota("/alice/", None))
    assert [r.seq for r in await backend.log_rows(ALICE)] == [1]
    await check(backend)


async def test_concurrent_batches_keep_one_gapless_chain(backend: Backend) -> None:
    await asyncio.gather(*(append(backend, entry(n), entry(n + 100)) for n in range(20)))
    rows = await backend.log_rows(ALICE)
    assert [r.seq for r in rows] == list(range(1, 41))
    await check(backend)


async def test_pages_newest_first_with_filters(backend: Backend) -> None:
    await append(
        backend,
        entry(1),
        entry(2, agent=SHOP, outcome=403),
        entry(3, agent=None, outcome=401),
        entry(4),
        entry(5, agent=SHOP),
    )
    page = await backend.log_page(ALICE, LogQuery(limit=2))
    assert [r.seq for r in page] == [5, 4]
    page = await backend.log_page(ALICE, LogQuery(limit=2, before=page[-1].seq))
    assert [r.seq for r in page] == [3, 2]
    assert [r.seq for r in await backend.log_page(ALICE, LogQuery(agent=SHOP))] == [5, 2]
    refused = LogQuery(outcomes=(400, 403))
    assert [r.seq for r in await backend.log_page(ALICE, refused)] == [3, 2]
    since = LogQuery(since=1002.0, until=1004.0)
    assert [r.seq for r in await backend.log_page(ALICE, since)] == [3, 2]
    prefix = LogQuery(resource="http://pod/alice/doc4")
    assert [r.seq for r in await backend.log_page(ALICE, prefix)] == [4]
    assert await backend.log_page("/bob/", LogQuery()) == []


async def test_trim_keeps_an_anchor_so_the_rest_verifies(backend: Backend) -> None:
    await append(backend, *(entry(n) for n in range(1, 9)))
    before = await backend.log_rows(ALICE)
    assert await backend.log_trim(1004.5, ALICE) == 4
    rows = await backend.log_rows(ALICE)
    assert [r.seq for r in rows] == [5, 6, 7, 8]
    state = await backend.log_state(ALICE)
    assert (state.anchor_seq, state.anchor_hash) == (4, before[3].hash)
    assert (state.seq, state.hash) == (8, before[7].hash)
    await check(backend)
    await append(backend, entry(9))
    assert [r.seq for r in await backend.log_rows(ALICE, after=7)] == [8, 9]
    await check(backend)
    assert await backend.log_trim(0.0) == 0  # every root: nothing that old
    assert await backend.log_trim(10_000.0) == 5
    assert await backend.log_rows(ALICE) == []
    await check(backend)


async def test_checkpoints_are_kept_in_order(backend: Backend) -> None:
    await append(backend, entry(1), entry(2))
    state = await backend.log_state(ALICE)
    second = Checkpoint(ALICE, 2, state.hash, 5.0, "k", b"s2")
    first = Checkpoint(ALICE, 1, b"h", 4.0, "k", b"s1")
    await backend.add_checkpoint(second)
    await backend.add_checkpoint(first)
    assert await backend.checkpoints(ALICE) == [first, second]
    assert await backend.checkpoints("/bob/") == []


async def test_bad_log_arguments_are_refused(backend: Backend) -> None:
    with pytest.raises(ValueError):
        await backend.log_page("alice", LogQuery())
    with pytest.raises(ValueError):
        await backend.log_page(ALICE, LogQuery(limit=0))
    with pytest.raises(ValueError):
        await backend.apply([], [AuditEntry("x", Action.READ, "u", 200).mutation()])
