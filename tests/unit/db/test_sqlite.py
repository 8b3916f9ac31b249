"""SQLite plumbing: migrations by user_version, and files written by earlier versions."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from pod_server.db.migrations import Migration, in_order, pending
from pod_server.db.sqlite import (
    WriterThread,
    begin_now,
    connect,
    migrate,
    transaction,
    use_wal,
)
from pod_server.errors import ServiceUnavailable
from pod_server.notify.hub import SqliteHub
from pod_server.state import Account, SqliteState
from pod_server.storage.base import Expect, Meta, Put, Staged
from pod_server.storage.file import FileBackend

STEPS = (
    Migration(1, "a", ("CREATE TABLE a (x INTEGER)",)),
    Migration(2, "b", ("CREATE TABLE b (y INTEGER)", "INSERT INTO b VALUES (7)")),
)


def tables(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        return [name for (name,) in rows]


def version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


def create(path: Path, statements: Sequence[str], user_version: int) -> None:
    conn = sqlite3.connect(path)
    try:
        for statement in statements:
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {user_version}")
        conn.commit()
    finally:
        conn.close()


def test_migrate_applies_only_the_missing_steps_in_order(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite3"
    conn = connect(path, 1.0)
    try:
        assert migrate(conn, STEPS[:1], path) == 1
        assert tables(path) == ["a"]
        assert migrate(conn, STEPS, path) == 2
        assert migrate(conn, STEPS, path) == 2  # nothing left to do
    finally:
        conn.close()
    assert tables(path) == ["a", "b"] and version(path) == 2


def test_a_failing_step_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite3"
    broken = (*STEPS, Migration(3, "bad", ("CREATE TABLE c (z)", "NOT SQL")))
    conn = connect(path, 1.0)
    try:
        with pytest.raises(sqlite3.OperationalError):
            migrate(conn, broken, path)
        assert not conn.in_transaction
    finally:
        conn.close()
    assert tables(path) == [] and version(path) == 0


def test_a_newer_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite3"
    create(path, [], 3)
    conn = connect(path, 1.0)
    try:
        with pytest.raises(RuntimeError, match="has schema 3, newer than this server"):
            migrate(conn, STEPS, path)
    finally:
        conn.close()


def test_transaction_rolls_back_on_error_and_maps_a_busy_database(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite3"
    create(path, ["CREATE TABLE t (v INTEGER)"], 0)
    conn, other = connect(path, 0.05), connect(path, 0.05)
    try:
        with pytest.raises(ValueError), transaction(conn):
            conn.execute("INSERT INTO t VALUES (1)")
            raise ValueError("no")
        assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 0
        with transaction(other):  # holds the write lock
            with pytest.raises(ServiceUnavailable), transaction(conn, busy):
                pass
            with pytest.raises(sqlite3.OperationalError), transaction(conn):
                pass  # no mapping asked for: SQLite's own error
    finally:
        conn.close()
        other.close()


def busy() -> ServiceUnavailable:
    return ServiceUnavailable("busy")


def test_begin_now_never_waits_and_keeps_the_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite3"
    create(path, ["CREATE TABLE t (v INTEGER)"], 0)
    conn, other = connect(path, 5.0), connect(path, 5.0)
    try:
        with transaction(other):  # holds the write lock
            started = time.monotonic()
            assert not begin_now(conn, 5.0)
            assert time.monotonic() - started < 1.0  # did not wait the 5 s
            assert not conn.in_transaction
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
        assert begin_now(conn, 5.0)
        assert conn.in_transaction
        conn.execute("ROLLBACK")
    finally:
        conn.close()
        other.close()


def at_once(calls: Sequence[Callable[[], object]]) -> list[object]:
    """Each call on a thread of its own, released together; what each returned or raised."""
    barrier, outcomes = threading.Barrier(len(calls)), [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            outcomes[i] = calls[i]()
        except Exception as err:  # the outcome under test
            outcomes[i] = err

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_two_openers_of_a_new_file_both_get_wal(tmp_path: Path) -> None:
    """Plain ``PRAGMA journal_mode = WAL`` from two connections at once on a new file
    fails one of them about one time in three; ``use_wal`` waits its turn."""
    for trial in range(40):
        path = tmp_path / f"{trial}.sqlite3"
        conns = [connect(path, 5.0) for _ in range(2)]
        try:
            assert at_once([partial(use_wal, conn, 5.0) for conn in conns]) == [None, None]
            assert conns[0].execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        finally:
            for conn in conns:
                conn.close()


def test_use_wal_gives_up_after_its_timeout_and_passes_other_errors(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite3"
    create(path, ["CREATE TABLE t (v INTEGER)"], 0)
    conn, other = connect(path, 0.0), connect(path, 5.0)
    try:
        other.execute("BEGIN EXCLUSIVE")  # rollback journal mode: no switch while held
        started = time.monotonic()
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            use_wal(conn, 0.3)
        assert 0.3 <= time.monotonic() - started < 3.0
        other.execute("ROLLBACK")
        conn.close()
        with pytest.raises(sqlite3.ProgrammingError):
            use_wal(conn, 5.0)  # not a busy database: raised at once
    finally:
        other.close()


async def open_state(root: Path) -> None:
    async with SqliteState(root / "state.sqlite3"):
        pass


async def open_hub(root: Path) -> None:
    hub = SqliteHub(root / "notify.sqlite3")
    await hub.start("o", lambda event: None)
    await hub.close()


async def open_index(root: Path) -> None:
    store = FileBackend(root)
    await store.start()
    await store.close()


@pytest.mark.parametrize("store", [open_state, open_hub, open_index])
def test_stores_opened_at_once_on_a_new_root_all_open(
    tmp_path: Path, store: Callable[[Path], Coroutine[Any, Any, None]]
) -> None:
    """Workers of ``serve --workers N`` start together on an empty root, where every
    store's file is new to all of them (this once killed a worker at startup)."""
    for trial in range(10):
        root = tmp_path / str(trial)
        assert at_once([partial(asyncio.run, store(root)) for _ in range(3)]) == [None] * 3


def test_versions_of_several_lists_must_interleave_without_gaps() -> None:
    first = (Migration(1, "one", ()), Migration(3, "three", ()))
    assert [m.version for m in in_order(first, (Migration(2, "two", ()),))] == [1, 2, 3]
    with pytest.raises(ValueError, match="without gaps"):
        in_order(first)
    with pytest.raises(ValueError, match="without gaps"):
        in_order(first, (Migration(3, "again", ()),))
    assert [m.version for m in pending(STEPS, 1)] == [2]


async def test_writer_thread_runs_in_order_and_refuses_when_stopped(tmp_path: Path) -> None:
    writer = WriterThread("Thing", "test-writer")
    with pytest.raises(RuntimeError, match="Thing is not started"):
        await writer.run(list)
    writer.start()
    conn = await writer.run(lambda: writer.adopt(connect(tmp_path / "w.sqlite3", 1.0)))
    seen: list[int] = []
    await writer.run(seen.append, 1)
    await writer.run(seen.append, 2)
    await writer.stop(lambda: seen.append(3))
    assert seen == [1, 2, 3] and not writer.started
    with pytest.raises(sqlite3.ProgrammingError):
        conn.execute("SELECT 1")  # closed by stop()
    with pytest.raises(RuntimeError, match="Thing is not started"):
        _ = writer.conn


async def test_writer_thread_raises_where_awaited_and_finishes_a_cancelled_call() -> None:
    writer = WriterThread("Thing", "test-writer")
    writer.start()
    try:
        with pytest.raises(ZeroDivisionError):
            await writer.run(lambda: 1 // 0)
        gate, seen = threading.Event(), []
        blocked = asyncio.create_task(writer.run(gate.wait))
        later = asyncio.create_task(writer.run(seen.append, 1))
        await asyncio.sleep(0.05)
        later.cancel()  # queued behind the blocked call: it still runs, in order
        gate.set()
        assert await blocked is True
        await writer.run(lambda: None)
        assert seen == [1]
    finally:
        await writer.stop()


# -- files written before pod_server.db: the schemas as they were committed, frozen ----------

OLD_INDEX = (  # storage/file.py, schema 2
    """CREATE TABLE IF NOT EXISTS resources (
        path TEXT PRIMARY KEY,
        parent TEXT,
        content_type TEXT NOT NULL,
        size INTEGER NOT NULL,
        etag TEXT NOT NULL,
        modified REAL NOT NULL,
        blob TEXT,  -- before body: reading it must not walk the body's overflow pages
        body BLOB
    )""",
    "CREATE INDEX IF NOT EXISTS resources_parent ON resources (parent, path)",
    "CREATE INDEX IF NOT EXISTS resources_blob ON resources (blob) WHERE blob IS NOT NULL",
    """CREATE TABLE IF NOT EXISTS quota_usage (
        root TEXT PRIMARY KEY,
        used INTEGER NOT NULL
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS quota_limits (
        root TEXT PRIMARY KEY,
        byte_limit INTEGER NOT NULL
    ) WITHOUT ROWID""",
    "INSERT INTO resources VALUES ('/d', '/', 'text/plain', 2, 'e1', 1.5, NULL, X'6869')",
    "INSERT INTO quota_limits VALUES ('/', 100)",
)
OLD_STATE_ACCOUNTS = (  # state/sqlite.py, schema 1 (the tables this test touches)
    """CREATE TABLE accounts (
        id TEXT PRIMARY KEY, email TEXT NOT NULL, email_key TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL, created REAL NOT NULL)""",
    """CREATE TABLE webids (
        webid TEXT PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        created REAL NOT NULL)""",
    "INSERT INTO accounts VALUES ('a1', 'A@x.org', 'a@x.org', 'h', 1.0)",
    "INSERT INTO webids VALUES ('https://x.org/#me', 'a1', 1.0)",
)
OLD_HUB = (  # notify/hub.py, schema 1
    """CREATE TABLE IF NOT EXISTS channels (
        id TEXT PRIMARY KEY, type TEXT NOT NULL, topic TEXT NOT NULL, webid TEXT,
        origin TEXT, created REAL NOT NULL, end_at REAL NOT NULL, start_at REAL, rate REAL,
        state TEXT, accept TEXT, send_to TEXT, token_hash TEXT UNIQUE,
        full_iri INTEGER NOT NULL, attached REAL)""",
    "CREATE INDEX IF NOT EXISTS channels_topic ON channels (topic, type)",
    "CREATE INDEX IF NOT EXISTS channels_webid ON channels (webid)",
    """CREATE TABLE IF NOT EXISTS events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, origin TEXT NOT NULL,
        published REAL NOT NULL, body TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS events_published ON events (published)",
    "INSERT INTO channels VALUES ('c1', 'WebSocketChannel2023', '/d', NULL, NULL, 1.0,"
    " 9e9, NULL, NULL, NULL, NULL, NULL, 'tok', 1, NULL)",
)


async def test_an_index_written_before_opens_as_it_was(tmp_path: Path) -> None:
    create(tmp_path / "index.sqlite3", OLD_INDEX, 2)
    store = FileBackend(tmp_path)
    await store.start()
    try:
        assert await store.meta("/d") == Meta("/d", "text/plain", 2, "e1", 1.5)
        assert await (await store.read("/d")).read_all() == b"hi"
        assert [m.path for m in await store.children("/")] == ["/d"]
        assert await store.limits() == {"/": 100}
        await store.apply([Expect("/d", "e1")], [Put("/d", "text/plain", Staged.of(b"new"))])
        assert (await store.usage("/")).used == 3
    finally:
        await store.close()
    assert version(tmp_path / "index.sqlite3") == 4  # brought up to date: audit logs, changes


async def test_idp_state_written_before_opens_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    create(path, OLD_STATE_ACCOUNTS, 1)
    async with SqliteState(path) as state:
        assert await state.get_account("a1") == Account("a1", "A@x.org", "h", 1.0)
        assert await state.account_webids("a1") == ["https://x.org/#me"]
        assert await state.webid_owner("https://x.org/#me") == "a1"
        assert await state.get_app_access("https://x.org/#me", "app") is None  # table added
    assert version(path) == 2


async def test_a_hub_written_before_opens_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "notify.sqlite3"
    create(path, OLD_HUB, 1)
    hub = SqliteHub(path)
    await hub.start("o", lambda event: None)
    try:
        channel = await hub.by_token("tok")
        assert channel is not None and channel.id == "c1" and channel.full_iri is True
        assert channel.topic == "/d" and channel.webid is None and channel.end_at == 9e9
        assert await hub.attach("c1", 2.0) and not await hub.attach("c1", 3.0)
    finally:
        await hub.close()
    assert version(path) == 1
