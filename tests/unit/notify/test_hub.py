"""The shared SQLite hub: the channel registry and the cross-process feed of changes."""

from __future__ import annotations

import asyncio
import math
import time
from pathlib import Path

from pod_server.ldp.store import Change
from pod_server.notify.hub import DB_NAME, Event, SqliteHub, decode_event, encode_event
from pod_server.notify.model import Channel


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


async def wait_for(condition: object, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


def test_events_survive_encoding() -> None:
    event = Event("p1", 12.5, (Change("Add", "/c/", "/c/m", "e1"), Change("Delete", "/x")), id="i")
    assert decode_event("p1", 12.5, encode_event(event)) == event
    ended = Event("p2", 1.0, ended="chan")
    assert decode_event("p2", 1.0, encode_event(ended)) == ended


async def test_every_process_receives_every_event_in_one_order(tmp_path: Path) -> None:
    hubs = [SqliteHub(tmp_path / DB_NAME, poll_interval=0.01) for _ in range(2)]
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
    finally:
        for hub in hubs:
            await hub.close()


async def test_a_late_starter_sees_only_what_follows(tmp_path: Path) -> None:
    first = SqliteHub(tmp_path / DB_NAME, poll_interval=0.01)
    got: list[Event] = []
    await first.start("a", got.append)
    first.publish(Event("a", 1.0, (Change("Create", "/old"),)))
    await wait_for(lambda: len(got) == 1)
    later: list[Event] = []
    second = SqliteHub(tmp_path / DB_NAME, poll_interval=0.01)
    await second.start("b", later.append)
    try:
        first.publish(Event("a", 2.0, (Change("Create", "/new"),)))
        await wait_for(lambda: len(later) == 1)
        assert later[0].changes[0].path == "/new"
    finally:
        await first.close()
        await second.close()


async def test_pending_events_are_written_at_close(tmp_path: Path) -> None:
    hub = SqliteHub(tmp_path / DB_NAME, poll_interval=10)
    other = SqliteHub(tmp_path / DB_NAME, poll_interval=0.01)
    got: list[Event] = []
    await hub.start("a", lambda _e: None)
    await other.start("b", got.append)
    hub.publish(Event("a", 1.0, (Change("Create", "/x"),)))
    await hub.close()
    try:
        await wait_for(lambda: len(got) == 1)
    finally:
        await other.close()


async def test_registry(tmp_path: Path) -> None:
    hub = SqliteHub(tmp_path / DB_NAME)
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
        assert [c.id for c in await hub.webhooks("/doc", time.time())] == ["h1"]
        assert await hub.webhooks("/other", time.time()) == []
        assert await hub.remove("h1") and not await hub.remove("h1")
    finally:
        await hub.close()


async def test_sweep_forgets_expired_and_never_connected_channels(tmp_path: Path) -> None:
    hub = SqliteHub(tmp_path / DB_NAME)
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
