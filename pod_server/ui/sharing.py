"""The sharing page of a resource (``<url>?ui=sharing``) and its forms (``?ui=share``,
``?ui=unshare``): thin handlers over ``acl_view``.

Seeing or changing who has access needs Control, as reading or writing the ACL through
the API does; the page reads the ACL from the store and writes it back with ``put``
(conditional on the version read, validated by ``check_acl``), under the same access
policy as an API write of the ``.acl``.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from aiohttp import web
from rdflib import Graph

from pod_server.access.acl import compile_acl
from pod_server.consent.rules import Inherited
from pod_server.errors import BadRequest, NotFound
from pod_server.ldp import paths
from pod_server.ldp.conditions import Conditions
from pod_server.ldp.media_types import TURTLE
from pod_server.ldp.store import Body
from pod_server.storage.base import Meta
from pod_server.ui import acl_view
from pod_server.ui.acl_view import Before, Entry, Kind, Refusal, Scope

if TYPE_CHECKING:
    from pod_server.ui.views import _Request

PAGE = "sharing"
SHARE = "share"
UNSHARE = "unshare"
FORMS = frozenset({SHARE, UNSHARE})
NOTES = frozenset({"shared", "unshared", "follows_folder"})


@dataclass
class _Sharing:
    """What the page and the forms read: the item's own ACL, or the one it inherits."""

    url: str
    acl_path: str
    own: Graph | None
    own_meta: Meta | None
    inherited: Inherited | None
    owners: frozenset[str]

    def entries(self) -> list[Entry]:
        if self.own is not None:
            return acl_view.entries(self.own, self.url)
        if self.inherited is not None:
            return acl_view.entries(self.inherited.graph, self.url, self.inherited.container_url)
        return []

    def before(self) -> Before:
        if self.own is not None or self.inherited is None:
            return Before(self.own)
        return Before(self.inherited.graph, self.inherited.container_url)


async def page(r: _Request) -> web.Response:
    """Who has access now, where it comes from, and the forms to give and remove it."""
    s = await _load(r, None)
    t = r.t
    note = r.request.query.get("note", "")
    inherited = s.inherited if s.own is None else None
    return r.render(
        "sharing.html",
        t("sharing_of", name=_name(r)),
        item_url=s.url,
        item_name=_name(r),
        rows=[_row(r, e) for e in s.entries()],
        owners=sorted(s.owners),
        own=s.own is not None,
        inherited_url=inherited.container_url if inherited else None,
        inherited_sharing=inherited.container_url + "?ui=sharing" if inherited else None,
        is_container=s.url.endswith("/"),
        kinds=[(k.value, t(f"who_{k.value}")) for k in Kind],
        levels=[(name, t(f"level_{name}")) for name in acl_view.LEVELS],
        note=t(note) if note in NOTES else None,
        has_consents=any(e.consent for e in s.entries()),
        can_follow=s.own is not None and not r.store.is_storage_root(r.path),
    )


async def form(r: _Request, action: str, fields: dict[str, str], origin: str) -> web.Response:
    """Give (``share``) or remove (``unshare``) access; refused with a page saying why."""
    s = await _load(r, origin)
    try:
        who = acl_view.parse_who(fields.get("kind", ""), fields.get("who", ""))
        start = acl_view.starting_acl(s.own, s.inherited, s.url)
        if action == SHARE:
            level = acl_view.parse_level(fields.get("level", ""))
            app = acl_view.parse_origin(fields.get("origin", ""))
            after = acl_view.grant(start, who, level, s.url, r.store.url(s.acl_path), app)
        else:
            after = acl_view.revoke(start, who, s.url)
        acl_view.lock_out(
            s.before(),
            after,
            s.url,
            is_root=r.store.is_storage_root(r.path),
            owners=s.owners,
            viewer=r.agent.webid,
            now=time.time(),
            groups=await group_members(r, s.before().graph, after),
        )
    except Refusal as refused:
        return _refused(r, refused)
    await r.authorize(origin, "PUT", s.acl_path)
    r.store.check_acl(s.acl_path, after)
    data = after.serialize(format="turtle", encoding="utf-8")
    if s.own_meta is not None:  # changed meanwhile: 412, nothing written
        cond = Conditions(if_match=(f'"{s.own_meta.etag}"',))
    else:
        cond = Conditions(if_none_match=("*",))
    await r.store.put(s.acl_path, Body(TURTLE, _once(data), len(data), TURTLE), cond, (), r.log())
    r.wrote()
    note = "shared" if action == SHARE else "unshared"
    return web.Response(
        status=303,
        headers={"Location": f"{s.url}?ui=sharing&note={note}", "Cache-Control": "no-store"},
    )


async def load(r: _Request, origin: str | None) -> _Sharing:
    """The item's own and inherited ACLs, once the person is known to have Control."""
    return await _load(r, origin)


async def group_members(r: _Request, *graphs: Graph | None) -> dict[str, frozenset[str]]:
    """The members of the groups these ACLs name, read as access evaluation reads them."""
    union = Graph()
    for graph in graphs:
        if graph is not None:
            union += graph
    if not acl_view.groups_named(union):
        return {}
    return await r.policy.group_members(compile_acl(union, "urn:sharing:acl"))


def refused(r: _Request, refusal: Refusal) -> web.Response:
    return _refused(r, refusal)


# -- internals ---------------------------------------------------------------------------


async def _load(r: _Request, origin: str | None) -> _Sharing:
    """The item's ACLs, once the person is known to have Control of it."""
    if paths.aux_subject(r.path) is not None:
        raise BadRequest(r.t("no_sharing_here"))
    acl_path = r.path + paths.ACL_SUFFIX
    await r.authorize(origin, "GET", acl_path)  # Control of the item
    if await r.store.meta(r.path) is None:
        raise NotFound()
    own_meta, own = await r.store.graph_of(acl_path)
    inherited = None
    if own_meta is None:
        for ancestor in paths.ancestors(r.path):
            meta, graph = await r.store.graph_of(ancestor + paths.ACL_SUFFIX)
            if meta is not None:
                acl_url = r.store.url(ancestor + paths.ACL_SUFFIX)
                inherited = Inherited(graph, acl_url, r.store.url(ancestor))
                break
    root = r.store.storage_root_of(r.path) or "/"
    owners = await r.policy.owners_of(root)
    return _Sharing(
        r.store.url(r.path),
        acl_path,
        own if own_meta is not None else None,
        own_meta,
        inherited,
        owners,
    )


def _refused(r: _Request, refused: Refusal) -> web.Response:
    t = r.t
    values = dict(refused.values)
    if refused.modes:
        values["modes"] = ", ".join(t(k) for k in acl_view.mode_keys(refused.modes))
    text = t(refused.key, **values) if values else t(refused.key)
    back = {"url": r.store.url(r.path) + "?ui=sharing", "label": t("back_to_sharing")}
    return r.message(refused.status, t("not_changed"), text, [back])


def _name(r: _Request) -> str:
    if r.store.is_storage_root(r.path):
        return r.store.url(r.path)
    return unquote(paths.name(r.path))


def _row(r: _Request, e: Entry) -> dict[str, Any]:
    t = r.t
    who, who_url = _who_text(r, e)
    access = ", ".join(t(k) for k in acl_view.mode_keys(e.modes)) or t("no_modes")
    if e.scope is Scope.CONTENTS:
        access += " " + t("contents_only")
    elif e.scope is Scope.ITEM_AND_CONTENTS:
        access += " " + t("and_contents")
    if e.origins:
        access += "; " + t("through_apps", origins=", ".join(e.origins))
    if e.clients:
        access += "; " + t("through_clients", clients=", ".join(e.clients))
    return {
        "who": who,
        "who_url": who_url,
        "who_prefix": t(_PREFIXES[e.who.kind]) if e.who.kind in _PREFIXES else "",
        "access": access,
        "source": _source(r, e),
        "kind": e.who.kind.value,
        "iri": e.who.iri or "",
        "editable": e.editable,
        "remove_label": t("remove_who", who=who),
    }


_PREFIXES = {Kind.GROUP: "group_members", Kind.APP: "app_prefix"}


def _who_text(r: _Request, e: Entry) -> tuple[str, str | None]:
    if e.who.kind is Kind.EVERYONE:
        return r.t("everyone_text"), None
    if e.who.kind is Kind.SIGNED_IN:
        return r.t("signed_in_text"), None
    return str(e.who.iri), str(e.who.iri)


def _source(r: _Request, e: Entry) -> dict[str, Any]:
    t = r.t
    if e.consent is not None:
        text = t("consent_given", recipient=e.who.iri or "")
        if e.until is not None:
            date = e.until.strftime("%Y-%m-%d %H:%M")
            ended = e.until.timestamp() <= time.time()
            text += " " + t("consent_ended" if ended else "consent_until", date=date)
        return {"text": text, "url": e.consent, "link": t("consent_open")}
    if e.inherited_from is not None:
        return {
            "text": t("inherited_from", folder=e.inherited_from),
            "url": e.inherited_from + "?ui=sharing",
            "link": t("change_there"),
        }
    text = t("this_item") + (f" ({t('copied_from')})" if e.copied else "")
    return {"text": text, "url": None, "link": ""}


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data
