"""SQLite plumbing of the embedded stores (storage index, IdP state, notification hub).

Each store writes through one :class:`WriterThread`: a dedicated thread owning the store's
write connection, so the event loop never waits on the disk and the process's writes never
contend with each other. A write is a :func:`transaction` (``BEGIN IMMEDIATE``, which takes
the database's write lock up front, so a check and the write after it see one state even
against other processes). A store's schema is versioned by ``PRAGMA user_version`` and
brought up to date by :func:`migrate` from the store's own list of migrations.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from pod_server.db.migrations import Migration, latest, pending

T = TypeVar("T")
BUSY_CODES = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def connect(path: Path, timeout: float) -> sqlite3.Connection:
    """A connection usable from any thread; ``timeout``: seconds to wait for another
    process's write lock. isolation_level=None: transactions are begun explicitly, and
    a plain SELECT autocommits, so every read sees the latest commit of any process."""
    return sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)


@contextmanager
def transaction(
    conn: sqlite3.Connection, busy: Callable[[], Exception] | None = None
) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any error. When the write lock stays
    taken past the busy timeout, ``busy()`` is raised (the store's own error), if given."""
    begin(conn, busy)
    try:
        yield conn
        commit(conn)
    finally:
        rollback(conn)


def begin(conn: sqlite3.Connection, busy: Callable[[], Exception] | None = None) -> None:
    """BEGIN IMMEDIATE, waiting up to the busy timeout for another process's write lock."""
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as err:
        if busy is not None and err.sqlite_errorcode in BUSY_CODES:
            raise busy() from err
        raise


def begin_now(conn: sqlite3.Connection, timeout: float) -> bool:
    """BEGIN IMMEDIATE if the write lock is free this instant (never waits: fit for the
    event loop); False when another process holds it. ``timeout``: the connection's busy
    timeout in seconds, restored after."""
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as err:
        if err.sqlite_errorcode in BUSY_CODES:
            return False
        raise
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
    return True


def commit(conn: sqlite3.Connection) -> None:
    """COMMIT (with synchronous = FULL: durable when it returns), rolled back on error."""
    try:
        conn.execute("COMMIT")
    finally:
        rollback(conn)


def rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        conn.execute("ROLLBACK")


def migrate(
    conn: sqlite3.Connection,
    migrations: Sequence[Migration],
    where: object,
    busy: Callable[[], Exception] | None = None,
) -> int:
    """Apply the steps newer than the file's ``user_version`` in one transaction; return
    the version it is at. A file newer than ``migrations`` (``where``) is refused."""
    with transaction(conn, busy):
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version > latest(migrations):
            raise RuntimeError(f"{where} has schema {version}, newer than this server")
        for migration in pending(migrations, version):
            for statement in migration.statements:
                conn.execute(statement)
            version = migration.version
            conn.execute(f"PRAGMA user_version = {version}")
        return version


class WriterThread:
    """The one thread that writes a store, and the connection only it touches.

    ``owner`` names the store in "not started" errors. ``start()`` creates the thread;
    ``adopt()`` (on the thread) hands it the write connection; ``stop()`` closes both.
    """

    def __init__(self, owner: str, thread_name: str) -> None:
        self._owner, self._thread_name = owner, thread_name
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None

    @property
    def started(self) -> bool:
        return self._executor is not None

    def start(self) -> None:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix=self._thread_name)

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """``fn(*args)`` on the writer thread, after everything submitted before it."""
        if self._executor is None:
            raise RuntimeError(f"{self._owner} is not started")
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def adopt(self, conn: sqlite3.Connection) -> sqlite3.Connection:
        self._conn = conn
        return conn

    @property
    def conn(self) -> sqlite3.Connection:
        """The write connection: use it on the writer thread, or while its owner makes sure
        the thread is not using it (``FileBackend`` holds a lock around every use)."""
        if self._conn is None:
            raise RuntimeError(f"{self._owner} is not started")
        return self._conn

    async def stop(self, before: Callable[[], None] | None = None) -> None:
        """Run ``before`` on the thread, close the connection there, end the thread."""
        if self._executor is None:
            return

        def finish() -> None:
            try:
                if before is not None:
                    before()
            finally:
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None

        try:
            await self.run(finish)
        finally:
            self._executor.shutdown(wait=True)
            self._executor = None
