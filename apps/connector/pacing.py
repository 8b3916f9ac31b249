"""At most ``rate`` writes per second to each server (origin), however many customers'
pods it hosts: an organisation pushing to a whole customer base must not flood a small
host. One request at a time per pod comes from handling each customer sequentially."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit


class Pacer:
    """Spaces the starts of requests to one origin ``1 / rate`` seconds apart."""

    def __init__(
        self,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("a rate is a positive number of requests per second")
        self.interval, self.clock, self.sleep = 1.0 / rate, clock, sleep
        self._next: dict[str, float] = {}

    async def wait(self, url: str) -> None:
        """Return when a request to ``url``'s origin may start."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        now = self.clock()
        start = max(now, self._next.get(origin, now))
        self._next[origin] = start + self.interval  # booked before sleeping: no two alike
        if start > now:
            await self.sleep(start - now)
