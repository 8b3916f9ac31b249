"""The base URL a storage's pods were made for, recorded in the storage at its first use.

Pod IRIs are absolute: WebIDs, ``pim:storage`` links, ACLs naming agents and resources,
client registrations. A server started on an existing storage with another base URL (a
forgotten ``--base-url``, another ``--port``), or a ``user add`` run with other settings
than the server's, would serve or make pods whose IRIs disagree with the rest. So the
first ``serve`` (or ``user add``) records its base URL, and every later command compares.

Where: beside the data it describes, in the storage itself, so that every host of a
PostgreSQL storage and every copy of a file storage carry it: a ``base-url`` file in the
root of a file storage, a one-row table in a PostgreSQL storage's schema. Not a resource
(clients would see it, exports would carry it) and not the identity provider's state
(whose interface three stores implement for accounts and tokens).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from pod_server.db.postgres import quote_ident
from pod_server.settings import Settings, StartupError

FILE_NAME = "base-url"
TABLE = "pod_server_base_url"


def check(settings: Settings, *, record: bool) -> None:
    """Refuse settings whose base URL is not the storage's; with ``record``, a storage
    that has none yet gets this one."""
    found = asyncio.run(_recorded(settings, settings.public_base if record else None))
    if found is not None and normal(found) != normal(settings.public_base):
        raise StartupError(mismatch(found, settings.public_base))


def mismatch(recorded: str, wanted: str) -> str:
    return (
        f"this storage's pods were made for {recorded}, not {wanted}: give the same "
        f"--base-url (or --host/--port) as its server ({recorded}); pod IRIs cannot change "
        "in place, move pods to another server with pod-server export and import"
    )


def normal(url: str) -> str:
    """Scheme and host are case-insensitive; one trailing slash."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/") + "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, "", ""))


async def _recorded(settings: Settings, claim: str | None) -> str | None:
    """The recorded base URL; if there is none and ``claim`` is given, ``claim`` is
    recorded (atomically: of two first starts, one wins and the other is compared)."""
    if settings.on_postgresql:
        return await _on_postgresql(settings, claim)
    return _in_file(settings.root / FILE_NAME, claim)


def _in_file(path: Path, claim: str | None) -> str | None:
    if claim is not None and path.parent.is_dir() and not path.exists():
        handle, staged = tempfile.mkstemp(prefix=".base-url-", dir=path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(claim + "\n")
            os.link(staged, path)  # fails if another process recorded one first
        except FileExistsError:
            pass
        finally:
            os.unlink(staged)
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


async def _on_postgresql(settings: Settings, claim: str | None) -> str | None:
    dsn, schema = settings.postgresql
    table = f"{quote_ident(schema)}.{TABLE}" if schema else TABLE
    try:
        conn = await asyncpg.connect(dsn, timeout=10.0)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        raise StartupError(f"cannot reach PostgreSQL: {exc}") from None
    try:
        if claim is not None:
            await _create(conn, schema, table)
            await conn.execute(
                f"INSERT INTO {table} (id, url) VALUES (1, $1) ON CONFLICT (id) DO NOTHING",
                claim,
            )
        try:
            found: str | None = await conn.fetchval(f"SELECT url FROM {table} WHERE id = 1")
        except asyncpg.UndefinedTableError:
            return None
        return found
    finally:
        await conn.close()


async def _create(conn: asyncpg.Connection, schema: str | None, table: str) -> None:
    statements = [f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}"] if schema else []
    statements.append(
        f"CREATE TABLE IF NOT EXISTS {table} (id int PRIMARY KEY CHECK (id = 1), url text NOT NULL)"
    )
    for statement in statements:
        # "IF NOT EXISTS" races with a concurrent first start; either way it exists now.
        with contextlib.suppress(asyncpg.UniqueViolationError):
            await conn.execute(statement)
