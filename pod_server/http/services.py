"""Server services that live under a storage's ``.well-known/`` (audit log, access requests,
consent decisions): one table of them, consulted before the resource handlers.

Each service is registered by create_app under a name: the path below the storage root's
``.well-known/`` (``audit``), or a prefix of it ending in ``/`` (``consent/``, which then
answers for every path below). A service handler gets the request, the storage root and
the rest of the path after its name; it returns a response, or None to let the request
go on to the ordinary resource handlers (for instance a GET of a stored consent record).

A service may also screen POSTs to ordinary containers (``add_post_screen``): the access
requests an LDN inbox receives become consent requests that way. A screen sees the body
before it is stored, may refuse it (nothing is stored), and may ask to be called back
with the new member's path once it is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from pod_server.ldp.layout import WELL_KNOWN, Layout

if TYPE_CHECKING:
    from pod_server.auth import Agent
    from pod_server.ldp.staging import Body

ServiceHandler = Callable[[web.Request, "Call"], Awaitable[web.StreamResponse | None]]


@dataclass(frozen=True, slots=True)
class Screened:
    """What a POST screen let through: the body to store (it may have read the original)
    and what to do with the new member's path once stored (None: nothing)."""

    body: Body
    after: Callable[[str], Awaitable[None]] | None = None


# (request, container path, agent, body) -> None to leave the POST alone
PostScreen = Callable[[web.Request, str, "Agent", "Body"], Awaitable[Screened | None]]


@dataclass(frozen=True, slots=True)
class Call:
    """Which service a request reached: its storage root path and the rest of its path."""

    root: str  # the storage root path ("/" or "/NAME/")
    name: str  # the registered name the path matched
    rest: str  # what follows the name ("" for an exact name)
    path: str  # the whole canonical request path


class Services:
    """The registered ``.well-known/`` services of every storage."""

    def __init__(self) -> None:
        self._exact: dict[str, ServiceHandler] = {}
        self._prefixes: dict[str, ServiceHandler] = {}
        self.post_screens: list[PostScreen] = []

    def add(self, name: str, handler: ServiceHandler) -> None:
        if not name or name.startswith("/") or name in self._exact or name in self._prefixes:
            raise ValueError(f"Bad or duplicate service name {name!r}")
        (self._prefixes if name.endswith("/") else self._exact)[name] = handler

    def add_post_screen(self, screen: PostScreen) -> None:
        self.post_screens.append(screen)

    def find(self, layout: Layout, path: str) -> tuple[ServiceHandler, Call] | None:
        """The service ``path`` names, if any (a pure lookup: no I/O)."""
        root = layout.storage_root_of(path)
        if root is None or not path.startswith(root + WELL_KNOWN):
            return None
        below = path[len(root + WELL_KNOWN) :]
        handler = self._exact.get(below)
        if handler is not None:
            return handler, Call(root, below, "", path)
        for name, handler in self._prefixes.items():
            if below.startswith(name):
                return handler, Call(root, name, below[len(name) :], path)
        return None
