"""The embedded default storage backend: a SQLite index plus immutable blob files.

Layout under ``root``::

    index.sqlite3      one row per resource (WAL, synchronous=FULL); small bodies inline
    blobs/xx/<name>    bodies larger than ``inline_threshold``; ``xx`` = first 2 of <name>

Crash safety: a blob file is written and fsynced (with its directory) before the row naming
it commits, and unlinked only after the row dropping it commits, so a crash leaves the old
or the new state, plus at worst an unreferenced blob that ``start()`` collects. A blob not
yet committed is held under an exclusive ``flock`` by the process that staged it, so the
collection of another process sharing the root skips it (and a crash releases the lock).

Quotas: ``quota_usage`` holds one byte counter per counted root, updated by ``apply`` in
its own BEGIN IMMEDIATE transaction (so exact across threads and processes); a root is
counted from ``resources`` once (a range scan on the path index), never again while its row
lives. ``quota_limits`` holds per-root limit overrides.

Metadata lookups answer from a per-process cache (``storage.meta_cache``): every ``apply``
records its paths in ``changes`` in its own transaction, and each lookup first checks the
WAL index's header (a commit by anyone changes it) and, when it changed, drops the paths
``changes`` gained.

Threads: the write connection belongs to one dedicated writer thread (BEGIN IMMEDIATE, so
writes are also safe across processes). A batch of resource writes runs its statements on
the event loop while it holds the write lock, and only what blocks goes to the thread: the
COMMIT (its fsync) and waiting for another process's lock (see ``_apply_batch``). Blob
file I/O runs on a small I/O pool. Point reads of the index run directly on the event loop
(see ``FileBackend.read``).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import mmap
import os
import sqlite3
import sys
import threading
import time
import uuid
import weakref
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from pod_server.db.batching import CommitQueue
from pod_server.db.migrations import Migration, latest
from pod_server.db.sqlite import (
    WriterThread,
    begin,
    begin_now,
    commit,
    connect,
    migrate,
    rollback,
    transaction,
    use_wal,
)
from pod_server.errors import NotFound, PayloadTooLarge, PodError, ServiceUnavailable
from pod_server.storage.base import (
    CHUNK_SIZE,
    GENESIS,
    Checkpoint,
    Delete,
    Expect,
    Log,
    LogQuery,
    LogRow,
    LogState,
    Meta,
    Mutation,
    Put,
    Quota,
    QuotaExceeded,
    Staged,
    Usage,
    check_limit,
    check_page,
    check_root,
    split_logs,
)
from pod_server.storage.common import (
    BytesStored,
    chain_logs,
    check_log_query,
    check_log_rows,
    claim_blobs,
    clamp_range,
    covering_roots,
    expect_holds,
    new_etag,
    parent_of,
    put_size,
    refusal,
    root_deltas,
    root_upper_bound,
    size_changes,
    stale,
)
from pod_server.storage.meta_cache import MetaCache

DB_NAME = "index.sqlite3"
BLOBS_DIR = "blobs"
BUSY_TIMEOUT = 10.0  # seconds another process may hold the write lock before we give up
WRITE_BATCH = 4 * CHUNK_SIZE  # staged bytes handed to the I/O thread at once
READ_RETRIES = 8  # lookups retried when a concurrent replace unlinked the blob just found
IO_THREADS = 4
SYNC_CHILDREN = 256  # listings up to this size are read on the loop; longer ones on a thread
SQL_VARIABLES = 500  # host parameters per IN (...) list, well under SQLite's limit
CHANGES_KEPT = 10_000  # rows of the change log kept; a reader further behind drops its cache
PRUNE_CHANGES_EVERY = 1_000  # applies between two prunings of the change log
WAL_INDEX_HEADER = 48  # bytes of the WAL index's header, changed by every commit
WAL_INDEX_VERSION = 3007000

T = TypeVar("T")

# IF NOT EXISTS: before version 2, every start ran all of these statements.
MIGRATIONS = (
    Migration(
        1,
        "resources",
        (
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
        ),
    ),
    Migration(
        2,
        "quota_usage, quota_limits",
        (
            # A root without a usage row is counted from resources on first use.
            """CREATE TABLE IF NOT EXISTS quota_usage (
        root TEXT PRIMARY KEY,
        used INTEGER NOT NULL
    ) WITHOUT ROWID""",
            """CREATE TABLE IF NOT EXISTS quota_limits (
        root TEXT PRIMARY KEY,
        byte_limit INTEGER NOT NULL
    ) WITHOUT ROWID""",
        ),
    ),
    Migration(
        3,
        "audit_log, audit_heads, audit_checkpoints",
        (
            # One hash chain per storage root (see storage.base); body is what is hashed.
            """CREATE TABLE IF NOT EXISTS audit_log (
        root TEXT NOT NULL,
        seq INTEGER NOT NULL,
        at REAL NOT NULL,
        agent TEXT,
        resource TEXT NOT NULL,
        outcome INTEGER NOT NULL,
        body BLOB NOT NULL,
        prev BLOB NOT NULL,
        hash BLOB NOT NULL,
        PRIMARY KEY (root, seq)
    ) WITHOUT ROWID""",
            "CREATE INDEX IF NOT EXISTS audit_log_agent ON audit_log (root, agent, seq)",
            # The head (last seq and hash) and the anchor (last trimmed) of each chain.
            """CREATE TABLE IF NOT EXISTS audit_heads (
        root TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        hash BLOB NOT NULL,
        anchor_seq INTEGER NOT NULL,
        anchor_hash BLOB NOT NULL
    ) WITHOUT ROWID""",
            """CREATE TABLE IF NOT EXISTS audit_checkpoints (
        root TEXT NOT NULL,
        seq INTEGER NOT NULL,
        hash BLOB NOT NULL,
        at REAL NOT NULL,
        key TEXT NOT NULL,
        signature BLOB NOT NULL,
        PRIMARY KEY (root, seq)
    ) WITHOUT ROWID""",
        ),
    ),
    Migration(
        4,
        "changes",
        (
            # Every path an apply changed, in commit order (one writer at a time: the
            # seq order is the commit order): what readers' metadata caches drop
            # (storage.meta_cache). AUTOINCREMENT: a seq is never reused, even once pruned.
            """CREATE TABLE IF NOT EXISTS changes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        path TEXT NOT NULL
    )""",
        ),
    ),
)
SCHEMA_VERSION = latest(MIGRATIONS)
_META_COLUMNS = "content_type, size, etag, modified"
# LIMIT -1 is no limit; every path is > '' (the first page). Uses the (parent, path) index.
_CHILDREN_QUERY = (
    f"SELECT path, {_META_COLUMNS} FROM resources"
    " WHERE parent = ? AND path > ? ORDER BY path LIMIT ?"
)
# A range on the primary-key index (not LIKE, which would not use it).
_SCAN_QUERY = "SELECT COALESCE(SUM(size), 0) AS used FROM resources WHERE path >= ? AND path < ?"
_USED_QUERY = "SELECT used FROM quota_usage WHERE root = ?"
_LIMIT_QUERY = "SELECT byte_limit FROM quota_limits WHERE root = ?"
_HEAD_QUERY = "SELECT seq, hash, anchor_seq, anchor_hash FROM audit_heads WHERE root = ?"
_LOG_COLUMNS = "root, seq, at, agent, resource, outcome, body, prev, hash"
_CHANGES_QUERY = "SELECT seq, path FROM changes WHERE seq > ? ORDER BY seq"
_LAST_CHANGE_QUERY = "SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = 'changes'"


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _pread_all(fd: int, size: int, offset: int) -> bytes:
    parts: list[bytes] = []
    while size > 0:
        part = os.pread(fd, size, offset)
        if not part:
            raise PodError("Blob file shorter than its recorded size")
        parts.append(part)
        size -= len(part)
        offset += len(part)
    return b"".join(parts)


class _BlobFile:
    """A blob being staged: created exclusively and ``flock``-ed until committed or dropped."""

    def __init__(self, name: str, path: Path, fd: int) -> None:
        self.name, self.path, self.fd = name, path, fd
        self._lock = threading.Lock()  # an abort must not close the fd under a running write

    @classmethod
    def create(cls, blobs: Path) -> _BlobFile:
        while True:
            name = uuid.uuid4().hex
            path = blobs / name[:2] / name
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
            fcntl.flock(fd, fcntl.LOCK_EX)
            # Another process's GC may have unlinked it before we locked it: start over.
            try:
                if os.stat(path).st_ino == os.fstat(fd).st_ino:
                    return cls(name, path, fd)
            except FileNotFoundError:
                pass
            os.close(fd)

    def write(self, data: bytes) -> None:
        with self._lock:
            _write_all(self.fd, data)

    def finish(self) -> None:
        with self._lock:
            os.fsync(self.fd)
        _fsync_dir(self.path.parent)

    def release(self) -> None:
        """Drop the lock once a committed row owns the file."""
        with self._lock:
            if self.fd >= 0:
                os.close(self.fd)
                self.fd = -1

    def abort(self) -> None:
        self.release()
        self.path.unlink(missing_ok=True)


class BlobStored:
    """A stored resource whose body is a blob file, opened at ``read()`` time.

    Holding the open descriptor makes this a stable snapshot: a concurrent replace unlinks
    the file but cannot change what this object reads. The descriptor closes when the object
    is collected, or explicitly with :meth:`close`.
    """

    def __init__(self, meta: Meta, fd: int, io: ThreadPoolExecutor) -> None:
        self.meta = meta
        self._io = io
        self._closer = weakref.finalize(self, os.close, fd)
        self._fd = fd

    def close(self) -> None:
        """Release the descriptor now; do not call while a read is in flight."""
        self._closer()

    async def read_all(self) -> bytes:
        return await self._pread(self.meta.size, 0)

    async def iter_range(self, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        pos, stop = clamp_range(self.meta.size, start, end)
        while pos < stop:
            size = min(CHUNK_SIZE, stop - pos)
            yield await self._pread(size, pos)
            pos += size

    async def _pread(self, size: int, offset: int) -> bytes:
        # A closed descriptor's number may already name another file: never touch it.
        if not self._closer.alive:
            raise ValueError("Stored body is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._io, _pread_all, self._fd, size, offset)


class FileBackend:
    """The default backend: SQLite index under ``root`` with large bodies as blob files.

    ``inline_threshold``: bodies up to this many bytes live in the index row; larger ones
    are streamed to ``root/blobs`` while staged and never held whole in memory.
    """

    def __init__(self, root: Path, inline_threshold: int = 64 * 1024) -> None:
        self.root = Path(root)
        self.inline_threshold = inline_threshold
        self._db = self.root / DB_NAME
        self._blobs = self.root / BLOBS_DIR
        self._writer = WriterThread("FileBackend", "pod-storage-writer")
        # Held while anything uses the write connection: the loop (a batch's statements)
        # and the writer thread take turns with it, never overlap.
        self._conn_lock = asyncio.Lock()
        # Concurrent writes share one transaction (one fsync), each in its own savepoint.
        self._commits: CommitQueue[_Write, dict[str, Meta]] = CommitQueue(self._commit_batch)
        self._io: ThreadPoolExecutor | None = None
        self._rconn: sqlite3.Connection | None = None  # only touched on the event loop
        self._pending: dict[str, _BlobFile] = {}  # staged, uncommitted blobs we hold locked
        self._pending_lock = threading.Lock()
        self._thread_local = threading.local()  # I/O threads' own read connections
        self._thread_conns: list[sqlite3.Connection] = []
        self._cache = MetaCache()
        self._data_version = -1  # of the read connection, at the last sync
        self._wal_index: WalIndex | None = None  # its header tells of commits (_wal_header)
        self._header: bytes | None = None  # its header at the last sync
        self._seen = 0  # the last change log seq the cache has taken into account
        self._applied = 0  # applies by this process's writer (prunes the change log)

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        self._writer.start()
        self._io = ThreadPoolExecutor(IO_THREADS, thread_name_prefix="pod-storage-io")
        try:
            await self._on_writer(self._start_writer)
            self._rconn = self._connect()
            self._rconn.execute("PRAGMA query_only = ON")
            self._seen = self._rconn.execute(_LAST_CHANGE_QUERY).fetchone()[0]
            self._wal_index = WalIndex.open(self._db)
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        if not self._writer.started:
            return
        async with self._conn_lock:
            await self._writer.stop(self._abort_pending)
        if self._io is not None:
            self._io.shutdown(wait=True)
        for conn in self._thread_conns:
            conn.close()
        self._thread_conns.clear()
        self._thread_local = threading.local()
        if self._rconn is not None:
            self._rconn.close()
        self._io = self._rconn = None
        if self._wal_index is not None:  # last: its close drops the process's locks
            self._wal_index.close()
            self._wal_index = None

    def _connect(self) -> sqlite3.Connection:
        conn = connect(self._db, BUSY_TIMEOUT)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA synchronous = FULL")
        return conn

    def _start_writer(self) -> None:
        self._blobs.mkdir(parents=True, exist_ok=True)
        for i in range(256):
            (self._blobs / f"{i:02x}").mkdir(exist_ok=True)
        conn = self._writer.adopt(self._connect())
        use_wal(conn, BUSY_TIMEOUT)
        conn.execute("PRAGMA journal_size_limit = 67108864")  # shrink the WAL after bursts
        migrate(conn, MIGRATIONS, self._db, _busy)
        _fsync_dir(self._blobs)
        _fsync_dir(self.root)
        self._collect_orphans(conn)

    def _abort_pending(self) -> None:
        with self._pending_lock:
            pending, self._pending = list(self._pending.values()), {}
        for blob in pending:
            blob.abort()

    async def _on_writer(self, fn: Callable[..., T], *args: object) -> T:
        async with self._conn_lock:
            return await self._writer.run(fn, *args)

    # -- garbage collection ----------------------------------------------------------------

    def _collect_orphans(self, conn: sqlite3.Connection) -> None:
        """Remove blob files no row names, unless their stager still holds them locked."""
        rows = conn.execute("SELECT blob FROM resources WHERE blob IS NOT NULL")
        referenced = {f"{row['blob'][:2]}/{row['blob']}" for row in rows}
        for path in self._blobs.rglob("*"):
            relative = path.relative_to(self._blobs).as_posix()
            if relative not in referenced and path.is_file():
                self._collect_one(conn, path)

    @staticmethod
    def _collect_one(conn: sqlite3.Connection, path: Path) -> None:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)  # being staged by a live writer
            return
        try:
            # Its stager may have committed and unlocked since we listed the references.
            query = "SELECT 1 FROM resources WHERE blob = ?"
            if conn.execute(query, (path.name,)).fetchone() is None:
                path.unlink(missing_ok=True)
        finally:
            os.close(fd)

    # -- reads -----------------------------------------------------------------------------
    # Index lookups run synchronously on the event loop through a dedicated read connection:
    # a WAL read never waits for the writer, and a point lookup (even with a 64 KB inline
    # body) costs a few microseconds, far less than the ~50-100 us hop to a thread.

    # Metadata comes from the cache (storage.meta_cache), synced with the change log first.

    async def meta(self, path: str) -> Meta | None:
        return self._metas_now((path,)).get(path)

    async def metas(self, paths: Sequence[str]) -> dict[str, Meta]:
        return self._metas_now(paths) if paths else {}

    def _metas_now(self, paths: Sequence[str]) -> dict[str, Meta]:
        self._sync()
        found, missing = self._cache.lookup(paths)
        if missing:
            read: dict[str, Meta] = {}
            for i in range(0, len(missing), SQL_VARIABLES):
                part = missing[i : i + SQL_VARIABLES]
                marks = ", ".join("?" * len(part))
                query = f"SELECT path, {_META_COLUMNS} FROM resources WHERE path IN ({marks})"
                for row in self._reader().execute(query, part):
                    read[row["path"]] = _meta(row["path"], row)
            # No await since the sync: no other sync can have run in between.
            self._cache.fill(missing, read, self._cache.epoch)
            found.update(read)
        return found

    def _sync(self) -> None:
        """Drop the cached metadata of every path changed (by any process) since the last
        sync. Every commit changes the WAL index's header, and ``data_version`` changes
        with every commit of another connection (our own writer thread's included): an
        unchanged one means nothing to read. The header costs one pread (~1 us), the
        pragma a read transaction (~6 us), on every request."""
        header = self._wal_header()
        if header is not None and header == self._header:
            return
        conn = self._reader()
        version = conn.execute("PRAGMA data_version").fetchone()[0]
        if version == self._data_version:
            self._header = header
            return
        rows = conn.execute(_CHANGES_QUERY, (self._seen,)).fetchall()
        if rows and rows[0][0] != self._seen + 1:
            self._cache.clear()  # pruned past what we saw: we cannot tell what changed
        elif rows:
            self._cache.invalidate(row[1] for row in rows)
        if rows:
            self._seen = rows[-1][0]
        # Only now: had reading the log failed, the next call would read it again.
        self._data_version, self._header = version, header

    def _wal_header(self) -> bytes | None:
        """The WAL index's header as it is now, or None when it cannot be read."""
        return None if self._wal_index is None else self._wal_index.read()

    async def read(self, path: str) -> BytesStored | BlobStored:
        query = f"SELECT {_META_COLUMNS}, blob, body FROM resources WHERE path = ?"
        for _ in range(READ_RETRIES):
            row = self._reader().execute(query, (path,)).fetchone()
            if row is None:
                raise NotFound(path)
            meta = _meta(path, row)
            blob = row["blob"]
            if blob is None:
                return BytesStored(meta, row["body"])
            try:
                fd = os.open(self._blob_path(blob), os.O_RDONLY | os.O_CLOEXEC)
            except FileNotFoundError:
                continue  # replaced after our lookup; the new row names another body
            assert self._io is not None
            return BlobStored(meta, fd, self._io)
        raise PodError(f"Body of {path} is missing from the blob store")

    async def children(
        self, path: str, after: str | None = None, limit: int | None = None
    ) -> list[Meta]:
        # A listing may be unbounded (10k members take ~20 ms), so only short ones stay on
        # the loop; a long one is read again, whole, by an I/O thread.
        check_page(after, limit)
        args = (path, after or "", -1 if limit is None else limit)
        cursor = self._reader().execute(_CHILDREN_QUERY, args)
        rows = cursor.fetchmany(SYNC_CHILDREN)
        cursor.close()
        if len(rows) < SYNC_CHILDREN or len(rows) == limit:
            return [_meta(row["path"], row) for row in rows]
        return await self._on_io(self._children_in_thread, args)

    def _children_in_thread(self, args: tuple[str, str, int]) -> list[Meta]:
        conn = getattr(self._thread_local, "conn", None)
        if conn is None:
            conn = self._thread_local.conn = self._connect()
            with self._pending_lock:
                self._thread_conns.append(conn)
        return [_meta(row["path"], row) for row in conn.execute(_CHILDREN_QUERY, args)]

    def _reader(self) -> sqlite3.Connection:
        if self._rconn is None:
            raise RuntimeError("FileBackend is not started")
        return self._rconn

    def _blob_path(self, name: str) -> Path:
        return self._blobs / name[:2] / name

    # -- staging ---------------------------------------------------------------------------

    async def stage(self, chunks: AsyncIterator[bytes], limit: int) -> Staged:
        buffer = bytearray()
        size = 0
        blob: _BlobFile | None = None
        try:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(f"Body larger than {limit} bytes")
                buffer += chunk
                if size > self.inline_threshold and len(buffer) >= WRITE_BATCH:
                    blob = blob or _BlobFile.create(self._blobs)
                    await self._on_io(blob.write, bytes(buffer))
                    buffer.clear()
        except BaseException:
            await self._abort(blob)
            raise
        if blob is None and size <= self.inline_threshold:
            return Staged(size=size, data=bytes(buffer))
        return await self._stage_blob(blob, bytes(buffer), size)

    async def _stage_blob(self, blob: _BlobFile | None, tail: bytes, size: int) -> Staged:
        """Write the last bytes of a large body, make it durable and hold it as pending."""
        blob = blob or _BlobFile.create(self._blobs)
        try:
            await self._on_io(blob.write, tail)
            await self._on_io(blob.finish)
        except BaseException:
            await self._abort(blob)
            raise
        with self._pending_lock:
            self._pending[blob.name] = blob
        return Staged(size=size, blob=blob.name)

    async def _abort(self, blob: _BlobFile | None) -> None:
        if blob is not None:
            # Shielded: a second cancellation must not leave the file behind.
            await asyncio.shield(self._on_io(blob.abort))

    async def discard(self, staged: Staged) -> None:
        # On the writer thread, so it can never race an apply() committing the same blob.
        if staged.blob is not None:
            await self._on_writer(self._discard_blob, staged.blob)

    def _discard_blob(self, name: str) -> None:
        with self._pending_lock:
            blob = self._pending.pop(name, None)
        if blob is not None:
            blob.abort()

    def _on_io(self, fn: Callable[..., T], *args: object) -> asyncio.Future[T]:
        if self._io is None:
            raise RuntimeError("FileBackend is not started")
        return asyncio.get_running_loop().run_in_executor(self._io, fn, *args)

    # -- writes ----------------------------------------------------------------------------

    async def apply(
        self,
        expects: Sequence[Expect],
        steps: Sequence[Mutation | Log],
        quota: Quota | None = None,
    ) -> Mapping[str, Meta]:
        if quota is not None and not isinstance(quota, Quota):
            raise TypeError(f"Not a Quota: {quota!r}")
        resource_steps, logs = split_logs(steps)
        mutations, spilled = await self._spill(resource_steps)
        try:
            write = _Write(tuple(expects), tuple(mutations), quota, tuple(logs))
            return await self._commits.submit(write)
        finally:
            # A no-op for spilled blobs the apply committed; deletes them if it failed.
            for staged in spilled:
                await asyncio.shield(self.discard(staged))

    async def _commit_batch(self, writes: list[_Write]) -> list[dict[str, Meta] | Exception]:
        # Shielded: once begun, the transaction ends (committed or rolled back) even if
        # the queue's drainer is cancelled.
        return await asyncio.shield(self._apply_batch(writes))

    async def _spill(self, mutations: Sequence[Mutation]) -> tuple[list[Mutation], list[Staged]]:
        """Move large in-memory bodies (e.g. built by a PATCH) to blobs, outside the lock."""
        out: list[Mutation] = []
        spilled: list[Staged] = []
        try:
            for mutation in mutations:
                if self._needs_spill(mutation):
                    assert isinstance(mutation, Put) and mutation.body.data is not None
                    data = bytes(mutation.body.data)
                    staged = await self._stage_blob(None, data, len(data))
                    spilled.append(staged)
                    mutation = Put(mutation.path, mutation.content_type, staged)
                out.append(mutation)
        except BaseException:
            for staged in spilled:
                await asyncio.shield(self.discard(staged))
            raise
        return out, spilled

    def _needs_spill(self, mutation: Mutation) -> bool:
        if not isinstance(mutation, Put):
            return False
        body = mutation.body
        return (
            body.blob is None and body.data is not None and len(body.data) > self.inline_threshold
        )

    async def _apply_batch(self, writes: list[_Write]) -> list[dict[str, Meta] | Exception]:
        """Commit ``writes`` in one transaction (one fsync), each in a savepoint of its own:
        a write whose expectations fail (or that raises) is undone alone, and its outcome
        is its exception. If the transaction fails, so do all of them (nothing committed).

        The statements run here, on the event loop (a batch's few hundred microseconds of
        CPU, never waiting: the write lock is held). Run on the writer thread, each of them
        gave the GIL to the loop and waited to get it back, several times per write, so
        the commit spent most of its time waiting on the loop. Only the lock wait (another
        process writing), the COMMIT's fsync and a batch counting a pod's usage for the
        first time (a scan of the whole pod, see ``_counted``) go to the thread."""
        async with self._conn_lock:
            conn = self._writer.conn
            if not begin_now(conn, BUSY_TIMEOUT):
                await self._writer.run(begin, conn, _busy)
            try:
                if self._uncounted(conn, writes):
                    outcomes, done = await self._writer.run(self._run_writes, conn, writes)
                else:
                    outcomes, done = self._run_writes(conn, writes)
            except BaseException:
                rollback(conn)
                raise
            await self._writer.run(self._commit_writes, done)
        return outcomes

    def _uncounted(self, conn: sqlite3.Connection, writes: list[_Write]) -> bool:
        """Whether a write of the batch counts against a root with no usage row yet (one
        indexed lookup): ``_count`` would then scan everything under that root."""
        roots = {
            w.quota.root
            for w in writes
            if w.quota is not None and any(m.path.startswith(w.quota.root) for m in w.mutations)
        }
        return bool(roots) and not roots <= self._counters(conn, roots).keys()

    def _run_writes(
        self, conn: sqlite3.Connection, writes: list[_Write]
    ) -> tuple[list[dict[str, Meta] | Exception], list[tuple[list[str], list[str]]]]:
        """Each write in its savepoint: the outcomes, and each applied write's blobs (those
        it claims, those it makes garbage)."""
        outcomes: list[dict[str, Meta] | Exception] = []
        done: list[tuple[list[str], list[str]]] = []
        for write in writes:
            conn.execute("SAVEPOINT one_write")
            try:
                claimed = self._claim(write.mutations)
                result, garbage = self._apply(conn, write)
            except Exception as exc:  # this write's own outcome, raised by its caller
                conn.execute("ROLLBACK TO one_write")
                conn.execute("RELEASE one_write")
                outcomes.append(exc)
                continue
            # A quota refusal keeps a usage row it created (see _count): released too.
            conn.execute("RELEASE one_write")
            outcomes.append(result)
            if not isinstance(result, Exception):
                done.append((claimed, garbage))
        return outcomes, done

    def _commit_writes(self, done: list[tuple[list[str], list[str]]]) -> None:
        """On the writer thread: COMMIT the batch, then hand its blobs over."""
        commit(self._writer.conn)
        # Committed: the rows now own the claimed blobs, and nothing names the garbage.
        for claimed, garbage in done:
            with self._pending_lock:
                for name in claimed:
                    self._pending.pop(name).release()
            for name in garbage:
                self._blob_path(name).unlink(missing_ok=True)

    def _apply(
        self, conn: sqlite3.Connection, write: _Write
    ) -> tuple[dict[str, Meta] | QuotaExceeded, list[str]]:
        """One write inside the batch's transaction: its result (or the quota's refusal,
        the staged blobs then still pending) and the blobs it made garbage."""
        for expect in write.expects:
            row = conn.execute("SELECT etag FROM resources WHERE path = ?", (expect.path,))
            found = row.fetchone()
            current = None if found is None else found["etag"]
            if not expect_holds(expect, current):
                raise stale(expect, current)
        refused = self._count(conn, write.mutations, write.quota)
        if refused is not None:
            return refused, []
        result, garbage = self._mutate(conn, write.mutations)
        self._log_changes(conn, write.mutations)
        if write.logs:
            _append_logs(conn, write.logs)
        return result, garbage

    def _log_changes(self, conn: sqlite3.Connection, mutations: tuple[Mutation, ...]) -> None:
        """Record the batch's paths in the change log (see storage.meta_cache)."""
        conn.executemany("INSERT INTO changes (path) VALUES (?)", [(m.path,) for m in mutations])
        self._applied += 1
        if self._applied % PRUNE_CHANGES_EVERY == 0:
            conn.execute(
                "DELETE FROM changes WHERE seq <= (SELECT MAX(seq) FROM changes) - ?",
                (CHANGES_KEPT,),
            )

    def _count(
        self, conn: sqlite3.Connection, mutations: tuple[Mutation, ...], quota: Quota | None
    ) -> QuotaExceeded | None:
        """Update every usage row covering the batch, or return why the quota refuses it.

        Runs inside the batch's transaction. Cost: one indexed lookup of the covering rows,
        then (only if there are any) one point lookup per mutated path and one UPDATE per
        counted root, whatever the pod's size. A row this creates is kept on refusal, so a
        pod already over its limit is not recounted on every refused write.
        """
        paths = [m.path for m in mutations]
        counters = self._counters(conn, covering_roots(paths))
        root = None if quota is None else quota.root
        if root is not None and root not in counters and any(p.startswith(root) for p in paths):
            counters[root] = self._counted(conn, root)
        if not counters:
            return None

        def size_of(path: str) -> int | None:
            row = conn.execute("SELECT size FROM resources WHERE path = ?", (path,)).fetchone()
            return None if row is None else int(row["size"])

        deltas, final = size_changes(mutations, size_of)
        by_root = root_deltas(deltas, counters)
        if quota is not None and quota.root in by_root:
            row = conn.execute(_LIMIT_QUERY, (quota.root,)).fetchone()
            override = None if row is None else int(row["byte_limit"])
            error = refusal(quota, counters[quota.root], by_root[quota.root], override)
            if error is not None:
                return error
        for root, delta in by_root.items():
            if root in final and final[root] is None:  # the root itself is gone
                conn.execute("DELETE FROM quota_usage WHERE root = ?", (root,))
            elif delta:
                conn.execute("UPDATE quota_usage SET used = used + ? WHERE root = ?", (delta, root))
        return None

    @staticmethod
    def _counters(conn: sqlite3.Connection, roots: set[str]) -> dict[str, int]:
        """The usage rows among ``roots`` (a handful: the mutated paths' ancestors)."""
        found: dict[str, int] = {}
        ordered = sorted(roots)
        for i in range(0, len(ordered), SQL_VARIABLES):
            part = ordered[i : i + SQL_VARIABLES]
            marks = ", ".join("?" * len(part))
            query = f"SELECT root, used FROM quota_usage WHERE root IN ({marks})"
            found.update((row["root"], row["used"]) for row in conn.execute(query, part))
        return found

    @staticmethod
    def _counted(conn: sqlite3.Connection, root: str) -> int:
        """The root's usage row, created from one range scan if missing (in a transaction)."""
        row = conn.execute(_USED_QUERY, (root,)).fetchone()
        if row is not None:
            return int(row["used"])
        used = _scan(conn, root)
        conn.execute("INSERT INTO quota_usage (root, used) VALUES (?, ?)", (root, used))
        return used

    # -- quotas ----------------------------------------------------------------------------

    async def usage(self, root: str) -> Usage:
        check_root(root)
        reader = self._reader()
        row = reader.execute(_USED_QUERY, (root,)).fetchone()
        limit = reader.execute(_LIMIT_QUERY, (root,)).fetchone()
        if row is not None:
            used = int(row["used"])
        else:  # not counted yet: count it once, from now on kept by every write
            used = await self._on_writer(self._usage_uncounted, root)
        return Usage(used, None if limit is None else int(limit["byte_limit"]))

    def _usage_uncounted(self, root: str) -> int:
        conn = self._writer.conn
        with transaction(conn, _busy):
            exists = conn.execute("SELECT 1 FROM resources WHERE path = ?", (root,)).fetchone()
            if exists is not None:
                return self._counted(conn, root)
            # No such root: report what lies under it without keeping a row for it.
            return _scan(conn, root)

    async def set_limit(self, root: str, limit: int | None) -> None:
        check_root(root)
        check_limit(limit)
        await self._on_writer(self._set_limit, root, limit)

    async def limits(self) -> dict[str, int]:
        rows = self._reader().execute("SELECT root, byte_limit FROM quota_limits").fetchall()
        return {row["root"]: int(row["byte_limit"]) for row in rows}

    def _set_limit(self, root: str, limit: int | None) -> None:
        conn = self._writer.conn
        with transaction(conn, _busy):
            if limit is None:
                conn.execute("DELETE FROM quota_limits WHERE root = ?", (root,))
            else:
                conn.execute(
                    "INSERT OR REPLACE INTO quota_limits (root, byte_limit) VALUES (?, ?)",
                    (root, limit),
                )

    # -- audit logs ------------------------------------------------------------------------
    # Reads go through the loop's read connection like resource lookups (one indexed range).

    async def log_page(self, root: str, query: LogQuery) -> list[LogRow]:
        check_log_query(root, query)
        where, args = _log_where(root, query)
        sql = f"SELECT {_LOG_COLUMNS} FROM audit_log WHERE {where} ORDER BY seq DESC LIMIT ?"
        return [_log_row(row) for row in self._reader().execute(sql, (*args, query.limit))]

    async def log_rows(self, root: str, after: int = 0, limit: int = 1000) -> list[LogRow]:
        check_log_rows(root, after, limit)
        sql = (
            f"SELECT {_LOG_COLUMNS} FROM audit_log WHERE root = ? AND seq > ? ORDER BY seq LIMIT ?"
        )
        return [_log_row(row) for row in self._reader().execute(sql, (root, after, limit))]

    async def log_state(self, root: str) -> LogState:
        check_root(root)
        return _log_state(self._reader(), root)

    async def log_trim(self, before: float, root: str | None = None) -> int:
        if root is not None:
            check_root(root)
        return await self._on_writer(self._log_trim, before, root)

    def _log_trim(self, before: float, root: str | None) -> int:
        conn = self._writer.conn
        removed = 0
        with transaction(conn, _busy):
            roots = (
                [root]
                if root is not None
                else [r["root"] for r in conn.execute("SELECT root FROM audit_heads")]
            )
            for name in roots:
                # The first entry to keep; everything before it goes (a prefix of the chain).
                # Walks the log from its oldest entry: after one trim, only a few steps.
                first = conn.execute(
                    "SELECT seq FROM audit_log WHERE root = ? AND at >= ? ORDER BY seq LIMIT 1",
                    (name, before),
                ).fetchone()
                keep = None if first is None else first["seq"]
                bound = "" if keep is None else " AND seq < ?"
                args: tuple[object, ...] = (name,) if keep is None else (name, keep)
                cut = conn.execute(
                    f"SELECT seq, hash FROM audit_log WHERE root = ?{bound}"
                    " ORDER BY seq DESC LIMIT 1",
                    args,
                ).fetchone()
                if cut is None:
                    continue
                gone = conn.execute(
                    "DELETE FROM audit_log WHERE root = ? AND seq <= ?", (name, cut["seq"])
                )
                removed += gone.rowcount
                conn.execute(
                    "UPDATE audit_heads SET anchor_seq = ?, anchor_hash = ? WHERE root = ?",
                    (cut["seq"], cut["hash"], name),
                )
        return removed

    async def add_checkpoint(self, checkpoint: Checkpoint) -> None:
        check_root(checkpoint.root)
        await self._on_writer(self._add_checkpoint, checkpoint)

    def _add_checkpoint(self, cp: Checkpoint) -> None:
        conn = self._writer.conn
        with transaction(conn, _busy):
            conn.execute(
                "INSERT OR REPLACE INTO audit_checkpoints (root, seq, hash, at, key, signature)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (cp.root, cp.seq, cp.hash, cp.at, cp.key, cp.signature),
            )

    async def checkpoints(self, root: str) -> list[Checkpoint]:
        check_root(root)
        rows = self._reader().execute(
            "SELECT root, seq, hash, at, key, signature FROM audit_checkpoints"
            " WHERE root = ? ORDER BY seq",
            (root,),
        )
        return [
            Checkpoint(
                r["root"], r["seq"], bytes(r["hash"]), r["at"], r["key"], bytes(r["signature"])
            )
            for r in rows
        ]

    def _claim(self, mutations: Iterable[Mutation]) -> list[str]:
        """Validate the batch; return the staged blobs it commits (all ours and distinct)."""
        return claim_blobs(mutations, self._pending_blob)

    def _pending_blob(self, body: Staged) -> str | None:
        with self._pending_lock:
            return body.blob if body.blob in self._pending else None

    def _mutate(
        self, conn: sqlite3.Connection, mutations: Iterable[Mutation]
    ) -> tuple[dict[str, Meta], list[str]]:
        result: dict[str, Meta] = {}
        garbage: list[str] = []
        for mutation in mutations:
            path = mutation.path
            old = conn.execute(
                f"SELECT {_META_COLUMNS}, blob FROM resources WHERE path = ?", (path,)
            ).fetchone()
            if isinstance(mutation, Put):
                if old is not None and old["blob"] is not None:
                    garbage.append(old["blob"])
                result[path] = self._put(conn, mutation, exists=old is not None)
            elif isinstance(mutation, Delete):
                if old is not None and old["blob"] is not None:
                    garbage.append(old["blob"])
                conn.execute("DELETE FROM resources WHERE path = ?", (path,))
                result.pop(path, None)
            elif old is not None:  # Touch; a missing path is ignored
                meta = replace(_meta(path, old), etag=new_etag(), modified=time.time())
                conn.execute(
                    "UPDATE resources SET etag = ?, modified = ? WHERE path = ?",
                    (meta.etag, meta.modified, path),
                )
                result[path] = meta
        return result, garbage

    @staticmethod
    def _put(conn: sqlite3.Connection, put: Put, exists: bool) -> Meta:
        body = put.body
        size = put_size(put)
        meta = Meta(put.path, put.content_type, size, new_etag(), time.time())
        stored = None if body.blob is not None else bytes(body.data or b"")
        values = (put.content_type, size, meta.etag, meta.modified, body.blob, stored, put.path)
        if exists:  # in place: a replace would delete the row and insert it, every index too
            conn.execute(
                "UPDATE resources SET content_type = ?, size = ?, etag = ?, modified = ?,"
                " blob = ?, body = ? WHERE path = ?",
                values,
            )
        else:
            conn.execute(
                "INSERT INTO resources (content_type, size, etag, modified, blob, body, path,"
                " parent) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (*values, parent_of(put.path)),
            )
        return meta


@dataclass(frozen=True, slots=True)
class _Write:
    """One ``apply`` call waiting for its batch's commit."""

    expects: tuple[Expect, ...]
    mutations: tuple[Mutation, ...]
    quota: Quota | None
    logs: tuple[Log, ...]


def _append_logs(conn: sqlite3.Connection, logs: Sequence[Log]) -> None:
    """Chain ``logs`` after their roots' heads (BEGIN IMMEDIATE holds every writer off)."""
    rows = chain_logs(logs, lambda root: _log_state(conn, root))
    conn.executemany(
        "INSERT INTO audit_log (root, seq, at, agent, resource, outcome, body, prev, hash)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (r.root, r.seq, r.at, r.agent, r.resource, r.outcome, r.body, r.prev, r.hash)
            for r in rows
        ],
    )
    heads = {row.root: row for row in rows}  # each root's last row
    conn.executemany(
        "INSERT INTO audit_heads (root, seq, hash, anchor_seq, anchor_hash)"
        " VALUES (?, ?, ?, 0, ?) ON CONFLICT (root) DO UPDATE SET seq = excluded.seq,"
        " hash = excluded.hash",
        [(r.root, r.seq, r.hash, GENESIS) for r in heads.values()],
    )


def _log_state(conn: sqlite3.Connection, root: str) -> LogState:
    row = conn.execute(_HEAD_QUERY, (root,)).fetchone()
    if row is None:
        return LogState()
    return LogState(row["seq"], row["hash"], row["anchor_seq"], row["anchor_hash"])


def _log_row(row: sqlite3.Row) -> LogRow:
    return LogRow(
        row["root"],
        row["seq"],
        row["at"],
        row["agent"],
        row["resource"],
        row["outcome"],
        bytes(row["body"]),
        bytes(row["prev"]),
        bytes(row["hash"]),
    )


def _log_where(root: str, query: LogQuery) -> tuple[str, list[object]]:
    """The SQL filter of ``query`` (what ``common.log_matches`` says)."""
    where, args = ["root = ?"], [root]
    if query.before is not None:
        where.append("seq < ?")
        args.append(query.before)
    if query.agent is not None:
        where.append("agent = ?")
        args.append(query.agent)
    if query.resource is not None:
        where.append("substr(resource, 1, ?) = ?")
        args += [len(query.resource), query.resource]
    if query.since is not None:
        where.append("at >= ?")
        args.append(query.since)
    if query.until is not None:
        where.append("at < ?")
        args.append(query.until)
    if query.outcomes is not None:
        where.append("outcome BETWEEN ? AND ?")
        args += list(query.outcomes)
    return " AND ".join(where), args


@dataclass(eq=False)
class WalIndex:
    """The header of the database's WAL index (``-shm``), mapped read-only.

    Its first 48 bytes are the header SQLite rewrites, with a counter it increments, on
    every commit, before the commit returns (sqlite.org/walformat.html, section 2.2.1).
    Processes running different SQLite versions share this file, so its layout is fixed
    (version 3007000 at offset 0). No mapping (``header`` None) when the file is not in
    that layout: then ``PRAGMA data_version`` alone keeps the cache exact.

    The descriptor stays open until the process's connections are closed: closing any
    descriptor of a file drops every POSIX lock the process holds on it, SQLite's included.
    Without SQLite's lock on its "dead man switch" byte, the next process to open the
    database would take this one for gone and truncate the file under the mapping (SIGBUS),
    and the read and write locks the processes share would be lost."""

    fd: int
    header: mmap.mmap | None

    @classmethod
    def open(cls, db: Path) -> WalIndex | None:
        try:
            fd = os.open(f"{db}-shm", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return None
        header = None
        with contextlib.suppress(OSError):
            if os.fstat(fd).st_size >= WAL_INDEX_HEADER:
                header = mmap.mmap(fd, WAL_INDEX_HEADER, mmap.MAP_SHARED, mmap.PROT_READ)
        if header is not None and int.from_bytes(header[:4], sys.byteorder) != WAL_INDEX_VERSION:
            header.close()
            header = None
        return cls(fd, header)

    def read(self) -> bytes | None:
        """The header as it is now (None: not mapped). A read of shared memory, not a
        system call: this runs several times a request."""
        return None if self.header is None else self.header[:WAL_INDEX_HEADER]

    def close(self) -> None:
        """Only after the database's connections are closed (see the class)."""
        if self.header is not None:
            self.header.close()
        os.close(self.fd)


def _meta(path: str, row: sqlite3.Row) -> Meta:
    # By name; cheaper than Meta(**row), which asks the row for its keys first.
    return Meta(path, row["content_type"], row["size"], row["etag"], row["modified"])


def _scan(conn: sqlite3.Connection, root: str) -> int:
    """The bytes stored at and below ``root`` (one range scan)."""
    row = conn.execute(_SCAN_QUERY, (root, root_upper_bound(root))).fetchone()
    return int(row["used"])


def _busy() -> ServiceUnavailable:
    return ServiceUnavailable("Storage is busy; try again")
