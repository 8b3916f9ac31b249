"""One contract suite run over every storage backend, plus file-backend specifics."""

from __future__ import annotations

import asyncio
import random
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Sequence
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
    Staged,
    Stored,
    Touch,
)
from pod_server.storage.file import BlobStored, FileBackend
from pod_server.storage.memory import MemoryBackend

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


@pytest.fixture(params=["memory", "file"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    store: Backend = MemoryBackend() if request.param == "memory" else FileBackend(tmp_path)
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
    assert blob_files(tmp_path) == []


async def test_stage_exactly_at_limit_is_accepted(backend: Backend) -> None:
    data = large_body(3, 100_000)
    staged = await backend.stage(chunks_of(data, 999), limit=len(data))
    assert staged.size == len(data)
    await backend.apply([], [Put("/exact", OCTETS, staged)])
    assert await body(backend, "/exact") == data


async def test_large_body_round_trip_and_ranges(backend: Backend) -> None:
    data = large_body()
    staged = await backend.stage(chunks_of(data, 10_000), limit=LARGE)
    if isinstance(backend, FileBackend):
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
