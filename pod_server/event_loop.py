"""The event loop a server process runs on: uvloop where it is installed, else asyncio's.

uvloop (libuv, in Cython) runs the same aiohttp code with less per-request overhead in
the loop itself: its transports write and read with fewer Python frames per call. It is a
dependency on CPython for Linux and macOS; elsewhere (or with ``POD_EVENT_LOOP=asyncio``,
to rule it out when chasing a bug) the standard loop is used, with identical behaviour.
"""

from __future__ import annotations

import asyncio
import os


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A fresh event loop of the best kind available (see the module docstring)."""
    if os.environ.get("POD_EVENT_LOOP", "").lower() != "asyncio":
        try:
            import uvloop
        except ImportError:
            pass
        else:
            return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def kind(loop: asyncio.AbstractEventLoop) -> str:
    """``uvloop`` or ``asyncio``: what a log line or a test says the loop is."""
    return "uvloop" if type(loop).__module__.startswith("uvloop") else "asyncio"
