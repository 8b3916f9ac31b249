"""Renaming a document or a folder from its page (``POST <url>?ui=rename``, field
``name``): a copy to the new name in the same folder through the store, then the old one
deleted. A folder is copied whole (its folders, documents, files and descriptions, each
RDF body's IRIs under the old folder moved under the new one, so links inside it still
work), then its old items are deleted, deepest first.

The same access checks as the API would make for the two requests a client would send:
Read on the source, what a PUT creating the target needs (Append or Write on its
folder), and what a DELETE of the source needs (Write) — all checked before anything is
written, so a refusal changes nothing. An existing target is never overwritten (the copy
is conditional on its absence), and the delete is conditional on the version copied.
A folder's items are each checked the same way first (``rename_folder``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING
from urllib.parse import unquote

from aiohttp import web

from pod_server.errors import BadRequest, Conflict, PreconditionFailed
from pod_server.http.negotiation import essence
from pod_server.ldp import paths
from pod_server.ldp.conditions import Conditions
from pod_server.ldp.reading import Representation
from pod_server.ldp.store import Body
from pod_server.ui import rename_folder

if TYPE_CHECKING:
    from pod_server.ui.views import _Request

FORM = "rename"


class BadName(BadRequest):
    """A new name that cannot be used; ``key`` names the words that say why (``i18n``)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def target_path(source: str, name: str) -> str:
    """The path of ``name`` beside ``source`` (a folder stays a folder: ``name/``), or
    ``BadName`` saying why the name is unusable."""
    name = name.strip().rstrip("/") if paths.is_container(source) else name.strip()
    if not name or "/" in name or name in (".", ".."):
        raise BadName("rename_one_segment")
    parent = paths.parent(source)
    if parent is None:
        raise BadName("rename_root")
    target = parent + paths.encode_segment(name)
    if paths.is_auxiliary(target):
        raise BadName("rename_reserved")
    if paths.is_container(source):
        target += "/"
    if target == source:
        raise BadName("rename_same")
    return target


async def form(r: _Request, fields: dict[str, str], origin: str) -> web.Response:
    """Rename; a name refused (400) or taken (409) gets a page saying so, with the way back."""
    try:
        return await _rename(r, fields, origin)
    except (BadRequest, Conflict) as exc:
        back = {"url": r.store.url(r.path), "label": r.t("back_to_item", name=_name(r))}
        text = r.t(exc.key) if isinstance(exc, BadName) else exc.message
        return r.message(exc.status, r.t("not_renamed"), text, [back])


def _name(r: _Request) -> str:
    return unquote(paths.name(r.path)) or r.store.url(r.path)


async def _rename(r: _Request, fields: dict[str, str], origin: str) -> web.Response:
    t = r.t
    source = r.path
    if paths.aux_subject(source) is not None:
        raise BadRequest(t("bad_name"))
    if r.store.is_storage_root(source):
        raise BadName("rename_root")
    target = target_path(source, fields.get("name", ""))
    if paths.is_container(source):
        return await rename_folder.form(r, source, target, origin)
    read = await r.authorize(origin, "GET", source)
    meta = read.target
    if meta is None:
        raise BadRequest(t("not_found_text"))
    await r.authorize(origin, "PUT", target)
    await r.authorize(origin, "DELETE", source)
    name = unquote(paths.name(target))
    if await r.store.meta(target) is not None or await r.store.meta(target + "/") is not None:
        raise Conflict(t("rename_exists", name=name))
    if await r.store.meta(source + paths.ACL_SUFFIX) is not None:
        raise Conflict(t("rename_own_acl"))
    rep = await r.store.get(source, meta.content_type, Conditions(), "GET", known=meta)
    try:
        media = essence(meta.content_type)
        body = Body(media, _chunks(rep), rep.length, meta.content_type)
        try:
            await r.store.put(target, body, Conditions(if_none_match=("*",)), (), r.log())
        except PreconditionFailed:
            raise Conflict(t("rename_exists", name=name)) from None
    finally:
        if rep.stored is not None:
            rep.stored.close()
    r.wrote()
    await r.store.delete(source, Conditions(if_match=(f'"{meta.etag}"',)), r.log())
    location = r.store.url(target) + "?note=renamed&name=" + paths.encode_segment(name)
    return web.Response(status=303, headers={"Location": location, "Cache-Control": "no-store"})


async def _chunks(rep: Representation) -> AsyncIterator[bytes]:
    if rep.data is not None:
        yield rep.data
    elif rep.stored is not None:
        async for chunk in rep.stored.iter_range(0, None):
            yield chunk
