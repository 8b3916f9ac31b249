"""What every check gets: the server, the agents that can call it, and scratch space."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import aiohttp

from conformance.auth import Login
from conformance.http import Reply, send
from conformance.registry import expect_status, fail

TURTLE = "text/turtle"


@dataclass
class Agent:
    """Someone calling the server: anonymous, or logged in through Solid-OIDC."""

    name: str
    http: aiohttp.ClientSession
    login: Login | None = None

    @property
    def webid(self) -> str | None:
        return self.login.webid if self.login else None

    async def request(
        self,
        method: str,
        url: str,
        body: str | bytes | None = None,
        ctype: str | None = None,
        **headers: str,
    ) -> Reply:
        sent = {name.replace("_", "-"): value for name, value in headers.items()}
        if ctype is not None:
            sent["Content-Type"] = ctype
        if self.login is not None:
            await self.login.ensure_token(self.http)
            sent.update(self.login.headers(method, url))
        return await send(self.http, method, url, body=body, headers=sent)

    async def get(self, url: str, **headers: str) -> Reply:
        return await self.request("GET", url, **headers)

    async def head(self, url: str, **headers: str) -> Reply:
        return await self.request("HEAD", url, **headers)

    async def options(self, url: str, **headers: str) -> Reply:
        return await self.request("OPTIONS", url, **headers)

    async def delete(self, url: str, **headers: str) -> Reply:
        return await self.request("DELETE", url, **headers)

    async def put(self, url: str, body: str | bytes, ctype: str = TURTLE, **headers: str) -> Reply:
        return await self.request("PUT", url, body, ctype, **headers)

    async def post(self, url: str, body: str | bytes, ctype: str = TURTLE, **headers: str) -> Reply:
        return await self.request("POST", url, body, ctype, **headers)

    async def patch(self, url: str, body: str, ctype: str = "text/n3", **headers: str) -> Reply:
        return await self.request("PATCH", url, body, ctype, **headers)


@dataclass
class Context:
    server: str  # the storage root, with a trailing slash
    http: aiohttp.ClientSession
    anon: Agent
    writer: Agent  # alice when logged in, else anonymous on an open server
    alice: Agent | None
    bob: Agent | None
    scratch: str  # a container of this run's own, under the root
    profile: str = "generic"
    _names: itertools.count[int] = field(default_factory=itertools.count)
    _fixtures: dict[str, Any] = field(default_factory=dict)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    def fresh(self, stem: str = "r", *, container: bool = False, parent: str | None = None) -> str:
        """A URL nobody has used in this run (not created)."""
        url = f"{parent or self.scratch}{stem}-{next(self._names)}"
        return url + "/" if container else url

    async def make(
        self, body: str = "", stem: str = "r", ctype: str = TURTLE, parent: str | None = None
    ) -> str:
        """A resource created by the writer, with ``body``."""
        url = self.fresh(stem, parent=parent)
        expect_status(await self.writer.put(url, body, ctype), 200, 201, 204)
        return url

    async def make_container(self, stem: str = "c", parent: str | None = None) -> str:
        url = self.fresh(stem, container=True, parent=parent)
        expect_status(await self.writer.put(url, "", TURTLE), 200, 201, 204)
        return url

    async def link_of(self, url: str, rel: str, agent: Agent | None = None) -> str:
        """The target of ``rel`` on ``url`` (discovered, never derived from the URL)."""
        reply = await (agent or self.writer).head(url)
        target = reply.link(rel)
        if target is None:
            fail(f"no Link rel={rel!r} on HEAD {url} ({reply.status})")
        return target

    async def once(self, key: str, build: Callable[[], Awaitable[Any]]) -> Any:
        """A fixture built once per run and shared by the checks that need it."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            if key not in self._fixtures:
                # A fixture that failed stays failed: its checks all report the same cause
                # instead of each rebuilding it.
                try:
                    self._fixtures[key] = (True, await build())
                except Exception as error:
                    self._fixtures[key] = (False, error)
        built, value = self._fixtures[key]
        if not built:
            raise value
        return value

    def resolve(self, path: str) -> str:
        return urljoin(self.server, path)
