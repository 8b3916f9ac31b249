"""The legacy ``solid-0.1`` WebSocket protocol, for older apps such as the data browser.

Resources carry ``Updates-Via: ws(s)://…/.well-known/notifications/solid-0.1``. A client
opens that WebSocket (subprotocol ``solid-0.1``), sends ``sub <url>`` per resource and gets
``ack <url>``; after each change of that resource (or, for a container, of its members) the
server sends ``pub <url>``. ``unsub <url>`` stops one subscription.

Access: the protocol has no authentication of its own. The caller is whoever the upgrade
request's own credentials say (anonymous for a browser), and each ``sub`` and each ``pub``
needs Read on the resource, exactly as for the newer channels. A resource that caller cannot
read is answered ``err <url> forbidden``; browsers thus get live updates of public data only.
"""

from __future__ import annotations

import math
import time
import uuid

from aiohttp import WSMsgType, web

from pod_server.ldp.store import Change
from pod_server.notify.config import NotifyConfig
from pod_server.notify.model import Channel
from pod_server.notify.notifier import Notifier
from pod_server.notify.sinks import DISCONNECTED, Sink, WebSocketSink

PROTOCOL = "solid-0.1"
MAX_SUBSCRIPTIONS = 1000  # per connection
MAX_MESSAGE = 4096


class LegacySubscription:
    """One ``sub`` on one connection: turns changes of its topic into ``pub <url>``."""

    def __init__(self, connection: Sink, channel: Channel, url: str) -> None:
        self.connection = connection
        self.channel = channel
        self.url = url

    def deliver(self, change: Change, text: str) -> None:
        self.connection.offer(f"pub {self.url}")


async def serve(
    request: web.Request,
    notifier: Notifier,
    config: NotifyConfig,
    webid: str | None,
) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(
        protocols=(PROTOCOL,), heartbeat=30.0, max_msg_size=MAX_MESSAGE, compress=False
    )
    await ws.prepare(request)
    origin = request.headers.get("Origin")
    now = time.time()
    base = Channel(f"legacy-{uuid.uuid4().hex}", PROTOCOL, "", webid, origin, now, math.inf)
    connection = WebSocketSink(base, config, notifier.close_sink, ws, request)
    notifier.open(connection, listen=False)
    subscriptions: dict[str, LegacySubscription] = {}
    try:
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            verb, _, url = message.data.strip().partition(" ")
            url = url.strip()
            if verb == "sub":
                await _subscribe(notifier, connection, subscriptions, url, now)
            elif verb == "unsub" and url in subscriptions:
                notifier.unlisten(subscriptions.pop(url))
    finally:
        for subscription in subscriptions.values():
            notifier.unlisten(subscription)
        connection.close(DISCONNECTED)
    return ws


async def _subscribe(
    notifier: Notifier,
    connection: Sink,
    subscriptions: dict[str, LegacySubscription],
    url: str,
    now: float,
) -> None:
    if url in subscriptions:
        connection.offer(f"ack {url}")
        return
    path = notifier.store.local_path(url)
    if path is None:
        connection.offer(f"err {url} not on this server")
        return
    if len(subscriptions) >= MAX_SUBSCRIPTIONS:
        connection.offer(f"err {url} too many subscriptions")
        return
    base = connection.channel
    channel = Channel(f"{base.id}:{path}", base.type, path, base.webid, base.origin, now, math.inf)
    if not await notifier.may_read(channel, path):
        connection.offer(f"err {url} forbidden")
        return
    subscription = LegacySubscription(connection, channel, url)
    subscriptions[url] = subscription
    notifier.listen(subscription)
    connection.offer(f"ack {url}")
