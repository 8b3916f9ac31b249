"""PostgreSQL for tests: one throw-away database per test session, one schema per backend.

The server is ``$POD_TEST_POSTGRES`` (default ``postgresql://postgres@127.0.0.1:5432/test``),
used only to create (and at exit drop) a database ``pod_test_<pid>_<random>``. Each backend
gets its own schema in it, so tests are isolated and runs never see each other's data.

When PostgreSQL cannot be reached, tests that need it are skipped with the reason, except
under CI (the ``CI`` environment variable set), where they fail: CI provides PostgreSQL.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import hashlib
import os
import re
import secrets
import threading
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import pytest

from pod_server.storage.base import Backend

ENV = "POD_TEST_POSTGRES"
DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/test"
PREFIX = "pod_test_"

T = TypeVar("T")

_lock = threading.Lock()
_state: dict[str, str] = {}  # "dsn" once created, or "error" once found unreachable


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion from sync code, even while an event loop is running."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def admin_dsn() -> str:
    return os.environ.get(ENV) or DEFAULT_DSN


def _with_database(dsn: str, name: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path="/" + name))


def _shown(dsn: str) -> str:
    parts = urlsplit(dsn)
    host = parts.hostname or "localhost"
    return f"{parts.scheme}://{host}:{parts.port or 5432}{parts.path}"


async def _create_database() -> str:
    import asyncpg

    conn = await asyncpg.connect(admin_dsn(), timeout=3)
    try:
        # Leftovers of sessions that died before dropping theirs (their process is gone).
        for (name,) in await conn.fetch(
            "SELECT datname FROM pg_database WHERE datname LIKE $1", PREFIX + "%"
        ):
            match = re.fullmatch(PREFIX + r"(\d+)_[0-9a-f]+", name)
            if match and not _alive(int(match[1])):
                with contextlib.suppress(asyncpg.PostgresError):
                    await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        name = f"{PREFIX}{os.getpid()}_{secrets.token_hex(4)}"
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    atexit.register(_drop_database, name)
    return _with_database(admin_dsn(), name)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _drop_database(name: str) -> None:
    async def drop() -> None:
        import asyncpg

        conn = await asyncpg.connect(admin_dsn(), timeout=3)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    with contextlib.suppress(Exception):
        asyncio.run(drop())


def session_dsn() -> str:
    """The DSN of this session's database; skips (fails under CI) without PostgreSQL."""
    with _lock:
        if "dsn" not in _state and "error" not in _state:
            try:
                _state["dsn"] = run_sync(_create_database())
            except Exception as err:
                _state["error"] = (
                    f"PostgreSQL is not reachable at {_shown(admin_dsn())} (set {ENV}):"
                    f" {type(err).__name__}: {err}"
                )
    if "error" in _state:
        if os.environ.get("CI"):
            pytest.fail(_state["error"] + " -- CI must provide PostgreSQL", pytrace=False)
        pytest.skip(_state["error"])
    return _state["dsn"]


def schema_for(key: str) -> str:
    return "t_" + hashlib.sha1(key.encode()).hexdigest()[:20]


def postgres_backend(root: Path, **options: Any) -> Backend:
    """A backend in a schema of its own, keyed by ``root``: a test that restarts a server
    on the same root (a fresh ``tmp_path`` per test) finds the same data again."""
    from pod_server.storage.postgres import PostgresBackend

    options.setdefault("max_connections", 4)
    return PostgresBackend(session_dsn(), schema=schema_for(str(root)), **options)


async def drop_schema(schema: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(session_dsn())
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()
