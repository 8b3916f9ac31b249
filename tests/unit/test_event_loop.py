"""The server's event loop: uvloop when installed, asyncio's on request."""

from __future__ import annotations

import asyncio
import importlib.util

import pytest

from pod_server.event_loop import kind, new_event_loop


def test_uvloop_when_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POD_EVENT_LOOP", raising=False)
    loop = new_event_loop()
    try:
        expected = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
        assert kind(loop) == expected
        assert loop.run_until_complete(asyncio.sleep(0, "ran")) == "ran"
    finally:
        loop.close()


def test_asyncio_on_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POD_EVENT_LOOP", "asyncio")
    loop = new_event_loop()
    try:
        assert kind(loop) == "asyncio"
    finally:
        loop.close()
