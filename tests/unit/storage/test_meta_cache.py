"""The metadata cache: its bookkeeping, and that it stays exact across backend instances
sharing one storage (processes or hosts), on every backend that keeps one."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from pod_server.storage import file as file_module
from pod_server.storage import postgres as postgres_module
from pod_server.storage.base import ABSENT, Backend, Delete, Expect, Meta, Put, Staged, Touch
from pod_server.storage.file import FileBackend
from pod_server.storage.meta_cache import MetaCache, NextRun
from pod_server.storage.postgres import PostgresBackend
from tests.unit.storage import pg_support

TURTLE = "text/turtle"


def meta(path: str, etag: str = "e1") -> Meta:
    return Meta(path, TURTLE, 1, etag, 0.0)


# -- the cache itself ------------------------------------------------------------------------


def test_a_lookup_answers_present_and_absent_paths_and_names_the_rest() -> None:
    cache = MetaCache()
    cache.fill(["/a", "/a.acl"], {"/a": meta("/a")}, cache.epoch)
    found, missing = cache.lookup(["/a", "/a.acl", "/.acl"])
    assert found == {"/a": meta("/a")}
    assert missing == ["/.acl"]  # "/a.acl" is known to be absent


def test_invalidated_paths_are_read_again() -> None:
    cache = MetaCache()
    cache.fill(["/a", "/b"], {"/a": meta("/a"), "/b": meta("/b")}, cache.epoch)
    cache.invalidate(["/a"])
    assert cache.lookup(["/a", "/b"]) == ({"/b": meta("/b")}, ["/a"])
    cache.clear()
    assert cache.lookup(["/b"]) == ({}, ["/b"])


def test_a_lookup_that_raced_an_invalidation_is_not_kept() -> None:
    cache = MetaCache()
    began = cache.epoch  # a lookup starts reading the database...
    cache.invalidate(["/a"])  # ...a sync drops /a meanwhile...
    cache.fill(["/a"], {"/a": meta("/a", "old")}, began)  # ...its answer may predate that
    assert cache.lookup(["/a"]) == ({}, ["/a"])


def test_the_cache_keeps_at_most_its_size_dropping_the_oldest() -> None:
    cache = MetaCache(entries=2)
    for path in ("/a", "/b", "/c"):
        cache.fill([path], {}, cache.epoch)
    assert len(cache) == 2
    assert cache.lookup(["/a", "/b", "/c"])[1] == ["/a"]


# -- exact across instances ------------------------------------------------------------------


@asynccontextmanager
async def two_instances(
    kind: str, root: Path, **options: object
) -> AsyncIterator[tuple[Backend, Backend]]:
    """Two backends on one storage, as two processes (or hosts) of a deployment."""
    if kind == "file":
        one: Backend = FileBackend(root)
        two: Backend = FileBackend(root)
    else:
        one = pg_support.postgres_backend(root, **options)
        two = pg_support.postgres_backend(root, **options)
    await one.start()
    await two.start()
    try:
        yield one, two
    finally:
        await two.close()
        await one.close()


async def put(backend: Backend, path: str, data: bytes = b"x") -> Meta:
    return (await backend.apply([], [Put(path, TURTLE, Staged.of(data))]))[path]


@pytest.mark.parametrize("kind", ["file", "postgres"])
async def test_every_write_through_one_is_seen_at_once_through_the_other(
    kind: str, tmp_path: Path
) -> None:
    async with two_instances(kind, tmp_path) as (writer, reader):
        wanted = ["/c/", "/c/doc", "/c/.acl", "/.acl"]
        for n in range(5):
            await reader.metas(wanted)  # warm the reader's cache (absent paths too)
            await reader.meta("/c/doc")
            created = await writer.apply(
                [Expect("/c/.acl", ABSENT)], [Put("/c/.acl", TURTLE, Staged.of(b"acl"))]
            )
            assert (await reader.metas(wanted)).get("/c/.acl") == created["/c/.acl"]
            replaced = await put(writer, "/c/doc", b"v%d" % n)
            assert await reader.meta("/c/doc") == replaced
            touched = await writer.apply([], [Touch("/c/doc")])
            assert (await reader.metas(wanted))["/c/doc"] == touched["/c/doc"]
            await writer.apply([], [Delete("/c/.acl")])
            assert "/c/.acl" not in await reader.metas(wanted)
        # The writer's own cache follows its writes too.
        assert await writer.metas(wanted) == await reader.metas(wanted)


async def test_a_reader_behind_a_pruned_change_log_starts_afresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(file_module, "CHANGES_KEPT", 2)
    monkeypatch.setattr(file_module, "PRUNE_CHANGES_EVERY", 1)
    async with two_instances("file", tmp_path) as (writer, reader):
        old = await put(writer, "/a")
        assert await reader.meta("/a") == old
        new = await put(writer, "/a", b"new")
        for i in range(5):  # the log keeps only the last two: /a's row goes
            await put(writer, f"/other{i}")
        assert await reader.meta("/a") == new


async def test_a_reader_whose_snapshot_outlived_the_outbox_starts_afresh(
    tmp_path: Path,
) -> None:
    # With no retention, every sync finds its snapshot too old to trust the outbox.
    async with two_instances("postgres", tmp_path, outbox_retention=0.0) as (writer, reader):
        assert await reader.meta("/a") is None
        written = await put(writer, "/a")
        assert isinstance(writer, PostgresBackend) and writer._pool is not None
        await writer._pool.execute("DELETE FROM outbox")  # as the collector would, later
        assert await reader.meta("/a") == written


async def settle() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


async def test_callers_during_a_run_share_a_later_one_never_one_under_way() -> None:
    runs: list[asyncio.Event] = []

    async def work() -> None:
        runs.append(asyncio.Event())
        await runs[-1].wait()

    run = NextRun(work, parallel=2)
    first = asyncio.create_task(run())
    await settle()
    second = asyncio.create_task(run())  # a second run starts at once
    await settle()
    assert len(runs) == 2
    later = [asyncio.create_task(run()) for _ in range(5)]  # both busy: they queue
    await settle()
    assert len(runs) == 2
    runs[0].set()
    await first
    await settle()
    assert len(runs) == 3  # the queued run started as soon as a slot freed
    runs[1].set()
    await second
    await settle()
    assert not any(t.done() for t in later)  # runs 0 and 1 began before they asked
    runs[2].set()
    await asyncio.gather(*later)
    assert len(runs) == 3  # one run served all five


async def test_a_failed_run_fails_its_callers_and_the_next_one_runs_afresh() -> None:
    calls = 0

    async def work() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ValueError("down")

    run = NextRun(work)
    with pytest.raises(ValueError):
        await run()
    await run()
    assert calls == 2


async def test_the_file_backend_watches_the_wal_index_and_can_do_without_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with two_instances("file", tmp_path / "with") as (writer, reader):
        assert isinstance(reader, FileBackend)
        before = reader._wal_header()
        assert before is not None
        await put(writer, "/a")
        assert reader._wal_header() != before  # a commit elsewhere changes it
    # Where the WAL index cannot be read, the pragma alone keeps the cache exact.
    monkeypatch.setattr(file_module.WalIndex, "open", classmethod(lambda cls, _db: None))
    async with two_instances("file", tmp_path / "without") as (writer, reader):
        assert await reader.meta("/a") is None
        written = await put(writer, "/a")
        assert await reader.meta("/a") == written


async def test_a_reader_too_far_behind_the_outbox_starts_afresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(postgres_module, "SYNC_ROWS", 2)
    async with two_instances("postgres", tmp_path) as (writer, reader):
        assert await reader.meta("/a") is None
        for path in ("/x", "/y", "/a"):  # /a's row is past the two a sync reads
            await put(writer, path)
        assert await reader.meta("/a") is not None


def test_long_paths_count_against_the_cache_by_their_length() -> None:
    cache = MetaCache(entries=100, characters=10)
    cache.fill(["/aaaa", "/bbbb"], {}, cache.epoch)  # 10 characters: both fit
    cache.invalidate(["/aaaa"])
    cache.fill(["/cccc"], {}, cache.epoch)
    assert len(cache) == 2
    cache.fill(["/dddddddd"], {}, cache.epoch)  # pushes the oldest ones out
    assert cache.lookup(["/bbbb", "/cccc", "/dddddddd"])[1] == ["/bbbb", "/cccc"]


DEAD_MAN_SWITCH = 128  # the byte of the -shm file SQLite's unix VFS locks while it uses it

HOLDER = """
import fcntl, os, struct, sys
if not os.path.exists(sys.argv[1]):
    sys.exit(print(0))
fd = os.open(sys.argv[1], os.O_RDWR)
asked = struct.pack("hhqqi", fcntl.F_WRLCK, os.SEEK_SET, int(sys.argv[2]), 1, 0)
kind, _, _, _, pid = struct.unpack("hhqqi", fcntl.fcntl(fd, fcntl.F_GETLK, asked))
print(0 if kind == fcntl.F_UNLCK else pid)
"""


def shm_lock_holder(db: Path) -> int:
    """The process holding SQLite's lock on the WAL index, as another process sees it
    (0: nobody, or no file; a process never sees its own POSIX locks)."""
    args = [sys.executable, "-c", HOLDER, f"{db}-shm", str(DEAD_MAN_SWITCH)]
    return int(subprocess.run(args, capture_output=True, text=True, check=True).stdout)


async def test_watching_the_wal_index_keeps_sqlites_locks_on_it(tmp_path: Path) -> None:
    """Closing a descriptor of a file drops every POSIX lock the process holds on it:
    the watch must not close one while SQLite uses the file, or the next process to open
    the database truncates the index under the others (a worker died of SIGBUS)."""
    store = FileBackend(tmp_path)
    await store.start()
    try:
        assert store._wal_header() is not None
        await put(store, "/a")
        assert shm_lock_holder(tmp_path / "index.sqlite3") == os.getpid()
    finally:
        await store.close()
    assert shm_lock_holder(tmp_path / "index.sqlite3") == 0
