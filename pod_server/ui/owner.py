"""What the owner's pages share: the page request they are given (``PageRequest``,
which ``views._Request`` is, so they never import ``views``), the owner check, and the
names of the agents they mention."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from aiohttp import web

from pod_server.access.modes import Mode
from pod_server.access.policy import AccessPolicy
from pod_server.auth import Agent
from pod_server.errors import Forbidden, NotFound, PodError, Suspended, Unauthorized
from pod_server.idp.provider import Provider
from pod_server.ldp.store import ResourceStore
from pod_server.ui import i18n, words
from pod_server.ui.profile_names import REMOTE_NAMES, RemoteNames, name_in
from pod_server.ui.render import Chrome


class PageRequest(Protocol):
    """What a page handler is given by ``views`` (its ``_Request``)."""

    request: web.Request
    store: ResourceStore
    policy: AccessPolicy
    provider: Provider
    path: str
    agent: Agent
    chrome: Chrome

    def render(
        self, template: str, title: str, status: int = 200, **values: Any
    ) -> web.Response: ...

    def message(
        self, status: int, title: str, text: str, links: list[dict[str, str]] | None = None
    ) -> web.Response: ...

    def failed(self, exc: PodError) -> web.Response: ...


def translate(r: PageRequest) -> i18n.Translate:
    return words.translator(r.chrome.lang)


async def require_owner(r: PageRequest) -> str:
    """The storage root the page is about, once the viewer is known to own it."""
    root = r.store.storage_root_of(r.path)
    if root is None or r.path != root:
        raise NotFound()
    if await r.policy.suspended(root):
        raise Suspended(translate(r)("suspended_text"))
    if not r.agent.authenticated:
        raise Unauthorized(translate(r)("owner_only"))
    if not await r.policy.owns(r.agent, root):
        raise Forbidden(translate(r)("owner_only"))
    return root


async def display_names(
    store: ResourceStore,
    policy: AccessPolicy,
    webids: Iterable[str],
    remote: RemoteNames | None = None,
) -> dict[str, str]:
    """The names WebID profiles give, where anyone may read them: on this server from the
    store, elsewhere through ``remote`` (if given)."""
    found: dict[str, str] = {}
    elsewhere: list[str] = []
    for webid in set(webids):
        path = store.local_path(webid.split("#", 1)[0])
        if path is None:
            elsewhere.append(webid)
            continue
        try:
            if Mode.READ not in await policy.modes(Agent(), None, path):
                continue
            meta, graph = await store.graph_of(path)
        except PodError:
            continue
        if meta is None:
            continue
        name = name_in(graph, webid)
        if name is not None:
            found[webid] = name
    if remote is not None and elsewhere:
        found.update(await remote.names(elsewhere))
    return found


def remote_names(r: PageRequest) -> RemoteNames | None:
    return r.request.app.get(REMOTE_NAMES)
