"""Sinks: one receiver's bounded queue, drained in order by its own task.

The write path only ever calls ``offer`` (a deque append): a slow or dead receiver fills
its own queue and is dropped, with a log line, once the queue is full; it never holds up a
write or another receiver. Features of the channel apply here: nothing before ``startAt``;
the channel ends at ``endAt``; with a ``rate``, notifications that arrive within the
interval are coalesced into the latest one, sent when the interval has passed.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import struct
import time
from collections import deque
from collections.abc import Callable

from aiohttp import WSCloseCode, web

from pod_server.ldp.store import Change
from pod_server.notify.config import NotifyConfig
from pod_server.notify.model import Channel
from pod_server.notify.webhook import Outcome, WebhookClient

log = logging.getLogger("pod_server.notify")
FAST_WRITE_LIMIT = 64 * 1024  # bytes a receiver may leave unread before writes wait

# Why a sink closed; the notifier decides from this what happens to the channel.
EXPIRED = "expired"
UNSUBSCRIBED = "unsubscribed"
SHUTDOWN = "server shutting down"
DISCONNECTED = "disconnected"
TOO_SLOW = "too slow (queue full)"
FAILING = "failing"
GONE = "gone"


class Sink:
    """Delivers one channel's notifications, in order, to one receiver."""

    def __init__(
        self, channel: Channel, config: NotifyConfig, on_close: Callable[[Sink, str], None]
    ) -> None:
        self.channel = channel
        self.config = config
        self._on_close = on_close
        self._queue: deque[str] = deque()
        self._wake = asyncio.Event()
        self.done = asyncio.Event()
        self.reason: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._releasing: asyncio.Task[None] | None = None
        self._busy = False  # the task is in send()
        self.sent = 0

    @property
    def closed(self) -> bool:
        return self.reason is not None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"notify-sink-{self.channel.id}")
        if math.isfinite(self.channel.end_at):
            delay = max(0.0, self.channel.end_at - time.time())
            self._timer = asyncio.get_running_loop().call_later(delay, self.close, EXPIRED)

    def deliver(self, change: Change, text: str) -> None:
        self.offer(text)

    def offer(self, text: str) -> None:
        """Queue a notification; never blocks."""
        if self.reason is not None:
            return
        now = time.time()
        if self.channel.start_at is not None and now < self.channel.start_at:
            return
        if now >= self.channel.end_at:
            self.close(EXPIRED)
            return
        if self.channel.rate:
            self._queue.clear()  # only the latest is sent once the interval has passed
        elif not self._queue and not self._busy:
            try:
                if self.write_now(text):
                    self.sent += 1  # idle, and the receiver's buffer has room: no task switch
                    return
            except Exception as exc:  # the connection broke under us
                log.info("notifications: channel %s ended: %r", self.channel.id, exc)
                self.close(DISCONNECTED)
                return
        if len(self._queue) >= self.config.queue_size:
            log.warning(
                "notifications: dropping %s channel %s on %s: %d notifications waiting",
                self.channel.type,
                self.channel.id,
                self.channel.topic,
                len(self._queue),
            )
            self.close(TOO_SLOW)
            return
        self._queue.append(text)
        self._wake.set()

    async def _run(self) -> None:
        rate = self.channel.rate or 0.0
        next_at = 0.0
        loop = asyncio.get_running_loop()
        try:
            while self.reason is None:
                if not self._queue:
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                if rate:
                    wait = next_at - loop.time()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    while len(self._queue) > 1:  # coalesce: the latest says it all
                        self._queue.popleft()
                    if not self._queue or self.reason is not None:
                        continue
                self._busy = True
                try:
                    await self.send(self._queue.popleft())
                finally:
                    self._busy = False
                self.sent += 1
                if rate:
                    next_at = loop.time() + rate
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the receiver went away, or broke the protocol
            log.info("notifications: channel %s ended: %r", self.channel.id, exc)
            self.close(DISCONNECTED)

    def write_now(self, text: str) -> bool:
        """Write without waiting, if this receiver can take it now; False: queue it."""
        return False

    async def send(self, text: str) -> None:
        raise NotImplementedError

    def close(self, reason: str) -> None:
        """End the sink (idempotent): stop sending, drop what is queued, release the receiver."""
        if self.reason is not None:
            return
        self.reason = reason
        self._queue.clear()
        self._wake.set()
        if self._timer is not None:
            self._timer.cancel()
        task = self._task
        if task is not None and task is not asyncio.current_task():
            task.cancel()  # it may be stuck writing to a receiver that does not read
        self._on_close(self, reason)
        self._releasing = asyncio.get_running_loop().create_task(self._release(reason))

    async def _release(self, reason: str) -> None:
        try:
            await self.release(reason)
        except Exception:  # releasing a broken connection may fail: it is gone either way
            log.debug("notifications: releasing %s failed", self.channel.id, exc_info=True)
        finally:
            self.done.set()

    async def release(self, reason: str) -> None:
        """Let go of the receiver (close its connection)."""


class WebSocketSink(Sink):
    """A WebSocketChannel2023 connection: one text frame per notification."""

    def __init__(
        self,
        channel: Channel,
        config: NotifyConfig,
        on_close: Callable[[Sink, str], None],
        ws: web.WebSocketResponse,
        request: web.BaseRequest,
    ) -> None:
        super().__init__(channel, config, on_close)
        self.ws = ws
        self._request = request

    def write_now(self, text: str) -> bool:
        transport = self._request.transport
        if self.ws.closed or transport is None or transport.is_closing():
            return False
        if transport.get_write_buffer_size() > FAST_WRITE_LIMIT:
            return False  # not reading fast enough: queue, and wait for the buffer to drain
        transport.write(text_frame(text))
        return True

    async def send(self, text: str) -> None:
        # No timeout: a receiver that stops reading fills its queue and is dropped, and a
        # dead one is found by the WebSocket heartbeat.
        await self.ws.send_str(text)

    async def release(self, reason: str) -> None:
        await close_websocket(self.ws, self._request, reason)


@functools.lru_cache(maxsize=64)
def text_frame(text: str) -> bytes:
    """An unmasked, uncompressed WebSocket text frame (RFC 6455 §5.2), as a server sends:
    the same bytes for every receiver, so encoded once per notification."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", 0x81, size)
    elif size < 65536:
        header = struct.pack("!BBH", 0x81, 126, size)
    else:
        header = struct.pack("!BBQ", 0x81, 127, size)
    return header + payload


async def close_websocket(ws: web.WebSocketResponse, request: web.BaseRequest, reason: str) -> None:
    if ws.closed:
        return
    code = {
        SHUTDOWN: WSCloseCode.GOING_AWAY,
        TOO_SLOW: WSCloseCode.POLICY_VIOLATION,
    }.get(reason, WSCloseCode.OK)
    try:
        async with asyncio.timeout(2.0):  # a receiver that reads nothing never answers
            await ws.close(code=code, message=reason.encode()[:120])
    except TimeoutError:
        if request.transport is not None:
            request.transport.abort()


class StreamSink(Sink):
    """A StreamingHTTPChannel2023 response: one JSON-LD document per line."""

    def __init__(
        self,
        channel: Channel,
        config: NotifyConfig,
        on_close: Callable[[Sink, str], None],
        response: web.StreamResponse,
        request: web.BaseRequest,
    ) -> None:
        super().__init__(channel, config, on_close)
        self.response = response
        self._request = request

    async def send(self, text: str) -> None:
        async with asyncio.timeout(self.config.send_timeout):
            await self.response.write(text.encode() + b"\n")

    async def release(self, reason: str) -> None:
        if reason != TOO_SLOW:
            try:
                async with asyncio.timeout(2.0):
                    await self.response.write_eof()
                return
            except (TimeoutError, ConnectionError, RuntimeError):
                pass
        if self._request.transport is not None:
            self._request.transport.abort()  # it does not read: do not wait on it


class WebhookSink(Sink):
    """A WebhookChannel2023 target: one signed POST per notification, retried with backoff."""

    def __init__(
        self,
        channel: Channel,
        config: NotifyConfig,
        on_close: Callable[[Sink, str], None],
        client: WebhookClient,
    ) -> None:
        super().__init__(channel, config, on_close)
        self._client = client
        self._failures = 0

    async def send(self, text: str) -> None:
        assert self.channel.send_to is not None
        body = text.encode()
        detail = ""
        for attempt in range(self.config.webhook_attempts):
            if attempt:
                backoff = self.config.webhook_backoff * 2 ** (attempt - 1)
                await asyncio.sleep(min(backoff, self.config.webhook_backoff_max))
            outcome, detail = await self._client.post(self.channel.send_to, body)
            if outcome is Outcome.OK:
                self._failures = 0
                return
            if outcome is Outcome.GONE:
                self.close(GONE)
                return
            if outcome is Outcome.REFUSED:
                break
        self._failures += 1
        log.warning(
            "notifications: webhook %s for channel %s: a notification was not delivered (%s)",
            self.channel.send_to,
            self.channel.id,
            detail,
        )
        if self._failures >= self.config.webhook_max_failures:
            self.close(FAILING)
