"""Rate limits count per subject, over a sliding window, shared through the store."""

from __future__ import annotations

from pod_server.idp.ratelimit import Limit, RateLimiter
from pod_server.state import IdpState
from tests.unit.auth.helpers import Clock

LIMIT = Limit("login", 3, 60.0)


async def test_limit_per_subject(state: IdpState) -> None:
    clock = Clock(6_000.0)
    limiter = RateLimiter(state, clock)
    for _ in range(3):
        assert not await limiter.exceeded(LIMIT, "A@example.org")
        assert not await limiter.count(LIMIT, "a@example.org")  # case-insensitive subject
    assert await limiter.exceeded(LIMIT, "a@example.org")
    assert await limiter.count(LIMIT, "a@example.org")
    assert not await limiter.exceeded(LIMIT, "b@example.org")
    clock.advance(120)
    assert not await limiter.exceeded(LIMIT, "a@example.org")
    await limiter.count(LIMIT, "a@example.org")
    await limiter.clear(LIMIT, "a@example.org")
    assert not await limiter.exceeded(LIMIT, "a@example.org")
