from __future__ import annotations

from pod_server.ldp.cache import BytesLRU


def test_budget_and_recency() -> None:
    cache = BytesLRU(budget=100)
    cache.put("a", b"x" * 10)
    cache.put("b", b"y" * 10)
    assert cache.get("a") == b"x" * 10  # a is now the most recent
    for i in range(9):
        cache.put(i, b"z" * 10)
    assert cache.size <= 100
    assert cache.get("b") is None and cache.get("a") is not None
    cache.put("huge", b"h" * 50)  # over an eighth of the budget: not kept
    assert cache.get("huge") is None
    cache.put("a", b"w")
    assert cache.get("a") == b"w" and cache.size <= 100
