"""Persistent state of the identity provider: accounts, clients, tokens, keys, counters.

The embedded default is ``SqliteState(settings.root / DB_NAME)``: ``await state.start()``
before use and ``await state.close()`` after (or ``async with SqliteState(path) as state``).
``PostgresState(dsn, schema=...)`` keeps the same state in PostgreSQL, for several hosts.
"""

from pod_server.state.base import (
    Account,
    AlreadyExists,
    AppAccess,
    AuthorizationCode,
    Consent,
    Credential,
    IdpState,
    InvalidValue,
    LoginSession,
    RefreshFamily,
    RefreshToken,
    RegisteredClient,
    StateBusy,
    StateError,
    StoredKey,
)
from pod_server.state.memory import MemoryState
from pod_server.state.postgres import PostgresState
from pod_server.state.sqlite import DB_NAME, SqliteState

__all__ = [
    "DB_NAME",
    "Account",
    "AlreadyExists",
    "AppAccess",
    "AuthorizationCode",
    "Consent",
    "Credential",
    "IdpState",
    "InvalidValue",
    "LoginSession",
    "MemoryState",
    "PostgresState",
    "RefreshFamily",
    "RefreshToken",
    "RegisteredClient",
    "SqliteState",
    "StateBusy",
    "StateError",
    "StoredKey",
]
