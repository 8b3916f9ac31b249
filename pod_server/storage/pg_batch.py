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
instead of all the others. Only then are rows read and ``Expect`` s checked (so
concurrent ABSENT-creates of one path serialise and exactly one succeeds).

Usually the whole batch is one plan (``pg_plan``): one statement reads every row it needs
and locks its usage counters and audit heads (``FOR UPDATE``, ordered), the writes are
played in memory one after another, and one statement writes everything: resources,
counters, outbox rows and the audit entries of the writes that succeeded. Four round
trips per batch, whatever its size. A batch with a staged or large body, or a quota root
not counted yet, goes write by write instead, each in a savepoint with statements of its
own, its audit entries chained last; so does a batch whose writing statement failed.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from pod_server.db.postgres import RETRY, unavailable
from pod_server.errors import PodError
from pod_server.storage.base import (
    GENESIS,
    Expect,
    Log,
    LogRow,
    LogState,
    Meta,
    Mutation,
    Quota,
    QuotaExceeded,
)
from pod_server.storage.common import (
    chain_logs,
    claim_blobs,
    covering_roots,
    root_upper_bound,
)
from pod_server.storage.pg_blobs import StagedBlobs
from pod_server.storage.pg_plan import Plan, log_args, needs_blobs
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
        self,
        conn: asyncpg.Connection,
        writes: Sequence[Write],
        exclusive: str | None,
        together: bool = True,
    ) -> list[Outcome]:
        """BEGIN and the locks of all ``writes`` in one round trip, the writes, then COMMIT
        (or ROLLBACK): one outcome per write. A batch of audit entries alone takes no lock
        but its logs' head rows.

        ``together``: the batch in one plan if it can (``_together``: one statement reading
        its rows, one writing everything), else write by write (``_one_by_one``). A lone
        write's error rolls the transaction back and is raised (as is a retryable error of
        any write: the caller retries the batch).

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
        together = together and not any(
            needs_blobs(w.mutations, self.inline_threshold) for w in writes
        )
        try:
            await conn.execute(";".join(begin))
            outcomes = await self._together(conn, writes) if together else None
            if outcomes is None:
                outcomes = await self._one_by_one(conn, writes, may_count)
            await conn.execute("COMMIT")
            return outcomes
        except BaseException:
            if not conn.is_closed() and conn.is_in_transaction():
                try:
                    await asyncio.shield(conn.execute("ROLLBACK"))
                except Exception:  # busy with a cancelled query, or gone: drop it instead
                    conn.terminate()
            raise

    async def _together(
        self, conn: asyncpg.Connection, writes: Sequence[Write]
    ) -> list[Outcome] | None:
        """The batch in one plan: one statement reads every row it needs (locking its
        counters and audit heads), one writes everything. None, having written nothing,
        when a write needs its quota root counted first. A write refused (stale, over
        quota) leaves the plan as it was: its error is its outcome (a lone write's raises).
        """
        live = [w for w in writes if not w.abandoned]
        paths = {m.path for w in live for m in w.mutations}
        paths.update(e.path for w in live for e in w.expects)
        roots = covering_roots(m.path for w in live for m in w.mutations)
        heads = {log.root for w in live for log in w.logs}
        rows = await conn.fetch(STATE_QUERY, sorted(paths), sorted(roots), sorted(heads), GENESIS)
        plan = Plan(rows, self.inline_threshold)
        outcomes: list[Outcome] = []
        for write in writes:
            if write.abandoned:
                outcomes.append(Abandoned())
                continue
            if plan.uncounted(write.quota, write.mutations) is not None:
                return None
            try:
                plan.check(write.expects)
                refused = plan.refusal(write.quota, write.mutations)
            except Exception as exc:  # a stale Expect: this write's own error
                if len(writes) == 1:
                    raise
                outcomes.append(exc)
                continue
            outcomes.append(refused or plan.play(write.mutations))
        logs = _logs_of(writes, outcomes)
        await conn.execute(WRITE, *plan.write_args(self.garbage_grace, logs))
        return outcomes

    async def _one_by_one(
        self, conn: asyncpg.Connection, writes: Sequence[Write], may_count: bool
    ) -> list[Outcome]:
        """Each write with statements of its own; of several, each in a savepoint, so one
        refused or failing is undone alone and its error is its outcome. Their audit
        entries are appended at the end, one chain per root across the batch."""
        alone = len(writes) == 1
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
        logs = _logs_of(writes, outcomes)
        if logs:
            await append_logs(conn, logs)
        return outcomes

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
        roots = covering_roots(m.path for m in mutations)
        rows = await conn.fetch(STATE_QUERY, sorted(paths), sorted(roots), [], GENESIS)
        plan = Plan(rows, self.inline_threshold)
        plan.check(expects)
        root = plan.uncounted(quota, mutations)
        if root is not None:
            if not may_count:
                raise Recount  # no write under it may be in flight while it is summed
            used = await self._count_root(conn, root)
            limit = await conn.fetchval("SELECT byte_limit FROM quota_limits WHERE root = $1", root)
            plan.add_counter(root, used, limit)
        error = plan.refusal(quota, mutations)
        if error is not None:
            return error
        if claimed:
            got = await conn.fetch(CLAIM, claimed)
            if len(got) != len(claimed):
                raise PodError("A staged body expired before it was committed; try again")
        result = plan.play(mutations, claimed)
        for end in plan.unstored():
            assert end.put is not None
            end.blob = await self._blobs.store(conn, bytes(end.put.body.data or b""))
        await conn.execute(WRITE, *plan.write_args(self.garbage_grace))
        return result

    async def _count_root(self, conn: asyncpg.Connection, root: str) -> int:
        """Sum what ``root`` holds into a new counter (its lock is held exclusively)."""
        used = int(await conn.fetchval(SCAN_QUERY, root, root_upper_bound(root)))
        await conn.execute("INSERT INTO quota_usage (root, used) VALUES ($1, $2)", root, used)
        return used


def _logs_of(writes: Sequence[Write], outcomes: Sequence[Outcome]) -> list[Log]:
    """The audit entries of the writes that succeeded, in batch order."""
    return [
        log
        for write, outcome in zip(writes, outcomes, strict=True)
        if isinstance(outcome, dict)
        for log in write.logs
    ]


async def append_logs(conn: asyncpg.Connection, logs: Sequence[Log]) -> list[LogRow]:
    """Chain ``logs`` after their roots' heads, holding the head rows (inside a transaction)."""
    roots = sorted({log.root for log in logs})
    heads = {
        row["root"]: LogState(row["seq"], row["hash"], row["anchor_seq"], row["anchor_hash"])
        for row in await conn.fetch(LOG_HEADS, roots, GENESIS)
    }
    rows = chain_logs(logs, heads.__getitem__)
    await conn.execute(LOG_APPEND, *log_args(rows))
    return rows
