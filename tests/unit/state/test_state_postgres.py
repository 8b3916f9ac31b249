"""PostgresState beyond the shared contract (test_state.py runs that): several instances on
one schema stand for server processes on several hosts, and must agree."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from pod_server.state import AlreadyExists, InvalidValue, PostgresState, StateBusy, StoredKey
from tests.unit.state.test_state import NOW, account, code, family
from tests.unit.storage.pg_support import drop_schema, schema_for, session_dsn


@pytest.fixture
async def pair(request: pytest.FixtureRequest) -> AsyncIterator[tuple[PostgresState, ...]]:
    """Two started stores on one schema, each with its own pool."""
    dsn, schema = session_dsn(), schema_for(request.node.nodeid)
    async with PostgresState(dsn, schema=schema) as one, PostgresState(dsn, schema=schema) as two:
        yield one, two
    await drop_schema(schema)


async def test_instances_see_each_others_writes(pair: tuple[PostgresState, ...]) -> None:
    one, two = pair
    await one.add_account(account(1, "Alice@Example.org"))
    assert await two.find_account("alice@example.org") == account(1, "Alice@Example.org")
    with pytest.raises(AlreadyExists):
        await two.add_account(account(2, "ALICE@example.org"))
    await two.link_webid("acct1", "https://a.example/#me", NOW)
    assert await one.webid_owner("https://a.example/#me") == "acct1"
    await one.add_key(StoredKey("k1", "{}", NOW, NOW, NOW + 10, NOW + 20))
    assert [k.kid for k in await two.list_keys()] == ["k1"]
    assert await two.delete_account("acct1") == ["https://a.example/#me"]
    assert await one.get_account("acct1") is None


async def test_use_once_is_exclusive_across_instances(pair: tuple[PostgresState, ...]) -> None:
    one, two = pair
    results = await asyncio.gather(*(pair[i % 2].use_once("jti", NOW + 60, NOW) for i in range(20)))
    assert results.count(True) == 1
    # Once it has expired, again exactly one caller takes it.
    results = await asyncio.gather(
        *(s.use_once("jti", NOW + 120, NOW + 60) for s in (one, two) * 10)
    )
    assert results.count(True) == 1


async def test_codes_and_refresh_tokens_are_spent_once_across_instances(
    pair: tuple[PostgresState, ...],
) -> None:
    one, two = pair
    await one.add_account(account(1))
    await one.add_code(code())
    results = await asyncio.gather(*(s.use_code("c1") for s in (one, two) * 5))
    assert results.count(True) == 1
    await two.add_refresh_token(family(), "r1", NOW + 100)
    results = await asyncio.gather(
        *(s.rotate_refresh_token("r1", f"n{i}", NOW + 200) for i, s in enumerate((one, two) * 5))
    )
    assert results.count(True) == 1
    assert len([t for i in range(10) if (t := await one.get_refresh_token(f"n{i}"))]) == 1


async def test_counters_count_every_hit_across_instances(pair: tuple[PostgresState, ...]) -> None:
    one, two = pair
    start = 1_700_000_000.0  # a multiple of the window
    await asyncio.gather(*(s.hit("ip", 100.0, start + 1) for s in (one, two) * 10))
    assert await one.peek("ip", 100.0, start + 2) == 20
    assert await two.hit("ip", 100.0, start + 3) == 21


async def test_restart_keeps_the_state(request: pytest.FixtureRequest) -> None:
    dsn, schema = session_dsn(), schema_for(request.node.nodeid)
    async with PostgresState(dsn, schema=schema) as first:
        await first.add_account(account(1))
        await first.start()  # idempotent
    async with PostgresState(dsn, schema=schema) as second:  # the upgrade is a no-op now
        assert await second.get_account("acct1") == account(1)
    await drop_schema(schema)


async def test_an_unreachable_database_is_busy() -> None:
    store = PostgresState("postgresql://postgres@127.0.0.1:1/none")
    with pytest.raises(StateBusy):
        await store.start()
    with pytest.raises(RuntimeError):
        await store.get_account("acct1")


async def test_a_nul_character_is_an_invalid_value(pair: tuple[PostgresState, ...]) -> None:
    """PostgreSQL text holds no NUL: writes and look-ups with one are refused as malformed
    (the identity provider answers 400), never a 500."""
    one, _ = pair
    with pytest.raises(InvalidValue):
        await one.add_account(account(1, "a\x00b@example.org"))
    with pytest.raises(InvalidValue):
        await one.get_client("client\x00id")
    assert await one.list_accounts() == []
