""" "Stop sharing separately" (``POST <url>?ui=follow``): an item with its own ACL loses
it and follows its folder's sharing again, unless that would lock someone out.

Decision (``follow_check``, pure, over ``acl_view``): the owners and the person asking
must keep the Read and Write the item's own ACL gave them, and a person who manages its
sharing without being an owner must keep Control (nobody but an owner could give it
back). A storage root has no folder to follow. The ACL is deleted through the store
under the same access policy as an API DELETE of the ``.acl`` (Control), conditional on
the version checked.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from aiohttp import web
from rdflib import Graph

from pod_server.access.modes import Mode
from pod_server.consent.rules import Inherited
from pod_server.errors import BadRequest
from pod_server.ldp import paths
from pod_server.ldp.conditions import Conditions
from pod_server.ui import acl_view, sharing
from pod_server.ui.acl_view import ESSENTIAL, Refusal

if TYPE_CHECKING:
    from pod_server.ui.views import _Request

FORM = "follow"


def follow_check(
    own: Graph,
    inherited: Inherited | None,
    target_url: str,
    *,
    owners: Iterable[str],
    viewer: str | None,
    now: float,
    groups: acl_view.Groups = acl_view.NO_GROUPS,
) -> None:
    """Refuse (``Refusal``) dropping ``own`` for ``inherited`` when it locks someone out
    (``groups``: the members of the groups both name, whose access counts too)."""
    if inherited is None:
        raise Refusal("follow_nothing", 409)
    owners = frozenset(owners)
    after_for = inherited.container_url
    for person in sorted(owners | ({viewer} if viewer else set())):
        had = acl_view.modes_of(own, target_url, person, None, now, groups)
        kept = acl_view.modes_of(inherited.graph, target_url, person, after_for, now, groups)
        lost = had & ESSENTIAL & ~kept
        if lost:
            raise Refusal("follow_lock_out", 409, {"url": target_url}, lost)
    if viewer and viewer not in owners:
        had = acl_view.modes_of(own, target_url, viewer, None, now, groups)
        kept = acl_view.modes_of(inherited.graph, target_url, viewer, after_for, now, groups)
        if Mode.CONTROL in had and Mode.CONTROL not in kept:
            raise Refusal("lock_out_control", 409, {"url": target_url})


async def folder_acl(r: _Request) -> Inherited | None:
    """The ACL the item would follow without its own: the nearest folder's above it."""
    for ancestor in paths.ancestors(r.path):
        meta, graph = await r.store.graph_of(ancestor + paths.ACL_SUFFIX)
        if meta is not None:
            acl_url = r.store.url(ancestor + paths.ACL_SUFFIX)
            return Inherited(graph, acl_url, r.store.url(ancestor))
    return None


async def form(r: _Request, origin: str) -> web.Response:
    if r.store.is_storage_root(r.path):
        raise BadRequest(r.t("follow_root"))
    s = await sharing.load(r, origin)
    if s.own is None or s.own_meta is None:
        raise BadRequest(r.t("follow_already"))
    inherited = await folder_acl(r)
    try:
        groups = await sharing.group_members(r, s.own, inherited.graph if inherited else None)
        follow_check(
            s.own,
            inherited,
            s.url,
            owners=s.owners,
            viewer=r.agent.webid,
            now=time.time(),
            groups=groups,
        )
    except Refusal as refused:
        return sharing.refused(r, refused)
    await r.authorize(origin, "DELETE", s.acl_path)
    await r.store.delete(s.acl_path, Conditions(if_match=(f'"{s.own_meta.etag}"',)), r.log())
    r.wrote()
    location = f"{s.url}?ui=sharing&note=follows_folder"
    return web.Response(status=303, headers={"Location": location, "Cache-Control": "no-store"})
