"""The server process leaves its startup objects out of later full collections."""

from __future__ import annotations

import asyncio
import gc

from aiohttp import web

from pod_server.cli import freeze_startup_objects


def test_startup_objects_are_frozen() -> None:
    gc.unfreeze()
    startup_object = ["built at startup"]  # a list: always tracked by the collector
    assert gc.is_tracked(startup_object)
    try:
        asyncio.run(freeze_startup_objects(web.Application()))
        assert gc.get_freeze_count() > 0
        # Frozen objects are in no generation a collection traverses.
        assert all(startup_object is not o for o in gc.get_objects())
    finally:
        gc.unfreeze()
