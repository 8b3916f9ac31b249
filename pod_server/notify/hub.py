"""What the processes serving one storage share: the channels, and a feed of changes.

Two interfaces, so that the PostgreSQL backend can provide both (a table, and
LISTEN/NOTIFY carrying the same events):

* ``ChannelRegistry``: the notification channels. Any process may create, find, attach to
  or remove any of them (a subscription may be made through one process and its WebSocket
  opened on another).
* ``ChangeFeed``: every process publishes the changes it committed, and every process
  receives everybody's (its own included) in one total order, the same everywhere. That
  order is what notifications follow. Here it is the order of appends to the outbox, each
  made by a dedicated thread right after the commit: commit order for one process, and in
  practice for writes one after the other through different processes (an append takes far
  less than a commit's fsync), but not guaranteed for writes racing through two processes.
  PostgreSQL's NOTIFY, sent within the writing transaction, gives exactly the commit order.

``SqliteHub`` implements both in ``notify.sqlite3`` under the server root: a ``channels``
table, and an append-only ``events`` outbox that every process polls with a cursor (a
``PRAGMA data_version`` check makes an idle poll cost a few microseconds). Writes run on one
dedicated thread, batched, so the event loop never waits on the disk; reads are point
queries on the loop, as the storage backend does.

The outbox is written after the change committed (the store's listeners run after the
commit), so what it carries is durable. It is not part of the resource's transaction: a
crash between the two loses that change's notifications to other processes, never a
notification of something that did not happen.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from pod_server.db.migrations import Migration
from pod_server.db.sqlite import (
    WriterThread,
    connect,
    create_private,
    migrate,
    transaction,
    use_wal,
)
from pod_server.ldp.store import Change
from pod_server.notify.model import Channel
from pod_server.notify.signing import KEY_FILE, key_in_file

TOPICS_PER_QUERY = 500  # an event's paths looked up per query (SQLite's limit is 32,766)

log = logging.getLogger("pod_server.notify")
T = TypeVar("T")

DB_NAME = "notify.sqlite3"
BUSY_TIMEOUT = 10.0
MAX_PENDING = 10_000  # events waiting to be written to the outbox before new ones are dropped
POLL_BATCH = 1000
PRUNE_EVERY = 60.0

_SCHEMA_1 = (
    """CREATE TABLE IF NOT EXISTS channels (
        id TEXT PRIMARY KEY, type TEXT NOT NULL, topic TEXT NOT NULL, webid TEXT,
        origin TEXT, created REAL NOT NULL, end_at REAL NOT NULL, start_at REAL, rate REAL,
        state TEXT, accept TEXT, send_to TEXT, token_hash TEXT UNIQUE,
        full_iri INTEGER NOT NULL, attached REAL)""",
    "CREATE INDEX IF NOT EXISTS channels_topic ON channels (topic, type)",
    "CREATE INDEX IF NOT EXISTS channels_webid ON channels (webid)",
    """CREATE TABLE IF NOT EXISTS events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, origin TEXT NOT NULL,
        published REAL NOT NULL, body TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS events_published ON events (published)",
)
MIGRATIONS = (Migration(1, "channels, events", _SCHEMA_1),)
_COLUMNS = (
    "id, type, topic, webid, origin, created, end_at, start_at, rate, state, accept, "
    "send_to, token_hash, full_iri"
)


@dataclass(frozen=True, slots=True)
class Event:
    """What one process tells the others: the changes of one commit, or a channel's end."""

    origin: str  # the publishing process
    published: float
    changes: tuple[Change, ...] = ()
    ended: str | None = None  # a channel id that was removed (its live connections close)
    id: str = ""  # unique; notification ids derive from it, alike in every process


class ChangeFeed(Protocol):
    def publish(self, event: Event) -> None:
        """Append an event to the feed. Never blocks (called on the write path)."""


class ChannelRegistry(Protocol):
    async def add(self, channel: Channel, max_per_agent: int) -> bool:
        """Store a new channel; False when its agent already holds ``max_per_agent``."""

    async def get(self, channel_id: str) -> Channel | None: ...

    async def by_token(self, token_hash: str) -> Channel | None: ...

    async def attach(self, channel_id: str, now: float) -> bool:
        """Mark a WebSocket/streaming channel connected; False if it already was."""

    async def remove(self, channel_id: str) -> bool: ...

    async def webhooks(self, topics: Sequence[str], now: float) -> dict[str, list[Channel]]:
        """The live webhook channels on each of ``topics`` that has any (one lookup for
        all the paths one write changed)."""

    async def sweep(self, now: float, connect_timeout: float) -> int:
        """Forget expired channels, and connection channels never connected in time."""


class NotifyHub(ChangeFeed, ChannelRegistry, Protocol):
    async def start(self, origin: str, receive: Callable[[Event], None]) -> None:
        """Begin receiving every process's events, in feed order (``receive`` must not
        block). Should the feed fail, this process's own events are still received."""

    async def signing_key(self, make: Callable[[], str]) -> str:
        """The deployment's webhook signing key (private JWK JSON), the same in every
        process: the stored one, or one made with ``make`` and stored by the first."""

    async def close(self) -> None: ...


def encode_event(event: Event) -> str:
    if event.ended is not None:
        return json.dumps({"end": event.ended})
    return json.dumps({"c": [astuple(change) for change in event.changes], "id": event.id})


def decode_event(origin: str, published: float, body: str) -> Event:
    data = json.loads(body)
    if "end" in data:
        return Event(origin, published, ended=str(data["end"]))
    changes = tuple(Change(*item) for item in data["c"])
    return Event(origin, published, changes, id=str(data.get("id", "")))


def feed_event(seq: int, origin: str, published: float, body: str) -> Event | None:
    """The event of one feed row, or None (logged) for a row this version cannot read."""
    try:
        return decode_event(origin, published, body)
    except (ValueError, TypeError, KeyError):
        log.warning("notifications: unreadable event %d in the feed", seq)
        return None


class OutgoingEvents:
    """The publishing half both hubs share: ``publish`` only queues (it runs inside a
    write's commit path and must never wait); a hub's flush loop writes the queue out,
    woken by ``_flushing``. Past ``MAX_PENDING`` new events are dropped, and said so."""

    def _init_outgoing(self) -> None:
        self._pending: deque[Event] = deque()
        self._flushing: asyncio.Event | None = None
        self._dropped = 0

    def publish(self, event: Event) -> None:
        if len(self._pending) >= MAX_PENDING:
            self._dropped += 1
            if self._dropped == 1 or self._dropped % 1000 == 0:
                log.error(
                    "notifications: the event feed is not keeping up; %d events not passed on"
                    " to other processes",
                    self._dropped,
                )
            return
        self._pending.append(event)
        if self._flushing is not None:
            self._flushing.set()


class SqliteHub(OutgoingEvents):
    """ChannelRegistry and ChangeFeed in one SQLite file shared by the server's processes."""

    def __init__(
        self,
        path: Path,
        poll_interval: float = 0.02,
        retention: float = 600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path)
        self._poll_interval = poll_interval
        self._retention = retention
        self._clock = clock
        self._origin = ""
        self._receive: Callable[[Event], None] | None = None
        self._writer = WriterThread("SqliteHub", "pod-notify-hub")
        self._rconn: sqlite3.Connection | None = None  # event loop only
        self._init_outgoing()
        self._tasks: list[asyncio.Task[None]] = []
        self._cursor = 0
        self._data_version = -1

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self, origin: str, receive: Callable[[Event], None]) -> None:
        self._origin, self._receive = origin, receive
        self._writer.start()
        self._flushing = asyncio.Event()
        await self._on_writer(self._open)
        self._rconn = self._connect()
        self._rconn.execute("PRAGMA query_only = ON")
        row = self._rconn.execute("SELECT COALESCE(MAX(seq), 0) AS seq FROM events").fetchone()
        self._cursor = int(row["seq"])  # only what happens from now on
        self._tasks = [
            asyncio.create_task(self._flush_loop(), name="notify-outbox"),
            asyncio.create_task(self._poll_loop(), name="notify-poll"),
        ]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if not self._writer.started:
            return
        if self._pending:  # what was committed before shutdown still reaches the others
            with contextlib.suppress(Exception):
                await self._on_writer(self._insert, list(self._pending))
            self._pending.clear()
        await self._writer.stop()
        if self._rconn is not None:
            self._rconn.close()
            self._rconn = None

    def _connect(self) -> sqlite3.Connection:
        conn = connect(self.path, BUSY_TIMEOUT)
        conn.row_factory = sqlite3.Row
        return conn

    def _open(self) -> None:
        create_private(self.path)
        conn = self._writer.adopt(self._connect())
        use_wal(conn, BUSY_TIMEOUT)
        # The outbox is transient: losing its last events on power loss is acceptable,
        # an fsync per notification batch is not.
        conn.execute("PRAGMA synchronous = NORMAL")
        migrate(conn, MIGRATIONS, self.path)

    async def _on_writer(self, fn: Callable[..., T], *args: object) -> T:
        return await self._writer.run(fn, *args)

    def _reader(self) -> sqlite3.Connection:
        if self._rconn is None:
            raise RuntimeError("SqliteHub is not started")
        return self._rconn

    async def signing_key(self, make: Callable[[], str]) -> str:
        # Beside the hub's file, where earlier versions kept it too.
        return await asyncio.to_thread(key_in_file, self.path.parent / KEY_FILE, make)

    # -- feed --------------------------------------------------------------------------------

    async def _flush_loop(self) -> None:
        assert self._flushing is not None
        while True:
            await self._flushing.wait()
            self._flushing.clear()
            while self._pending:
                batch = list(self._pending)
                self._pending.clear()
                try:
                    await self._on_writer(self._insert, batch)
                except sqlite3.Error:
                    log.exception("notifications: %d events could not be written", len(batch))
                    for event in batch:  # at least this process's subscribers hear of them
                        self._deliver(event)
                    continue
                self.poll()  # our own events come back at once, in feed order

    def _insert(self, batch: Iterable[Event]) -> None:
        rows = [(e.origin, e.published, encode_event(e)) for e in batch]
        with transaction(self._writer.conn) as conn:
            conn.executemany("INSERT INTO events (origin, published, body) VALUES (?, ?, ?)", rows)

    async def _poll_loop(self) -> None:
        last_prune = self._clock()
        while True:
            await asyncio.sleep(self._poll_interval)
            try:
                self.poll()
                if self._clock() - last_prune > PRUNE_EVERY:
                    last_prune = self._clock()
                    await self._on_writer(self._prune, last_prune - self._retention)
            except sqlite3.Error:
                log.exception("notifications: reading the shared event feed failed")

    def poll(self) -> None:
        """Hand new events to ``receive`` (cheap when there are none)."""
        conn = self._reader()
        version = conn.execute("PRAGMA data_version").fetchone()["data_version"]
        if version == self._data_version:
            return
        self._data_version = version
        query = "SELECT seq, origin, published, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?"
        while True:
            rows = conn.execute(query, (self._cursor, POLL_BATCH)).fetchall()
            for row in rows:
                self._cursor = row["seq"]
                event = feed_event(row["seq"], row["origin"], row["published"], row["body"])
                if event is not None:
                    self._deliver(event)
            if len(rows) < POLL_BATCH:
                return

    def _deliver(self, event: Event) -> None:
        if self._receive is not None:
            self._receive(event)

    def _prune(self, before: float) -> None:
        with transaction(self._writer.conn) as conn:
            conn.execute("DELETE FROM events WHERE published < ?", (before,))

    # -- registry ----------------------------------------------------------------------------

    async def add(self, channel: Channel, max_per_agent: int) -> bool:
        return await self._on_writer(self._add, channel, max_per_agent)

    def _add(self, channel: Channel, max_per_agent: int) -> bool:
        with transaction(self._writer.conn) as conn:
            held = conn.execute(
                "SELECT COUNT(*) AS held FROM channels WHERE webid IS ?", (channel.webid,)
            ).fetchone()["held"]
            if held >= max_per_agent:
                return False
            conn.execute(
                f"INSERT INTO channels ({_COLUMNS}) VALUES ({', '.join('?' * 14)})",
                _row(channel),
            )
        return True

    async def get(self, channel_id: str) -> Channel | None:
        query = f"SELECT {_COLUMNS} FROM channels WHERE id = ?"
        row = self._reader().execute(query, (channel_id,)).fetchone()
        return None if row is None else _channel(row)

    async def by_token(self, token_hash: str) -> Channel | None:
        query = f"SELECT {_COLUMNS} FROM channels WHERE token_hash = ?"
        row = self._reader().execute(query, (token_hash,)).fetchone()
        return None if row is None else _channel(row)

    async def attach(self, channel_id: str, now: float) -> bool:
        return await self._on_writer(self._attach, channel_id, now)

    def _attach(self, channel_id: str, now: float) -> bool:
        with transaction(self._writer.conn) as conn:
            query = "UPDATE channels SET attached = ? WHERE id = ? AND attached IS NULL"
            return conn.execute(query, (now, channel_id)).rowcount == 1

    async def remove(self, channel_id: str) -> bool:
        return await self._on_writer(self._remove, channel_id)

    def _remove(self, channel_id: str) -> bool:
        with transaction(self._writer.conn) as conn:
            return conn.execute("DELETE FROM channels WHERE id = ?", (channel_id,)).rowcount == 1

    async def webhooks(self, topics: Sequence[str], now: float) -> dict[str, list[Channel]]:
        found: dict[str, list[Channel]] = {}
        for i in range(0, len(topics), TOPICS_PER_QUERY):
            part = list(topics[i : i + TOPICS_PER_QUERY])
            query = (
                f"SELECT {_COLUMNS} FROM channels WHERE topic IN ({', '.join('?' * len(part))})"
                " AND type = 'WebhookChannel2023' AND end_at > ? ORDER BY created, id"
            )
            for row in self._reader().execute(query, (*part, now)):
                found.setdefault(row["topic"], []).append(_channel(row))
        return found

    async def sweep(self, now: float, connect_timeout: float) -> int:
        return await self._on_writer(self._sweep, now, connect_timeout)

    def _sweep(self, now: float, connect_timeout: float) -> int:
        with transaction(self._writer.conn) as conn:
            cursor = conn.execute(
                "DELETE FROM channels WHERE end_at <= ? OR (type != 'WebhookChannel2023'"
                " AND attached IS NULL AND created < ?)",
                (now, now - connect_timeout),
            )
            return cursor.rowcount


def _row(channel: Channel) -> tuple[object, ...]:
    c = channel
    return (
        c.id, c.type, c.topic, c.webid, c.origin, c.created, c.end_at, c.start_at, c.rate,
        c.state, c.accept, c.send_to, c.token_hash, int(c.full_iri),
    )  # fmt: skip


def _channel(row: sqlite3.Row) -> Channel:
    return Channel(**{**dict(row), "full_iri": bool(row["full_iri"])})
