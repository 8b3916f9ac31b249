"""The embedded IdpState: one SQLite file (WAL) that several server processes share.

Every call runs on one dedicated thread with its own connection, so the event loop never
waits on the disk. Writes are ``BEGIN IMMEDIATE`` transactions: a compare-and-set (a code
used once, a refresh token rotated once) holds the database write lock from its check to
its write, which makes it atomic across processes too. The file holds private signing
keys and secret hashes, so it is created readable by its owner only.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from pod_server.db.migrations import Migration
from pod_server.db.sqlite import (
    WriterThread,
    connect,
    create_private,
    migrate,
    transaction,
    use_wal,
)
from pod_server.state.base import (
    REUSE_MEMORY,
    Account,
    AlreadyExists,
    AppAccess,
    AuthorizationCode,
    Consent,
    Credential,
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
DB_NAME = "state.sqlite3"
BUSY_TIMEOUT = 10.0
COUNTER_MEMORY = 2 * 24 * 3600.0

_SCHEMA_1 = (
    """CREATE TABLE accounts (
        id TEXT PRIMARY KEY, email TEXT NOT NULL, email_key TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL, created REAL NOT NULL)""",
    """CREATE TABLE webids (
        webid TEXT PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        created REAL NOT NULL)""",
    "CREATE INDEX webids_account ON webids (account_id)",
    """CREATE TABLE credentials (
        client_id TEXT PRIMARY KEY, secret_hash TEXT NOT NULL, label TEXT NOT NULL,
        account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        webid TEXT NOT NULL, created REAL NOT NULL)""",
    "CREATE INDEX credentials_account ON credentials (account_id)",
    """CREATE TABLE clients (
        client_id TEXT PRIMARY KEY, metadata TEXT NOT NULL, secret_hash TEXT,
        created REAL NOT NULL)""",
    """CREATE TABLE codes (
        code_hash TEXT PRIMARY KEY, client_id TEXT NOT NULL,
        account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        webid TEXT NOT NULL, redirect_uri TEXT NOT NULL, scope TEXT NOT NULL,
        code_challenge TEXT NOT NULL, nonce TEXT, dpop_jkt TEXT, family_id TEXT NOT NULL,
        auth_time REAL NOT NULL, expires_at REAL NOT NULL, used INTEGER NOT NULL)""",
    """CREATE TABLE families (
        id TEXT PRIMARY KEY, client_id TEXT NOT NULL,
        account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        webid TEXT NOT NULL, scope TEXT NOT NULL, jkt TEXT NOT NULL, auth_time REAL NOT NULL,
        expires_at REAL NOT NULL, revoked INTEGER NOT NULL)""",
    """CREATE TABLE refresh_tokens (
        token_hash TEXT PRIMARY KEY,
        family_id TEXT NOT NULL REFERENCES families (id) ON DELETE CASCADE,
        expires_at REAL NOT NULL, used INTEGER NOT NULL)""",
    "CREATE INDEX refresh_family ON refresh_tokens (family_id)",
    """CREATE TABLE consents (
        account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        client_id TEXT NOT NULL, scope TEXT NOT NULL, webid TEXT NOT NULL,
        created REAL NOT NULL, PRIMARY KEY (account_id, client_id))""",
    """CREATE TABLE sessions (
        id_hash TEXT PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        auth_time REAL NOT NULL, expires_at REAL NOT NULL)""",
    "CREATE INDEX sessions_account ON sessions (account_id)",
    """CREATE TABLE signing_keys (
        kid TEXT PRIMARY KEY, private_jwk TEXT NOT NULL, created REAL NOT NULL,
        use_from REAL NOT NULL, retire_after REAL NOT NULL, drop_after REAL NOT NULL)""",
    """CREATE TABLE counters (
        key TEXT NOT NULL, window_start REAL NOT NULL, count INTEGER NOT NULL,
        PRIMARY KEY (key, window_start))""",
    "CREATE TABLE used_once (key TEXT PRIMARY KEY, expires_at REAL NOT NULL)",
    # Deleting an account cascades (ON DELETE CASCADE, foreign keys on per connection);
    # these indexes keep that from scanning whole tables.
    "CREATE INDEX codes_account ON codes (account_id)",
    "CREATE INDEX families_account ON families (account_id)",
)
# What each person let each app do with their WebID (the consent page); targets as JSON.
_SCHEMA_2 = (
    """CREATE TABLE app_access (
        webid TEXT NOT NULL, client_id TEXT NOT NULL, full_access INTEGER NOT NULL,
        targets TEXT NOT NULL, until REAL, created REAL NOT NULL,
        PRIMARY KEY (webid, client_id))""",
)
MIGRATIONS = (
    Migration(1, "accounts, clients, codes, tokens, sessions, keys", _SCHEMA_1),
    Migration(2, "what each app may do with a WebID", _SCHEMA_2),
)

_CODE_COLUMNS = (
    "code_hash, client_id, account_id, webid, redirect_uri, scope, code_challenge, nonce, "
    "dpop_jkt, family_id, auth_time, expires_at, used"
)
_FAMILY_COLUMNS = "id, client_id, account_id, webid, scope, jkt, auth_time, expires_at, revoked"


class SqliteState:
    """IdpState on SQLite. ``path`` is the database file, e.g. ``ROOT / "state.sqlite3"``."""

    def __init__(self, path: Path, *, synchronous: str = "FULL") -> None:
        self.path = Path(path)
        self._synchronous = synchronous  # FULL: a commit survives power loss
        self._writer = WriterThread("SqliteState", "pod-idp-state")  # every call runs there

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        if self._writer.started:
            return
        self._writer.start()
        try:
            await self._run(self._open)
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        await self._writer.stop()

    async def __aenter__(self) -> SqliteState:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def _open(self) -> None:
        create_private(self.path)
        conn = self._writer.adopt(connect(self.path, BUSY_TIMEOUT))
        conn.row_factory = sqlite3.Row
        use_wal(conn, BUSY_TIMEOUT)
        conn.execute(f"PRAGMA synchronous = {self._synchronous}")
        conn.execute("PRAGMA foreign_keys = ON")
        migrate(conn, MIGRATIONS, self.path, _busy)

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        return await self._writer.run(fn, *args)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with transaction(self._connection(), _busy) as conn:
            yield conn

    def _connection(self) -> sqlite3.Connection:
        return self._writer.conn

    async def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return await self._run(lambda: self._connection().execute(sql, params).fetchall())

    async def _row(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        rows = await self._rows(sql, params)
        return rows[0] if rows else None

    async def _write(self, sql: str, params: Sequence[Any] = (), taken: str = "") -> int:
        """One statement in its own transaction; the changed row count."""

        def work() -> int:
            with self._transaction() as conn:
                try:
                    return conn.execute(sql, params).rowcount
                except sqlite3.IntegrityError as err:
                    raise AlreadyExists(taken or "already exists") from err

        return await self._run(work)

    async def _atomic(self, work: Callable[[sqlite3.Connection], T]) -> T:
        def run() -> T:
            with self._transaction() as conn:
                return work(conn)

        return await self._run(run)

    # -- accounts -------------------------------------------------------------------------
    async def add_account(self, account: Account) -> None:
        await self._write(
            "INSERT INTO accounts VALUES (?, ?, ?, ?, ?)",
            (account.id, account.email, account.email.casefold(), account.password_hash,
             account.created),
            "an account with this email exists",
        )  # fmt: skip

    async def get_account(self, account_id: str) -> Account | None:
        row = await self._row("SELECT * FROM accounts WHERE id = ?", (account_id,))
        return _account(row) if row else None

    async def find_account(self, email: str) -> Account | None:
        row = await self._row("SELECT * FROM accounts WHERE email_key = ?", (email.casefold(),))
        return _account(row) if row else None

    async def list_accounts(self) -> list[Account]:
        return [_account(r) for r in await self._rows("SELECT * FROM accounts ORDER BY created")]

    async def set_password_hash(self, account_id: str, password_hash: str) -> bool:
        sql = "UPDATE accounts SET password_hash = ? WHERE id = ?"
        return await self._write(sql, (password_hash, account_id)) == 1

    async def delete_account(self, account_id: str) -> list[str]:
        def work(conn: sqlite3.Connection) -> list[str]:
            query = "SELECT webid FROM webids WHERE account_id = ? ORDER BY webid"
            webids = [r["webid"] for r in conn.execute(query, (account_id,))]
            # Everything the account owns goes with it (ON DELETE CASCADE), and so do the
            # choices made for its WebIDs' apps (keyed by WebID: no foreign key).
            conn.execute("DELETE FROM accounts WHERE id = ?", (account_id,))
            conn.executemany("DELETE FROM app_access WHERE webid = ?", [(w,) for w in webids])
            return webids

        return await self._atomic(work)

    async def link_webid(self, account_id: str, webid: str, now: float) -> None:
        await self._write(
            "INSERT INTO webids VALUES (?, ?, ?)",
            (webid, account_id, now),
            "this WebID is linked to an account already",
        )

    async def unlink_webid(self, webid: str) -> bool:
        return await self._write("DELETE FROM webids WHERE webid = ?", (webid,)) == 1

    async def account_webids(self, account_id: str) -> list[str]:
        sql = "SELECT webid FROM webids WHERE account_id = ? ORDER BY webid"
        return [r["webid"] for r in await self._rows(sql, (account_id,))]

    async def webid_owner(self, webid: str) -> str | None:
        row = await self._row("SELECT account_id FROM webids WHERE webid = ?", (webid,))
        return row["account_id"] if row else None

    # -- clients --------------------------------------------------------------------------
    async def add_credential(self, credential: Credential) -> None:
        c = credential
        await self._write(
            "INSERT INTO credentials VALUES (?, ?, ?, ?, ?, ?)",
            (c.client_id, c.secret_hash, c.label, c.account_id, c.webid, c.created),
            "client id taken",
        )

    async def get_credential(self, client_id: str) -> Credential | None:
        row = await self._row("SELECT * FROM credentials WHERE client_id = ?", (client_id,))
        return Credential(**dict(row)) if row else None

    async def list_credentials(self, account_id: str) -> list[Credential]:
        sql = "SELECT * FROM credentials WHERE account_id = ? ORDER BY created, client_id"
        return [Credential(**dict(r)) for r in await self._rows(sql, (account_id,))]

    async def delete_credential(self, client_id: str) -> bool:
        return await self._write("DELETE FROM credentials WHERE client_id = ?", (client_id,)) == 1

    async def add_client(self, client: RegisteredClient) -> None:
        metadata = json.dumps(dict(client.metadata), separators=(",", ":"))
        await self._write(
            "INSERT INTO clients VALUES (?, ?, ?, ?)",
            (client.client_id, metadata, client.secret_hash, client.created),
            "client id taken",
        )

    async def get_client(self, client_id: str) -> RegisteredClient | None:
        row = await self._row("SELECT * FROM clients WHERE client_id = ?", (client_id,))
        if row is None:
            return None
        metadata = json.loads(row["metadata"])
        return RegisteredClient(row["client_id"], metadata, row["secret_hash"], row["created"])

    # -- codes and refresh tokens ---------------------------------------------------------
    async def add_code(self, code: AuthorizationCode) -> None:
        c = code
        await self._write(
            f"INSERT INTO codes ({_CODE_COLUMNS}) VALUES ({', '.join('?' * 13)})",
            (c.code_hash, c.client_id, c.account_id, c.webid, c.redirect_uri, c.scope,
             c.code_challenge, c.nonce, c.dpop_jkt, c.family_id, c.auth_time, c.expires_at,
             int(c.used)),
        )  # fmt: skip

    async def get_code(self, code_hash: str) -> AuthorizationCode | None:
        row = await self._row(
            f"SELECT {_CODE_COLUMNS} FROM codes WHERE code_hash = ?", (code_hash,)
        )
        if row is None:
            return None
        return AuthorizationCode(**{**dict(row), "used": bool(row["used"])})

    async def use_code(self, code_hash: str) -> bool:
        sql = "UPDATE codes SET used = 1 WHERE code_hash = ? AND used = 0"
        return await self._write(sql, (code_hash,)) == 1

    async def add_refresh_token(
        self, family: RefreshFamily, token_hash: str, expires_at: float
    ) -> None:
        f = family

        def work(conn: sqlite3.Connection) -> None:
            conn.execute(
                f"INSERT OR IGNORE INTO families ({_FAMILY_COLUMNS}) VALUES ({', '.join('?' * 9)})",
                (f.id, f.client_id, f.account_id, f.webid, f.scope, f.jkt, f.auth_time,
                 f.expires_at, int(f.revoked)),
            )  # fmt: skip
            conn.execute(
                "INSERT INTO refresh_tokens VALUES (?, ?, ?, 0)", (token_hash, f.id, expires_at)
            )

        await self._atomic(work)

    async def get_refresh_token(self, token_hash: str) -> RefreshToken | None:
        columns = ", ".join(f"f.{c.strip()}" for c in _FAMILY_COLUMNS.split(","))
        row = await self._row(
            f"SELECT t.expires_at AS token_expires, t.used AS token_used, {columns} "
            "FROM refresh_tokens t JOIN families f ON f.id = t.family_id WHERE t.token_hash = ?",
            (token_hash,),
        )
        if row is None:
            return None
        fields = {k: row[k] for k in row.keys() if not k.startswith("token_")}  # noqa: SIM118
        family = RefreshFamily(**{**fields, "revoked": bool(fields["revoked"])})
        return RefreshToken(token_hash, family, row["token_expires"], bool(row["token_used"]))

    async def rotate_refresh_token(self, old_hash: str, new_hash: str, expires_at: float) -> bool:
        def work(conn: sqlite3.Connection) -> bool:
            spent = conn.execute(
                "UPDATE refresh_tokens SET used = 1 WHERE token_hash = ? AND used = 0 AND "
                "family_id IN (SELECT id FROM families WHERE revoked = 0) RETURNING family_id",
                (old_hash,),
            ).fetchone()
            if spent is None:
                return False
            conn.execute(
                "INSERT INTO refresh_tokens VALUES (?, ?, ?, 0)",
                (new_hash, spent["family_id"], expires_at),
            )
            return True

        return await self._atomic(work)

    async def revoke_family(self, family_id: str) -> None:
        await self._write("UPDATE families SET revoked = 1 WHERE id = ?", (family_id,))

    # -- consents and sessions ------------------------------------------------------------
    async def remember_consent(self, consent: Consent) -> None:
        c = consent
        await self._write(
            "INSERT OR REPLACE INTO consents VALUES (?, ?, ?, ?, ?)",
            (c.account_id, c.client_id, c.scope, c.webid, c.created),
        )

    async def get_consent(self, account_id: str, client_id: str) -> Consent | None:
        sql = "SELECT * FROM consents WHERE account_id = ? AND client_id = ?"
        row = await self._row(sql, (account_id, client_id))
        return Consent(**dict(row)) if row else None

    async def list_consents(self, account_id: str) -> list[Consent]:
        sql = "SELECT * FROM consents WHERE account_id = ? ORDER BY created, client_id"
        return [Consent(**dict(r)) for r in await self._rows(sql, (account_id,))]

    async def forget_app(self, account_id: str, client_id: str) -> bool:
        def work(conn: sqlite3.Connection) -> bool:
            both = (account_id, client_id)
            gone = conn.execute(
                "DELETE FROM consents WHERE account_id = ? AND client_id = ?", both
            ).rowcount
            gone += conn.execute(
                "UPDATE families SET revoked = 1 "
                "WHERE account_id = ? AND client_id = ? AND revoked = 0",
                both,
            ).rowcount
            return gone > 0

        return await self._atomic(work)

    async def set_app_access(self, access: AppAccess) -> None:
        a = access
        await self._write(
            "INSERT OR REPLACE INTO app_access VALUES (?, ?, ?, ?, ?, ?)",
            (a.webid, a.client_id, int(a.full), json.dumps(a.targets), a.until, a.created),
        )

    async def get_app_access(self, webid: str, client_id: str) -> AppAccess | None:
        sql = "SELECT * FROM app_access WHERE webid = ? AND client_id = ?"
        row = await self._row(sql, (webid, client_id))
        if row is None:
            return None
        targets = tuple((str(url), str(modes)) for url, modes in json.loads(row["targets"]))
        return AppAccess(
            row["webid"], row["client_id"], bool(row["full_access"]), targets, row["until"],
            row["created"],
        )  # fmt: skip

    async def add_session(self, session: LoginSession) -> None:
        s = session
        await self._write(
            "INSERT INTO sessions VALUES (?, ?, ?, ?)",
            (s.id_hash, s.account_id, s.auth_time, s.expires_at),
        )

    async def get_session(self, id_hash: str, now: float) -> LoginSession | None:
        sql = "SELECT * FROM sessions WHERE id_hash = ? AND expires_at > ?"
        row = await self._row(sql, (id_hash, now))
        return LoginSession(**dict(row)) if row else None

    async def delete_session(self, id_hash: str) -> None:
        await self._write("DELETE FROM sessions WHERE id_hash = ?", (id_hash,))

    async def list_sessions(self, account_id: str, now: float) -> list[LoginSession]:
        sql = (
            "SELECT * FROM sessions WHERE account_id = ? AND expires_at > ?"
            " ORDER BY auth_time, id_hash"
        )
        return [LoginSession(**dict(r)) for r in await self._rows(sql, (account_id, now))]

    async def end_sessions(self, account_id: str) -> None:
        await self._write("DELETE FROM sessions WHERE account_id = ?", (account_id,))

    # -- keys -----------------------------------------------------------------------------
    async def list_keys(self) -> list[StoredKey]:
        rows = await self._rows("SELECT * FROM signing_keys ORDER BY use_from, kid")
        return [StoredKey(**dict(r)) for r in rows]

    async def add_key(self, key: StoredKey) -> None:
        k = key
        await self._write(
            "INSERT INTO signing_keys VALUES (?, ?, ?, ?, ?, ?)",
            (k.kid, k.private_jwk, k.created, k.use_from, k.retire_after, k.drop_after),
            "key id taken",
        )

    # -- counters -------------------------------------------------------------------------
    async def hit(self, key: str, window: float, now: float) -> float:
        start = window_start(now, window)

        def work(conn: sqlite3.Connection) -> float:
            conn.execute(
                "INSERT INTO counters VALUES (?, ?, 1) ON CONFLICT (key, window_start) "
                "DO UPDATE SET count = count + 1",
                (key, start),
            )
            return _count(conn, key, window, now)

        return await self._atomic(work)

    async def peek(self, key: str, window: float, now: float) -> float:
        return await self._run(lambda: _count(self._connection(), key, window, now))

    async def reset(self, key: str) -> None:
        await self._write("DELETE FROM counters WHERE key = ?", (key,))

    async def use_once(self, key: str, expires_at: float, now: float) -> bool:
        def work(conn: sqlite3.Connection) -> bool:
            # An expired record is replaced; a live one wins (RETURNING only when written).
            written = conn.execute(
                "INSERT INTO used_once VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET "
                "expires_at = excluded.expires_at WHERE used_once.expires_at <= ? RETURNING 1",
                (key, expires_at, now),
            ).fetchone()
            return written is not None

        return await self._atomic(work)

    async def purge(self, now: float) -> None:
        forget = now - REUSE_MEMORY

        def work(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM codes WHERE expires_at < ?", (forget,))
            conn.execute("DELETE FROM refresh_tokens WHERE expires_at < ?", (forget,))
            conn.execute("DELETE FROM families WHERE expires_at < ?", (forget,))
            conn.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,))
            conn.execute("DELETE FROM signing_keys WHERE drop_after <= ?", (now,))
            conn.execute("DELETE FROM used_once WHERE expires_at <= ?", (now,))
            conn.execute("DELETE FROM counters WHERE window_start < ?", (now - COUNTER_MEMORY,))

        await self._atomic(work)


def _busy() -> StateBusy:
    return StateBusy("the state database is busy")


def _account(row: sqlite3.Row) -> Account:
    return Account(row["id"], row["email"], row["password_hash"], row["created"])


def _count(conn: sqlite3.Connection, key: str, window: float, now: float) -> float:
    start = window_start(now, window)
    rows = conn.execute(
        "SELECT window_start, count FROM counters WHERE key = ? AND window_start IN (?, ?)",
        (key, start, start - window),
    ).fetchall()
    counts = {r["window_start"]: r["count"] for r in rows}
    return sliding_count(counts.get(start, 0), counts.get(start - window, 0), now, window)
