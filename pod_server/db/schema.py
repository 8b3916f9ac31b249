"""The one PostgreSQL schema the stores share: every subsystem's migrations, in one order.

Each subsystem has its own list of migrations for its own tables, in
:mod:`pod_server.db.tables` (``storage``, ``idp_state``, ``notifications``, ``audit``). The stores
share one schema, so its one sequence is composed here, below every store: versions
interleave into one sequence recorded in one ``schema_migrations`` table, applied in
version order under one advisory lock by :func:`upgrade`, which every PostgreSQL store
runs on start (and ``pod-server db upgrade`` on demand): a store may share its database
and schema with the others, and any of them brings the whole schema up to date.
"""

from __future__ import annotations

from functools import cache

from pod_server.db.migrations import Migration, in_order, latest
from pod_server.db.postgres import apply_migrations
from pod_server.db.tables.audit import MIGRATIONS as AUDIT
from pod_server.db.tables.idp_state import MIGRATIONS as IDP_STATE
from pod_server.db.tables.notifications import MIGRATIONS as NOTIFICATIONS
from pod_server.db.tables.storage import MIGRATIONS as STORAGE


@cache
def migrations() -> tuple[Migration, ...]:
    """Every subsystem's migrations, by version."""
    return in_order(STORAGE, IDP_STATE, NOTIFICATIONS, AUDIT)


def schema_version() -> int:
    """The version this server's code brings a database to."""
    return latest(migrations())


async def upgrade(dsn: str, *, schema: str | None = None, timeout: float = 60.0) -> int:
    """Bring the database (``schema``, created if need be, else the DSN's default) up to
    :func:`schema_version`; return the version it is at. Safe to run concurrently and
    repeatedly: one run applies the missing migrations in one transaction, under a lock."""
    return await apply_migrations(dsn, migrations(), schema=schema, timeout=timeout)
