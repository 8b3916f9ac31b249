"""The in-memory DPoP replay cache: remembers for the whole window, refuses when full."""

from __future__ import annotations

from pod_server.auth import MemoryReplayCache, ReplayCache
from tests.unit.auth.helpers import Clock


def test_a_jti_is_accepted_once() -> None:
    clock = Clock(1000.0)
    cache: ReplayCache = MemoryReplayCache(10, clock)
    assert cache.add("a", 1065.0)
    assert not cache.add("a", 1065.0)
    assert cache.add("b", 1065.0)


def test_a_jti_is_remembered_until_it_expires() -> None:
    clock = Clock(1000.0)
    cache = MemoryReplayCache(10, clock)
    cache.add("a", 1065.0)
    clock.now = 1064.9
    assert not cache.add("a", 1130.0)
    clock.now = 1065.0
    assert cache.add("a", 1130.0)  # its old proof could no longer be accepted


def test_a_full_cache_refuses_instead_of_forgetting() -> None:
    clock = Clock(1000.0)
    cache = MemoryReplayCache(3, clock)
    assert all(cache.add(j, 1060.0 + i) for i, j in enumerate("abc"))
    assert cache.full
    assert not cache.add("d", 1070.0)
    assert not cache.add("a", 1070.0)  # and every live entry is still there
    clock.now = 1060.0  # "a" expires, freeing one slot
    assert cache.add("d", 1070.0)
    assert not cache.add("e", 1070.0)
    assert len(cache) == 3


def test_expiry_order_is_independent_of_insertion_order() -> None:
    clock = Clock(0.0)
    cache = MemoryReplayCache(10, clock)
    cache.add("late", 50.0)
    cache.add("early", 10.0)
    clock.now = 20.0
    assert len(cache) == 1
    assert not cache.add("late", 80.0)
    assert cache.add("early", 80.0)


def test_already_expired_entries_are_not_stored() -> None:
    cache = MemoryReplayCache(1, Clock(100.0))
    assert cache.add("old", 99.0)
    assert len(cache) == 0
