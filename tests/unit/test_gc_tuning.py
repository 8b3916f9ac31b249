"""The server process leaves its startup objects out of later full collections and
collects its young objects less often than Python's default."""

from __future__ import annotations

import asyncio
import gc

from aiohttp import web

from pod_server.cli import YOUNG_GENERATION_THRESHOLD, tune_collector


def test_startup_objects_are_frozen_and_the_young_collected_less_often() -> None:
    threshold = gc.get_threshold()
    gc.unfreeze()
    startup_object = ["built at startup"]  # a list: always tracked by the collector
    assert gc.is_tracked(startup_object)
    try:
        asyncio.run(tune_collector(web.Application()))
        assert gc.get_freeze_count() > 0
        # Frozen objects are in no generation a collection traverses.
        assert all(startup_object is not o for o in gc.get_objects())
        assert gc.get_threshold() == (YOUNG_GENERATION_THRESHOLD, *threshold[1:])
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
