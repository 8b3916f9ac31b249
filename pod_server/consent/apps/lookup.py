"""The app grants a server process enforces, read from the IdP state and cached briefly.

The state is the source of truth, shared by every process (SQLite file or PostgreSQL).
A process forgets its copy at once when it saves a choice itself, and re-reads any entry
after ``ttl`` seconds (2 by default), so a choice made through another process binds
this one within that time.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pod_server.auth.agent import Agent
from pod_server.auth.cache import TtlCache
from pod_server.consent.apps.grant import AppGrant, from_access, is_full, to_access
from pod_server.state.base import IdpState

DEFAULT_TTL = 2.0


class AppGrants:
    def __init__(
        self,
        state: IdpState,
        *,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        max_entries: int = 10_000,
    ) -> None:
        self._state = state
        self._ttl = ttl
        self._clock = clock
        self._wall = wall
        # (webid, client_id) -> (grant or None,): a tuple, so "no grant" is cached too.
        self._cache: TtlCache[tuple[str, str], tuple[AppGrant | None]] = TtlCache(
            max_entries, clock
        )

    async def get(self, webid: str, client_id: str) -> AppGrant | None:
        """The person's recorded choice for this app (None: none recorded)."""
        key = (webid, client_id)
        hit = self._cache.get(key)
        if hit is not None:
            return hit[0]
        access = await self._state.get_app_access(webid, client_id)
        grant = from_access(access) if access is not None else None
        self._cache.put(key, (grant,), self._clock() + self._ttl)
        return grant

    async def save(self, grant: AppGrant) -> None:
        """Record a new choice (replacing the last) and forget this process's copy."""
        await self._state.set_app_access(to_access(grant, self._wall()))
        self._cache.put((grant.webid, grant.client_id), (grant,), self._clock() + self._ttl)

    async def limited(self, agent: Agent) -> AppGrant | None:
        """The grant limiting this request's app, or None when the app has full access
        (``access.policy.AppLimits``)."""
        if agent.webid is None or agent.client_id is None:
            return None
        grant = await self.get(agent.webid, agent.client_id)
        return None if is_full(grant) else grant

    async def is_full_access(self, agent: Agent, root: str) -> bool:
        """Whether ``agent``'s app acts with all of the person's access (for the audit
        hook, which still checks that the person owns ``root``): False for a limited app."""
        del root  # a grant is per WebID and app, wherever it is used
        return await self.limited(agent) is None
