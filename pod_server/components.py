"""The storage and state stores the settings name, opened the same way by the server
(create_app) and by the host's commands (``pod-server user ...``, transfers)."""

from __future__ import annotations

from pod_server.settings import Settings
from pod_server.state import DB_NAME, IdpState, PostgresState, SqliteState
from pod_server.storage.base import Backend
from pod_server.storage.file import FileBackend
from pod_server.storage.postgres import PostgresBackend

# Bodies up to this size live in the SQLite index: reading them there is about twice as
# fast as from a file (measured on 100 KB; SQLite's own guidance puts the crossover near it).
INLINE_BYTES = 128 * 1024


def open_backend(settings: Settings) -> Backend:
    """The storage the settings name: PostgreSQL for a postgresql:// URL, else files."""
    if settings.on_postgresql:
        dsn, schema = settings.postgresql
        return PostgresBackend(dsn, schema=schema)
    return FileBackend(settings.root, inline_threshold=INLINE_BYTES)


def open_state(settings: Settings) -> IdpState:
    """The identity provider's state store (accounts, sessions, one-time values): in the
    storage's PostgreSQL, shared by every host, else SQLite beside the files."""
    if settings.on_postgresql:
        dsn, schema = settings.postgresql
        return PostgresState(dsn, schema=schema)
    return SqliteState(settings.root / DB_NAME)
