"""Remembering DPoP proof identifiers (RFC 9449 §11.1) so that no proof is used twice."""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable
from typing import Protocol


class ReplayCache(Protocol):
    """Records jti values until their proof could no longer be accepted anyway.

    The Authenticator passes a fixed-size digest of each jti (``replay_key``), not the
    jti itself, so shared implementations (PostgreSQL) can use a fixed-width column.
    """

    async def add(self, jti: str, expires_at: float) -> bool:
        """Record ``jti``; False if it was seen before or the cache cannot hold it."""
        ...


class OneTimeStore(Protocol):
    """What ``SharedReplayCache`` needs: ``IdpState.use_once`` (SQLite or PostgreSQL)."""

    async def use_once(self, key: str, expires_at: float, now: float) -> bool: ...


class SharedReplayCache:
    """A ReplayCache every server process shares, for ``--workers N`` and several hosts.

    One atomic insert-unless-live per proof in the shared state store (``use_once``), so a
    proof accepted by one process is refused by all the others. Expired rows leave with the
    state store's periodic ``purge``; the store's disk, not a count, bounds it.
    """

    def __init__(self, store: OneTimeStore, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock

    async def add(self, jti: str, expires_at: float) -> bool:
        now = self._clock()
        if expires_at <= now:
            return True  # already outside its acceptance window: nothing to remember
        return await self._store.use_once("dpop-jti:" + jti, expires_at, now)


class MemoryReplayCache:
    """A bounded in-process ReplayCache.

    Every entry is kept until ``expires_at``: forgetting a live jti would let its proof
    be replayed, so a full cache refuses new proofs instead (fail closed). Expired
    entries leave through a min-heap ordered by expiry, so cleaning is O(log n) each.
    With the Authenticator's 22-character keys an entry costs about 200 bytes
    (1,000,000 entries: ~200 MB at worst).
    """

    def __init__(
        self, max_entries: int = 1_000_000, clock: Callable[[], float] = time.time
    ) -> None:
        self._max = max_entries
        self._clock = clock
        self._expiry: dict[str, float] = {}
        self._heap: list[tuple[float, str]] = []

    def __len__(self) -> int:
        self._purge(self._clock())
        return len(self._expiry)

    @property
    def full(self) -> bool:
        return len(self) >= self._max

    async def add(self, jti: str, expires_at: float) -> bool:
        return self.add_now(jti, expires_at)

    def add_now(self, jti: str, expires_at: float) -> bool:
        """``add`` without a coroutine: the in-process cache never waits."""
        now = self._clock()
        self._purge(now)
        if jti in self._expiry or len(self._expiry) >= self._max:
            return False
        if expires_at <= now:
            return True  # already outside its acceptance window: nothing to remember
        self._expiry[jti] = expires_at
        heapq.heappush(self._heap, (expires_at, jti))
        return True

    def _purge(self, now: float) -> None:
        heap = self._heap
        while heap and heap[0][0] <= now:
            _, jti = heapq.heappop(heap)
            del self._expiry[jti]
