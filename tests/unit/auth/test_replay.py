"""DPoP replay caches: each remembers a jti for its whole window; the in-memory one refuses
new proofs when full, the shared one (every worker process) is one atomic insert."""

from __future__ import annotations

from pathlib import Path

import pytest

from pod_server.auth import MemoryReplayCache, ReplayCache, SharedReplayCache
from pod_server.state import MemoryState, PostgresState, SqliteState
from tests.unit.auth.helpers import Clock
from tests.unit.storage.pg_support import drop_schema, schema_for, session_dsn


@pytest.fixture(
    params=["memory", "shared-memory-state", "shared-sqlite-state", "shared-postgres-state"]
)
async def make(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A factory of caches reading ``clock``; every cache it makes shares one state store,
    as the worker processes of one server do."""
    states: list[SqliteState | PostgresState] = []

    def factory(clock: Clock) -> ReplayCache:
        if request.param == "memory":
            return MemoryReplayCache(10, clock)
        if request.param == "shared-memory-state":
            return SharedReplayCache(shared_memory, clock)
        return SharedReplayCache(states[0], clock)

    shared_memory = MemoryState()
    if request.param == "shared-sqlite-state":
        states.append(SqliteState(tmp_path / "state.sqlite3"))
        await states[0].start()
    if request.param == "shared-postgres-state":
        states.append(PostgresState(session_dsn(), schema=schema_for(request.node.nodeid)))
        await states[0].start()
    yield factory
    for state in states:
        await state.close()
        if isinstance(state, PostgresState) and state.schema is not None:
            await drop_schema(state.schema)


async def test_a_jti_is_accepted_once(make) -> None:  # type: ignore[no-untyped-def]
    cache = make(Clock(1000.0))
    assert await cache.add("a", 1065.0)
    assert not await cache.add("a", 1065.0)
    assert await cache.add("b", 1065.0)


async def test_a_jti_is_remembered_until_it_expires(make) -> None:  # type: ignore[no-untyped-def]
    clock = Clock(1000.0)
    cache = make(clock)
    await cache.add("a", 1065.0)
    clock.now = 1064.9
    assert not await cache.add("a", 1130.0)
    clock.now = 1065.0
    assert await cache.add("a", 1130.0)  # its old proof could no longer be accepted


async def test_already_expired_entries_are_not_remembered(make) -> None:  # type: ignore[no-untyped-def]
    cache = make(Clock(100.0))
    assert await cache.add("old", 99.0)
    assert await cache.add("old", 99.0)


async def test_shared_caches_refuse_what_another_process_accepted(tmp_path: Path) -> None:
    clock = Clock(1000.0)
    async with SqliteState(tmp_path / "s.db") as one, SqliteState(tmp_path / "s.db") as two:
        first, second = SharedReplayCache(one, clock), SharedReplayCache(two, clock)
        assert await first.add("j", 1060.0)
        assert not await second.add("j", 1060.0)
        assert await second.add("k", 1060.0)
        assert not await first.add("k", 1060.0)


async def test_shared_caches_on_postgres_refuse_what_another_host_accepted(
    request: pytest.FixtureRequest,
) -> None:
    clock, schema = Clock(1000.0), schema_for(request.node.nodeid)
    dsn = session_dsn()
    async with PostgresState(dsn, schema=schema) as one, PostgresState(dsn, schema=schema) as two:
        first, second = SharedReplayCache(one, clock), SharedReplayCache(two, clock)
        assert await first.add("j", 1060.0)
        assert not await second.add("j", 1060.0)
        assert await second.add("k", 1060.0)
        assert not await first.add("k", 1060.0)
    await drop_schema(schema)


def test_a_full_cache_refuses_instead_of_forgetting() -> None:
    clock = Clock(1000.0)
    cache = MemoryReplayCache(3, clock)
    assert all(cache.add_now(j, 1060.0 + i) for i, j in enumerate("abc"))
    assert cache.full
    assert not cache.add_now("d", 1070.0)
    assert not cache.add_now("a", 1070.0)  # and every live entry is still there
    clock.now = 1060.0  # "a" expires, freeing one slot
    assert cache.add_now("d", 1070.0)
    assert not cache.add_now("e", 1070.0)
    assert len(cache) == 3


def test_expiry_order_is_independent_of_insertion_order() -> None:
    clock = Clock(0.0)
    cache = MemoryReplayCache(10, clock)
    cache.add_now("late", 50.0)
    cache.add_now("early", 10.0)
    clock.now = 20.0
    assert len(cache) == 1
    assert not cache.add_now("late", 80.0)
    assert cache.add_now("early", 80.0)


def test_already_expired_entries_are_not_stored() -> None:
    cache = MemoryReplayCache(1, Clock(100.0))
    assert cache.add_now("old", 99.0)
    assert len(cache) == 0
