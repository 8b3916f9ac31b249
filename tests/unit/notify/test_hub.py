"""The shared hubs: the channel registry and the cross-process feed of changes.

The contract runs over ``SqliteHub`` and ``PostgresHub`` (skipped without PostgreSQL, failing
under CI); the PostgreSQL specifics (LISTEN/NOTIFY, catching up) follow.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from pod_server.db.postgres import quote_ident
from pod_server.ldp.store import Change
from pod_server.notify.hub import DB_NAME, Event, NotifyHub, SqliteHub, decode_event, encode_event
from pod_server.notify.model import Channel
from pod_server.notify.pg_hub import PostgresHub
from pod_server.notify.signing import Signer, new_private_jwk
from tests.unit.storage import pg_support

# make(store="", **options): a hub, not started, on the test's store (another ``store``
# names another one: a file, or a schema, of its own).
Factory = Callable[..., Any]


@pytest.fixture(params=["sqlite", "postgres"])
def make_hub(request: pytest.FixtureRequest, tmp_path: Path) -> Factory:
    if request.param == "sqlite":

        def sqlite(store: str = "", **options: Any) -> SqliteHub:
            return SqliteHub(tmp_path / store / DB_NAME, **options)

        return sqlite
    dsn = pg_support.session_dsn()

    def postgres(store: str = "", **options: Any) -> PostgresHub:
        schema = pg_support.schema_for(f"{request.node.nodeid}/{store}")
        return PostgresHub(dsn, schema=schema, **options)

    return postgres


@pytest.fixture
def make_pg(tmp_path: Path) -> Callable[..., PostgresHub]:
    dsn = pg_support.session_dsn()

    def make(store: str = "", **options: Any) -> PostgresHub:
        return PostgresHub(dsn, schema=pg_support.schema_for(str(tmp_path / store)), **options)

    return make


def channel(id_: str, kind: str = "WebSocketChannel2023", **kw: object) -> Channel:
    values: dict[str, object] = {
        "id": id_,
        "type": kind,
        "topic": "/doc",
        "webid": None,
        "origin": None,
        "created": time.time(),
        "end_at": time.time() + 60,
    }
    values.update(kw)
    return Channel(**values)  # type: ignore[arg-type]


def update(n: int, origin: str = "a") -> Event:
    return Event(origin, float(n), (Change("Update", f"/{n}"),), id=f"e{n}")


async def wait_for(condition: object, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def started(hub: NotifyHub, origin: str, seen: list[Event] | None = None) -> NotifyHub:
    await hub.start(origin, (lambda _e: None) if seen is None else seen.append)
    return hub


def test_events_survive_encoding() -> None:
    event = Event("p1", 12.5, (Change("Add", "/c/", "/c/m", "e1"), Change("Delete", "/x")), id="i")
    assert decode_event("p1", 12.5, encode_event(event)) == event
    ended = Event("p2", 1.0, ended="chan")
    assert decode_event("p2", 1.0, encode_event(ended)) == ended


# -- the contract ----------------------------------------------------------------------------


async def test_every_process_receives_every_event_in_one_order(make_hub: Factory) -> None:
    hubs = [make_hub(poll_interval=0.01) for _ in range(2)]
    seen: list[list[Event]] = [[], []]
    for index, hub in enumerate(hubs):
        await hub.start(f"p{index}", seen[index].append)
    try:
        for n in range(10):
            hubs[n % 2].publish(Event(f"p{n % 2}", float(n), (Change("Update", f"/{n}"),)))
            await asyncio.sleep(0.002)
        await wait_for(lambda: len(seen[0]) == 10 and len(seen[1]) == 10)
        assert seen[0] == seen[1]  # one order, the same everywhere
        for origin, first in (("p0", 0), ("p1", 1)):  # which keeps each publisher's own order
            mine = [e.published for e in seen[0] if e.origin == origin]
            assert mine == [float(n) for n in range(first, 10, 2)]
        await asyncio.sleep(0.05)
        assert len(seen[0]) == len(seen[1]) == 10  # once each
    finally:
        for hub in hubs:
            await hub.close()


async def test_one_event_reaches_every_hub_its_publisher_included(make_hub: Factory) -> None:
    seen: list[list[Event]] = [[], []]
    hubs = [await started(make_hub(), f"p{i}", seen[i]) for i in range(2)]
    try:
        hubs[0].publish(update(1, "p0"))
        await wait_for(lambda: len(seen[0]) == 1 and len(seen[1]) == 1)
        assert seen[0] == seen[1] == [update(1, "p0")]
    finally:
        for hub in hubs:
            await hub.close()


async def test_a_late_starter_sees_only_what_follows(make_hub: Factory) -> None:
    first = make_hub(poll_interval=0.01)
    got: list[Event] = []
    await first.start("a", got.append)
    first.publish(Event("a", 1.0, (Change("Create", "/old"),)))
    await wait_for(lambda: len(got) == 1)
    later: list[Event] = []
    second = make_hub(poll_interval=0.01)
    await second.start("b", later.append)
    try:
        first.publish(Event("a", 2.0, (Change("Create", "/new"),)))
        await wait_for(lambda: len(later) == 1)
        assert later[0].changes[0].path == "/new"
        await asyncio.sleep(0.05)
        assert len(later) == 1
    finally:
        await first.close()
        await second.close()


async def test_pending_events_are_written_at_close(make_hub: Factory) -> None:
    hub = make_hub(poll_interval=10)
    other = make_hub(poll_interval=0.01)
    got: list[Event] = []
    await hub.start("a", lambda _e: None)
    await other.start("b", got.append)
    hub.publish(Event("a", 1.0, (Change("Create", "/x"),)))
    await hub.close()
    try:
        await wait_for(lambda: len(got) == 1)
    finally:
        await other.close()


async def test_stores_are_isolated(make_hub: Factory) -> None:
    seen: list[list[Event]] = [[], []]
    one = await started(make_hub(poll_interval=0.01), "a", seen[0])
    two = await started(make_hub("other", poll_interval=0.01), "b", seen[1])
    try:
        one.publish(update(1, "a"))
        two.publish(update(2, "b"))
        await wait_for(lambda: len(seen[0]) == 1 and len(seen[1]) == 1)
        await one.add(channel("c1"), 10)
        assert await two.get("c1") is None
        await asyncio.sleep(0.1)
        assert seen == [[update(1, "a")], [update(2, "b")]]
    finally:
        await one.close()
        await two.close()


async def test_registry(make_hub: Factory) -> None:
    hub = make_hub()
    await hub.start("a", lambda _e: None)
    try:
        ws = channel("ws1", token_hash="t1", rate=2.5, full_iri=True)
        assert await hub.add(ws, max_per_agent=2)
        assert await hub.get("ws1") == ws
        assert await hub.by_token("t1") == ws
        assert await hub.by_token("nope") is None
        assert await hub.attach("ws1", time.time())
        assert not await hub.attach("ws1", time.time())  # one connection per channel
        hook = channel("h1", "WebhookChannel2023", send_to="https://hooks.example/")
        assert await hub.add(hook, max_per_agent=2)
        assert not await hub.add(channel("ws2"), max_per_agent=2)  # anonymous's share is used
        assert await hub.add(channel("ws2", webid="https://me.example/#i"), max_per_agent=2)
        found = await hub.webhooks(["/doc", "/other"], time.time())
        assert {topic: [c.id for c in hooks] for topic, hooks in found.items()} == {"/doc": ["h1"]}
        assert await hub.webhooks(["/other"], time.time()) == {}
        assert await hub.remove("h1") and not await hub.remove("h1")
        assert await hub.get("h1") is None
        assert not await hub.attach("gone", time.time())
    finally:
        await hub.close()


async def test_the_registry_is_shared(make_hub: Factory) -> None:
    one, two = await started(make_hub(), "a"), await started(make_hub(), "b")
    try:
        assert await one.add(channel("ws1", token_hash="t1"), 10)
        assert await two.by_token("t1") == await one.get("ws1")
        assert await two.attach("ws1", time.time())
        assert not await one.attach("ws1", time.time())  # connected through the other
        assert await two.remove("ws1")
        assert await one.get("ws1") is None
    finally:
        await one.close()
        await two.close()


async def test_every_process_signs_webhooks_with_one_key(make_hub: Factory) -> None:
    """Webhook receivers check signatures against one published key, whichever host sent."""
    hubs = [await started(make_hub(), o) for o in "ab"] + [await started(make_hub("x"), "c")]
    made: list[str] = []

    def make() -> str:
        made.append(new_private_jwk())
        return made[-1]

    try:
        keys = await asyncio.gather(*(hub.signing_key(make) for hub in hubs[:2]))
        assert keys[0] == keys[1] and keys[0] in made  # racing starts agree on one key
        assert await hubs[0].signing_key(make) == keys[0]  # and keep it
        assert await hubs[2].signing_key(make) != keys[0]  # another deployment, another key
        assert Signer.from_private_jwk(keys[0]).jwks()["keys"][0]["kty"] == "EC"
    finally:
        for hub in hubs:
            await hub.close()


async def test_the_agent_limit_holds_under_concurrent_adds(make_hub: Factory) -> None:
    hubs = [await started(make_hub(), f"p{i}") for i in range(2)]
    try:
        for webid in ("https://me.example/#i", None):
            key = "me" if webid else "anon"
            results = await asyncio.gather(
                *(
                    hubs[n % 2].add(channel(f"{key}{n}", webid=webid), max_per_agent=5)
                    for n in range(24)
                )
            )
            assert results.count(True) == 5
        assert await hubs[0].add(channel("you", webid="https://you.example/#i"), 5)
    finally:
        for hub in hubs:
            await hub.close()


async def test_sweep_forgets_expired_and_never_connected_channels(make_hub: Factory) -> None:
    hub = make_hub()
    await hub.start("a", lambda _e: None)
    try:
        now = time.time()
        await hub.add(channel("expired", end_at=now - 1), 10)
        await hub.add(channel("unconnected", created=now - 100), 10)
        await hub.add(channel("connected", created=now - 100), 10)
        await hub.attach("connected", now)
        await hub.add(channel("hook", "WebhookChannel2023", created=now - 100, end_at=math.inf), 10)
        await hub.add(channel("fresh"), 10)
        assert await hub.sweep(now, connect_timeout=50) == 2
        left = [
            c for c in ("expired", "unconnected", "connected", "hook", "fresh") if await hub.get(c)
        ]
        assert left == ["connected", "hook", "fresh"]
    finally:
        await hub.close()


# -- PostgreSQL: LISTEN/NOTIFY and catching up ------------------------------------------------


async def sql(hub: PostgresHub, query: str, *args: object) -> Any:
    """One statement on the hub's schema through a connection of its own."""
    conn = await asyncpg.connect(
        hub.dsn, server_settings={"search_path": quote_ident(hub.schema or "")}
    )
    try:
        return await conn.fetch(query, *args)
    finally:
        await conn.close()


async def test_notifications_bring_events_without_polling(
    make_pg: Callable[..., PostgresHub],
) -> None:
    seen: list[list[Event]] = [[], []]
    hubs = [make_pg(poll_interval=60) for _ in range(2)]  # the table read never comes
    for index, hub in enumerate(hubs):
        await hub.start(f"p{index}", seen[index].append)
    try:
        big = Event("p0", 2.0, tuple(Change("Update", f"/{n:05}") for n in range(600)), id="big")
        events = [update(1, "p0"), big, update(3, "p1")]
        hubs[0].publish(events[0])
        hubs[0].publish(events[1])  # too large for a payload: read from the table
        await wait_for(lambda: len(seen[1]) == 2)
        hubs[1].publish(events[2])
        await wait_for(lambda: len(seen[0]) == 3 and len(seen[1]) == 3)
        assert seen[0] == seen[1] == events
        assert hubs[0].channel == hubs[1].channel
    finally:
        for hub in hubs:
            await hub.close()


async def test_schemas_have_channels_of_their_own(make_pg: Callable[..., PostgresHub]) -> None:
    one, two = await started(make_pg("one"), "a"), await started(make_pg("two"), "b")
    try:
        assert one.channel != two.channel
    finally:
        await one.close()
        await two.close()


async def insert_unnotified(hub: PostgresHub) -> Event:
    """An event written to the feed behind the hub's back (no NOTIFY follows it)."""
    quiet = Event("x", 1.0, (Change("Update", "/quiet"),), id="q")
    await sql(
        hub,
        "INSERT INTO notify_events (origin, published, body) VALUES ($1, $2, $3)",
        quiet.origin,
        quiet.published,
        encode_event(quiet),
    )
    return quiet


async def test_events_not_notified_are_read_from_the_table(
    make_pg: Callable[..., PostgresHub],
) -> None:
    seen: list[Event] = []
    hub = await started(make_pg(poll_interval=60), "a", seen)
    try:
        quiet = await insert_unnotified(hub)
        hub.publish(update(2))  # its id does not follow the cursor: the table is read
        await wait_for(lambda: len(seen) == 2)
        assert seen == [quiet, update(2)]
    finally:
        await hub.close()


async def test_the_table_is_read_every_poll_interval(make_pg: Callable[..., PostgresHub]) -> None:
    seen: list[Event] = []
    hub = await started(make_pg(poll_interval=0.05), "a", seen)
    try:
        quiet = await insert_unnotified(hub)
        await wait_for(lambda: seen == [quiet], timeout=15.0)  # a busy machine: once, 3 s was short
    finally:
        await hub.close()


async def test_a_lost_listener_listens_again_and_catches_up(
    make_pg: Callable[..., PostgresHub],
) -> None:
    seen: list[list[Event]] = [[], []]
    hubs = [make_pg(poll_interval=60) for _ in range(2)]
    for index, hub in enumerate(hubs):
        await hub.start(f"p{index}", seen[index].append)
    try:
        await wait_for(lambda: hubs[1]._listener is not None)
        listener = hubs[1]._listener
        assert listener is not None
        await sql(hubs[1], "SELECT pg_terminate_backend($1)", listener.get_server_pid())
        events = [update(n, "p0") for n in range(20)]
        for event in events:  # some while the second hub is not listening
            hubs[0].publish(event)
            await asyncio.sleep(0.005)
        await wait_for(lambda: len(seen[0]) == 20 and len(seen[1]) == 20, timeout=10)
        assert seen[0] == seen[1] == events
        assert hubs[1]._listener is not listener
        hubs[0].publish(update(20, "p0"))  # and notifications flow again
        await wait_for(lambda: len(seen[1]) == 21)
    finally:
        for hub in hubs:
            await hub.close()


async def test_events_that_cannot_be_written_reach_this_process(
    make_pg: Callable[..., PostgresHub],
) -> None:
    seen: list[Event] = []
    hub = await started(make_pg(), "a", seen)
    try:
        await sql(hub, "ALTER TABLE notify_events RENAME TO notify_events_away")
        hub.publish(update(1))
        await wait_for(lambda: seen == [update(1)])
    finally:
        await sql(hub, "ALTER TABLE notify_events_away RENAME TO notify_events")
        await hub.close()


async def test_old_events_are_pruned(make_pg: Callable[..., PostgresHub]) -> None:
    hub = make_pg(retention=10.0)
    seen: list[Event] = []
    await hub.start("a", seen.append)
    try:
        hub.publish(Event("a", time.time() - 100, (Change("Update", "/old"),)))
        hub.publish(Event("a", time.time(), (Change("Update", "/new"),)))
        await wait_for(lambda: len(seen) == 2)
    finally:
        await hub.close()
    later = await started(make_pg(retention=10.0), "b")  # prunes as it starts
    try:
        rows: list[Any] = []
        for _ in range(100):
            rows = await sql(later, "SELECT body FROM notify_events")
            if len(rows) == 1:
                break
            await asyncio.sleep(0.02)
        assert len(rows) == 1 and "/new" in rows[0][0]
    finally:
        await later.close()


async def test_concurrent_publishers_lose_nothing(make_pg: Callable[..., PostgresHub]) -> None:
    count = 4
    seen: list[list[Event]] = [[] for _ in range(count)]
    hubs = [make_pg(poll_interval=60) for _ in range(count)]  # notifications alone
    for index, hub in enumerate(hubs):
        await hub.start(f"p{index}", seen[index].append)
    try:
        for n in range(150):
            for index, hub in enumerate(hubs):
                hub.publish(update(n, f"p{index}"))
            await asyncio.sleep(0.001)
        total = 150 * count
        await wait_for(lambda: all(len(s) >= total for s in seen), timeout=20)
        assert all(s == seen[0] for s in seen)  # every event once, in one order everywhere
        assert sorted(e.id + e.origin for e in seen[0]) == sorted(
            f"e{n}p{i}" for n in range(150) for i in range(count)
        )
    finally:
        for hub in hubs:
            await hub.close()
