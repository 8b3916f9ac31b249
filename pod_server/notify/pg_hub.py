"""``NotifyHub`` on PostgreSQL: the channel registry and the feed of changes in the database.

The same contract as :class:`~pod_server.notify.hub.SqliteHub`, for processes on any number
of hosts sharing one database (and schema):

* ``notify_channels``: the registry, one row per channel. ``add`` counts the agent's channels
  and inserts under a transaction-scoped advisory lock per agent, so the limit holds under
  concurrent subscriptions through any number of processes.
* ``notify_events``: the feed. ``publish`` only queues; a background task inserts the queue
  in batches, each in one transaction that takes the feed's advisory lock before its ids are
  drawn and ends with a ``NOTIFY`` on this schema's channel. The lock makes id order the
  commit order, so a reader that has seen id N has seen every committed event below N: a
  high-water mark (``cursor``) is safe, and every process delivers the same sequence.
* Receiving: one dedicated connection per process ``LISTEN`` s. A notification carries its
  transaction's events when they fit in a payload (under 8000 bytes), else only the last id
  (the events are then read from the table). Whenever the ids do not follow on from the
  cursor (a listener that was down, a payload too large, a rolled-back batch), and every
  ``poll_interval`` as a safety net, the hub reads the table from the cursor on, so nothing
  is lost while the connection lives or after it is re-established; events older than
  ``retention`` are pruned.

As with ``SqliteHub``, the event is written after the change committed (the store's
listeners run after the commit) and a hub started later sees only what follows; events of
this process come back through the feed like everyone else's, and reach this process's
subscribers directly when they cannot be written.

The ``LISTEN`` connection must be a real session: it does not work through a
transaction-mode connection pooler (the pool's statements do).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import asyncpg

from pod_server.db.postgres import open_pool, server_settings, unavailable
from pod_server.db.schema import upgrade
from pod_server.notify.hub import Event, OutgoingEvents, encode_event, feed_event
from pod_server.notify.model import WEBHOOK, Channel

log = logging.getLogger("pod_server.notify")

WEBHOOK_KEY = "webhook"
_KEY = "SELECT value FROM notify_keys WHERE name = $1"
_ADD_KEY = "INSERT INTO notify_keys (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING"
INSERT_BATCH = 500  # events per transaction: bounds how long the feed's lock is held
FETCH_BATCH = 1000
MAX_NOTES = 10_000  # notifications waiting to be handled before they are replaced by a read
MAX_PAYLOAD = 7900  # bytes; PostgreSQL refuses NOTIFY payloads of 8000 or more
PRUNE_EVERY = 60.0
RECONNECT_MIN, RECONNECT_MAX = 0.05, 5.0  # seconds between attempts to LISTEN again
CLOSE_TIMEOUT = 2.0

_DB_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,  # e.g. "connection is closed"
    OSError,  # includes ConnectionError and TimeoutError
)

_COLUMNS = (
    "id, type, topic, webid, origin, created, end_at, start_at, rate, state, accept, "
    "send_to, token_hash, full_iri"
)
_ADD = (
    f"INSERT INTO notify_channels ({_COLUMNS}) VALUES "
    "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
)
# Two statements rather than IS NOT DISTINCT FROM, which cannot use the index.
_HELD = "SELECT count(*) FROM notify_channels WHERE webid = $1"
_HELD_ANONYMOUS = "SELECT count(*) FROM notify_channels WHERE webid IS NULL"
_GET = f"SELECT {_COLUMNS} FROM notify_channels WHERE id = $1"
_BY_TOKEN = f"SELECT {_COLUMNS} FROM notify_channels WHERE token_hash = $1"
_ATTACH = "UPDATE notify_channels SET attached = $1 WHERE id = $2 AND attached IS NULL"
_REMOVE = "DELETE FROM notify_channels WHERE id = $1"
_WEBHOOKS = (
    f"SELECT {_COLUMNS} FROM notify_channels WHERE topic = ANY($1::text[]) AND type = '{WEBHOOK}'"
    " AND end_at > $2 ORDER BY created, id"
)
_SWEEP = (
    "DELETE FROM notify_channels WHERE end_at <= $1"
    f" OR (type <> '{WEBHOOK}' AND attached IS NULL AND created < $2)"
)
# ORDER BY n: ids are drawn in the batch's order, which is this process's commit order.
_INSERT = """INSERT INTO notify_events (origin, published, body)
    SELECT o, p, b FROM unnest($1::text[], $2::float8[], $3::text[])
        WITH ORDINALITY AS u (o, p, b, n) ORDER BY n
    RETURNING id, origin, published, body"""
_FETCH = """SELECT id, origin, published, body FROM notify_events
    WHERE id > $1 ORDER BY id LIMIT $2"""
_PRUNE = "DELETE FROM notify_events WHERE published < $1"


class Row(NamedTuple):
    """An event as stored (and as a notification carries it: a JSON array)."""

    id: int
    origin: str
    published: float
    body: str


class PostgresHub(OutgoingEvents):
    """ChannelRegistry and ChangeFeed in PostgreSQL, shared by every process on the schema.

    ``dsn``: a ``postgresql://`` URL; ``schema``: the schema holding the tables (created and
    upgraded by ``start()``), else the connection's default. ``poll_interval``: seconds
    between reads of the feed table when notifications alone should have sufficed (the
    safety net; notifications arrive at once). ``retention``: seconds of events kept.
    ``max_connections`` bounds the pool (the listener has a connection of its own);
    ``lock_timeout`` bounds waits for the per-agent and feed locks.
    """

    def __init__(
        self,
        dsn: str,
        *,
        schema: str | None = None,
        poll_interval: float = 1.0,
        retention: float = 600.0,
        clock: Callable[[], float] = time.time,
        max_connections: int = 4,
        connect_timeout: float = 10.0,
        lock_timeout: float = 10.0,
    ) -> None:
        self.dsn, self.schema = dsn, schema
        self._poll_interval = poll_interval
        self._retention = retention
        self._clock = clock
        self._max_connections = max_connections
        self._connect_timeout = connect_timeout
        self._lock_timeout = lock_timeout
        self._origin = ""
        self._receive: Callable[[Event], None] | None = None
        self._pool: asyncpg.Pool | None = None
        self._listener: asyncpg.Connection | None = None
        self._space = b""  # the resolved schema: names the NOTIFY channel and lock keys
        self._channel = ""
        self._feed_key = 0
        self._init_outgoing()
        self._notes: deque[str | None] = deque()  # payloads; None: read the table
        self._wake: asyncio.Event | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._flush_task: asyncio.Task[None] | None = None
        self._closing = False
        self._cursor = 0  # the last event id delivered

    @property
    def channel(self) -> str:
        """The NOTIFY channel (known once started)."""
        return self._channel

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self, origin: str, receive: Callable[[Event], None]) -> None:
        self._origin, self._receive = origin, receive
        self._closing = False
        await upgrade(self.dsn, schema=self.schema, timeout=self._connect_timeout)
        self._pool = await open_pool(
            self.dsn,
            self.schema,
            min_size=1,
            max_size=self._max_connections,
            lock_timeout=self._lock_timeout,
            connect_timeout=self._connect_timeout,
        )
        try:
            async with self._pool.acquire() as conn:
                # The schema the tables are really in (also when ``schema`` is None), so
                # that hubs sharing tables share the channel and locks, and only they do.
                space = await conn.fetchval("SELECT current_schema()")
                last = await conn.fetchval("SELECT coalesce(max(id), 0) FROM notify_events")
        except BaseException:
            await self._pool.close()
            self._pool = None
            raise
        self._space = str(space or "").encode() + b"\0"
        digest = hashlib.blake2b(self._space, digest_size=8, person=b"pod-notify")
        self._channel = "pod_events_" + digest.hexdigest()
        self._feed_key = self._lock_key(b"feed")
        self._cursor = int(last)  # only what happens from now on
        self._flushing, self._wake = asyncio.Event(), asyncio.Event()
        if self._pending:
            self._flushing.set()  # published before start
        self._flush_task = asyncio.create_task(self._flush_loop(), name="notify-pg-outbox")
        self._tasks = [
            self._flush_task,
            asyncio.create_task(self._feed_loop(), name="notify-pg-feed"),
            asyncio.create_task(self._prune_loop(), name="notify-pg-prune"),
        ]

    async def close(self) -> None:
        self._closing = True
        flush = self._flush_task
        if flush is not None and self._flushing is not None:
            # Let the batch in flight finish (cancelling it mid-transaction would lose it),
            # and what was committed before shutdown still reach the others.
            self._flushing.set()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(flush), self._connect_timeout)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks, self._flush_task = [], None
        if self._pending and self._pool is not None:
            with contextlib.suppress(*_DB_ERRORS):
                await self._insert(list(self._pending))
            self._pending.clear()
        listener, self._listener = self._listener, None
        if listener is not None:
            await _close(listener)
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    def _db(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("PostgresHub is not started")
        return self._pool

    def _lock_key(self, kind: bytes, name: str = "") -> int:
        # Keyed like the storage backend's locks (schema first), in a space of its own.
        data = self._space + b"notify-" + kind + b"\0" + name.encode()
        digest = hashlib.blake2b(data, digest_size=8)
        return int.from_bytes(digest.digest(), "big", signed=True)

    # -- feed: writing -----------------------------------------------------------------------

    async def _flush_loop(self) -> None:
        assert self._flushing is not None
        while True:
            await self._flushing.wait()
            self._flushing.clear()
            while self._pending:
                batch = [
                    self._pending.popleft() for _ in range(min(INSERT_BATCH, len(self._pending)))
                ]
                try:
                    await self._insert(batch)
                except _DB_ERRORS:
                    log.exception("notifications: %d events could not be written", len(batch))
                    for event in batch:  # at least this process's subscribers hear of them
                        self._deliver(event)
            if self._closing:
                return

    async def _insert(self, batch: Sequence[Event]) -> None:
        """Append ``batch`` to the feed and tell every listener, in one transaction."""
        origins = [e.origin for e in batch]
        published = [e.published for e in batch]
        bodies = [encode_event(e) for e in batch]
        async with self._db().acquire() as conn, conn.transaction():
            # Taken before the ids are drawn and held to the commit: id order = commit order.
            await conn.execute("SELECT pg_advisory_xact_lock($1)", self._feed_key)
            rows = await conn.fetch(_INSERT, origins, published, bodies)
            stored: list[Row] = sorted(_stored(r) for r in rows)
            payload = json.dumps({"e": stored})
            if len(payload) >= MAX_PAYLOAD:  # ASCII (json escapes the rest): bytes = chars
                payload = json.dumps({"n": stored[-1].id})
            # Delivered at commit, to every listener, in commit order.
            await conn.execute("SELECT pg_notify($1, $2)", self._channel, payload)

    # -- feed: receiving ---------------------------------------------------------------------

    async def _feed_loop(self) -> None:
        delay = RECONNECT_MIN
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await self._listen()
                delay = RECONNECT_MIN
                await self._follow(conn)
                log.warning("notifications: the event feed's connection closed; listening again")
            except _DB_ERRORS as err:
                log.warning(
                    "notifications: the event feed failed (%s: %s); listening again in %.2gs",
                    type(err).__name__,
                    err,
                    delay,
                )
            except Exception:
                log.exception("notifications: the event feed failed")
            finally:
                if conn is not None:
                    if self._listener is conn:
                        self._listener = None
                    await _close(conn)
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX)

    async def _listen(self) -> asyncpg.Connection:
        conn = await asyncpg.connect(
            self.dsn, server_settings=server_settings(self.schema), timeout=self._connect_timeout
        )
        try:
            # Notifications of an earlier connection are dropped: the read below covers them.
            self._listener = conn
            self._notes.clear()
            conn.add_termination_listener(self._on_terminated)
            await conn.add_listener(self._channel, self._on_notify)
        except BaseException:
            self._listener = None
            await _close(conn)
            raise
        return conn

    async def _follow(self, conn: asyncpg.Connection) -> None:
        """Deliver the feed from the cursor on, for as long as ``conn`` lives."""
        assert self._wake is not None
        # Listening already: whatever committed before is in the table, the rest notified.
        await self._catch_up(conn)
        last_read = time.monotonic()
        while not conn.is_closed():
            wait = last_read + self._poll_interval - time.monotonic()
            if wait > 0 and not self._wake.is_set():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await self._wake.wait()
            self._wake.clear()
            if conn.is_closed():
                return
            while self._notes:
                rows = _inline(self._notes.popleft())
                if rows is None or (rows[-1].id > self._cursor and rows[0].id > self._cursor + 1):
                    # Not carried, or something between the cursor and these: the table.
                    await self._catch_up(conn)
                    last_read = time.monotonic()
                for row in rows or ():
                    self._take(row)
            if time.monotonic() - last_read >= self._poll_interval:
                # Notifications should have brought everything; this also checks that the
                # connection still works.
                await self._catch_up(conn)
                last_read = time.monotonic()

    async def _catch_up(self, conn: asyncpg.Connection) -> None:
        while True:
            rows = await conn.fetch(
                _FETCH, self._cursor, FETCH_BATCH, timeout=self._connect_timeout
            )
            for row in rows:
                self._take(_stored(row))
            if len(rows) < FETCH_BATCH:
                return

    def _take(self, row: Row) -> None:
        if row.id <= self._cursor:  # delivered already (notified and read, say)
            return
        self._cursor = row.id
        event = feed_event(row.id, row.origin, row.published, row.body)
        if event is not None:
            self._deliver(event)

    def _on_notify(self, conn: asyncpg.Connection, _pid: int, _channel: str, payload: str) -> None:
        if conn is not self._listener or self._wake is None:
            return  # an earlier connection's
        if len(self._notes) >= MAX_NOTES:
            self._notes.clear()  # far behind: one read of the table replaces them
            self._notes.append(None)
        else:
            self._notes.append(payload)
        self._wake.set()

    def _on_terminated(self, conn: asyncpg.Connection) -> None:
        if conn is self._listener and self._wake is not None:
            self._wake.set()  # the loop notices the closed connection and listens again

    def _deliver(self, event: Event) -> None:
        if self._receive is not None:
            self._receive(event)

    async def _prune_loop(self) -> None:
        while True:
            try:
                await self._db().execute(_PRUNE, self._clock() - self._retention)
            except _DB_ERRORS as err:
                log.warning("notifications: pruning the event feed failed: %s", err)
            await asyncio.sleep(PRUNE_EVERY)

    # -- registry ----------------------------------------------------------------------------

    async def add(self, channel: Channel, max_per_agent: int) -> bool:
        key = self._lock_key(b"agent", "" if channel.webid is None else "w" + channel.webid)
        with unavailable():
            async with self._db().acquire() as conn, conn.transaction():
                # Counting and inserting under the agent's lock: concurrent adds through any
                # processes cannot both see room for one more.
                await conn.execute("SELECT pg_advisory_xact_lock($1)", key)
                if channel.webid is None:
                    held = await conn.fetchval(_HELD_ANONYMOUS)
                else:
                    held = await conn.fetchval(_HELD, channel.webid)
                if held >= max_per_agent:
                    return False
                await conn.execute(_ADD, *_row(channel))
        return True

    async def signing_key(self, make: Callable[[], str]) -> str:
        with unavailable():
            value = await self._db().fetchval(_KEY, WEBHOOK_KEY)
            if value is None:  # the first process makes it; a racing one keeps the winner's
                await self._db().execute(_ADD_KEY, WEBHOOK_KEY, make())
                value = await self._db().fetchval(_KEY, WEBHOOK_KEY)
        return str(value)

    async def get(self, channel_id: str) -> Channel | None:
        with unavailable():
            row = await self._db().fetchrow(_GET, channel_id)
        return None if row is None else Channel(**row)

    async def by_token(self, token_hash: str) -> Channel | None:
        with unavailable():
            row = await self._db().fetchrow(_BY_TOKEN, token_hash)
        return None if row is None else Channel(**row)

    async def attach(self, channel_id: str, now: float) -> bool:
        with unavailable():
            return _count(await self._db().execute(_ATTACH, now, channel_id)) == 1

    async def remove(self, channel_id: str) -> bool:
        with unavailable():
            return _count(await self._db().execute(_REMOVE, channel_id)) == 1

    async def webhooks(self, topics: Sequence[str], now: float) -> dict[str, list[Channel]]:
        with unavailable():
            rows = await self._db().fetch(_WEBHOOKS, list(topics), now)
        found: dict[str, list[Channel]] = {}
        for row in rows:
            found.setdefault(row["topic"], []).append(Channel(**row))
        return found

    async def sweep(self, now: float, connect_timeout: float) -> int:
        with unavailable():
            return _count(await self._db().execute(_SWEEP, now, now - connect_timeout))


def _row(channel: Channel) -> tuple[Any, ...]:
    c = channel
    return (
        c.id, c.type, c.topic, c.webid, c.origin, c.created, c.end_at, c.start_at, c.rate,
        c.state, c.accept, c.send_to, c.token_hash, c.full_iri,
    )  # fmt: skip


def _stored(row: asyncpg.Record) -> Row:
    return Row(row["id"], row["origin"], row["published"], row["body"])


def _count(status: str) -> int:
    """The row count of a command status such as ``DELETE 3``."""
    return int(status.rsplit(" ", 1)[-1])


def _inline(payload: str | None) -> list[Row] | None:
    """The events a notification carries; None when they are to be read from the table."""
    if payload is None:
        return None
    try:
        data = json.loads(payload)
        if "e" not in data:
            return None
        rows = [Row(int(i), str(o), float(p), str(b)) for i, o, p, b in data["e"]]
    except (ValueError, TypeError, KeyError):
        log.warning("notifications: unreadable notification on the event feed")
        return None
    return rows or None


async def _close(conn: asyncpg.Connection) -> None:
    if conn.is_closed():
        return
    try:
        await conn.close(timeout=CLOSE_TIMEOUT)
    except Exception:
        conn.terminate()  # a broken connection: just drop it
