"""``PodClient``: one object for everything the SDK does."""

from __future__ import annotations

import time
from typing import Any

from client import auth
from client.audit import Audit
from client.auth import Clock, OpenBrowser, Session
from client.profiles import ProfileStore
from client.query import Query
from client.transport import Transport


class PodClient(Audit, Query):
    """An async client for Solid pods, anonymous or signed in.

    ::

        async with PodClient() as pod:
            await pod.login_client_credentials(issuer, client_id, client_secret)
            graph = await pod.read_graph(url)

    ``transport`` replaces the HTTP layer (:class:`~client.transport.MockTransport` in
    tests). A client made by :meth:`from_profile` saves renewed tokens to that profile.
    """

    def __init__(
        self,
        session: Session | None = None,
        *,
        transport: Transport | None = None,
        clock: Clock = time.time,
    ) -> None:
        super().__init__(session, transport=transport)
        self.clock = clock
        self.profile_name: str | None = None
        self.store: ProfileStore | None = None

    @classmethod
    def from_profile(
        cls,
        name: str = "default",
        *,
        store: ProfileStore | None = None,
        transport: Transport | None = None,
        clock: Clock = time.time,
    ) -> PodClient:
        """A client with the session saved under ``name`` (anonymous when there is none)."""
        store = store or ProfileStore()
        client = cls(store.load(name, clock), transport=transport, clock=clock)
        client.profile_name, client.store = name, store
        return client

    def _adopt(self, session: Session) -> Session:
        self.session = session
        self._etags.clear()  # another identity may see other representations
        self._snapshots.clear()
        if self.store is not None and self.profile_name is not None:
            store, name = self.store, self.profile_name
            store.save(name, session)
            session.on_change = lambda s: store.save(name, s)
        return session

    async def login_client_credentials(
        self, issuer: str, client_id: str, client_secret: str
    ) -> Session:
        """Sign in as the WebID an account's client credentials act for."""
        session = await auth.login_client_credentials(
            self.transport, issuer, client_id, client_secret, clock=self.clock
        )
        return self._adopt(session)

    async def login_browser(
        self,
        issuer: str,
        *,
        open_browser: OpenBrowser | None = None,
        timeout: float = 300.0,
        port: int = 0,
        client_name: str = "pod (Python client)",
    ) -> Session:
        """Sign a person in through their provider's pages (authorization code + PKCE,
        loopback redirect). ``open_browser(url)`` defaults to the system browser."""
        session = await auth.login_browser(
            self.transport,
            issuer,
            open_browser=open_browser,
            timeout=timeout,
            port=port,
            client_name=client_name,
            clock=self.clock,
        )
        return self._adopt(session)

    async def logout(self) -> bool:
        """Revoke the session's tokens at the provider and forget the session (and its
        saved profile). True when the provider confirmed the revocation."""
        confirmed = False
        if self.session is not None:
            confirmed = await self.session.revoke(self.transport)
        self.session = None
        if self.store is not None and self.profile_name is not None:
            self.store.delete(self.profile_name)
        return confirmed

    def whoami(self) -> dict[str, Any]:
        """The session at a glance: WebID, issuer, kind, when the token expires."""
        s = self.session
        if s is None:
            return {"signed_in": False, "profile": self.profile_name}
        return {
            "signed_in": True,
            "profile": self.profile_name,
            "webid": s.webid,
            "issuer": s.issuer,
            "kind": s.kind,
            "client_id": s.client_id,
            "expires_in": max(0, int(s.expires_at - self.clock())),
            "renewable": bool(s.refresh_token or s.client_secret),
        }


__all__ = ["PodClient"]
