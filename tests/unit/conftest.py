"""Fixtures shared by unit tests of several packages: every IdP state store behind one
fixture (`state`), so each contract test runs against each (used by state/ and idp/)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from pod_server.idp.accounts import Passwords
from pod_server.state import IdpState, MemoryState, PostgresState, SqliteState
from tests.unit.storage.pg_support import drop_schema, schema_for, session_dsn

# Hashing at production cost would make the suite slow; the parameters are not under test.
CHEAP = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


def postgres_state(key: str) -> PostgresState:
    """A PostgresState in a schema of its own (keyed by ``key``) in the session's database;
    skips (fails under CI) without PostgreSQL."""
    return PostgresState(session_dsn(), schema=schema_for(key), max_size=4)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
async def state(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[IdpState]:
    store: IdpState
    if request.param == "memory":
        store = MemoryState()
    elif request.param == "sqlite":
        store = SqliteState(tmp_path / "s.db")
    else:
        store = postgres_state(request.node.nodeid)
    await store.start()
    yield store
    await store.close()
    if isinstance(store, PostgresState) and store.schema is not None:
        await drop_schema(store.schema)  # keep the session's database small
