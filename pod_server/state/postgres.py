"""IdpState on PostgreSQL (asyncpg): one store for every server process, on any host.

The tables (``idp_*``, see ``db.tables.idp_state``) are migration 2 of the shared schema
(``pod_server.db.schema``), so the state can live beside a ``PostgresBackend`` in one
database and schema; ``start()`` runs the same ``upgrade``. Every method is one statement
or one READ COMMITTED transaction, and each compare-and-set is a single conditional write
(``UPDATE ... WHERE NOT used``, ``INSERT ... ON CONFLICT DO UPDATE ... WHERE expired``):
PostgreSQL re-checks the condition against the row a concurrent writer just committed, so
exactly one caller wins, whichever process it runs in. A unique violation is
``AlreadyExists``; an unreachable database, a full pool or a lock held past
``BUSY_TIMEOUT`` is ``StateBusy``.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from types import TracebackType
from typing import Any, TypeVar

import asyncpg

from pod_server.db.postgres import RETRY, UNAVAILABLE, open_pool
from pod_server.db.schema import upgrade
from pod_server.state.base import (
    REUSE_MEMORY,
    Account,
    AlreadyExists,
    AppAccess,
    AuthorizationCode,
    Consent,
    Credential,
    InvalidValue,
    LoginSession,
    RefreshFamily,
    RefreshToken,
    RegisteredClient,
    StateBusy,
    StoredKey,
    sliding_count,
    window_start,
)

T = TypeVar("T")
BUSY_TIMEOUT = 10.0  # seconds to wait for a connection or a lock, as SqliteState does
COUNTER_MEMORY = 2 * 24 * 3600.0
ATTEMPTS = 3  # a transaction is retried after a deadlock (two cascading deletes)

# A closed connection counts as busy here too: the call is one short statement, safe to
# report as "try again later".
_BUSY: tuple[type[BaseException], ...] = (
    *UNAVAILABLE,
    asyncpg.exceptions.ConnectionDoesNotExistError,
)

_ACCOUNT = "SELECT id, email, password_hash, created FROM idp_accounts"
_CREDENTIAL = (
    "SELECT client_id, secret_hash, label, account_id, webid, created FROM idp_credentials"
)
_CODE_COLUMNS = (
    "code_hash, client_id, account_id, webid, redirect_uri, scope, code_challenge, nonce, "
    "dpop_jkt, family_id, auth_time, expires_at, used"
)
_FAMILY_COLUMNS = "id, client_id, account_id, webid, scope, jkt, auth_time, expires_at, revoked"
_REFRESH = f"""SELECT t.expires_at AS token_expires, t.used AS token_used,
        {", ".join("f." + c for c in _FAMILY_COLUMNS.split(", "))}
    FROM idp_refresh_tokens t JOIN idp_refresh_families f ON f.id = t.family_id
    WHERE t.token_hash = $1"""
# Spend the old token only if unspent and its family live, and add the new one to that
# family, in one statement: a concurrent rotation waits for the row lock, then finds
# ``used`` set and matches nothing.
_ROTATE = """WITH spent AS (
        UPDATE idp_refresh_tokens SET used = true
        WHERE token_hash = $1 AND NOT used
            AND family_id IN (SELECT id FROM idp_refresh_families WHERE NOT revoked)
        RETURNING family_id
    )
    INSERT INTO idp_refresh_tokens (token_hash, family_id, expires_at, used)
    SELECT $2, family_id, $3, false FROM spent RETURNING 1"""
# The count of this window (after the increment) and of the one before, in one statement.
_HIT = """WITH bumped AS (
        INSERT INTO idp_counters (key, window_start, hits) VALUES ($1, $2, 1)
        ON CONFLICT (key, window_start) DO UPDATE SET hits = idp_counters.hits + 1
        RETURNING hits
    )
    SELECT (SELECT hits FROM bumped) AS current,
        coalesce((SELECT hits FROM idp_counters WHERE key = $1 AND window_start = $3), 0)
            AS previous"""
_PEEK = """SELECT
    coalesce((SELECT hits FROM idp_counters WHERE key = $1 AND window_start = $2), 0)
        AS current,
    coalesce((SELECT hits FROM idp_counters WHERE key = $1 AND window_start = $3), 0)
        AS previous"""
# A live record wins (the conditional update matches nothing, so nothing is returned); an
# expired one is replaced. Concurrent inserts of one key serialise on its index entry.
_USE_ONCE = """INSERT INTO idp_once (key, expires_at) VALUES ($1, $2)
    ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at
    WHERE idp_once.expires_at <= $3
    RETURNING 1"""


@contextlib.contextmanager
def _errors(taken: str) -> Iterator[None]:
    """Map database errors onto the state's own: taken values and a busy database."""
    try:
        yield
    except asyncpg.exceptions.UniqueViolationError as err:
        raise AlreadyExists(taken or "already exists") from err
    except asyncpg.exceptions.CharacterNotInRepertoireError as err:
        raise InvalidValue("a value holds a character that cannot be stored (NUL)") from err
    except _BUSY as err:
        raise StateBusy(f"the state database is busy or unreachable ({err})") from err


def _changed(status: str) -> int:
    """The row count of a command status such as ``UPDATE 1`` or ``INSERT 0 1``."""
    return int(status.rsplit(" ", 1)[-1])


class PostgresState:
    """IdpState on PostgreSQL. ``dsn``: a ``postgresql://`` URL; ``schema``: the schema the
    tables live in (created by the upgrade), else the connection's default; ``min_size``
    and ``max_size``: the pool's bounds."""

    def __init__(
        self, dsn: str, *, schema: str | None = None, min_size: int = 1, max_size: int = 4
    ) -> None:
        self.dsn, self.schema = dsn, schema
        self.min_size, self.max_size = min_size, max_size
        self._pool: asyncpg.Pool | None = None

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        if self._pool is not None:
            return
        with _errors(""):
            await upgrade(self.dsn, schema=self.schema, timeout=BUSY_TIMEOUT)
            # A lock held longer than BUSY_TIMEOUT (a stuck transaction elsewhere) is StateBusy.
            self._pool = await open_pool(
                self.dsn,
                self.schema,
                min_size=self.min_size,
                max_size=self.max_size,
                lock_timeout=BUSY_TIMEOUT,
                connect_timeout=BUSY_TIMEOUT,
            )

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def __aenter__(self) -> PostgresState:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # -- running statements ----------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def _connection(self, taken: str = "") -> AsyncIterator[asyncpg.Connection]:
        if self._pool is None:
            raise RuntimeError("PostgresState is not started")
        with _errors(taken):
            # A bounded wait: an exhausted pool is "busy", not a hang.
            async with self._pool.acquire(timeout=BUSY_TIMEOUT) as conn:
                yield conn

    async def _rows(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        async with self._connection() as conn:
            return list(await conn.fetch(sql, *args))

    async def _row(self, sql: str, *args: Any) -> asyncpg.Record | None:
        async with self._connection() as conn:
            return await conn.fetchrow(sql, *args)

    async def _write(self, sql: str, *args: Any, taken: str = "") -> int:
        """One statement (its own transaction); the changed row count."""
        async with self._connection(taken) as conn:
            return _changed(await conn.execute(sql, *args))

    async def _atomic(self, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """``work`` in one transaction, retried when PostgreSQL aborted it as a deadlock."""
        for attempt in range(ATTEMPTS):
            try:
                async with self._connection() as conn, conn.transaction():
                    return await work(conn)
            except RETRY as err:
                if attempt == ATTEMPTS - 1:
                    raise StateBusy("the state database is busy") from err
        raise AssertionError("unreachable")

    # -- accounts -------------------------------------------------------------------------
    async def add_account(self, account: Account) -> None:
        a = account
        await self._write(
            "INSERT INTO idp_accounts (id, email, email_key, password_hash, created) "
            "VALUES ($1, $2, $3, $4, $5)",
            a.id, a.email, a.email.casefold(), a.password_hash, a.created,
            taken="an account with this email exists",
        )  # fmt: skip

    async def get_account(self, account_id: str) -> Account | None:
        row = await self._row(f"{_ACCOUNT} WHERE id = $1", account_id)
        return Account(**dict(row)) if row else None

    async def find_account(self, email: str) -> Account | None:
        row = await self._row(f"{_ACCOUNT} WHERE email_key = $1", email.casefold())
        return Account(**dict(row)) if row else None

    async def list_accounts(self) -> list[Account]:
        rows = await self._rows(f'{_ACCOUNT} ORDER BY created, id COLLATE "C"')
        return [Account(**dict(r)) for r in rows]

    async def set_password_hash(self, account_id: str, password_hash: str) -> bool:
        sql = "UPDATE idp_accounts SET password_hash = $2 WHERE id = $1"
        return await self._write(sql, account_id, password_hash) == 1

    async def delete_account(self, account_id: str) -> list[str]:
        # Everything the account owns goes with it (ON DELETE CASCADE); the WebIDs are
        # read from what the delete removed, so they are exactly the ones unlinked.
        # The choices made for its WebIDs' apps go too (keyed by WebID: no foreign key).
        rows = await self._rows(
            """WITH gone AS (DELETE FROM idp_accounts WHERE id = $1 RETURNING id),
            webids AS (
                SELECT w.webid FROM idp_webids w JOIN gone g ON w.account_id = g.id),
            apps AS (DELETE FROM idp_app_access a USING webids WHERE a.webid = webids.webid)
            SELECT webid FROM webids ORDER BY webid""",
            account_id,
        )
        return [r["webid"] for r in rows]

    async def link_webid(self, account_id: str, webid: str, now: float) -> None:
        await self._write(
            "INSERT INTO idp_webids (webid, account_id, created) VALUES ($1, $2, $3)",
            webid, account_id, now,
            taken="this WebID is linked to an account already",
        )  # fmt: skip

    async def unlink_webid(self, webid: str) -> bool:
        return await self._write("DELETE FROM idp_webids WHERE webid = $1", webid) == 1

    async def account_webids(self, account_id: str) -> list[str]:
        sql = "SELECT webid FROM idp_webids WHERE account_id = $1 ORDER BY webid"
        return [r["webid"] for r in await self._rows(sql, account_id)]

    async def webid_owner(self, webid: str) -> str | None:
        row = await self._row("SELECT account_id FROM idp_webids WHERE webid = $1", webid)
        return row["account_id"] if row else None

    # -- clients --------------------------------------------------------------------------
    async def add_credential(self, credential: Credential) -> None:
        c = credential
        await self._write(
            "INSERT INTO idp_credentials (client_id, secret_hash, label, account_id, webid, "
            "created) VALUES ($1, $2, $3, $4, $5, $6)",
            c.client_id, c.secret_hash, c.label, c.account_id, c.webid, c.created,
            taken="client id taken",
        )  # fmt: skip

    async def get_credential(self, client_id: str) -> Credential | None:
        row = await self._row(f"{_CREDENTIAL} WHERE client_id = $1", client_id)
        return Credential(**dict(row)) if row else None

    async def list_credentials(self, account_id: str) -> list[Credential]:
        sql = f"{_CREDENTIAL} WHERE account_id = $1 ORDER BY created, client_id"
        return [Credential(**dict(r)) for r in await self._rows(sql, account_id)]

    async def delete_credential(self, client_id: str) -> bool:
        sql = "DELETE FROM idp_credentials WHERE client_id = $1"
        return await self._write(sql, client_id) == 1

    async def add_client(self, client: RegisteredClient) -> None:
        metadata = json.dumps(dict(client.metadata), separators=(",", ":"))
        await self._write(
            "INSERT INTO idp_clients (client_id, metadata, secret_hash, created) "
            "VALUES ($1, $2::jsonb, $3, $4)",
            client.client_id, metadata, client.secret_hash, client.created,
            taken="client id taken",
        )  # fmt: skip

    async def get_client(self, client_id: str) -> RegisteredClient | None:
        row = await self._row(
            "SELECT client_id, metadata::text AS metadata, secret_hash, created "
            "FROM idp_clients WHERE client_id = $1",
            client_id,
        )
        if row is None:
            return None
        metadata = json.loads(row["metadata"])
        return RegisteredClient(row["client_id"], metadata, row["secret_hash"], row["created"])

    # -- codes and refresh tokens ---------------------------------------------------------
    async def add_code(self, code: AuthorizationCode) -> None:
        c = code
        placeholders = ", ".join(f"${i}" for i in range(1, 14))
        await self._write(
            f"INSERT INTO idp_codes ({_CODE_COLUMNS}) VALUES ({placeholders})",
            c.code_hash, c.client_id, c.account_id, c.webid, c.redirect_uri, c.scope,
            c.code_challenge, c.nonce, c.dpop_jkt, c.family_id, c.auth_time, c.expires_at,
            c.used,
        )  # fmt: skip

    async def get_code(self, code_hash: str) -> AuthorizationCode | None:
        sql = f"SELECT {_CODE_COLUMNS} FROM idp_codes WHERE code_hash = $1"
        row = await self._row(sql, code_hash)
        return AuthorizationCode(**dict(row)) if row else None

    async def use_code(self, code_hash: str) -> bool:
        # Compare-and-set: a racing caller waits for the row, then sees ``used``.
        sql = "UPDATE idp_codes SET used = true WHERE code_hash = $1 AND NOT used"
        return await self._write(sql, code_hash) == 1

    async def add_refresh_token(
        self, family: RefreshFamily, token_hash: str, expires_at: float
    ) -> None:
        f = family

        async def work(conn: asyncpg.Connection) -> None:
            placeholders = ", ".join(f"${i}" for i in range(1, 10))
            await conn.execute(
                f"INSERT INTO idp_refresh_families ({_FAMILY_COLUMNS}) "
                f"VALUES ({placeholders}) ON CONFLICT (id) DO NOTHING",
                f.id, f.client_id, f.account_id, f.webid, f.scope, f.jkt, f.auth_time,
                f.expires_at, f.revoked,
            )  # fmt: skip
            await conn.execute(
                "INSERT INTO idp_refresh_tokens (token_hash, family_id, expires_at, used) "
                "VALUES ($1, $2, $3, false)",
                token_hash, f.id, expires_at,
            )  # fmt: skip

        await self._atomic(work)

    async def get_refresh_token(self, token_hash: str) -> RefreshToken | None:
        row = await self._row(_REFRESH, token_hash)
        if row is None:
            return None
        fields = {k: v for k, v in row.items() if not k.startswith("token_")}
        family = RefreshFamily(**fields)
        return RefreshToken(token_hash, family, row["token_expires"], row["token_used"])

    async def rotate_refresh_token(self, old_hash: str, new_hash: str, expires_at: float) -> bool:
        return await self._row(_ROTATE, old_hash, new_hash, expires_at) is not None

    async def revoke_family(self, family_id: str) -> None:
        await self._write("UPDATE idp_refresh_families SET revoked = true WHERE id = $1", family_id)

    # -- consents and sessions ------------------------------------------------------------
    async def remember_consent(self, consent: Consent) -> None:
        c = consent
        await self._write(
            """INSERT INTO idp_consents (account_id, client_id, scope, webid, created)
            VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account_id, client_id) DO UPDATE
            SET scope = EXCLUDED.scope, webid = EXCLUDED.webid, created = EXCLUDED.created""",
            c.account_id, c.client_id, c.scope, c.webid, c.created,
        )  # fmt: skip

    async def list_consents(self, account_id: str) -> list[Consent]:
        rows = await self._rows(
            "SELECT account_id, client_id, scope, webid, created FROM idp_consents "
            "WHERE account_id = $1 ORDER BY created, client_id",
            account_id,
        )
        return [Consent(**dict(r)) for r in rows]

    async def forget_app(self, account_id: str, client_id: str) -> bool:
        async def work(conn: asyncpg.Connection) -> bool:
            gone = _changed(
                await conn.execute(
                    "DELETE FROM idp_consents WHERE account_id = $1 AND client_id = $2",
                    account_id,
                    client_id,
                )
            )
            gone += _changed(
                await conn.execute(
                    "UPDATE idp_refresh_families SET revoked = true "
                    "WHERE account_id = $1 AND client_id = $2 AND NOT revoked",
                    account_id,
                    client_id,
                )
            )
            return gone > 0

        return await self._atomic(work)

    async def get_consent(self, account_id: str, client_id: str) -> Consent | None:
        row = await self._row(
            "SELECT account_id, client_id, scope, webid, created FROM idp_consents "
            "WHERE account_id = $1 AND client_id = $2",
            account_id,
            client_id,
        )
        return Consent(**dict(row)) if row else None

    async def set_app_access(self, access: AppAccess) -> None:
        a = access
        await self._write(
            """INSERT INTO idp_app_access (webid, client_id, full_access, targets, until, created)
            VALUES ($1, $2, $3, $4::jsonb, $5, $6) ON CONFLICT (webid, client_id) DO UPDATE
            SET full_access = EXCLUDED.full_access, targets = EXCLUDED.targets,
                until = EXCLUDED.until, created = EXCLUDED.created""",
            a.webid, a.client_id, a.full, json.dumps(a.targets), a.until, a.created,
        )  # fmt: skip

    async def get_app_access(self, webid: str, client_id: str) -> AppAccess | None:
        row = await self._row(
            "SELECT webid, client_id, full_access, targets::text AS targets, until, created "
            "FROM idp_app_access WHERE webid = $1 AND client_id = $2",
            webid,
            client_id,
        )
        if row is None:
            return None
        targets = tuple((str(url), str(modes)) for url, modes in json.loads(row["targets"]))
        return AppAccess(
            row["webid"], row["client_id"], row["full_access"], targets, row["until"],
            row["created"],
        )  # fmt: skip

    async def add_session(self, session: LoginSession) -> None:
        s = session
        await self._write(
            "INSERT INTO idp_sessions (id_hash, account_id, auth_time, expires_at) "
            "VALUES ($1, $2, $3, $4)",
            s.id_hash, s.account_id, s.auth_time, s.expires_at,
        )  # fmt: skip

    async def get_session(self, id_hash: str, now: float) -> LoginSession | None:
        row = await self._row(
            "SELECT id_hash, account_id, auth_time, expires_at FROM idp_sessions "
            "WHERE id_hash = $1 AND expires_at > $2",
            id_hash,
            now,
        )
        return LoginSession(**dict(row)) if row else None

    async def delete_session(self, id_hash: str) -> None:
        await self._write("DELETE FROM idp_sessions WHERE id_hash = $1", id_hash)

    async def list_sessions(self, account_id: str, now: float) -> list[LoginSession]:
        rows = await self._rows(
            "SELECT id_hash, account_id, auth_time, expires_at FROM idp_sessions "
            "WHERE account_id = $1 AND expires_at > $2 ORDER BY auth_time, id_hash",
            account_id,
            now,
        )
        return [LoginSession(**dict(r)) for r in rows]

    async def end_sessions(self, account_id: str) -> None:
        await self._write("DELETE FROM idp_sessions WHERE account_id = $1", account_id)

    # -- keys -----------------------------------------------------------------------------
    async def list_keys(self) -> list[StoredKey]:
        rows = await self._rows(
            "SELECT kid, private_jwk, created, use_from, retire_after, drop_after "
            "FROM idp_keys ORDER BY use_from, kid"
        )
        return [StoredKey(**dict(r)) for r in rows]

    async def add_key(self, key: StoredKey) -> None:
        k = key
        await self._write(
            "INSERT INTO idp_keys (kid, private_jwk, created, use_from, retire_after, "
            "drop_after) VALUES ($1, $2, $3, $4, $5, $6)",
            k.kid, k.private_jwk, k.created, k.use_from, k.retire_after, k.drop_after,
            taken="key id taken",
        )  # fmt: skip

    # -- counters -------------------------------------------------------------------------
    async def hit(self, key: str, window: float, now: float) -> float:
        start = window_start(now, window)
        row = await self._row(_HIT, key, start, start - window)
        assert row is not None  # the statement always yields one row
        return sliding_count(row["current"], row["previous"], now, window)

    async def peek(self, key: str, window: float, now: float) -> float:
        start = window_start(now, window)
        row = await self._row(_PEEK, key, start, start - window)
        assert row is not None
        return sliding_count(row["current"], row["previous"], now, window)

    async def reset(self, key: str) -> None:
        await self._write("DELETE FROM idp_counters WHERE key = $1", key)

    async def use_once(self, key: str, expires_at: float, now: float) -> bool:
        return await self._row(_USE_ONCE, key, expires_at, now) is not None

    async def purge(self, now: float) -> None:
        forget = now - REUSE_MEMORY
        statements = (
            ("DELETE FROM idp_codes WHERE expires_at < $1", forget),
            ("DELETE FROM idp_refresh_tokens WHERE expires_at < $1", forget),
            ("DELETE FROM idp_refresh_families WHERE expires_at < $1", forget),
            ("DELETE FROM idp_sessions WHERE expires_at <= $1", now),
            ("DELETE FROM idp_keys WHERE drop_after <= $1", now),
            ("DELETE FROM idp_once WHERE expires_at <= $1", now),
            ("DELETE FROM idp_counters WHERE window_start < $1", now - COUNTER_MEMORY),
        )

        async def work(conn: asyncpg.Connection) -> None:
            for sql, bound in statements:
                await conn.execute(sql, bound)

        await self._atomic(work)
