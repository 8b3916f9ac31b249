"""Both state stores behind one fixture, so every contract test runs against each."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from pod_server.idp.accounts import Passwords
from pod_server.state import IdpState, MemoryState, SqliteState

# Hashing at production cost would make the suite slow; the parameters are not under test.
CHEAP = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture(params=["memory", "sqlite"])
async def state(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[IdpState]:
    store: IdpState = MemoryState() if request.param == "memory" else SqliteState(tmp_path / "s.db")
    await store.start()
    yield store
    await store.close()
