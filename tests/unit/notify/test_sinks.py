"""Sinks: bounded queues, order, rate coalescing, startAt and endAt, without a network."""

from __future__ import annotations

import asyncio
import math
import time

import pytest

from pod_server.notify.config import NotifyConfig
from pod_server.notify.model import Channel
from pod_server.notify.sinks import EXPIRED, TOO_SLOW, Sink, text_frame
from pod_server.settings import Settings, load


class Recorder(Sink):
    def __init__(self, channel: Channel, config: NotifyConfig, block: bool = False) -> None:
        self.closed_with: list[str] = []
        super().__init__(channel, config, lambda _sink, reason: self.closed_with.append(reason))
        self.got: list[str] = []
        self.gate = asyncio.Event()
        if not block:
            self.gate.set()

    async def send(self, text: str) -> None:
        await self.gate.wait()
        self.got.append(text)


def channel(**kw: object) -> Channel:
    values: dict[str, object] = {
        "id": "c", "type": "WebSocketChannel2023", "topic": "/t", "webid": None,
        "origin": None, "created": 0.0, "end_at": math.inf,
    }  # fmt: skip
    values.update(kw)
    return Channel(**values)  # type: ignore[arg-type]


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_in_order() -> None:
    sink = Recorder(channel(), NotifyConfig())
    sink.start()
    for n in range(50):
        sink.offer(str(n))
    await settle()
    assert sink.got == [str(n) for n in range(50)]
    sink.close("done")
    await sink.done.wait()


async def test_a_receiver_that_does_not_keep_up_is_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sink = Recorder(channel(), NotifyConfig(queue_size=3), block=True)
    sink.start()
    started = time.perf_counter()
    for n in range(100):
        sink.offer(str(n))  # never waits, whatever the receiver does
    assert time.perf_counter() - started < 0.05
    assert sink.closed_with == [TOO_SLOW]
    assert "dropping WebSocketChannel2023 channel c on /t" in caplog.text
    await sink.done.wait()
    assert sink.got == []


async def test_rate_coalesces() -> None:
    sink = Recorder(channel(rate=0.2), NotifyConfig())
    sink.start()
    sink.offer("first")
    await settle()
    for n in range(5):
        sink.offer(str(n))
    await asyncio.sleep(0.3)
    assert sink.got == ["first", "4"]
    sink.close("done")


async def test_start_at_and_end_at() -> None:
    later = Recorder(channel(start_at=time.time() + 60), NotifyConfig())
    later.start()
    later.offer("too early")
    await settle()
    assert later.got == []
    later.close("done")
    ending = Recorder(channel(end_at=time.time() + 0.1), NotifyConfig())
    ending.start()
    ending.offer("in time")
    await asyncio.sleep(0.2)
    assert ending.closed_with == [EXPIRED] and ending.got == ["in time"]
    ending.offer("too late")
    assert ending.got == ["in time"]


def test_websocket_frames() -> None:
    assert text_frame("hi") == b"\x81\x02hi"
    assert text_frame("x" * 200)[:4] == b"\x81\x7e\x00\xc8"
    assert text_frame("x" * 70000)[:10] == b"\x81\x7f" + (70000).to_bytes(8, "big")


def test_config_from_environment() -> None:
    config = NotifyConfig.from_settings(
        load({}, env={"POD_NOTIFY_QUEUE_SIZE": "8", "POD_NOTIFY_WEBHOOK_PRIVATE_TARGETS": "off"})
    )
    assert config.queue_size == 8 and config.webhook_private_targets is False
    assert NotifyConfig.from_settings(load({}, env={})).webhook_private_targets is None
    with pytest.raises(ValueError, match="POD_NOTIFY_POLL_INTERVAL"):
        NotifyConfig.from_settings(load({}, env={"POD_NOTIFY_POLL_INTERVAL": "soon"}))


def test_settings_defaults_are_the_config_defaults() -> None:
    assert NotifyConfig.from_settings(Settings()) == NotifyConfig()
