"""The pages only a pod's owner sees about it, each asked of the storage root's URL:
access requests and grants (``?ui=requests``, its form ``?ui=decide``) and the activity
log (``?ui=activity``). ``views`` routes here."""

from __future__ import annotations

from aiohttp import web

from pod_server.errors import PodError
from pod_server.ui import activity, requests
from pod_server.ui.owner import PageRequest, require_owner

PAGE_ACTIONS = frozenset({"requests", "activity"})
FORM_ACTIONS = frozenset({"decide"})


async def page(r: PageRequest, action: str) -> web.Response:
    try:
        root = await require_owner(r)
        if action == "requests":
            return await requests.page(r, root)
        return await activity.page(r, root)
    except PodError as exc:
        return r.failed(exc)


async def form(r: PageRequest, action: str, body: bytes) -> web.Response:
    del action  # one form so far: the decision on a request
    try:
        root = await require_owner(r)
        return await requests.decide(r, root, body)
    except PodError as exc:
        return r.failed(exc)
