"""PostgreSQL backend specifics; the contract itself runs in ``test_backends`` over it too."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from pod_server.audit.chain import verify
from pod_server.audit.entry import Action, AuditEntry
from pod_server.db import schema as schema_module
from pod_server.db.postgres import quote_ident
from pod_server.db.schema import upgrade
from pod_server.errors import PodError, ServiceUnavailable, StaleState
from pod_server.storage.base import (
    ABSENT,
    PRESENT,
    Delete,
    Expect,
    Log,
    LogRow,
    Meta,
    Put,
    Quota,
    QuotaExceeded,
    Staged,
    Touch,
    Usage,
)
from pod_server.storage.meta_cache import reads_since
from pod_server.storage.pg_batch import MAX_BATCH_LOCKS, Write
from pod_server.storage.pg_sql import CHILDREN_QUERY, SCAN_QUERY
from pod_server.storage.postgres import ChunkedStored, PostgresBackend
from tests.unit.storage import pg_support
from tests.unit.storage.test_backends import (
    OCTETS,
    POD,
    TURTLE,
    body,
    large_body,
    put,
    put_q,
    ranged,
    stage,
    true_usage,
    used,
)

Factory = Callable[..., Awaitable[PostgresBackend]]


@pytest.fixture
async def make(tmp_path: Path) -> AsyncIterator[Factory]:
    """Start backends on this test's own schema (``key`` picks another one)."""
    started: list[PostgresBackend] = []

    async def factory(key: str = "", **options: Any) -> PostgresBackend:
        store = pg_support.postgres_backend(tmp_path / key, **options)
        assert isinstance(store, PostgresBackend)
        await store.start()
        started.append(store)
        return store

    yield factory
    for store in started:
        await store.close()


@pytest.fixture
async def store(make: Factory) -> PostgresBackend:
    return await make()


async def rows(store: PostgresBackend, query: str, *args: object) -> list[tuple[Any, ...]]:
    """One statement on the backend's schema through a connection of its own."""
    conn = await asyncpg.connect(
        store.dsn, server_settings={"search_path": quote_ident(store.schema or "")}
    )
    try:
        return [tuple(row) for row in await conn.fetch(query, *args)]
    finally:
        await conn.close()


async def blob_states(store: PostgresBackend) -> list[str]:
    return [r[0] for r in await rows(store, "SELECT state FROM blobs ORDER BY id")]


# -- schema and migrations -----------------------------------------------------------------


async def test_schema_version_is_recorded_and_upgrade_is_idempotent(
    store: PostgresBackend,
) -> None:
    every = [(m.version,) for m in schema_module.migrations()]
    assert await rows(store, "SELECT version FROM schema_migrations ORDER BY version") == every
    assert every[-1] == (schema_module.schema_version(),)
    assert await upgrade(store.dsn, schema=store.schema) == schema_module.schema_version()
    assert len(await rows(store, "SELECT version FROM schema_migrations")) == len(every)


async def test_concurrent_upgrades_of_a_fresh_schema(tmp_path: Path) -> None:
    dsn, schema = pg_support.session_dsn(), pg_support.schema_for(str(tmp_path / "fresh"))
    versions = await asyncio.gather(*(upgrade(dsn, schema=schema) for _ in range(4)))
    assert versions == [schema_module.schema_version()] * 4
    await pg_support.drop_schema(schema)


async def test_start_refuses_an_unknown_schema_version(make: Factory, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="pod-server db upgrade"):
        await make("manual", auto_upgrade=False)
    store = await make()
    await rows(store, "INSERT INTO schema_migrations (version, name) VALUES (999, 'future')")
    with pytest.raises(RuntimeError, match="newer than this server"):
        await make()
    with pytest.raises(RuntimeError, match="at version 999"):
        await make(auto_upgrade=False)


async def test_indexes_serve_listings_and_counting(store: PostgresBackend) -> None:
    """The "C" collation lets prefix ranges and path order use the B-tree indexes."""
    fill = [Put(f"/pod/m{i:05d}", OCTETS, Staged.of(b"m")) for i in range(2000)]
    await store.apply([], [Put(POD, TURTLE), *fill])
    await rows(store, "ANALYZE resources")

    async def plan(query: str, *args: object) -> str:
        conn = await asyncpg.connect(
            store.dsn, server_settings={"search_path": quote_ident(store.schema or "")}
        )
        try:
            found = await conn.fetch("EXPLAIN " + query, *args)
        finally:
            await conn.close()
        return "\n".join(r[0] for r in found)

    scan = await plan(SCAN_QUERY, "/pod/m001", "/pod/m002")
    assert "Index" in scan and "resources_pkey" in scan
    page = await plan(CHILDREN_QUERY, POD, "/pod/m01000", 50)
    assert "Index Scan" in page and "Sort" not in page  # pages come straight off an index


# -- large bodies ----------------------------------------------------------------------------


async def test_chunk_boundaries_and_ranges(make: Factory) -> None:
    store = await make(inline_threshold=100, chunk_size=1000)
    data = large_body(11, 10_500)
    staged = await store.stage(pg_chunks(data, 333), limit=len(data))
    assert staged.blob is not None
    await store.apply([], [Put("/c", OCTETS, staged)])
    assert await rows(store, "SELECT count(*), max(seq) FROM blob_chunks") == [(11, 10)]
    stored = await store.read("/c")
    assert isinstance(stored, ChunkedStored)
    assert await stored.read_all() == data
    for start, end in [(0, 1), (999, 1001), (1000, 2000), (0, 10_500), (10_499, None), (5, 5)]:
        assert await ranged(stored, start, end) == data[start:end]
    # Exactly at the threshold stays inline; one byte more does not.
    assert (await stage(store, b"i" * 100)).data == b"i" * 100
    assert (await stage(store, b"j" * 101)).blob is not None


async def pg_chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for pos in range(0, len(data), size):
        yield data[pos : pos + size]


async def test_large_in_memory_body_is_chunked_in_the_transaction(make: Factory) -> None:
    store = await make(inline_threshold=100, chunk_size=1000)
    data = large_body(12, 2500)
    await store.apply([], [Put("/patched", TURTLE, Staged.of(data))])
    assert await blob_states(store) == ["committed"]
    assert await rows(store, "SELECT count(*) FROM blob_chunks") == [(3,)]
    assert await body(store, "/patched") == data


async def test_blobs_follow_the_rows(make: Factory) -> None:
    store = await make(garbage_grace=0)
    await put(store, "/big", large_body())
    assert await blob_states(store) == ["committed"]
    await put(store, "/big", b"small now")
    assert await blob_states(store) == ["garbage"]
    await put(store, "/big", large_body(6))
    await store.apply([], [Delete("/big")])
    assert await blob_states(store) == ["garbage", "garbage"]
    assert await store.collect() == 2
    assert await blob_states(store) == []
    assert await rows(store, "SELECT count(*) FROM blob_chunks") == [(0,)]


async def test_a_replaced_body_stays_readable_for_the_grace_period(make: Factory) -> None:
    store = await make(garbage_grace=3600)
    old = large_body(5, 300_000)
    await put(store, "/snap", old)
    stored = await store.read("/snap")
    await put(store, "/snap", large_body(6, 300_000))
    assert await store.collect() == 0
    assert await stored.read_all() == old
    await rows(store, "UPDATE blobs SET expires = now() WHERE state = 'garbage'")
    assert await store.collect() == 1
    with pytest.raises(PodError, match="changed or vanished"):
        await stored.read_all()
    stored.close()
    with pytest.raises(ValueError):
        await ranged(stored)


async def test_one_staged_blob_written_twice_in_a_batch(store: PostgresBackend) -> None:
    first, second = await stage(store, large_body(1)), await stage(store, large_body(2))
    await store.apply([], [Put("/x", OCTETS, first), Put("/x", OCTETS, second)])
    assert await body(store, "/x") == large_body(2)
    assert sorted(await blob_states(store)) == ["committed", "garbage"]


# -- staging and collection -------------------------------------------------------------------


async def test_discard_removes_staged_blob(store: PostgresBackend) -> None:
    staged = await stage(store, large_body())
    assert await blob_states(store) == ["staged"]
    await store.discard(staged)
    assert await blob_states(store) == []
    with pytest.raises(ValueError):
        await store.apply([], [Put("/late", OCTETS, staged)])


async def test_discard_after_commit_keeps_the_body(store: PostgresBackend) -> None:
    staged = await stage(store, large_body())
    await store.apply([], [Put("/kept", OCTETS, staged)])
    await store.discard(staged)
    assert await body(store, "/kept") == large_body()


async def test_refused_blob_stays_discardable(store: PostgresBackend) -> None:
    staged = await stage(store, large_body(9))
    with pytest.raises(QuotaExceeded):
        await store.apply([], [Put("/pod/big", OCTETS, staged)], Quota(POD, 10))
    assert await blob_states(store) == ["staged"]
    await store.discard(staged)
    assert await blob_states(store) == []


async def test_close_drops_uncommitted_blobs(make: Factory) -> None:
    store = await make()
    await stage(store, large_body())
    assert await blob_states(store) == ["staged"]
    await store.close()
    assert await blob_states(store) == []


async def test_start_collects_expired_blobs_of_dead_stagers(make: Factory) -> None:
    first = await make()
    await put(first, "/big", large_body())
    live = await stage(first, large_body(2))  # another process's upload in progress
    await rows(
        first,
        "INSERT INTO blobs (chunk_size, state, expires) VALUES"
        " (1000, 'staged', now() - interval '1 minute'),"  # its stager crashed long ago
        " (1000, 'garbage', now() - interval '1 second')",
    )
    second = await make()  # the same schema: start() collects
    assert sorted(await blob_states(second)) == ["committed", "staged"]
    await first.apply([], [Put("/live", OCTETS, live)])
    assert await body(second, "/live") == large_body(2)
    assert await body(second, "/big") == large_body()


async def test_persistence_across_restart(make: Factory) -> None:
    first = await make()
    written = await first.apply(
        [],
        [
            Put("/c/", TURTLE),
            Put("/c/small", "text/plain", Staged.of(b"\0small\0")),
            Put("/c/big", OCTETS, await stage(first, large_body())),
        ],
        Quota("/c/", None),
    )
    await first.set_limit("/c/", 10**9)
    await first.close()
    second = await make()
    assert await second.children("/c/") == [written["/c/big"], written["/c/small"]]
    assert await second.meta("/c/") == written["/c/"]
    assert await body(second, "/c/small") == b"\0small\0"
    assert await body(second, "/c/big") == large_body()
    assert await second.usage("/c/") == Usage(7 + len(large_body()), 10**9)


# -- concurrency -------------------------------------------------------------------------------


async def test_two_instances_share_one_schema(make: Factory) -> None:
    one, two = await make(), await make()
    written = await put(one, "/shared", b"from one")
    assert await two.meta("/shared") == written

    async def create(store: PostgresBackend, i: int) -> Meta:
        return await put(store, "/race", str(i).encode(), expects=[Expect("/race", ABSENT)])

    outcomes = await asyncio.gather(
        *(create(one if i % 2 else two, i) for i in range(20)), return_exceptions=True
    )
    winners = [o for o in outcomes if isinstance(o, Meta)]
    assert len(winners) == 1
    assert sum(isinstance(o, StaleState) for o in outcomes) == 19
    assert await one.meta("/race") == await two.meta("/race") == winners[0]


async def test_two_instances_share_exact_counters(make: Factory) -> None:
    one, two = await make(), await make()
    quota = Quota(POD, 40_000)
    await one.apply([], [Put(POD, TURTLE)])  # uncounted: both race to count it first
    rng = random.Random(13)
    sizes = [rng.randrange(1, 3000) for _ in range(30)]

    async def write(i: int) -> None:
        store = one if i % 2 else two
        if i % 5 == 4:
            await store.apply([], [Delete(f"/pod/{i % 7}"), Touch(POD)], quota)
        else:
            await put_q(store, f"/pod/{i % 7}", b"w" * sizes[i], quota)

    await asyncio.gather(*(write(i) for i in range(30)))
    truth = await true_usage(one, POD)
    assert await used(one) == await used(two) == truth
    await one.set_limit(POD, truth + 1000)
    attempts = [put_q(one if i % 2 else two, f"/pod/n{i}", b"n" * 100, quota) for i in range(20)]
    outcomes = await asyncio.gather(*attempts, return_exceptions=True)
    assert sum(isinstance(o, Meta) for o in outcomes) == 10
    assert sum(isinstance(o, QuotaExceeded) for o in outcomes) == 10
    assert await used(two) == truth + 1000 == await true_usage(two, POD)


async def test_counting_waits_for_writes_in_flight(make: Factory) -> None:
    """A root is summed only once no write under it is in flight (none is lost)."""
    one, two = await make(), await make()
    await one.apply([], [Put(POD, TURTLE), Put("/pod/a/", TURTLE)])
    for round_ in range(5):
        writes = [
            put(one if i % 2 else two, f"/pod/a/{round_}-{i}", b"x" * (i + 1)) for i in range(10)
        ]
        counting = put_q(two, f"/pod/{round_}", b"y", Quota(POD, None))
        await asyncio.gather(*writes, counting)
        assert await used(one) == await true_usage(one, POD)
        await one.apply([], [Delete(POD)])  # drops the counter: counted afresh next round
        await one.apply([], [Put(POD, TURTLE)])


async def test_counter_is_read_under_its_row_lock(store: PostgresBackend) -> None:
    """Another process commits a counted write while our apply waits: both count."""
    quota = Quota(POD, None)
    await store.apply([], [Put(POD, TURTLE)], quota)
    conn = await asyncpg.connect(
        store.dsn, server_settings={"search_path": quote_ident(store.schema or "")}
    )
    try:
        async with conn.transaction():
            await conn.execute("SELECT * FROM quota_usage WHERE root = $1 FOR UPDATE", POD)
            mine = asyncio.create_task(put_q(store, "/pod/mine", b"m" * 10, quota))
            await asyncio.sleep(0.3)
            assert not mine.done()
            await conn.execute(
                "INSERT INTO resources (path, parent, content_type, size, etag, modified, body)"
                " VALUES ('/pod/theirs', $1, $2, 100, 'theirs', 0, $3)",
                POD,
                OCTETS,
                b"t" * 100,
            )
            await conn.execute("UPDATE quota_usage SET used = used + 100 WHERE root = $1", POD)
    finally:
        await conn.close()
    await mine
    assert await used(store) == 110 == await true_usage(store, POD)


async def test_lock_wait_past_the_timeout_is_unavailable(make: Factory) -> None:
    store = await make(lock_timeout=0.2)
    conn = await asyncpg.connect(store.dsn)
    try:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", store._lock_key(b"p", "/held"))
            with pytest.raises(ServiceUnavailable):
                await store.apply([], [Put("/held", OCTETS)])
    finally:
        await conn.close()
    await store.apply([Expect("/held", ABSENT)], [Put("/held", OCTETS)])


async def test_quota_check_does_not_scan_a_counted_pod(
    store: PostgresBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill = [Put(f"/pod/m{i:05d}", OCTETS, Staged.of(b"m" * 10)) for i in range(2000)]
    await store.apply([], [Put(POD, TURTLE), *fill])  # written before quotas
    counted: list[str] = []
    real = PostgresBackend._count_root

    async def spy(self: PostgresBackend, conn: Any, root: str) -> int:
        counted.append(root)
        return await real(self, conn, root)

    monkeypatch.setattr(PostgresBackend, "_count_root", spy)
    for i in range(5):
        await put_q(store, f"/pod/w{i}", b"w" * 100, Quota(POD, None))
    assert counted == [POD]
    assert await used(store) == 20_000 + 500


# -- the outbox --------------------------------------------------------------------------------


async def test_outbox_rows_are_written_with_each_change(store: PostgresBackend) -> None:
    await store.apply([], [Put("/c/", TURTLE)])
    doc = await put(store, "/c/d", b"1")
    await store.apply([Expect("/c/d", doc.etag)], [Put("/c/d", OCTETS), Touch("/c/")])
    await store.apply([], [Delete("/c/d"), Touch("/c/"), Delete("/never"), Touch("/never/")])
    await store.apply([], [Put("/tmp", OCTETS), Delete("/tmp")])  # never visible: no row
    with pytest.raises(StaleState):
        await store.apply([Expect("/c/", ABSENT)], [Put("/c/x", OCTETS)])
    with pytest.raises(QuotaExceeded):
        await store.apply([], [Put("/c/y", OCTETS, Staged.of(b"yy"))], Quota("/c/", 1))
    found = await rows(store, "SELECT path, kind, etag FROM outbox ORDER BY id")
    etags = {path: meta.etag for path, meta in [("/c/", await store.meta("/c/"))] if meta}
    assert [(p, k) for p, k, _ in found] == [
        ("/c/", "create"),
        ("/c/d", "create"),
        ("/c/d", "update"),
        ("/c/", "touch"),
        ("/c/d", "delete"),
        ("/c/", "touch"),
    ]
    assert found[1][2] == doc.etag and found[4][2] is None and found[5][2] == etags["/c/"]
    created = await rows(store, "SELECT count(*) FROM outbox WHERE created <= now()")
    assert created == [(6,)]


async def test_the_collector_trims_old_outbox_rows(store: PostgresBackend) -> None:
    for i in range(3):
        await put(store, f"/o{i}", b"x")
    await rows(store, "UPDATE outbox SET created = now() - interval '2 hours' WHERE path <> '/o2'")
    await store.collect()
    assert await rows(store, "SELECT path FROM outbox") == [("/o2",)]  # the recent one stays


async def test_statistics_are_refreshed_after_a_bulk_load(store: PostgresBackend) -> None:
    """So the planner probes the primary key for a write's rows rather than scanning."""
    count = "SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'resources' AND schemaname = current_schema()"
    await store.apply([], [Put("/c/", TURTLE)])
    before = (await rows(store, count))[0][0]
    await store.apply([], [Put(f"/c/{i:05d}", OCTETS, Staged.of(b"x")) for i in range(3000)])
    # The writer's counters reach the statistics views within a second or so; the bulk
    # batch itself asked for a check, and the collector checks too.
    deadline = time.monotonic() + 10
    while (await rows(store, count))[0][0] == before and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        await store.refresh_statistics()
    assert (await rows(store, count))[0][0] > before
    assert await store.refresh_statistics() == []  # fresh now
    plan = await rows(
        store, "EXPLAIN SELECT * FROM resources WHERE path = ANY(ARRAY['/c/00001', '/c/00002'])"
    )
    assert "Seq Scan" not in " ".join(r[0] for r in plan)


async def test_expectations_lock_shared_paths_without_blocking_each_other(
    store: PostgresBackend,
) -> None:
    """Writes into one container expecting the same ancestors all go through."""
    await store.apply([], [Put("/a/", TURTLE), Put("/a/b/", TURTLE)])
    writes = [
        store.apply(
            [Expect("/a/", PRESENT), Expect(f"/a/b/{i}", ABSENT)],
            [Put(f"/a/b/{i}", OCTETS, Staged.of(b"x"))],
        )
        for i in range(20)
    ]
    await asyncio.gather(*writes)
    assert len(await store.children("/a/b/")) == 20


# -- failures ----------------------------------------------------------------------------------


async def test_cancelled_apply_changes_nothing_and_frees_its_connection(make: Factory) -> None:
    store = await make(max_connections=1)
    conn = await asyncpg.connect(store.dsn)
    try:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", store._lock_key(b"p", "/c"))
            task = asyncio.create_task(store.apply([], [Put("/c", OCTETS, Staged.of(b"x"))]))
            await asyncio.sleep(0.3)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
    finally:
        await conn.close()
    assert await store.meta("/c") is None
    await store.apply([Expect("/c", ABSENT)], [Put("/c", OCTETS, Staged.of(b"y"))])
    assert await body(store, "/c") == b"y"


async def test_lost_connections_are_unavailable_then_replaced(make: Factory) -> None:
    store = await make(max_connections=2)
    await put(store, "/x", b"x")
    admin = await asyncpg.connect(store.dsn)
    try:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = 'pod-server' AND datname = current_database()"
            " AND pid <> pg_backend_pid()"
        )
    finally:
        await admin.close()
    await asyncio.sleep(0.1)
    for _ in range(3):  # each dead pooled connection fails one call at most, as a 503
        try:
            await store.meta("/x")
        except ServiceUnavailable:
            continue
    assert await body(store, "/x") == b"x"
    await put(store, "/y", b"y")


# -- group commit ------------------------------------------------------------------------------


def record_batches(
    store: PostgresBackend, monkeypatch: pytest.MonkeyPatch, deadlocks: list[int] | None = None
) -> list[list[Write]]:
    """Spy on the backend's transactions: the writes each one held (and, into
    ``deadlocks``, each one the server broke as a deadlock)."""
    batches: list[list[Write]] = []
    real = store._transaction

    async def spy(conn: Any, writes: list[Write], exclusive: str | None, *rest: Any) -> list[Any]:
        batches.append(list(writes))
        try:
            return await real(conn, writes, exclusive, *rest)
        except asyncpg.DeadlockDetectedError:
            if deadlocks is not None:
                deadlocks.append(len(writes))
            raise

    monkeypatch.setattr(store, "_transaction", spy)
    return batches


def logged(root: str, n: int) -> Log:
    return AuditEntry(root, Action.UPDATE, f"http://pod{root}{n}", 200, at=1000.0 + n).mutation()


async def chain_verifies(store: PostgresBackend, root: str) -> list[LogRow]:
    rows = await store.log_rows(root, 0, 10_000)
    report = verify(rows, await store.log_state(root), await store.checkpoints(root))
    assert report.ok, report.problems
    return rows


async def test_a_gathered_batch_fails_only_its_refused_writes(
    store: PostgresBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One transaction for writes in flight together; a stale one and one over the quota
    fail alone, the others commit with exact counters, their blobs and one audit chain."""
    quota = Quota(POD, 1_000_000)
    await store.apply([], [Put(POD, TURTLE), Put("/pod/c/", TURTLE)], quota)  # counted
    kept = await put(store, "/pod/c/kept", b"k")
    batches = record_batches(store, monkeypatch)
    stale_one, too_big = 3, 7

    async def write(i: int) -> Mapping[str, Meta]:
        size = 1_200_000 if i == too_big else 100_000 if i % 4 == 3 else 100  # large: a blob
        staged = await stage(store, b"%d" % (i % 10) * size)
        expects = [Expect("/pod/c/kept", "gone" if i == stale_one else kept.etag)]
        steps = [Put(f"/pod/c/{i}", OCTETS, staged), logged(POD, i)]
        return await store.apply(expects, steps, quota)

    outcomes = await asyncio.gather(*(write(i) for i in range(32)), return_exceptions=True)
    assert max(len(batch) for batch in batches) > 1
    assert isinstance(outcomes[stale_one], StaleState)
    assert isinstance(outcomes[too_big], QuotaExceeded)
    landed = [i for i in range(32) if i not in (stale_one, too_big)]
    for i in landed:
        assert await store.meta(f"/pod/c/{i}") == outcomes[i][f"/pod/c/{i}"]  # type: ignore[index]
    assert await store.meta(f"/pod/c/{stale_one}") is None
    assert await store.meta(f"/pod/c/{too_big}") is None
    assert await body(store, "/pod/c/11") == b"1" * 100_000
    assert await used(store) == await true_usage(store, POD)
    # The refused writes' staged blobs are still theirs to discard; the others committed.
    assert len(store._blobs.pending) == 2
    assert (await blob_states(store)).count("staged") == 2
    rows = await chain_verifies(store, POD)
    assert sorted(int(r.resource.rsplit("/", 1)[1]) for r in rows) == landed


async def test_a_write_needing_a_recount_leaves_its_batch(
    store: PostgresBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store.apply([], [Put(POD, TURTLE), Put("/pod/c/", TURTLE)])  # not counted yet
    batches = record_batches(store, monkeypatch)
    writes = [
        store.apply([], [Put(f"/pod/c/{i}", OCTETS, Staged.of(b"x" * (i + 1)))], None)
        for i in range(20)
    ]
    counting = store.apply([], [Put("/pod/c/q", OCTETS, Staged.of(b"q" * 50))], Quota(POD, None))
    await asyncio.gather(*writes[:10], counting, *writes[10:])
    # Submitted together: one batch of all, from which the counting write went alone.
    assert [len(batch) for batch in batches] == [21, 1]
    assert batches[1][0].quota == Quota(POD, None)
    assert await used(store) == 50 + sum(range(1, 21)) == await true_usage(store, POD)


async def test_two_instances_batch_into_two_pods_with_their_audit_logs(
    make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writes from two processes, each batch mixing two pods in its own order (their
    counters are locked up front, so no deadlock): every write lands, exactly counted."""
    one, two = await make(), await make()
    deadlocks: list[int] = []
    batches = [record_batches(store, monkeypatch, deadlocks) for store in (one, two)]
    pods = ["/alice/", "/bob/"]
    for pod in pods:
        await one.apply([], [Put(pod, TURTLE), Put(f"{pod}c/", TURTLE)], Quota(pod, None))

    async def write(i: int) -> Mapping[str, Meta]:
        pod = pods[(i // 3) % 2]
        steps = [Put(f"{pod}c/{i % 16}", OCTETS, Staged.of(b"w" * (i % 50))), logged(pod, i)]
        return await (one if i % 2 else two).apply([], steps, Quota(pod, None))

    await asyncio.gather(*(write(i) for i in range(240)))
    assert deadlocks == []
    assert all(max(len(batch) for batch in seen) > 1 for seen in batches)
    for pod in pods:
        assert await used(one, pod) == await used(two, pod) == await true_usage(one, pod)
        assert len(await chain_verifies(one, pod)) == 120
        assert len(await two.children(f"{pod}c/")) == 16


async def test_a_batch_takes_the_union_of_its_writes_locks(store: PostgresBackend) -> None:
    def write(expects: list[str], puts: list[str]) -> Write:
        mutations = tuple(Put(p, OCTETS, Staged.of(b"")) for p in puts)
        return Write(tuple(Expect(p, PRESENT) for p in expects), mutations, None, [], ())

    key = store._lock_key
    reader, writer = write(["/a/x"], []), write([], ["/a/x"])
    assert dict(store._locks([reader, writer], None))[key(b"p", "/a/x")] is True
    assert dict(store._locks([writer, reader], None))[key(b"p", "/a/x")] is True
    half = MAX_BATCH_LOCKS // 2 + 1
    many = [write([], [f"/m{i}-{j}" for j in range(half)]) for i in range(2)]
    assert store._locks(many[:1], None)[0] == (store._global_key, False)
    assert store._locks(many, None) == [(store._global_key, True)]  # alone, then


async def test_a_failed_write_in_a_batch_is_undone_alone(
    store: PostgresBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two applies naming one staged blob, committed together: the second claims its own
    blob, then finds the shared one taken and fails; its claim is rolled back with it."""
    batches = record_batches(store, monkeypatch)
    shared, own = await stage(store, large_body(1)), await stage(store, large_body(2))
    outcomes = await asyncio.gather(
        store.apply([], [Put("/first", OCTETS, shared)]),
        store.apply([], [Put("/second", OCTETS, own), Put("/third", OCTETS, shared)]),
        return_exceptions=True,
    )
    assert [len(batch) for batch in batches] == [2]
    assert isinstance(outcomes[0], Mapping) and isinstance(outcomes[1], PodError)
    assert await body(store, "/first") == large_body(1)
    assert await store.meta("/second") is None and await store.meta("/third") is None
    assert sorted(await blob_states(store)) == ["committed", "staged"]
    await store.discard(own)  # still pending: the caller can drop it
    assert await blob_states(store) == ["committed"]


async def test_the_writes_of_one_plan_see_each_other(
    store: PostgresBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Committed together in one plan, each write finds what the writes before it left:
    a second create of a path is stale, a write expecting it present lands, a delete and
    a re-create count exactly, and the audit chain holds the writes that landed."""
    quota = Quota(POD, 1_000_000)
    await store.apply([], [Put(POD, TURTLE), Put("/pod/c/", TURTLE)], quota)  # counted
    await store.apply([], [Put("/pod/c/old", OCTETS, Staged.of(b"old"))], quota)
    batches = record_batches(store, monkeypatch)
    new, old = "/pod/c/new", "/pod/c/old"
    writes = [
        (Expect(new, ABSENT), Put(new, OCTETS, Staged.of(b"12345"))),
        (Expect(new, ABSENT), Put(new, OCTETS, Staged.of(b"x"))),
        (Expect(new, PRESENT), Put(new, OCTETS, Staged.of(b"123"))),
        (Expect(old, PRESENT), Delete(old)),
        (Expect(old, ABSENT), Put(old, OCTETS, Staged.of(b"again!"))),
    ]
    outcomes = await asyncio.gather(
        *(store.apply([e], [m, logged(POD, i)], quota) for i, (e, m) in enumerate(writes)),
        return_exceptions=True,
    )
    assert [len(batch) for batch in batches] == [5]
    assert isinstance(outcomes[1], StaleState)
    assert await store.meta(new) == outcomes[2][new]  # type: ignore[index]
    assert await body(store, new) == b"123"
    assert await body(store, old) == b"again!"
    assert await used(store) == await true_usage(store, POD)
    rows = await chain_verifies(store, POD)
    assert [r.resource.rsplit("/", 1)[1] for r in rows][-4:] == ["0", "2", "3", "4"]


async def test_the_reads_of_one_request_share_a_sync(make: Factory) -> None:
    """Inside a request its reads share one sync begun since it arrived: they see what
    another instance committed before, and the instance's own writes at once."""
    one, two = await make(), await make()
    assert await two.meta("/r") is None  # cached as absent
    written = await put(one, "/r", b"1")
    token = reads_since.set(time.monotonic())
    try:
        assert await two.meta("/r") == written
        again = await put(two, "/r", b"22")
        assert await two.meta("/r") == again
    finally:
        reads_since.reset(token)
