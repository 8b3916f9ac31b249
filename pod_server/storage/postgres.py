"""The PostgreSQL storage backend (asyncpg): one system of record for many server processes.

The statements are in ``pg_sql``, the tables in ``db.tables.storage`` (migrations applied by
:func:`pod_server.db.schema.upgrade`, which ``start()`` also runs unless
``auto_upgrade=False``); the transaction of one batch, its locks and quota counting in
``pg_batch``; large bodies (staged in chunks, read by ranges) in ``pg_blobs``. Beside the
storage's tables the same schema may hold the identity provider's state (``idp_*``,
``pod_server.state.postgres``) and the notification hub's (``notify_*``,
``pod_server.notify.pg_hub``).

Metadata lookups answer from a per-process cache (``storage.meta_cache``), brought up to
date before each lookup by one query (shared by the lookups waiting at that moment) for the
``outbox`` rows committed since the previous one's snapshot.

Connections: one asyncpg pool per backend; pool connections are not reset on release (the
backend leaves no session state), which saves a round trip per query. ``lock_timeout``
bounds every lock wait; connection problems and lock timeouts surface as
``ServiceUnavailable`` (503). Works through a transaction-mode connection pooler (only
transaction-scoped locks are used), provided prepared statements work through it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import AsyncIterator, Mapping, Sequence

import asyncpg

from pod_server.db.batching import CommitQueue
from pod_server.db.postgres import RETRY, open_pool, quote_ident, schema_version, unavailable
from pod_server.db.schema import schema_version as code_version
from pod_server.db.schema import upgrade
from pod_server.errors import NotFound, ServiceUnavailable
from pod_server.storage.base import (
    Checkpoint,
    Expect,
    Log,
    LogQuery,
    LogRow,
    LogState,
    Meta,
    Mutation,
    Quota,
    Staged,
    Usage,
    check_limit,
    check_page,
    check_root,
    split_logs,
)
from pod_server.storage.common import (
    BytesStored,
    check_log_query,
    check_log_rows,
    root_upper_bound,
)
from pod_server.storage.meta_cache import MetaCache, NextRun, synced_for_this_request
from pod_server.storage.pg_batch import BatchWrites, Outcome, Recount, Result, Write
from pod_server.storage.pg_blobs import BLOB_CHUNK, ChunkedStored, StagedBlobs
from pod_server.storage.pg_sql import (
    ADD_CHECKPOINT,
    ANALYZED,
    CHECKPOINTS,
    CHILDREN_QUERY,
    COLLECT,
    LOG_PAGE,
    LOG_ROWS,
    LOG_STATE,
    LOG_TRIM,
    METAS_QUERY,
    READ_QUERY,
    SCAN_QUERY,
    SNAPSHOT_QUERY,
    STALE_STATISTICS,
    SYNC_QUERY,
    TRIM_OUTBOX,
    USAGE_QUERY,
)

log = logging.getLogger(__name__)

APPLY_ATTEMPTS = 8  # a batch is restarted after a deadlock/serialization failure
# Writes per transaction: each runs in a savepoint, a subtransaction with an id of its own;
# past 64 of them the server's snapshots of every session get slower ("suboverflowed").
PG_BATCH = 32
GC_BATCH = 64  # blobs deleted per collector statement
OUTBOX_BATCH = 10_000  # outbox rows deleted per collector statement
STATS_SLACK = 1_000  # changed rows past a tenth of a table before it is analysed again
BULK_BATCH = 500  # a batch this large asks for a statistics check right after it
SYNC_ROWS = 10_000  # outbox rows one sync of the metadata cache reads at most


class PostgresBackend(BatchWrites):
    """The storage contract on PostgreSQL (see the module docstring).

    ``dsn``: a ``postgresql://`` URL; ``schema``: a schema to keep the tables in (created
    by the upgrade), else the connection's default (``public``). ``inline_threshold``:
    bodies up to this many bytes are stored in the resource row, larger ones in chunks of
    ``chunk_size``. ``min_connections``/``max_connections``: the pool's bounds.
    ``auto_upgrade``: ``start()`` applies missing migrations (else it refuses to start on
    an older schema). ``staging_ttl``: seconds an uncommitted staged body survives without
    growing; ``garbage_grace``: seconds a replaced body stays readable; ``gc_interval``:
    seconds between collector runs (0: only at start); ``outbox_retention``: seconds an
    outbox row is kept for a consumer. ``lock_timeout``: seconds any lock
    wait may take before the operation fails with 503.
    """

    def __init__(
        self,
        dsn: str,
        *,
        schema: str | None = None,
        inline_threshold: int = 64 * 1024,
        chunk_size: int = BLOB_CHUNK,
        min_connections: int = 1,
        max_connections: int = 10,
        auto_upgrade: bool = True,
        staging_ttl: float = 3600.0,
        garbage_grace: float = 600.0,
        gc_interval: float = 300.0,
        outbox_retention: float = 3600.0,
        lock_timeout: float = 10.0,
        connect_timeout: float = 10.0,
    ) -> None:
        if chunk_size <= 0 or inline_threshold < 0:
            raise ValueError("chunk_size must be positive and inline_threshold non-negative")
        self.dsn, self.schema = dsn, schema
        self.inline_threshold, self.chunk_size = inline_threshold, chunk_size
        self.min_connections, self.max_connections = min_connections, max_connections
        self.auto_upgrade = auto_upgrade
        self.staging_ttl, self.garbage_grace = staging_ttl, garbage_grace
        self.gc_interval, self.lock_timeout = gc_interval, lock_timeout
        self.outbox_retention = outbox_retention
        self.connect_timeout = connect_timeout
        self._pool: asyncpg.Pool | None = None
        self._blobs = StagedBlobs(
            self._db,
            chunk_size=chunk_size,
            inline_threshold=inline_threshold,
            staging_ttl=staging_ttl,
        )
        self._gc_task: asyncio.Task[None] | None = None
        self._stats_task: asyncio.Task[None] | None = None
        self._cache = MetaCache()
        self._sync = NextRun(self._sync_once)
        self._snapshot = ""  # of the last sync (see _sync)
        self._synced = 0.0  # time.monotonic() when it was taken
        self._lock_space = (schema or "").encode() + b"\0"
        self._global_key = self._lock_key(b"g", "")
        # Concurrent applies share a transaction (one commit's WAL flush), PG_BATCH at most.
        self._commits: CommitQueue[Write, Result] = CommitQueue(
            functools.partial(self._commit, None), PG_BATCH
        )

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        if self.auto_upgrade:
            await upgrade(self.dsn, schema=self.schema, timeout=self.connect_timeout)
        self._pool = await open_pool(
            self.dsn,
            self.schema,
            min_size=self.min_connections,
            max_size=self.max_connections,
            lock_timeout=self.lock_timeout,
            connect_timeout=self.connect_timeout,
        )
        try:
            async with self._pool.acquire() as conn:
                version = await schema_version(conn)
                self._snapshot = await conn.fetchval(SNAPSHOT_QUERY)
                self._synced = time.monotonic()
            if version != code_version():
                raise RuntimeError(
                    f"The storage database schema is at version {version}, this server needs"
                    f" {code_version()}: run `pod-server db upgrade`"
                )
            await self.collect()
        except BaseException:
            await self.close()
            raise
        if self.gc_interval > 0:
            self._gc_task = asyncio.create_task(self._collect_forever())

    async def close(self) -> None:
        if self._stats_task is not None:
            self._stats_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._stats_task
            self._stats_task = None
        if self._gc_task is not None:
            self._gc_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._gc_task
            self._gc_task = None
        pool, self._pool = self._pool, None
        if pool is None:
            return
        try:
            await self._blobs.drop_all(pool)
        finally:
            await pool.close()

    def _db(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("PostgresBackend is not started")
        return self._pool

    # -- garbage collection ----------------------------------------------------------------

    async def collect(self) -> int:
        """Delete staged and replaced blobs past their expiry, and outbox rows past their
        retention; return how many blobs went."""
        total = 0
        while True:
            with unavailable():
                gone = int(await self._db().fetchval(COLLECT, GC_BATCH))
            total += gone
            if gone < GC_BATCH:
                break
        while True:
            with unavailable():
                trimmed = int(
                    await self._db().fetchval(TRIM_OUTBOX, self.outbox_retention, OUTBOX_BATCH)
                )
            if trimmed < OUTBOX_BATCH:
                break
        await self.refresh_statistics()
        return total

    async def refresh_statistics(self, *, every: bool = False) -> list[str]:
        """ANALYZE the tables whose planner statistics lag far behind their contents;
        return their names. Autovacuum does this where it runs, but it may be off or late
        after a bulk load, and with stale row counts the planner scans a 100,000-row
        table where one index probe would do (measured: 0.6 s per write batch)."""
        with unavailable():
            stale = (
                list(ANALYZED)
                if every  # after a bulk load the views may not have caught up yet
                else [r["relname"] for r in await self._db().fetch(STALE_STATISTICS, STATS_SLACK)]
            )
            for table in stale:
                await self._db().execute(f"ANALYZE {quote_ident(table)}")
        return stale

    def _refresh_statistics_soon(self) -> None:
        if self._stats_task is None or self._stats_task.done():
            self._stats_task = asyncio.create_task(self._refresh_quietly())

    async def _refresh_quietly(self) -> None:
        try:
            await self.refresh_statistics()
        except Exception:  # the collector tries again
            log.exception("Refreshing planner statistics failed")

    async def _collect_forever(self) -> None:
        while True:
            await asyncio.sleep(self.gc_interval)
            try:
                await self.collect()
            except Exception:  # the next round tries again
                log.exception("Collecting expired blobs failed")

    # -- reads -----------------------------------------------------------------------------

    # Metadata comes from the cache (storage.meta_cache), synced with the outbox first:
    # one small query when every path is cached, as a lookup of them would have been.

    async def meta(self, path: str) -> Meta | None:
        return (await self.metas((path,))).get(path)

    async def metas(self, paths: Sequence[str]) -> dict[str, Meta]:
        if not paths:
            return {}
        if not synced_for_this_request(self._synced):
            await self._sync()
        found, missing = self._cache.lookup(paths)
        if missing:
            epoch = self._cache.epoch
            with unavailable():
                rows = await self._db().fetch(METAS_QUERY, missing)
            read = {row["path"]: Meta(**row) for row in rows}
            self._cache.fill(missing, read, epoch)
            found.update(read)
        return found

    async def _sync_once(self) -> None:
        """Drop the cached metadata of every path whose change committed (through any
        process) since the last sync's snapshot. Concurrent reads share it (``NextRun``)."""
        started = time.monotonic()
        with unavailable():
            row = await self._db().fetchrow(SYNC_QUERY, self._snapshot, SYNC_ROWS)
        if started - self._synced > self.outbox_retention / 2:
            self._cache.clear()  # the collector may have removed rows we never read
        elif len(row["newer"]) >= SYNC_ROWS:
            self._cache.clear()  # that many changes: start afresh rather than read them all
        elif row["newer"] or row["pending"]:
            self._cache.invalidate([*row["newer"], *row["pending"]])
        # Syncs may end out of order: an older one's snapshot is only re-read, not lost.
        self._snapshot, self._synced = row["snapshot"], started

    async def read(self, path: str) -> BytesStored | ChunkedStored:
        with unavailable():
            row = await self._db().fetchrow(READ_QUERY, path)
        if row is None:
            raise NotFound(path)
        meta = Meta(path, row["content_type"], row["size"], row["etag"], row["modified"])
        if row["blob"] is None:
            return BytesStored(meta, row["body"] or b"")
        return ChunkedStored(meta, self._db(), row["blob"], row["chunk_size"])

    async def children(
        self, path: str, after: str | None = None, limit: int | None = None
    ) -> list[Meta]:
        check_page(after, limit)
        with unavailable():
            rows = await self._db().fetch(CHILDREN_QUERY, path, after or "", limit)
        return [Meta(**row) for row in rows]

    # -- staging ---------------------------------------------------------------------------

    async def stage(self, chunks: AsyncIterator[bytes], limit: int) -> Staged:
        return await self._blobs.stage(chunks, limit)

    async def discard(self, staged: Staged) -> None:
        await self._blobs.discard(staged)

    # -- writes ----------------------------------------------------------------------------

    async def apply(
        self,
        expects: Sequence[Expect],
        steps: Sequence[Mutation | Log],
        quota: Quota | None = None,
    ) -> Mapping[str, Meta]:
        if quota is not None and not isinstance(quota, Quota):
            raise TypeError(f"Not a Quota: {quota!r}")
        resource_steps, log_steps = split_logs(steps)
        mutations = tuple(resource_steps)
        write = Write(tuple(expects), mutations, quota, self._claim(mutations), tuple(log_steps))
        try:
            outcome = await self._commits.submit(write)
        except asyncio.CancelledError:
            write.abandoned = True  # if its batch has not reached it yet, it never will
            raise
        except Recount:  # counting its quota root: alone, holding that root exclusively
            assert quota is not None
            [outcome] = await self._commit(quota.root, [write])
        if isinstance(outcome, Exception):  # the quota's refusal (a lone write's error raises)
            raise outcome
        if len(mutations) >= BULK_BATCH:
            self._refresh_statistics_soon()
        return outcome

    async def _commit(self, exclusive: str | None, writes: list[Write]) -> list[Outcome]:
        """Commit ``writes`` in one transaction (see ``BatchWrites._transaction``), retried
        after a deadlock or serialisation failure; one outcome per write. A batch whose one
        writing statement fails is tried again write by write, so the failure is the
        outcome of the write that caused it alone."""
        together = True
        for attempt in range(APPLY_ATTEMPTS):
            try:
                with unavailable():
                    async with self._db().acquire() as conn:
                        outcomes = await self._transaction(conn, writes, exclusive, together)
            except RETRY:
                await asyncio.sleep(0.005 * (attempt + 1))
                continue
            except asyncpg.PostgresError:
                if not together or len(writes) == 1:
                    raise
                together = False
                continue
            changed: list[str] = []
            for write, outcome in zip(writes, outcomes, strict=True):
                if isinstance(outcome, dict):  # committed: its staged blobs are no longer ours
                    self._blobs.pending.difference_update(write.claimed)
                    changed.extend(m.path for m in write.mutations)
            if changed:  # before any caller resumes: a read it makes next must see them
                self._cache.invalidate(changed)
            return outcomes
        raise ServiceUnavailable("Storage is too busy to commit this change; try again")

    # -- audit logs ------------------------------------------------------------------------

    async def log_page(self, root: str, query: LogQuery) -> list[LogRow]:
        check_log_query(root, query)
        low, high = query.outcomes or (None, None)
        with unavailable():
            rows = await self._db().fetch(
                LOG_PAGE,
                root,
                query.before,
                query.agent,
                query.resource,
                query.since,
                query.until,
                low,
                high,
                query.limit,
            )
        return [LogRow(**row) for row in rows]

    async def log_rows(self, root: str, after: int = 0, limit: int = 1000) -> list[LogRow]:
        check_log_rows(root, after, limit)
        with unavailable():
            rows = await self._db().fetch(LOG_ROWS, root, after, limit)
        return [LogRow(**row) for row in rows]

    async def log_state(self, root: str) -> LogState:
        check_root(root)
        with unavailable():
            row = await self._db().fetchrow(LOG_STATE, root)
        return LogState() if row is None else LogState(**row)

    async def log_trim(self, before: float, root: str | None = None) -> int:
        if root is not None:
            check_root(root)
        with unavailable():
            return int(await self._db().fetchval(LOG_TRIM, root, before))

    async def add_checkpoint(self, checkpoint: Checkpoint) -> None:
        cp = checkpoint
        check_root(cp.root)
        with unavailable():
            await self._db().execute(
                ADD_CHECKPOINT, cp.root, cp.seq, cp.hash, cp.at, cp.key, cp.signature
            )

    async def checkpoints(self, root: str) -> list[Checkpoint]:
        check_root(root)
        with unavailable():
            rows = await self._db().fetch(CHECKPOINTS, root)
        return [Checkpoint(**row) for row in rows]

    # -- quotas ----------------------------------------------------------------------------

    async def usage(self, root: str) -> Usage:
        check_root(root)
        with unavailable():
            row = await self._db().fetchrow(USAGE_QUERY, root)
            used, limit = row["used"], row["byte_limit"]
            if used is None:  # not counted yet: count it once, from now on kept by every write
                used = await self._usage_uncounted(root)
        return Usage(int(used), None if limit is None else int(limit))

    async def _usage_uncounted(self, root: str) -> int:
        async with self._db().acquire() as conn, conn.transaction():
            await conn.execute(
                "SELECT pg_advisory_xact_lock_shared($1), pg_advisory_xact_lock($2)",
                self._global_key,
                self._lock_key(b"r", root),
            )
            used = await conn.fetchval("SELECT used FROM quota_usage WHERE root = $1", root)
            if used is not None:  # counted meanwhile
                return int(used)
            exists = await conn.fetchval("SELECT 1 FROM resources WHERE path = $1", root)
            if exists is not None:
                return await self._count_root(conn, root)
            # No such root: report what lies under it without keeping a counter for it.
            return int(await conn.fetchval(SCAN_QUERY, root, root_upper_bound(root)))

    async def set_limit(self, root: str, limit: int | None) -> None:
        check_root(root)
        check_limit(limit)
        with unavailable():
            if limit is None:
                await self._db().execute("DELETE FROM quota_limits WHERE root = $1", root)
            else:
                await self._db().execute(
                    "INSERT INTO quota_limits (root, byte_limit) VALUES ($1, $2)"
                    " ON CONFLICT (root) DO UPDATE SET byte_limit = EXCLUDED.byte_limit",
                    root,
                    limit,
                )

    async def limits(self) -> dict[str, int]:
        with unavailable():
            rows = await self._db().fetch("SELECT root, byte_limit FROM quota_limits")
        return {row["root"]: int(row["byte_limit"]) for row in rows}
