"""Sliding-window limits on sign-in failures, sign-ups and registrations.

Counters live in the state store, so every process shares them. Sign-in failures are
counted per account (its email, so that unknown emails are limited alike) and per client
IP: guessing is slowed for one account from many places and for many accounts from one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pod_server.idp.crypto import digest
from pod_server.state.base import IdpState


@dataclass(frozen=True)
class Limit:
    name: str
    max_events: int
    window: float  # seconds


class RateLimiter:
    def __init__(self, state: IdpState, clock: Callable[[], float]) -> None:
        self._state = state
        self._clock = clock

    async def exceeded(self, limit: Limit, subject: str) -> bool:
        """True when ``subject`` has used up ``limit`` (nothing is counted)."""
        used = await self._state.peek(_key(limit, subject), limit.window, self._clock())
        return used >= limit.max_events

    async def count(self, limit: Limit, subject: str) -> bool:
        """Count one event; True when it went over the limit."""
        used = await self._state.hit(_key(limit, subject), limit.window, self._clock())
        return used > limit.max_events

    async def clear(self, limit: Limit, subject: str) -> None:
        await self._state.reset(_key(limit, subject))


def _key(limit: Limit, subject: str) -> str:
    # Emails are personal data: counters hold a digest instead.
    return f"{limit.name}:{digest(subject.casefold())}"
