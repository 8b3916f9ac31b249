"""The notifier: from committed changes to the channels that want them.

Flow: the store calls ``on_changes`` after every commit (on the write path: it only hands
the event to the feed, a queue append). The feed (``hub``) brings every process's events,
this one's included, in one total order; one dispatcher task takes them in that order and
for each change finds the channels on its topic: live connections held here (WebSocket,
streaming, legacy solid-0.1) and, for changes committed here, the webhooks.
Before each delivery the subscriber's Read on the topic is checked again (once per
subscriber identity and change; compiled ACLs are cached by etag, so this costs a few
index lookups), so a revoked grant stops deliveries at the next change. Each channel has
its own bounded queue (``sinks``), so per-topic order is kept and nobody waits on a slow
receiver.

Webhooks are delivered by the process that committed the change: exactly one process
sees it first, so each change is POSTed once, whichever process holds the channel's row.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from aiohttp import web

from pod_server.access.modes import Mode
from pod_server.access.policy import AccessPolicy
from pod_server.auth import Agent
from pod_server.errors import PodError
from pod_server.ldp import paths
from pod_server.ldp.store import Change, ResourceStore
from pod_server.notify import sinks
from pod_server.notify.config import NotifyConfig
from pod_server.notify.gateway import GATEWAY, GATEWAY_WEBSOCKET, SOLID_NOTIFICATION_GATEWAY
from pod_server.notify.hub import Event, NotifyHub
from pod_server.notify.model import (
    CHANNEL_TYPES,
    FEATURES,
    NOTIFY,
    NOTIFY_CONTEXT,
    STREAMING,
    WEBHOOK,
    WEBSOCKET,
    Channel,
    dumps,
    format_duration,
    format_time,
    notification,
    same_state,
)
from pod_server.notify.signing import Signer, new_private_jwk
from pod_server.notify.sinks import Sink, WebhookSink
from pod_server.notify.webhook import TargetPolicy, WebhookClient

log = logging.getLogger("pod_server.notify")
MAX_INBOX = 100_000  # events waiting for the dispatcher before new ones are dropped
SWEEP_EVERY = 30.0
YIELD_EVERY = 256  # deliveries between two chances for other work on the event loop
PREFIX = ".well-known/notifications/"


class Listener(Protocol):
    """Something that wants the changes of one topic: a sink, or a legacy subscription."""

    channel: Channel

    def deliver(self, change: Change, text: str) -> None: ...


class Urls:
    """Where the notification endpoints are, under the server's public base URL."""

    def __init__(self, base_url: str) -> None:
        self.prefix = base_url + PREFIX
        parts = urlsplit(base_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        self.ws_prefix = urlunsplit((scheme, parts.netloc, parts.path, "", "")) + PREFIX
        self.jwks = self.prefix + "jwks"
        self.legacy = self.ws_prefix + "solid-0.1"
        self.gateway = self.prefix + GATEWAY
        self.gateway_websocket = self.prefix + GATEWAY_WEBSOCKET

    def service(self, kind: str) -> str:
        return self.prefix + kind

    def channel(self, channel_id: str) -> str:
        return self.prefix + "channels/" + channel_id

    def receive(self, kind: str, token: str) -> str:
        if kind == WEBSOCKET:
            return self.ws_prefix + "websocket/" + token
        return self.prefix + "stream/" + token


class Notifier:
    """One per server process."""

    def __init__(
        self,
        store: ResourceStore,
        policy: AccessPolicy,
        hub: NotifyHub,
        config: NotifyConfig,
        targets: TargetPolicy,
    ) -> None:
        self.store = store
        self.policy = policy
        self.hub = hub
        self.config = config
        self.targets = targets
        self.signer: Signer | None = None  # loaded at start, from where the hub keeps it
        self.urls = Urls(store.base_url)
        self.webhooks: WebhookClient | None = None
        self.origin = uuid.uuid4().hex
        self._inbox: deque[Event] = deque()
        self._wake: asyncio.Event | None = None
        self._topics: dict[str, dict[int, Listener]] = {}
        self._live: dict[str, Sink] = {}  # connection channels held by this process
        self._hooks: dict[str, WebhookSink] = {}  # webhook channels this process delivers to
        self._tasks: list[asyncio.Task[None]] = []
        self._background: set[asyncio.Task[Any]] = set()
        self._running = False
        self._dropped = 0

    # -- lifecycle ---------------------------------------------------------------------------

    async def lifecycle(self, _app: web.Application) -> AsyncIterator[None]:
        await self.start()
        yield
        await self.stop()

    async def start(self) -> None:
        await self.hub.start(self.origin, self._receive)
        self.signer = Signer.from_private_jwk(await self.hub.signing_key(new_private_jwk))
        self.webhooks = WebhookClient(self.targets, self.signer, self.config.send_timeout)
        self._wake = asyncio.Event()
        self._running = True
        self._tasks = [
            asyncio.create_task(self._dispatch_loop(), name="notify-dispatch"),
            asyncio.create_task(self._sweep_loop(), name="notify-sweep"),
        ]

    async def shutdown(self, _app: web.Application | None = None) -> None:
        """Close the live connections (before the server waits for its handlers)."""
        live = list(self._live.values())
        for sink in live:
            sink.close(sinks.SHUTDOWN)
        await _wait_all([asyncio.ensure_future(sink.done.wait()) for sink in live], 3.0)

    async def stop(self) -> None:
        await self.shutdown()
        self._running = False
        for hook in list(self._hooks.values()):
            hook.close(sinks.SHUTDOWN)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await _wait_all(list(self._background), 3.0)
        await self.hub.close()
        if self.webhooks is not None:
            await self.webhooks.close()

    # -- events ------------------------------------------------------------------------------

    def on_changes(self, changes: list[Change]) -> None:
        """The store's listener: on the write path, so it only queues."""
        if not self._running or not changes:
            return
        self.hub.publish(Event(self.origin, time.time(), tuple(changes), id=uuid.uuid4().hex))

    def _receive(self, event: Event) -> None:
        """Every process's events, this one's included, in the feed's order."""
        if len(self._inbox) >= MAX_INBOX:
            self._dropped += 1
            if self._dropped == 1 or self._dropped % 1000 == 0:
                log.error("notifications: dispatcher overloaded, %d events dropped", self._dropped)
            return
        self._inbox.append(event)
        if self._wake is not None:
            self._wake.set()

    async def _dispatch_loop(self) -> None:
        assert self._wake is not None
        while True:
            if not self._inbox:
                self._wake.clear()
                await self._wake.wait()
                continue
            event = self._inbox.popleft()
            try:
                await self.dispatch(event)
            except Exception:
                log.exception("notifications: dispatching an event failed")

    async def dispatch(self, event: Event) -> None:
        if event.ended is not None:
            self._end_local(event.ended, sinks.UNSUBSCRIBED)
            return
        local = event.origin == self.origin
        # Webhooks are sent by the process that made the change, whoever registered them.
        webhooks = (
            await self.hub.webhooks([c.path for c in event.changes], time.time()) if local else {}
        )
        for index, change in enumerate(event.changes):
            listeners = self._topics.get(change.path)
            hooks = webhooks.get(change.path, ())
            if not listeners and not hooks:
                continue
            key = f"{event.id}/{index}" if event.id else None
            text = dumps(notification(change, self.store.url, event.published, key))
            memo: dict[tuple[str | None, str | None], bool] = {}
            for count, listener in enumerate(list(listeners.values()) if listeners else ()):
                if count % YIELD_EVERY == YIELD_EVERY - 1:
                    await asyncio.sleep(0)  # a large fan-out lets requests in meanwhile
                channel = listener.channel
                if channel.created > event.published:
                    continue  # committed before this subscription was made
                allowed = memo.get((channel.webid, channel.origin))
                if allowed is None:
                    allowed = await self.may_read(channel, change.path, memo)
                if allowed:
                    listener.deliver(change, text)
            for channel in hooks:
                if channel.created <= event.published and await self.may_read(
                    channel, change.path, memo
                ):
                    self.hook_sink(channel).deliver(change, text)

    async def may_read(
        self,
        channel: Channel,
        path: str,
        memo: dict[tuple[str | None, str | None], bool] | None = None,
    ) -> bool:
        """Whether the channel's subscriber may read ``path`` now (an ACL needs Control)."""
        key = (channel.webid, channel.origin)
        if memo is not None and key in memo:
            return memo[key]
        aux = paths.aux_subject(path)
        subject = aux[1] if aux else path
        needed = Mode.CONTROL if aux is not None and aux[0] == paths.ACL_SUFFIX else Mode.READ
        agent = Agent(webid=channel.webid) if channel.webid else None
        try:
            allowed = (await self.policy.modes(agent, channel.origin, subject)).covers(needed)
        except PodError:
            allowed = False  # an unreadable ACL grants nothing
        except Exception:
            log.exception("notifications: checking access to %s failed", path)
            allowed = False
        if memo is not None:
            memo[key] = allowed
        return allowed

    # -- channels ----------------------------------------------------------------------------

    def listen(self, listener: Listener) -> None:
        self._topics.setdefault(listener.channel.topic, {})[id(listener)] = listener

    def unlisten(self, listener: Listener) -> None:
        listeners = self._topics.get(listener.channel.topic)
        if listeners is not None:
            listeners.pop(id(listener), None)
            if not listeners:
                del self._topics[listener.channel.topic]

    def open(self, sink: Sink, *, listen: bool = True) -> None:
        """Start a connection held by this process (closed on shutdown); ``listen``: it
        is a channel on its topic (a legacy connection is not: its subscriptions are)."""
        self._live[sink.channel.id] = sink
        if listen:
            self.listen(sink)
        sink.start()

    @property
    def close_sink(self) -> Callable[[Sink, str], None]:
        """The callback sinks must be made with."""
        return self._sink_closed

    def hook_sink(self, channel: Channel) -> WebhookSink:
        sink = self._hooks.get(channel.id)
        if sink is None or sink.closed:
            assert self.webhooks is not None, "the notifier is not started"
            sink = WebhookSink(channel, self.config, self._sink_closed, self.webhooks)
            self._hooks[channel.id] = sink
            sink.start()
        return sink

    def _sink_closed(self, sink: Sink, reason: str) -> None:
        self.unlisten(sink)
        channel = sink.channel
        if self._live.get(channel.id) is sink:
            del self._live[channel.id]
        if self._hooks.get(channel.id) is sink:
            del self._hooks[channel.id]
        if channel.type in (WEBSOCKET, STREAMING):
            self._spawn(self.hub.remove(channel.id))  # these channels end with their connection
        elif channel.type == WEBHOOK and reason not in (sinks.SHUTDOWN, sinks.UNSUBSCRIBED):
            log.info("notifications: webhook channel %s removed: %s", channel.id, reason)
            self._spawn(self._forget(channel.id))

    async def _forget(self, channel_id: str) -> None:
        await self.hub.remove(channel_id)
        self.hub.publish(Event(self.origin, time.time(), ended=channel_id))

    async def unsubscribe(self, channel_id: str) -> bool:
        removed = await self.hub.remove(channel_id)
        self.hub.publish(Event(self.origin, time.time(), ended=channel_id))
        self._end_local(channel_id, sinks.UNSUBSCRIBED)
        return removed

    def _end_local(self, channel_id: str, reason: str) -> None:
        for held in (self._live, self._hooks):
            sink = held.get(channel_id)
            if sink is not None:
                sink.close(reason)

    async def initial_state(self, channel: Channel, sink: Listener) -> None:
        """The state feature: tell a subscriber whose ``state`` is out of date at once."""
        if channel.state is None:
            return
        meta = await self.store.meta(channel.topic)
        if meta is not None and same_state(channel.state, meta.etag):
            return
        if meta is not None:
            change = Change("Update", channel.topic, state=meta.etag)
        else:
            change = Change("Delete", channel.topic)
        if await self.may_read(channel, channel.topic):
            sink.deliver(change, dumps(notification(change, self.store.url, time.time())))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _sweep_loop(self) -> None:
        every = min(SWEEP_EVERY, max(0.05, self.config.connect_timeout / 2))
        while True:
            await asyncio.sleep(every)
            try:
                await self.hub.sweep(time.time(), self.config.connect_timeout)
            except Exception:
                log.exception("notifications: sweeping expired channels failed")

    # -- descriptions ------------------------------------------------------------------------

    def describe_storage(self, root: str) -> str:
        """Turtle for the storage description: the subscription services (discovery)."""
        subject = self.store.url(self.store.storage_description_path(root))
        services = [self.urls.service(kind) for kind in CHANNEL_TYPES]
        features = ", ".join(f"notify:{feature}" for feature in FEATURES)
        lines = [
            f"@prefix notify: <{NOTIFY}>.",
            # Inrupt's SDK reads the gateway off the document's first subject: the storage
            # (the server, for a multi-user server's own description), which comes first.
            f"<{self.store.url(root)}> <{SOLID_NOTIFICATION_GATEWAY}> <{self.urls.gateway}>.",
            f"<{subject}> notify:subscription {', '.join(f'<{s}>' for s in services)}.",
        ]
        for kind, service in zip(CHANNEL_TYPES, services, strict=True):
            lines.append(f"<{service}> notify:channelType notify:{kind};")
            lines.append(f"    notify:feature {features}.")
        return "\n".join(lines)

    def describe_service(self, kind: str) -> dict[str, Any]:
        return {
            "@context": [NOTIFY_CONTEXT],
            "id": self.urls.service(kind),
            "channelType": NOTIFY + kind,
            "feature": [NOTIFY + feature for feature in FEATURES],
        }

    def describe_channel(self, channel: Channel, token: str | None = None) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "@context": [NOTIFY_CONTEXT],
            "id": self.urls.channel(channel.id),
            "type": NOTIFY + channel.type if channel.full_iri else channel.type,
            "topic": self.store.url(channel.topic),
        }
        if token is not None:
            doc["receiveFrom"] = self.urls.receive(channel.type, token)
        if channel.send_to is not None:
            doc["sendTo"] = channel.send_to
            doc["sender"] = self.urls.jwks
        if channel.start_at is not None:
            doc["startAt"] = format_time(channel.start_at)
        doc["endAt"] = format_time(channel.end_at)
        if channel.rate:
            doc["rate"] = format_duration(channel.rate)
        if channel.state is not None:
            doc["state"] = channel.state
        if channel.accept is not None:
            doc["accept"] = channel.accept
        return doc

    # -- introspection (tests, benchmarks) ---------------------------------------------------

    def live_count(self) -> int:
        return len(self._live)

    def listeners_of(self, path: str) -> int:
        return len(self._topics.get(path, {}))


async def _wait_all(tasks: list[asyncio.Future[Any]], timeout: float) -> None:
    """Wait for ``tasks`` up to ``timeout``, then cancel what is left."""
    if not tasks:
        return
    _, pending = await asyncio.wait(tasks, timeout=timeout)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
