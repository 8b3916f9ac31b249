"""One contract suite run over every storage backend, plus file-backend specifics."""

from __future__ import annotations

import asyncio
import random
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import closing
from pathlib import Path

import pytest

from pod_server.errors import NotFound, PayloadTooLarge, StaleState
from pod_server.storage import file as file_module
from pod_server.storage.base import (
    ABSENT,
    CHUNK_SIZE,
    PRESENT,
    Backend,
    Delete,
    Expect,
    Meta,
    Mutation,
    Put,
    Quota,
    QuotaExceeded,
    Staged,
    Stored,
    Touch,
    Usage,
)
from pod_server.storage.file import BlobStored, FileBackend
from pod_server.storage.memory import MemoryBackend
from pod_server.storage.postgres import PostgresBackend
from tests.unit.storage import pg_support

LARGE = 3 * 1024 * 1024
OCTETS = "application/octet-stream"
ETAG = re.compile(r"[0-9a-z]+")


# -- helpers -------------------------------------------------------------------------------


async def chunks_of(data: bytes, size: int = CHUNK_SIZE) -> AsyncIterator[bytes]:
    for pos in range(0, len(data), size):
        yield data[pos : pos + size]


def large_body(seed: int = 1, size: int = LARGE) -> bytes:
    return random.Random(seed).randbytes(size)


async def stage(backend: Backend, data: bytes) -> Staged:
    return await backend.stage(chunks_of(data), limit=len(data) + 1)


async def put(
    backend: Backend,
    path: str,
    data: bytes = b"",
    content_type: str = OCTETS,
    expects: Sequence[Expect] = (),
) -> Meta:
    staged = await stage(backend, data)
    result = await backend.apply(expects, [Put(path, content_type, staged)])
    return result[path]


async def body(backend: Backend, path: str) -> bytes:
    return await (await backend.read(path)).read_all()


async def ranged(stored: Stored, start: int = 0, end: int | None = None) -> bytes:
    parts = [chunk async for chunk in stored.iter_range(start, end)]
    assert all(0 < len(part) <= CHUNK_SIZE for part in parts)
    return b"".join(parts)


def blob_files(root: Path) -> list[Path]:
    return sorted(p for p in (root / "blobs").rglob("*") if p.is_file())


async def pg_fetch(backend: Backend, query: str, *args: object) -> list[tuple[object, ...]]:
    """Run one statement on a PostgreSQL backend's database behind its back."""
    assert isinstance(backend, PostgresBackend) and backend._pool is not None
    return [tuple(row) for row in await backend._pool.fetch(query, *args)]


async def stored_blobs(backend: Backend, root: Path) -> int:
    """Large bodies the backend keeps aside (blob files, blob rows), in any state."""
    if isinstance(backend, PostgresBackend):
        return len(await pg_fetch(backend, "SELECT id FROM blobs"))
    return len(blob_files(root))


def make_backend(kind: str, root: Path) -> Backend:
    if kind == "postgres":
        return pg_support.postgres_backend(root)
    return MemoryBackend() if kind == "memory" else FileBackend(root)


@pytest.fixture(params=["memory", "file", "postgres"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    store = make_backend(request.param, tmp_path)
    await store.start()
    yield store
    await store.close()


@pytest.fixture
async def file_backend(tmp_path: Path) -> AsyncIterator[FileBackend]:
    store = FileBackend(tmp_path)
    await store.start()
    yield store
    await store.close()


# -- contract: reads and writes ------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [b"", b"hello", bytes(range(256)) * 4, b"\0" * 100, b"a\0b\r\n\xff"],
    ids=["empty", "text", "all-bytes", "nuls", "mixed"],
)
async def test_put_read_meta_round_trip(backend: Backend, data: bytes) -> None:
    before = time.time()
    written = await put(backend, "/doc", data, "text/plain")
    assert written.path == "/doc"
    assert written.content_type == "text/plain"
    assert written.size == len(data)
    assert ETAG.fullmatch(written.etag)
    assert before <= written.modified <= time.time()
    assert await backend.meta("/doc") == written
    stored = await backend.read("/doc")
    assert stored.meta == written
    assert await stored.read_all() == data
    assert await ranged(stored) == data


async def test_metas_gives_those_that_exist_in_one_call(backend: Backend) -> None:
    doc = await put(backend, "/a/doc", b"x", "text/plain")
    other = await put(backend, "/b", b"yy", "text/turtle")
    found = await backend.metas(["/a/doc", "/missing", "/b", "/a/doc"])
    assert found == {"/a/doc": doc, "/b": other}
    assert await backend.metas([]) == {}
    assert await backend.metas(["/nothing", "/a/doc.acl"]) == {}


async def test_limits_lists_what_set_limit_recorded(backend: Backend) -> None:
    assert await backend.limits() == {}
    await backend.set_limit("/a/", 100)
    await backend.set_limit("/b/", 5)
    await backend.set_limit("/b/", 7)
    await backend.set_limit("/c/", 9)
    await backend.set_limit("/c/", None)
    assert await backend.limits() == {"/a/": 100, "/b/": 7}


async def test_missing_resource(backend: Backend) -> None:
    assert await backend.meta("/nothing") is None
    with pytest.raises(NotFound):
        await backend.read("/nothing")
    assert await backend.children("/nothing/") == []


async def test_container_put_has_empty_body(backend: Backend) -> None:
    result = await backend.apply([], [Put("/c/", "text/turtle")])
    assert result["/c/"].is_container
    assert result["/c/"].size == 0
    assert await body(backend, "/c/") == b""


async def test_children_lists_direct_members_in_path_order(backend: Backend) -> None:
    paths = ["/", "/a/", "/a/x", "/a/b/", "/a/b/deep", "/a/.acl", "/a/c", "/ab", "/b/"]
    await backend.apply([], [Put(p, OCTETS, Staged.of(p.encode())) for p in reversed(paths)])
    listed = await backend.children("/a/")
    assert [m.path for m in listed] == ["/a/.acl", "/a/b/", "/a/c", "/a/x"]
    assert listed[0] == await backend.meta("/a/.acl")
    assert [m.path for m in await backend.children("/")] == ["/a/", "/ab", "/b/"]
    assert [m.path for m in await backend.children("/a/b/")] == ["/a/b/deep"]
    assert await backend.children("/b/") == []
    assert await backend.children("/a/x") == []


async def test_long_listing_is_complete_and_ordered(backend: Backend) -> None:
    names = [f"/big/{i:04d}" for i in range(600)] + ["/big/sub/", "/big/sub/inner"]
    random.Random(7).shuffle(names)
    await backend.apply([], [Put(p, OCTETS) for p in names])
    listed = [m.path for m in await backend.children("/big/")]
    assert listed == sorted(p for p in names if p != "/big/sub/inner")


async def test_children_pages_by_keyset(backend: Backend) -> None:
    names = [f"/big/{i:04d}" for i in range(600)] + ["/big/sub/", "/big/sub/inner", "/bigger"]
    names += ["/big/B", "/big/a", "/big/~x", "/big/%20", "/big/.acl", "/big/Z/"]
    random.Random(8).shuffle(names)
    await backend.apply([], [Put(p, OCTETS) for p in names])
    everything = await backend.children("/big/")
    expected = sorted(p for p in names if p.startswith("/big/") and p != "/big/sub/inner")
    assert [m.path for m in everything] == expected  # code point order: "B" < "a" < "~x"
    pages: list[list[Meta]] = []
    after: str | None = None
    while not pages or len(pages[-1]) == 50:
        pages.append(await backend.children("/big/", after=after, limit=50))
        after = pages[-1][-1].path if pages[-1] else after
    assert [len(page) for page in pages] == [50] * 12 + [7]
    assert [m for page in pages for m in page] == everything
    # "after" need not be a member; members equal to it are excluded.
    assert [m.path for m in await backend.children("/big/", after="/big/0599", limit=3)] == [
        "/big/B",
        "/big/Z/",
        "/big/a",
    ]
    assert [m.path for m in await backend.children("/big/", after="/big/059")] == expected[
        expected.index("/big/0590") :
    ]
    assert await backend.children("/big/", after="/big/~x") == []
    assert await backend.children("/big/", limit=0) == []
    assert await backend.children("/big/", after="/big/", limit=1) == everything[:1]
    assert await backend.children("/nothing/", after="/nothing/a", limit=5) == []
    for bad in [-1, True, 2.0, "3"]:
        with pytest.raises(ValueError):
            await backend.children("/big/", limit=bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        await backend.children("/big/", after=5)  # type: ignore[arg-type]


async def test_delete(backend: Backend) -> None:
    await put(backend, "/gone", b"bye")
    result = await backend.apply([Expect("/gone", PRESENT)], [Delete("/gone")])
    assert result == {}
    assert await backend.meta("/gone") is None
    with pytest.raises(NotFound):
        await backend.read("/gone")


async def test_touch_changes_etag_and_modified_only(backend: Backend) -> None:
    old = await put(backend, "/c/", b"", "text/turtle")
    await asyncio.sleep(0.01)
    result = await backend.apply([], [Touch("/c/")])
    new = result["/c/"]
    assert new.etag != old.etag
    assert new.modified > old.modified
    assert (new.path, new.content_type, new.size) == (old.path, old.content_type, old.size)
    assert await backend.meta("/c/") == new


async def test_touch_of_missing_path_is_ignored(backend: Backend) -> None:
    assert await backend.apply([], [Touch("/nope/")]) == {}
    assert await backend.meta("/nope/") is None


async def test_etag_changes_on_every_write(backend: Backend) -> None:
    etags = {(await put(backend, "/same", b"same bytes")).etag for _ in range(20)}
    etags.add((await backend.apply([], [Touch("/same")]))["/same"].etag)
    assert len(etags) == 21


async def test_apply_returns_meta_of_every_put_and_touch(backend: Backend) -> None:
    await put(backend, "/c/")
    await put(backend, "/old")
    mutations: list[Mutation] = [
        Put("/c/a", "text/plain", Staged.of(b"a")),
        Put("/c/b", "text/plain", Staged.of(b"bb")),
        Touch("/c/"),
        Delete("/old"),
    ]
    result = await backend.apply([], mutations)
    assert set(result) == {"/c/a", "/c/b", "/c/"}
    for path, meta in result.items():
        assert await backend.meta(path) == meta
    assert result["/c/b"].size == 2


# -- contract: preconditions ---------------------------------------------------------------


async def test_expectations_that_hold(backend: Backend) -> None:
    created = await put(backend, "/p", b"1", expects=[Expect("/p", ABSENT)])
    replaced = await put(backend, "/p", b"2", expects=[Expect("/p", PRESENT)])
    final = await put(backend, "/p", b"3", expects=[Expect("/p", replaced.etag)])
    assert len({created.etag, replaced.etag, final.etag}) == 3
    assert await body(backend, "/p") == b"3"


@pytest.mark.parametrize("kind", ["absent-but-present", "present-but-absent", "old-etag"])
async def test_failed_expectation_changes_nothing(backend: Backend, kind: str) -> None:
    first = await put(backend, "/exists", b"v1")
    current = await put(backend, "/exists", b"v2")
    expect = {
        "absent-but-present": Expect("/exists", ABSENT),
        "present-but-absent": Expect("/missing", PRESENT),
        "old-etag": Expect("/exists", first.etag),
    }[kind]
    mutations: list[Mutation] = [
        Put("/new1", OCTETS, Staged.of(b"x")),
        Put("/new2", OCTETS, Staged.of(b"y")),
        Delete("/exists"),
    ]
    with pytest.raises(StaleState):
        await backend.apply([Expect("/new1", ABSENT), expect], mutations)
    assert await backend.meta("/new1") is None
    assert await backend.meta("/new2") is None
    assert await backend.meta("/exists") == current
    assert await body(backend, "/exists") == b"v2"


async def test_etag_expectation_on_missing_path_fails(backend: Backend) -> None:
    with pytest.raises(StaleState):
        await backend.apply([Expect("/none", "abc123")], [Put("/none", OCTETS)])
    assert await backend.meta("/none") is None


async def test_concurrent_creates_exactly_one_wins(backend: Backend) -> None:
    async def create(i: int) -> Meta:
        staged = await stage(backend, f"writer {i}".encode())
        result = await backend.apply([Expect("/race", ABSENT)], [Put("/race", OCTETS, staged)])
        return result["/race"]

    outcomes = await asyncio.gather(*(create(i) for i in range(10)), return_exceptions=True)
    winners = [o for o in outcomes if isinstance(o, Meta)]
    assert len(winners) == 1
    assert all(isinstance(o, StaleState) for o in outcomes if o is not winners[0])
    assert await backend.meta("/race") == winners[0]


async def test_concurrent_writes_each_get_their_own_outcome(backend: Backend) -> None:
    """Writes in flight together (the file backend commits them in one transaction) do
    not share a fate: the stale ones fail alone and change nothing, the others land."""
    kept = await put(backend, "/kept", b"old")

    async def write(i: int) -> Meta:
        staged = await stage(backend, large_body(i, 200_000) if i % 4 == 0 else b"%d" % i)
        # Every third write expects an etag that is long gone: stale.
        expects = [Expect("/kept", "gone" if i % 3 == 0 else kept.etag)]
        return (await backend.apply(expects, [Put(f"/w{i}", OCTETS, staged)]))[f"/w{i}"]

    outcomes = await asyncio.gather(*(write(i) for i in range(24)), return_exceptions=True)
    for i, outcome in enumerate(outcomes):
        if i % 3 == 0:
            assert isinstance(outcome, StaleState)
            assert await backend.meta(f"/w{i}") is None
        else:
            assert isinstance(outcome, Meta) and await backend.meta(f"/w{i}") == outcome
            expected = large_body(i, 200_000) if i % 4 == 0 else b"%d" % i
            assert await body(backend, f"/w{i}") == expected


async def test_concurrent_writes_share_commits(file_backend: FileBackend) -> None:
    """Group commit: sixteen writes in flight together need fewer than sixteen commits
    (each commit is an fsync), and each write is in exactly one of them."""
    statements: list[str] = []
    conn = file_backend._writer.conn
    await file_backend._on_writer(conn.set_trace_callback, statements.append)
    metas = await asyncio.gather(*(put(file_backend, f"/g{i}", b"%d" % i) for i in range(16)))
    await file_backend._on_writer(conn.set_trace_callback, None)
    commits = [s for s in statements if s.strip().upper() == "COMMIT"]
    assert 1 <= len(commits) < 16
    assert len({m.etag for m in metas}) == 16
    for i in range(16):
        assert await body(file_backend, f"/g{i}") == b"%d" % i


async def test_staged_body_survives_a_stale_attempt(backend: Backend) -> None:
    await put(backend, "/taken", b"x")
    staged = await stage(backend, large_body(2, 200_000))
    with pytest.raises(StaleState):
        await backend.apply([Expect("/taken", ABSENT)], [Put("/taken", OCTETS, staged)])
    await backend.apply([Expect("/taken", PRESENT)], [Put("/taken", OCTETS, staged)])
    assert await body(backend, "/taken") == large_body(2, 200_000)


# -- contract: staging and large bodies ----------------------------------------------------


class CountingStream:
    """A body stream that records how many chunks were pulled from it."""

    def __init__(self, chunks: int, size: int) -> None:
        self.total, self.size, self.pulled = chunks, size, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.total):
            self.pulled += 1
            yield b"z" * self.size


@pytest.mark.parametrize("chunk", [1000, CHUNK_SIZE], ids=["small", "large"])
async def test_stage_over_limit_stops_reading_and_keeps_nothing(
    backend: Backend, tmp_path: Path, chunk: int
) -> None:
    stream = CountingStream(chunks=100, size=chunk)
    with pytest.raises(PayloadTooLarge):
        await backend.stage(aiter(stream), limit=10 * chunk)
    assert stream.pulled == 11
    assert await stored_blobs(backend, tmp_path) == 0


async def test_stage_exactly_at_limit_is_accepted(backend: Backend) -> None:
    data = large_body(3, 100_000)
    staged = await backend.stage(chunks_of(data, 999), limit=len(data))
    assert staged.size == len(data)
    await backend.apply([], [Put("/exact", OCTETS, staged)])
    assert await body(backend, "/exact") == data


async def test_large_body_round_trip_and_ranges(backend: Backend) -> None:
    data = large_body()
    staged = await backend.stage(chunks_of(data, 10_000), limit=LARGE)
    if isinstance(backend, FileBackend | PostgresBackend):
        assert staged.data is None and staged.blob is not None
    meta = (await backend.apply([], [Put("/big", OCTETS, staged)]))["/big"]
    assert meta.size == LARGE
    stored = await backend.read("/big")
    assert await stored.read_all() == data
    for start, end in [
        (0, None),
        (0, 1),
        (CHUNK_SIZE - 1, CHUNK_SIZE + 1),
        (1_000_000, 2_500_000),
        (LARGE - 5, LARGE),
        (LARGE - 5, LARGE + 100),
        (LARGE, None),
        (10, 10),
    ]:
        assert await ranged(stored, start, end) == data[start:end]


async def test_large_in_memory_body_is_accepted(backend: Backend) -> None:
    data = large_body(4, 500_000)
    await backend.apply([], [Put("/patched", "text/turtle", Staged.of(data))])
    assert await body(backend, "/patched") == data


async def test_read_is_a_snapshot_across_replace(backend: Backend) -> None:
    old = large_body(5, 300_000)
    await put(backend, "/snap", old)
    stored = await backend.read("/snap")
    await put(backend, "/snap", b"new")
    assert await stored.read_all() == old
    assert await ranged(stored, 100, 200) == old[100:200]
    assert await body(backend, "/snap") == b"new"


async def test_foreign_staged_blob_is_refused(backend: Backend) -> None:
    with pytest.raises(ValueError):
        await backend.apply([], [Put("/x", OCTETS, Staged(size=3, blob="0" * 32))])
    assert await backend.meta("/x") is None


# -- file backend specifics ----------------------------------------------------------------


async def test_blob_files_follow_the_rows(file_backend: FileBackend, tmp_path: Path) -> None:
    await put(file_backend, "/big", large_body())
    assert len(blob_files(tmp_path)) == 1
    await put(file_backend, "/big", b"small now")
    assert blob_files(tmp_path) == []
    assert await body(file_backend, "/big") == b"small now"
    await put(file_backend, "/big", large_body(6))
    await file_backend.apply([], [Delete("/big")])
    assert blob_files(tmp_path) == []


async def test_closed_blob_body_refuses_reads(file_backend: FileBackend) -> None:
    await put(file_backend, "/big", large_body())
    stored = await file_backend.read("/big")
    assert isinstance(stored, BlobStored)
    stored.close()
    with pytest.raises(ValueError):
        await stored.read_all()


async def test_inline_threshold_boundary(tmp_path: Path) -> None:
    store = FileBackend(tmp_path, inline_threshold=1000)
    await store.start()
    try:
        assert (await stage(store, b"a" * 1000)).data == b"a" * 1000
        staged = await stage(store, b"b" * 1001)
        assert staged.data is None and staged.blob is not None
        await store.apply([], [Put("/b", OCTETS, staged)])
        assert await body(store, "/b") == b"b" * 1001
    finally:
        await store.close()


async def test_discard_removes_staged_blob(file_backend: FileBackend, tmp_path: Path) -> None:
    staged = await stage(file_backend, large_body())
    assert len(blob_files(tmp_path)) == 1
    await file_backend.discard(staged)
    assert blob_files(tmp_path) == []
    with pytest.raises(ValueError):
        await file_backend.apply([], [Put("/late", OCTETS, staged)])


async def test_discard_after_commit_keeps_the_body(file_backend: FileBackend) -> None:
    staged = await stage(file_backend, large_body())
    await file_backend.apply([], [Put("/kept", OCTETS, staged)])
    await file_backend.discard(staged)
    assert await body(file_backend, "/kept") == large_body()


async def test_close_drops_uncommitted_blobs(tmp_path: Path) -> None:
    store = FileBackend(tmp_path)
    await store.start()
    await stage(store, large_body())
    await store.close()
    assert blob_files(tmp_path) == []


async def test_persistence_across_restart(tmp_path: Path) -> None:
    first = FileBackend(tmp_path)
    await first.start()
    written = await first.apply(
        [],
        [
            Put("/c/", "text/turtle"),
            Put("/c/small", "text/plain", Staged.of(b"\0small\0")),
            Put("/c/big", OCTETS, await stage(first, large_body())),
        ],
    )
    await first.close()
    second = FileBackend(tmp_path)
    await second.start()
    try:
        assert await second.children("/c/") == [written["/c/big"], written["/c/small"]]
        assert await second.meta("/c/") == written["/c/"]
        assert await body(second, "/c/small") == b"\0small\0"
        assert await body(second, "/c/big") == large_body()
    finally:
        await second.close()


async def test_orphan_blobs_are_collected_on_start(tmp_path: Path) -> None:
    first = FileBackend(tmp_path)
    await first.start()
    await put(first, "/big", large_body())
    await first.close()
    kept = blob_files(tmp_path)
    (tmp_path / "blobs" / "ab" / ("ab" + "0" * 30)).write_bytes(b"crashed before commit")
    (tmp_path / "blobs" / "stray").write_bytes(b"junk")
    second = FileBackend(tmp_path)
    await second.start()
    try:
        assert blob_files(tmp_path) == kept
        assert await body(second, "/big") == large_body()
    finally:
        await second.close()


async def test_reader_retries_when_blob_is_replaced_underneath(
    file_backend: FileBackend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await put(file_backend, "/r", large_body())
    real_open = file_module.os.open
    calls = 0

    def racing_open(path: str | Path, flags: int, *args: int) -> int:
        # Between the row lookup and the open, another writer replaces the body.
        nonlocal calls
        calls += 1
        if calls == 1:
            with sqlite3.connect(tmp_path / "index.sqlite3") as conn:
                conn.execute("UPDATE resources SET blob = NULL, body = x'6e6577', size = 3")
            Path(path).unlink()
        return real_open(path, flags, *args)

    monkeypatch.setattr(file_module.os, "open", racing_open)
    stored = await file_backend.read("/r")
    monkeypatch.undo()
    assert calls == 1
    assert await stored.read_all() == b"new"


async def test_two_instances_share_one_root(tmp_path: Path) -> None:
    one, two = FileBackend(tmp_path), FileBackend(tmp_path)
    await one.start()
    await two.start()
    try:
        written = await put(one, "/shared", b"from one")
        assert await two.meta("/shared") == written
        staged = await stage(one, large_body())
        third = FileBackend(tmp_path)  # its start-up GC must spare one's pending blob
        await third.start()
        await third.close()
        await one.apply([], [Put("/big", OCTETS, staged)])
        assert await body(two, "/big") == large_body()

        async def create(store: FileBackend, i: int) -> Meta:
            return await put(store, "/race", str(i).encode(), expects=[Expect("/race", ABSENT)])

        attempts = [create(one if i % 2 else two, i) for i in range(10)]
        outcomes = await asyncio.gather(*attempts, return_exceptions=True)
        winners = [o for o in outcomes if isinstance(o, Meta)]
        assert len(winners) == 1
        assert sum(isinstance(o, StaleState) for o in outcomes) == 9
        assert await one.meta("/race") == await two.meta("/race") == winners[0]
    finally:
        await one.close()
        await two.close()


async def test_schema_version_is_recorded(file_backend: FileBackend, tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "index.sqlite3") as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == file_module.SCHEMA_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


# -- contract: quotas ----------------------------------------------------------------------

POD = "/pod/"
BLOB = 200_000  # above the file backend's inline threshold: stored as a blob file
TURTLE = "text/turtle"


def sql(root: Path, query: str, *args: object) -> list[tuple[object, ...]]:
    """Run one statement on the index behind the backend's back."""
    with closing(sqlite3.connect(root / "index.sqlite3")) as conn, conn:
        return conn.execute(query, args).fetchall()


async def plant(backend: Backend, path: str, size: int) -> None:
    """Store a resource without going through ``apply`` (so no counter sees it)."""
    if isinstance(backend, MemoryBackend):
        backend._rows[path] = (Meta(path, OCTETS, size, "planted", 0.0), b"p" * size)
    elif isinstance(backend, PostgresBackend):
        await pg_fetch(
            backend,
            "INSERT INTO resources (path, parent, content_type, size, etag, modified, body)"
            " VALUES ($1, NULL, $2, $3, 'planted', 0, $4)",
            path,
            OCTETS,
            size,
            b"p" * size,
        )
    else:
        assert isinstance(backend, FileBackend)
        sql(
            backend.root,
            "INSERT INTO resources (path, parent, content_type, size, etag, modified, body)"
            " VALUES (?, NULL, ?, ?, 'planted', 0, ?)",
            path,
            OCTETS,
            size,
            b"p" * size,
        )


async def has_counter(backend: Backend, root: str) -> bool:
    if isinstance(backend, MemoryBackend):
        return root in backend._used
    if isinstance(backend, PostgresBackend):
        return bool(await pg_fetch(backend, "SELECT 1 FROM quota_usage WHERE root = $1", root))
    assert isinstance(backend, FileBackend)
    return bool(sql(backend.root, "SELECT 1 FROM quota_usage WHERE root = ?", root))


async def true_usage(backend: Backend, root: str) -> int:
    """Usage computed the slow way: the sizes of the root and everything reachable below."""
    meta = await backend.meta(root)
    total = meta.size if meta else 0
    pending = [root]
    while pending:
        for member in await backend.children(pending.pop()):
            total += member.size
            if member.is_container:
                pending.append(member.path)
    return total


async def used(backend: Backend, root: str = POD) -> int:
    return (await backend.usage(root)).used


async def put_q(backend: Backend, path: str, data: bytes, quota: Quota) -> Meta:
    staged = await stage(backend, data)
    return (await backend.apply([], [Put(path, OCTETS, staged)], quota))[path]


async def snapshot(backend: Backend, paths: Sequence[str]) -> tuple[object, ...]:
    return (await backend.usage(POD), *[await backend.meta(p) for p in paths])


def test_quota_values_are_checked() -> None:
    for root in ["/pod", "pod/", "", "/pod/x"]:
        with pytest.raises(ValueError):
            Quota(root, None)
    with pytest.raises(ValueError):
        Quota(POD, -1)
    assert Quota("/", 0).default_limit == 0
    error = QuotaExceeded(POD, needed=200, used=900, limit=1000)
    assert isinstance(error, PayloadTooLarge) and error.status == 413
    assert "this write needs 200 bytes but the pod has 100 of 1000 bytes free" in error.message


async def test_usage_and_limit_arguments_are_checked(backend: Backend) -> None:
    with pytest.raises(ValueError):
        await backend.usage("/pod")
    with pytest.raises(ValueError):
        await backend.set_limit(POD, -5)
    with pytest.raises(ValueError):
        await backend.set_limit("nope", 5)


async def test_usage_follows_puts_replaces_and_deletes(backend: Backend) -> None:
    quota = Quota(POD, None)
    await backend.apply([], [Put(POD, TURTLE)], quota)
    assert await backend.usage(POD) == Usage(0, None)
    steps: list[tuple[list[Mutation], int]] = [
        ([Put("/pod/a", OCTETS, Staged.of(b"a" * 100))], 100),
        ([Put("/pod/a", OCTETS, Staged.of(b"a" * 40))], 40),  # replace, smaller
        ([Put("/pod/big", OCTETS, await stage(backend, large_body(1, BLOB)))], 40 + BLOB),
        ([Put("/pod/big", OCTETS, await stage(backend, large_body(2, BLOB + 7)))], 47 + BLOB),
        ([Put("/pod/big", OCTETS, Staged.of(b"now small"))], 49),  # blob -> inline
        ([Put("/pod/a", OCTETS, await stage(backend, large_body(3, BLOB)))], 9 + BLOB),
        ([Put("/pod/c/", TURTLE), Put("/pod/c/.acl", TURTLE, Staged.of(b"acl" * 10))], 39 + BLOB),
        ([Put(POD, TURTLE, Staged.of(b"root body"))], 48 + BLOB),  # the root's own body counts
        ([Touch(POD), Touch("/pod/c/")], 48 + BLOB),
        ([Delete("/pod/a")], 48),
        ([Delete("/pod/missing")], 48),
        # One batch writing a path twice, then deleting another: the net change counts.
        (
            [
                Put("/pod/x", OCTETS, Staged.of(b"x" * 10)),
                Put("/pod/x", OCTETS, Staged.of(b"x" * 25)),
                Delete("/pod/big"),
                Put("/pod/y", OCTETS, Staged.of(b"y" * 5)),
                Delete("/pod/y"),
            ],
            48 - 9 + 25,
        ),
    ]
    for mutations, expected in steps:
        await backend.apply([], mutations, quota)
        assert await used(backend) == expected == await true_usage(backend, POD)


async def test_a_first_count_of_a_pod_runs_on_the_writer_thread_not_the_loop(
    file_backend: FileBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counting a pod's usage the first time scans the whole pod: one request must not
    hold the event loop for that. Once counted, a write's statements run on the loop."""
    for n in range(20):  # written without a quota: no usage row yet
        await file_backend.apply([], [Put(f"/pod/{n}", OCTETS, Staged.of(b"x" * n))])
    on_thread: list[str] = []
    run = file_backend._writer.run

    async def spy(fn, *args):  # type: ignore[no-untyped-def]
        on_thread.append(fn.__name__)
        return await run(fn, *args)

    monkeypatch.setattr(file_backend._writer, "run", spy)
    quota = Quota(POD, None)
    await file_backend.apply([], [Put("/pod/a", OCTETS, Staged.of(b"a" * 10))], quota)
    assert "_run_writes" in on_thread
    on_thread.clear()
    await file_backend.apply([], [Put("/pod/b", OCTETS, Staged.of(b"b" * 10))], quota)
    assert "_run_writes" not in on_thread and "_commit_writes" in on_thread
    assert await used(file_backend) == sum(range(20)) + 20 == await true_usage(file_backend, POD)


async def test_write_past_the_limit_is_refused_and_changes_nothing(backend: Backend) -> None:
    quota = Quota(POD, 1000)
    await backend.apply([], [Put(POD, TURTLE), Put("/pod/a", OCTETS, Staged.of(b"a" * 900))], quota)
    paths = [POD, "/pod/a", "/pod/b", "/pod/c"]
    before = await snapshot(backend, paths)
    with pytest.raises(QuotaExceeded) as caught:
        await put_q(backend, "/pod/b", b"b" * 101, quota)
    assert caught.value.status == 413
    assert "this write needs 101 bytes but the pod has 100 of 1000 bytes free" in str(caught.value)
    assert (caught.value.needed, caught.value.used, caught.value.limit) == (101, 900, 1000)
    # A batch is refused whole, even when its first mutations alone would fit.
    batch: list[Mutation] = [
        Put("/pod/c", OCTETS, Staged.of(b"c" * 50)),
        Touch(POD),
        Put("/pod/a", OCTETS, Staged.of(b"a" * 960)),
    ]
    with pytest.raises(QuotaExceeded):
        await backend.apply([], batch, quota)
    assert await snapshot(backend, paths) == before
    # Exactly reaching the limit is allowed.
    await put_q(backend, "/pod/a", b"a" * 1000, quota)
    assert await used(backend) == 1000
    with pytest.raises(QuotaExceeded, match="needs 1 bytes but the pod has 0 of 1000"):
        await put_q(backend, "/pod/b", b"b", quota)
    await put_q(backend, "/pod/b", b"", quota)  # an empty body costs nothing


async def test_refused_staged_body_stays_usable(backend: Backend) -> None:
    quota = Quota(POD, 1000)
    await backend.apply([], [Put(POD, TURTLE)], quota)
    staged = await stage(backend, large_body(4, BLOB))
    with pytest.raises(QuotaExceeded):
        await backend.apply([Expect("/pod/big", ABSENT)], [Put("/pod/big", OCTETS, staged)], quota)
    assert await backend.meta("/pod/big") is None
    await backend.set_limit(POD, 10 * BLOB)
    await backend.apply([Expect("/pod/big", ABSENT)], [Put("/pod/big", OCTETS, staged)], quota)
    assert await body(backend, "/pod/big") == large_body(4, BLOB)
    assert await used(backend) == BLOB


async def test_large_in_memory_body_refused_by_quota(backend: Backend, tmp_path: Path) -> None:
    quota = Quota(POD, 1000)
    with pytest.raises(QuotaExceeded):
        await backend.apply(
            [], [Put("/pod/patched", TURTLE, Staged.of(large_body(5, BLOB)))], quota
        )
    assert await backend.meta("/pod/patched") is None
    assert await stored_blobs(backend, tmp_path) == 0  # a spilled blob is gone too


async def test_shrinking_writes_and_deletes_allowed_over_the_limit(backend: Backend) -> None:
    quota = Quota(POD, None)
    big = large_body(6, BLOB)
    await backend.apply([], [Put(POD, TURTLE)], quota)
    await put_q(backend, "/pod/a", big, quota)
    await put_q(backend, "/pod/b", b"b" * 500, quota)
    await backend.set_limit(POD, 100)  # lowered below what the pod holds
    assert await backend.usage(POD) == Usage(BLOB + 500, 100)
    with pytest.raises(QuotaExceeded, match="has 0 of 100 bytes free"):
        await put_q(backend, "/pod/c", b"c", quota)
    await put_q(backend, "/pod/b", b"b" * 499, quota)  # smaller: allowed though still over
    await backend.apply([], [Touch(POD)], quota)
    # A batch that frees space overall passes even though one of its writes adds bytes.
    swap: list[Mutation] = [Delete("/pod/a"), Put("/pod/c", OCTETS, Staged.of(b"c" * 1000))]
    await backend.apply([], swap, quota)
    assert await used(backend) == 1499
    await backend.apply([], [Delete("/pod/b"), Delete("/pod/c")], quota)
    assert await used(backend) == 0
    await put_q(backend, "/pod/d", b"d" * 100, quota)  # fits again


async def test_own_limit_beats_the_default_and_can_be_removed(backend: Backend) -> None:
    quota = Quota(POD, 100)
    await backend.apply([], [Put(POD, TURTLE)], quota)
    await backend.set_limit(POD, 1000)
    assert await backend.usage(POD) == Usage(0, 1000)
    await put_q(backend, "/pod/a", b"a" * 500, quota)  # over the default, under the override
    await backend.set_limit(POD, 2000)  # replaced
    await put_q(backend, "/pod/b", b"b" * 1000, quota)
    await backend.set_limit(POD, None)
    assert await backend.usage(POD) == Usage(1500, None)
    with pytest.raises(QuotaExceeded, match="has 0 of 100 bytes free"):
        await put_q(backend, "/pod/c", b"c", quota)
    await backend.set_limit(POD, 1)  # an override may also be stricter than the default
    with pytest.raises(QuotaExceeded, match="of 1 bytes free"):
        await backend.apply([], [Put("/pod/a", OCTETS, Staged.of(b"a" * 501))], Quota(POD, 10**9))
    await backend.set_limit(POD, None)
    await backend.set_limit(POD, None)  # removing a missing override is fine
    await put_q(backend, "/pod/c", b"c", Quota(POD, None))  # no default, no override: unlimited
    assert await backend.usage("/other/") == Usage(0, None)


async def test_writes_outside_the_root_do_not_count(backend: Backend) -> None:
    quota = Quota(POD, 100)
    await backend.apply([], [Put(POD, TURTLE)], quota)
    mutations: list[Mutation] = [
        Put("/pod/x", OCTETS, Staged.of(b"x" * 10)),
        Put("/podcast", OCTETS, Staged.of(b"p" * 1000)),  # shares the prefix "/pod"
        Put("/pod0", OCTETS, Staged.of(b"0" * 1000)),  # the range's upper bound itself
        Put("/other/", TURTLE),
        Put("/other/y", OCTETS, Staged.of(b"y" * 1000)),
        Put("/", TURTLE, Staged.of(b"top" * 100)),
    ]
    await backend.apply([], mutations, quota)
    assert await used(backend) == 10 == await true_usage(backend, POD)
    await backend.apply([], [Delete("/podcast"), Delete("/other/y")], quota)
    assert await used(backend) == 10
    # A quota for a root the batch does not touch counts nothing and refuses nothing.
    await backend.apply([], [Put("/other/z", OCTETS, Staged.of(b"z" * 500))], quota)
    assert await used(backend) == 10


async def test_counting_starts_from_what_the_root_already_holds(backend: Backend) -> None:
    # Written before quotas: nothing counts these yet.
    await backend.apply(
        [],
        [
            Put(POD, TURTLE, Staged.of(b"root")),
            Put("/pod/.acl", TURTLE, Staged.of(b"acl" * 7)),
            Put("/pod/c/", TURTLE),
            Put("/pod/c/doc", OCTETS, Staged.of(b"d" * 300)),
            Put("/pod/c/big", OCTETS, await stage(backend, large_body(7, BLOB))),
            Put("/pod", OCTETS, Staged.of(b"not under /pod/")),
            Put("/pod0", OCTETS, Staged.of(b"nor this")),
            Put("/other/", TURTLE, Staged.of(b"elsewhere")),
        ],
    )
    assert not await has_counter(backend, POD)
    expected = 4 + 21 + 300 + BLOB
    assert expected == await true_usage(backend, POD)
    # The first quota'd write counts the root once, then adds its own delta.
    await put_q(backend, "/pod/c/doc", b"d" * 100, Quota(POD, None))
    assert await has_counter(backend, POD)
    assert await used(backend) == expected - 200 == await true_usage(backend, POD)
    # A refused first write still leaves the root counted (so it is not recounted).
    await backend.apply([], [Put("/b/", TURTLE, Staged.of(b"b" * 50))])
    with pytest.raises(QuotaExceeded, match="needs 1 bytes but the pod has 0 of 10"):
        await put_q(backend, "/b/x", b"x", Quota("/b/", 10))
    assert await has_counter(backend, "/b/")
    assert await used(backend, "/b/") == 50
    # usage() counts an uncounted existing root itself.
    assert not await has_counter(backend, "/other/")
    assert await used(backend, "/other/") == 9
    assert await has_counter(backend, "/other/")
    # ... but keeps no counter for a root that does not exist.
    assert await used(backend, "/ghost/") == 0
    assert not await has_counter(backend, "/ghost/")


async def test_counters_follow_writes_made_without_a_quota(backend: Backend) -> None:
    quota = Quota(POD, None)
    await backend.apply([], [Put(POD, TURTLE)], quota)
    assert await used(backend, "/") == 0  # now "/" is counted too
    await backend.apply([], [Put("/pod/a", OCTETS, Staged.of(b"a" * 70))])  # no quota
    await backend.apply([], [Put("/pod/b", OCTETS, await stage(backend, large_body(8, BLOB)))])
    await backend.apply([], [Put("/top", OCTETS, Staged.of(b"t" * 5))], Quota("/", None))
    await backend.apply([], [Delete("/pod/a")])
    assert await used(backend) == BLOB == await true_usage(backend, POD)
    assert await used(backend, "/") == BLOB + 5 == await true_usage(backend, "/")


async def test_deleting_the_root_drops_its_counter(backend: Backend) -> None:
    quota = Quota(POD, None)
    await backend.apply([], [Put(POD, TURTLE), Put("/pod/a", OCTETS, Staged.of(b"a"))], quota)
    assert await has_counter(backend, POD)
    await backend.apply([], [Delete("/pod/a"), Delete(POD)], quota)
    assert not await has_counter(backend, POD)
    # Re-created later, it is counted afresh.
    await plant(backend, "/pod/left-behind", 13)
    await backend.apply([], [Put(POD, TURTLE, Staged.of(b"new"))], quota)
    assert await used(backend) == 16
    # Deleted and re-created in one batch, it keeps an exact counter.
    await backend.apply([], [Delete(POD), Put(POD, TURTLE, Staged.of(b"again!"))], quota)
    assert await used(backend) == 13 + len(b"again!")


async def test_counted_root_is_never_scanned_again(backend: Backend) -> None:
    quota = Quota(POD, 1000)
    await backend.apply([], [Put(POD, TURTLE), Put("/pod/a", OCTETS, Staged.of(b"a" * 10))], quota)
    # Bytes slipped in behind the backend's back are invisible to the counter: every later
    # write and read uses the stored figure instead of summing the pod again.
    await plant(backend, "/pod/planted", 5000)
    await put_q(backend, "/pod/b", b"b" * 900, quota)
    await backend.apply([], [Delete("/pod/a")], quota)
    assert await used(backend) == 900
    assert (await backend.meta("/pod/planted")) is not None  # really there, never summed


async def test_concurrent_applies_keep_the_counter_exact(backend: Backend) -> None:
    quota = Quota(POD, None)
    await backend.apply([], [Put(POD, TURTLE)], quota)
    rng = random.Random(12)
    sizes = [BLOB + i if i % 6 == 0 else rng.randrange(0, 5000) for i in range(20)]

    async def write(i: int) -> None:
        path = f"/pod/{i % 7}"  # shared paths: creates, replaces and deletes interleave
        if i % 5 == 4:
            await backend.apply([], [Delete(path), Touch(POD)], quota)
        else:
            await put_q(backend, path, large_body(i, sizes[i]), quota)

    await asyncio.gather(*(write(i) for i in range(20)))
    assert await used(backend) == await true_usage(backend, POD)


async def test_concurrent_applies_never_overshoot_the_limit(backend: Backend) -> None:
    quota = Quota(POD, 1000)
    await backend.apply([], [Put(POD, TURTLE)], quota)
    outcomes = await asyncio.gather(
        *(put_q(backend, f"/pod/{i}", b"x" * 100, quota) for i in range(20)),
        return_exceptions=True,
    )
    assert sum(isinstance(o, Meta) for o in outcomes) == 10
    assert sum(isinstance(o, QuotaExceeded) for o in outcomes) == 10
    assert len(await backend.children(POD)) == 10
    assert await used(backend) == 1000


# -- file backend specifics: quotas --------------------------------------------------------


async def test_two_instances_share_exact_counters(tmp_path: Path) -> None:
    one, two = FileBackend(tmp_path), FileBackend(tmp_path)
    await one.start()
    await two.start()
    try:
        quota = Quota(POD, 20_000)
        await one.apply([], [Put(POD, TURTLE)])  # uncounted: both race to count it first
        rng = random.Random(13)
        sizes = [rng.randrange(1, 3000) for _ in range(20)]

        async def write(i: int) -> Meta | None:
            store = one if i % 2 else two
            if i % 5 == 4:
                await store.apply([], [Delete(f"/pod/{i % 7}")], quota)
                return None
            return await put_q(store, f"/pod/{i % 7}", b"w" * sizes[i], quota)

        await asyncio.gather(*(write(i) for i in range(20)))
        truth = await true_usage(one, POD)
        assert await used(one) == await used(two) == truth
        assert sql(tmp_path, "SELECT used FROM quota_usage WHERE root = ?", POD) == [(truth,)]

        # Racing for the last bytes: exactly as many fit as the limit allows.
        await one.set_limit(POD, truth + 1000)
        assert (await two.usage(POD)).limit == truth + 1000
        attempts = [
            put_q(one if i % 2 else two, f"/pod/n{i}", b"n" * 100, quota) for i in range(20)
        ]
        outcomes = await asyncio.gather(*attempts, return_exceptions=True)
        assert sum(isinstance(o, Meta) for o in outcomes) == 10
        assert sum(isinstance(o, QuotaExceeded) for o in outcomes) == 10
        assert await used(two) == truth + 1000 == await true_usage(two, POD)
    finally:
        await one.close()
        await two.close()


async def test_counter_is_read_under_the_write_lock(
    file_backend: FileBackend, tmp_path: Path
) -> None:
    """Another process commits a counted write while our apply waits for the lock: both count."""
    quota = Quota(POD, None)
    await file_backend.apply([], [Put(POD, TURTLE)], quota)
    with closing(sqlite3.connect(tmp_path / "index.sqlite3", isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")
        mine = asyncio.create_task(put_q(file_backend, "/pod/mine", b"m" * 10, quota))
        await asyncio.sleep(0.2)
        assert not mine.done()  # waiting for the other process's write lock
        other.execute(
            "INSERT INTO resources (path, parent, content_type, size, etag, modified, body)"
            " VALUES ('/pod/theirs', ?, ?, 100, 'theirs', 0, zeroblob(100))",
            (POD, OCTETS),
        )
        other.execute("UPDATE quota_usage SET used = used + 100 WHERE root = ?", (POD,))
        other.execute("COMMIT")
    await mine
    assert await used(file_backend) == 110 == await true_usage(file_backend, POD)


async def test_refused_blob_stays_discardable(file_backend: FileBackend, tmp_path: Path) -> None:
    quota = Quota(POD, 10)
    staged = await stage(file_backend, large_body(9, BLOB))
    with pytest.raises(QuotaExceeded):
        await file_backend.apply([], [Put("/pod/big", OCTETS, staged)], quota)
    assert len(blob_files(tmp_path)) == 1  # still pending, still ours
    await file_backend.discard(staged)
    assert blob_files(tmp_path) == []


async def test_quota_check_does_not_scan_a_counted_pod(tmp_path: Path) -> None:
    """Statements per quota'd write are the same for a 10- and a 2000-resource pod, and only
    the very first write of a root runs the counting range scan (which uses the index)."""

    async def traced_write_statements(root: Path, members: int) -> tuple[list[str], list[str]]:
        store = FileBackend(root)
        await store.start()
        try:
            fill = [Put(f"/pod/m{i:05d}", OCTETS, Staged.of(b"m" * 10)) for i in range(members)]
            await store.apply([], [Put(POD, TURTLE), *fill])  # written before quotas
            seen: list[str] = []
            conn = store._writer.conn
            await store._on_writer(conn.set_trace_callback, seen.append)
            quota = Quota(POD, None)
            await put_q(store, "/pod/first", b"f" * 1000, quota)
            first = list(seen)
            seen.clear()
            await put_q(store, "/pod/second", b"s" * 1000, quota)
            assert await used(store) == 10 * members + 2000
            await store._on_writer(conn.set_trace_callback, None)
            return first, seen
        finally:
            await store.close()

    small_first, small = await traced_write_statements(tmp_path / "small", 10)
    large_first, large = await traced_write_statements(tmp_path / "large", 2000)

    def scans(statements: list[str]) -> list[str]:
        return [s for s in statements if "SUM(" in s.upper()]

    assert len(scans(small_first)) == len(scans(large_first)) == 1
    assert scans(small) == scans(large) == []
    assert len(small) == len(large)
    assert len(small_first) == len(large_first)
    with closing(sqlite3.connect(tmp_path / "large" / "index.sqlite3")) as conn:
        plan = conn.execute(
            "EXPLAIN QUERY PLAN " + file_module._SCAN_QUERY, (POD, "/pod0")
        ).fetchall()
    assert any("USING INDEX" in row[-1] and "path>? AND path<?" in row[-1] for row in plan)


async def test_pre_quota_index_is_migrated_and_counted(tmp_path: Path) -> None:
    store = FileBackend(tmp_path)
    await store.start()
    await store.apply(
        [],
        [
            Put(POD, TURTLE),
            Put("/pod/a", OCTETS, Staged.of(b"a" * 123)),
            Put("/pod/big", OCTETS, await stage(store, large_body(10, BLOB))),
        ],
    )
    await store.close()
    # Make it a schema-1 index, as written before quotas existed.
    sql(tmp_path, "DROP TABLE quota_usage")
    sql(tmp_path, "DROP TABLE quota_limits")
    sql(tmp_path, "PRAGMA user_version = 1")
    store = FileBackend(tmp_path)
    await store.start()
    try:
        assert sql(tmp_path, "PRAGMA user_version") == [(file_module.SCHEMA_VERSION,)]
        with pytest.raises(QuotaExceeded, match=f"needs 1 bytes but the pod has 0 of {BLOB}"):
            await put_q(store, "/pod/b", b"b", Quota(POD, BLOB))
        assert await store.usage(POD) == Usage(123 + BLOB, None)
    finally:
        await store.close()


async def test_limits_and_counters_persist_across_restart(tmp_path: Path) -> None:
    store = FileBackend(tmp_path)
    await store.start()
    await store.apply(
        [], [Put(POD, TURTLE), Put("/pod/a", OCTETS, Staged.of(b"a" * 5))], Quota(POD, None)
    )
    await store.set_limit(POD, 77)
    await store.close()
    store = FileBackend(tmp_path)
    await store.start()
    try:
        assert await store.usage(POD) == Usage(5, 77)
    finally:
        await store.close()
