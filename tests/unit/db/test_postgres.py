"""PostgreSQL plumbing: one schema whose migrations each subsystem owns."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from pod_server.db.postgres import apply_migrations, quote_ident, schema_version
from pod_server.db.schema import migrations, upgrade
from pod_server.db.tables.audit import MIGRATIONS as AUDIT
from pod_server.db.tables.idp_state import MIGRATIONS as IDP_STATE
from pod_server.db.tables.notifications import MIGRATIONS as NOTIFICATIONS
from pod_server.db.tables.storage import MIGRATIONS as STORAGE
from pod_server.storage.postgres import PostgresBackend
from tests.unit.storage import pg_support


def test_each_subsystem_owns_its_steps_and_together_they_number_one_to_n() -> None:
    assert [m.version for m in STORAGE] == [1, 6]
    assert [m.version for m in IDP_STATE] == [2, 4]
    assert [m.version for m in NOTIFICATIONS] == [3]
    assert [m.version for m in AUDIT] == [5]
    assert migrations() == (
        STORAGE[0], IDP_STATE[0], *NOTIFICATIONS, IDP_STATE[1], *AUDIT, STORAGE[1]
    )  # fmt: skip
    assert all("audit_" in statement for statement in AUDIT[0].statements)
    assert all("idp_" in statement for step in IDP_STATE for statement in step.statements)
    assert all("notify_" in statement for statement in NOTIFICATIONS[0].statements)


async def versions(dsn: str, schema: str) -> list[int]:
    conn = await asyncpg.connect(dsn, server_settings={"search_path": quote_ident(schema)})
    try:
        assert await schema_version(conn) == max([0, *await _recorded(conn)])
        return await _recorded(conn)
    finally:
        await conn.close()


async def _recorded(conn: asyncpg.Connection) -> list[int]:
    if await conn.fetchval("SELECT to_regclass('schema_migrations')") is None:
        return []
    rows = await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
    return [row["version"] for row in rows]


async def test_a_database_at_an_older_version_is_brought_up_to_date(tmp_path: Path) -> None:
    dsn, schema = pg_support.session_dsn(), pg_support.schema_for(str(tmp_path / "old"))
    try:
        assert await versions(dsn, schema) == []
        # As a server that knew only the storage's first tables left it.
        assert await apply_migrations(dsn, STORAGE[:1], schema=schema) == 1
        assert await versions(dsn, schema) == [1]
        store = PostgresBackend(dsn, schema=schema, auto_upgrade=False, gc_interval=0)
        with pytest.raises(RuntimeError, match="at version 1, this server needs 6"):
            await store.start()
        assert await upgrade(dsn, schema=schema) == 6
        assert await versions(dsn, schema) == [1, 2, 3, 4, 5, 6]
        await store.start()
        await store.close()
        with pytest.raises(RuntimeError, match="version 6, newer than this server's 1"):
            await apply_migrations(dsn, STORAGE[:1], schema=schema)
    finally:
        await pg_support.drop_schema(schema)
