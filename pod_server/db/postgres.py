"""PostgreSQL plumbing of the stores (storage, IdP state, notifications): connection pools,
what counts as "the database cannot serve us now", and applying migrations.

Every store keeps its tables in one schema (``schema``, else the connection's default) and
records the migrations applied there in one ``schema_migrations`` table; see
:mod:`pod_server.db.schema` for the list every subsystem contributes to.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence

import asyncpg

from pod_server.db.migrations import Migration, latest, pending
from pod_server.errors import ServiceUnavailable

log = logging.getLogger(__name__)

MIGRATION_LOCK = 0x706F6473746F7265  # advisory lock key serialising upgrades ("podstore")

# What means "the database cannot serve us now" (-> 503), and what a retry may cure.
UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,  # includes ConnectionError and TimeoutError
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.LockNotAvailableError,
    asyncpg.exceptions.QueryCanceledError,
)
RETRY: tuple[type[BaseException], ...] = (
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.SerializationError,
)

_MIGRATIONS_TABLE = """CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied timestamptz NOT NULL DEFAULT now()
)"""


@contextlib.contextmanager
def unavailable() -> Iterator[None]:
    """Turn "the database cannot be reached or is busy" into a 503."""
    try:
        yield
    except UNAVAILABLE as err:
        raise ServiceUnavailable(f"Storage is unavailable; try again ({err})") from err


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def server_settings(schema: str | None) -> dict[str, str]:
    """Session settings of every connection: ``schema`` (if any) alone on the search path."""
    settings = {"application_name": "pod-server", "jit": "off"}
    if schema is not None:
        settings["search_path"] = quote_ident(schema)
    return settings


async def _no_reset(_conn: asyncpg.Connection) -> None:
    """Pool release hook: asyncpg still rolls back an open transaction; nothing else to undo."""


async def open_pool(
    dsn: str,
    schema: str | None,
    *,
    min_size: int,
    max_size: int,
    lock_timeout: float,
    connect_timeout: float,
) -> asyncpg.Pool:
    """A pool for one of our stores (storage, state, notifications): its schema first on
    the search path, lock waits bounded (a stuck transaction elsewhere fails the call
    instead of hanging it), and no per-release reset queries (we leave no session state)."""
    settings = server_settings(schema)
    settings["lock_timeout"] = str(int(lock_timeout * 1000))
    return await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        server_settings=settings,
        reset=_no_reset,
        timeout=connect_timeout,
    )


async def schema_version(conn: asyncpg.Connection) -> int:
    """The version the connection's schema is at (0: no migrations table yet)."""
    if await conn.fetchval("SELECT to_regclass('schema_migrations')") is None:
        return 0
    return int(await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_migrations"))


async def apply_migrations(
    dsn: str,
    migrations: Sequence[Migration],
    *,
    schema: str | None = None,
    timeout: float = 60.0,
) -> int:
    """Bring the database (``schema``, created if need be, else the DSN's default) up to
    the last of ``migrations``; return the version it is at. Safe to run concurrently and
    repeatedly: one run applies the missing migrations in one transaction, under a lock."""
    target = latest(migrations)
    conn = await asyncpg.connect(dsn, server_settings=server_settings(None), timeout=timeout)
    try:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
            if schema is not None:
                await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}")
                await conn.execute(f"SET LOCAL search_path TO {quote_ident(schema)}")
            await conn.execute(_MIGRATIONS_TABLE)
            current = await schema_version(conn)
            if current > target:
                raise RuntimeError(
                    f"The database schema is at version {current}, newer than this server's"
                    f" {target}: upgrade the server"
                )
            for migration in pending(migrations, current):
                for statement in migration.statements:
                    await conn.execute(statement)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                    migration.version,
                    migration.name,
                )
                log.info("Applied schema migration %d: %s", migration.version, migration.name)
                current = migration.version
            return current
    finally:
        await conn.close()
