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
import contextlib
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

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
        # The primary code: with no busy handler, SQLITE_BUSY_RECOVERY and the like show.
        if (err.sqlite_errorcode & 0xFF) in BUSY_CODES:
            return False
        raise
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
    return True


def create_private(path: Path) -> None:
    """Create the database file readable by its owner only, unless it exists. An existing
    file is not opened: closing a descriptor of it would drop every POSIX lock this
    process holds on it, SQLite's own included."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600))


def use_wal(conn: sqlite3.Connection, timeout: float) -> None:
    """``PRAGMA journal_mode = WAL``, retried for up to ``timeout`` seconds. Two processes
    opening a new file at once both try to switch it, and SQLite answers one of them
    "database is locked" at once, without its busy handler (each holds the shared lock the
    other must see go): so a second worker starting beside the first would die."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as err:
            if (err.sqlite_errorcode & 0xFF) not in BUSY_CODES or time.monotonic() > deadline:
                raise
        time.sleep(0.005)


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
    Calls reach the thread through a plain queue and come back with
    ``call_soon_threadsafe``: a write batch makes one or two such trips, and a
    ``ThreadPoolExecutor``'s (locks, a semaphore, two futures each) cost several times more.
    """

    def __init__(self, owner: str, thread_name: str) -> None:
        self._owner, self._thread_name = owner, thread_name
        self._thread: threading.Thread | None = None
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._conn: sqlite3.Connection | None = None

    @property
    def started(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        if self._thread is None:
            # A daemon: a process that exits without stop() must not hang on it.
            self._thread = threading.Thread(target=self._serve, name=self._thread_name, daemon=True)
            self._thread.start()

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """``fn(*args)`` on the writer thread, after everything submitted before it (and
        run to its end even if the caller is cancelled meanwhile)."""
        if self._thread is None:
            raise RuntimeError(f"{self._owner} is not started")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((fn, args, loop, future))
        return await future

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            fn, args, loop, future = job
            try:
                outcome, failed = fn(*args), False
            except BaseException as exc:  # the caller's to handle, raised where it awaits
                outcome, failed = exc, True
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
                loop.call_soon_threadsafe(_settle, future, outcome, failed)

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
        if self._thread is None:
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
            thread, self._thread = self._thread, None
            self._jobs.put(None)
            thread.join()


# A call for the writer thread: the function, its arguments, and where its outcome goes.
_Job = tuple[
    Callable[..., Any], tuple[object, ...], asyncio.AbstractEventLoop, "asyncio.Future[Any]"
]


def _settle(future: asyncio.Future[Any], outcome: Any, failed: bool) -> None:
    """On the loop: a job's outcome to its caller, unless the caller stopped waiting."""
    if future.cancelled():
        return
    if failed:
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
