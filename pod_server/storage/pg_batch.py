"""Storage batches on PostgreSQL: their locks, their checks and their writes, in one transaction.

Concurrent ``apply`` calls share one READ COMMITTED transaction (group commit: one WAL
flush for all; ``PostgresBackend`` gathers them in a ``CommitQueue``), each write in a
savepoint of its own. The transaction first takes transaction-scoped advisory locks, in
one global order (so never a deadlock), the union of its writes' (each key at the
strongest mode any needs): exclusive on every path mutated, shared on every path only
expected, and shared on every container above a mutated path (its possible quota roots);
counting a root for the first time takes that root's lock exclusively, so no write under
it is in flight while it is summed (such a write is committed alone). Every batch also
shares one global lock, which a batch too large to lock path by path takes exclusively
instead of all the others. Only then does each write read its rows and check its
``Expect`` s (so concurrent ABSENT-creates of one path serialise and exactly one
succeeds), lock the covering usage counters (``FOR UPDATE``, ordered) and write
everything, counters and outbox rows in a single statement. The audit entries of the
writes that succeeded are chained last, in one statement per batch.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import asyncpg

from pod_server.db.postgres import RETRY, unavailable
from pod_server.errors import PodError
from pod_server.storage.base import (
    GENESIS,
    Delete,
    Expect,
    Log,
    LogRow,
    LogState,
    Meta,
    Mutation,
    Put,
    Quota,
    QuotaExceeded,
    Touch,
)
from pod_server.storage.common import (
    chain_logs,
    claim_blobs,
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
from pod_server.storage.pg_blobs import StagedBlobs
from pod_server.storage.pg_sql import (
    CLAIM,
    LOCK_COUNTERS,
    LOG_APPEND,
    LOG_HEADS,
    SCAN_QUERY,
    STATE_QUERY,
    WRITE,
)

MAX_BATCH_LOCKS = 1000  # a batch needing more locks takes the global one exclusively
SAVEPOINT = "SAVEPOINT one_write"


class Recount(Exception):
    """Restart the apply holding its quota root's lock exclusively (to count it)."""


class Abandoned(Exception):
    """The outcome of a write whose caller was cancelled before its turn: not applied."""


@dataclass(slots=True)
class Write:
    """One ``apply``: what it checks and writes, and the staged blobs it commits."""

    expects: tuple[Expect, ...]
    mutations: tuple[Mutation, ...]
    quota: Quota | None
    claimed: list[int]
    logs: tuple[Log, ...]
    abandoned: bool = False  # its caller was cancelled: skipped unless already applied

    @property
    def only_logs(self) -> bool:
        """Audit entries alone: no lock but their heads', nothing to check."""
        return not self.expects and not self.mutations


# A write's outcome in its batch: its result or the quota's refusal (committed) ...
Result = dict[str, Meta] | QuotaExceeded
# ... or its own error (undone).
Outcome = Result | Exception


@dataclass(slots=True)
class _Final:
    """A path's state at the end of a batch (simulated before writing)."""

    content_type: str
    size: int
    etag: str
    modified: float
    put: Put | None  # the Put that wrote it in this batch, None if only touched
    blob: int | None = None


class BatchWrites:
    """The write path of :class:`~pod_server.storage.postgres.PostgresBackend`, which
    provides these attributes."""

    inline_threshold: int
    garbage_grace: float
    _blobs: StagedBlobs
    _lock_space: bytes
    _global_key: int

    def _claim(self, mutations: Sequence[Mutation]) -> list[int]:
        """Validate the batch; return the staged blobs it commits (all ours and distinct)."""
        return claim_blobs(mutations, self._blobs.pending_blob)

    async def _transaction(
        self, conn: asyncpg.Connection, writes: Sequence[Write], exclusive: str | None
    ) -> list[Outcome]:
        """BEGIN and the locks of all ``writes`` in one round trip, the writes, then COMMIT
        (or ROLLBACK): one outcome per write. A batch of audit entries alone takes no lock
        but its logs' head rows.

        Several writes each run in a savepoint, so one refused or failing is undone alone
        and its error is its outcome; a lone write's error rolls the transaction back and
        is raised (as is a retryable error of any write: the caller retries the batch).
        Their audit entries are appended at the end, one chain per root across the batch.

        The batch's statements take arrays whose sizes custom plans cannot exploit; a cached
        generic plan saves re-planning the write statement (~0.2 ms) every time.
        """
        locks = self._locks([w for w in writes if not w.only_logs], exclusive)
        begin = ["BEGIN", "SET LOCAL plan_cache_mode = force_generic_plan"]
        begin += [
            f"SELECT pg_advisory_xact_lock{'' if mode else '_shared'}({key})" for key, mode in locks
        ]
        # Alone (the global lock held exclusively) or holding the quota root exclusively.
        may_count = exclusive is not None or (bool(locks) and locks[0][1])
        alone = len(writes) == 1
        try:
            await conn.execute(";".join(begin))
            if not alone:
                await self._lock_counters(conn, writes)
            outcomes: list[Outcome] = []
            saved = False  # a savepoint is set (see _in_savepoint)
            for write in writes:
                if write.abandoned:
                    outcomes.append(Abandoned())
                elif alone or write.only_logs:
                    outcomes.append(await self._apply_write(conn, write, may_count))
                else:
                    outcomes.append(await self._in_savepoint(conn, write, may_count, saved))
                    saved = True
            logs = [
                log
                for write, outcome in zip(writes, outcomes, strict=True)
                if isinstance(outcome, dict)
                for log in write.logs
            ]
            if logs:
                await append_logs(conn, logs)
            await conn.execute("COMMIT")
            return outcomes
        except BaseException:
            if not conn.is_closed() and conn.is_in_transaction():
                try:
                    await asyncio.shield(conn.execute("ROLLBACK"))
                except Exception:  # busy with a cancelled query, or gone: drop it instead
                    conn.terminate()
            raise

    async def _apply_write(
        self, conn: asyncpg.Connection, write: Write, may_count: bool
    ) -> dict[str, Meta] | QuotaExceeded:
        if write.only_logs:
            return {}
        return await self._apply(
            conn, write.expects, write.mutations, write.quota, write.claimed, may_count
        )

    async def _in_savepoint(
        self, conn: asyncpg.Connection, write: Write, may_count: bool, saved: bool
    ) -> Outcome:
        """One write of several: its error (but a retryable one) undoes it alone. A
        refusal keeps what it wrote (a usage counter it created), as a lone write's does.

        The savepoint stays (ROLLBACK TO keeps it too): the next write releases it and sets
        its own in one round trip, and COMMIT releases the last.
        """
        await conn.execute(f"RELEASE {SAVEPOINT};{SAVEPOINT}" if saved else SAVEPOINT)
        try:
            with unavailable():  # a lock timeout fails this write alone
                return await self._apply_write(conn, write, may_count)
        except RETRY:
            raise
        except Exception as exc:
            # Fails too if the connection is gone: then so does the whole batch.
            await conn.execute("ROLLBACK TO " + SAVEPOINT)
            return exc

    async def _lock_counters(self, conn: asyncpg.Connection, writes: Sequence[Write]) -> None:
        """Lock every usage counter the batch may update, in root order, before its first
        write: writes locking them one after another could deadlock with another batch
        holding the same counters in another order (say, two pods' writes, swapped)."""
        roots = covering_roots(m.path for w in writes for m in w.mutations)
        await conn.execute(LOCK_COUNTERS, sorted(roots))

    def _lock_key(self, kind: bytes, name: str) -> int:
        digest = hashlib.blake2b(self._lock_space + kind + name.encode(), digest_size=8)
        return int.from_bytes(digest.digest(), "big", signed=True)

    def _locks(self, writes: Sequence[Write], exclusive: str | None) -> list[tuple[int, bool]]:
        """Advisory locks to take, in the one global order: (key, exclusive?); none for no
        writes. Each key at the strongest mode any of ``writes`` needs it in.

        First the global lock: shared by every batch, taken exclusively (and alone) by a
        batch needing more than ``MAX_BATCH_LOCKS`` locks, which would otherwise exhaust the
        server's lock table. Then the batch's own locks, by key.
        """
        if not writes:
            return []
        modes: dict[int, bool] = {}
        for write in writes:
            for mutation in write.mutations:
                modes[self._lock_key(b"p", mutation.path)] = True
            for expect in write.expects:
                modes.setdefault(self._lock_key(b"p", expect.path), False)
        for root in covering_roots(m.path for w in writes for m in w.mutations):
            key = self._lock_key(b"r", root)
            modes[key] = modes.get(key, False) or root == exclusive
        if len(modes) > MAX_BATCH_LOCKS:
            return [(self._global_key, True)]
        return [(self._global_key, False), *sorted(modes.items())]

    async def _apply(
        self,
        conn: asyncpg.Connection,
        expects: tuple[Expect, ...],
        mutations: tuple[Mutation, ...],
        quota: Quota | None,
        claimed: list[int],
        may_count: bool,
    ) -> dict[str, Meta] | QuotaExceeded:
        """One attempt, inside a transaction holding its locks. A returned refusal is
        committed (it may have created a usage counter); anything raised rolls back."""
        paths = {m.path for m in mutations} | {e.path for e in expects}
        mutated = [m.path for m in mutations]
        current: dict[str, asyncpg.Record] = {}
        counters: dict[str, int] = {}
        limits: dict[str, int | None] = {}
        state = await conn.fetch(STATE_QUERY, sorted(paths), sorted(covering_roots(mutated)))
        for row in state:
            if row["kind"] == "r":
                current[row["path"]] = row
            else:  # a counter: the root in path, its count in size
                counters[row["path"]] = int(row["size"])
                limits[row["path"]] = row["byte_limit"]
        for expect in expects:
            row = current.get(expect.path)
            etag = None if row is None else row["etag"]
            if not expect_holds(expect, etag):
                raise stale(expect, etag)

        root = None if quota is None else quota.root
        if root is not None and root not in counters and any(p.startswith(root) for p in mutated):
            if not may_count:
                raise Recount  # no write under it may be in flight while it is summed
            counters[root] = await self._count_root(conn, root)
            limits[root] = await conn.fetchval(
                "SELECT byte_limit FROM quota_limits WHERE root = $1", root
            )

        def size_of(path: str) -> int | None:
            row = current.get(path)
            return None if row is None else int(row["size"])

        deltas, final_sizes = size_changes(mutations, size_of)
        by_root = root_deltas(deltas, counters) if counters else {}
        if quota is not None and quota.root in by_root:
            override = limits.get(quota.root)
            error = refusal(quota, counters[quota.root], by_root[quota.root], override)
            if error is not None:
                return error

        if claimed:
            got = await conn.fetch(CLAIM, claimed)
            if len(got) != len(claimed):
                raise PodError("A staged body expired before it was committed; try again")
        return await self._write(conn, mutations, current, by_root, final_sizes, claimed)

    async def _count_root(self, conn: asyncpg.Connection, root: str) -> int:
        """Sum what ``root`` holds into a new counter (its lock is held exclusively)."""
        used = int(await conn.fetchval(SCAN_QUERY, root, root_upper_bound(root)))
        await conn.execute("INSERT INTO quota_usage (root, used) VALUES ($1, $2)", root, used)
        return used

    async def _write(
        self,
        conn: asyncpg.Connection,
        mutations: tuple[Mutation, ...],
        current: Mapping[str, asyncpg.Record],
        by_root: Mapping[str, int],
        final_sizes: Mapping[str, int | None],
        claimed: list[int],
    ) -> dict[str, Meta]:
        # Simulate the batch in order, then write each path's end state once.
        final: dict[str, _Final | None] = {}
        result: dict[str, Meta] = {}
        for mutation in mutations:
            path = mutation.path
            state: _Final | None
            if isinstance(mutation, Put):
                state = _Final(
                    mutation.content_type, put_size(mutation), new_etag(), time.time(), mutation
                )
                final[path] = state
            elif isinstance(mutation, Delete):
                final[path] = None
                result.pop(path, None)
                continue
            else:  # Touch; a missing path is ignored
                assert isinstance(mutation, Touch)
                before = final[path] if path in final else self._existing(current.get(path))
                if before is None:
                    continue
                state = final[path] = replace(before, etag=new_etag(), modified=time.time())
            result[path] = Meta(path, state.content_type, state.size, state.etag, state.modified)

        deleted: list[str] = []
        upserts: list[tuple[str, _Final]] = []
        touches: list[tuple[str, _Final]] = []
        outbox: list[tuple[str, str, str | None]] = []
        garbage: set[int] = set(claimed)
        for path, end in final.items():
            old = current.get(path)
            replaced = end is None or end.put is not None
            if old is not None and old["blob"] is not None and replaced:
                garbage.add(old["blob"])  # its body is replaced or gone
            if end is None:
                if old is not None:
                    deleted.append(path)
                    outbox.append((path, "delete", None))
                continue
            if end.put is None:
                touches.append((path, end))
                outbox.append((path, "touch", end.etag))
                continue
            upserts.append((path, end))
            outbox.append((path, "update" if old is not None else "create", end.etag))
            body = end.put.body
            if body.blob is not None:
                end.blob = int(body.blob)
                garbage.discard(end.blob)
            elif len(body.data or b"") > self.inline_threshold:
                end.blob = await self._blobs.store(conn, bytes(body.data or b""))

        counted = [(r, d) for r, d in by_root.items() if d and final_sizes.get(r, 0) is not None]
        dropped = [r for r in by_root if r in final_sizes and final_sizes[r] is None]
        await conn.execute(
            WRITE,
            deleted,
            [p for p, _ in upserts],
            [parent_of(p) for p, _ in upserts],
            [s.content_type for _, s in upserts],
            [s.size for _, s in upserts],
            [s.etag for _, s in upserts],
            [s.modified for _, s in upserts],
            [s.blob for _, s in upserts],
            [_inline(s) for _, s in upserts],
            [p for p, _ in touches],
            [s.etag for _, s in touches],
            [s.modified for _, s in touches],
            [r for r, _ in counted],
            [d for _, d in counted],
            dropped,
            self.garbage_grace,
            sorted(garbage),
            [o[0] for o in outbox],
            [o[1] for o in outbox],
            [o[2] for o in outbox],
        )
        return result

    @staticmethod
    def _existing(row: asyncpg.Record | None) -> _Final | None:
        if row is None:
            return None
        size, etag, modified = int(row["size"]), row["etag"], row["modified"]
        return _Final(row["content_type"], size, etag, modified, None, row["blob"])


async def append_logs(conn: asyncpg.Connection, logs: Sequence[Log]) -> list[LogRow]:
    """Chain ``logs`` after their roots' heads, holding the head rows (inside a transaction)."""
    roots = sorted({log.root for log in logs})
    heads = {
        row["root"]: LogState(row["seq"], row["hash"], row["anchor_seq"], row["anchor_hash"])
        for row in await conn.fetch(LOG_HEADS, roots, GENESIS)
    }
    rows = chain_logs(logs, heads.__getitem__)
    last = {row.root: row for row in rows}
    await conn.execute(
        LOG_APPEND,
        [r.root for r in rows],
        [r.seq for r in rows],
        [r.at for r in rows],
        [r.agent for r in rows],
        [r.resource for r in rows],
        [r.outcome for r in rows],
        [r.body for r in rows],
        [r.prev for r in rows],
        [r.hash for r in rows],
        list(last),
        [r.seq for r in last.values()],
        [r.hash for r in last.values()],
    )
    return rows


def _inline(state: _Final) -> bytes | None:
    if state.blob is not None or state.put is None:
        return None
    return bytes(state.put.body.data or b"")
