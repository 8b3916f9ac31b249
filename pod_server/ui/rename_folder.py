"""Renaming a folder from its page: every item below it is read, checked and copied under
the new name, then the old items are deleted, deepest first (see ``rename``).

Order of the steps, and why: the whole tree is listed and every access check is made
before anything is written, so a refusal changes nothing; the copy of each item is
conditional on the new path being free; a failure part way through the copy removes what
was copied, so the old folder is left as it was; the deletes are conditional on the
versions copied, so an item changed meanwhile is kept (and said so) rather than lost.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING
from urllib.parse import unquote

from aiohttp import web

import pod_archive
from pod_server.errors import Conflict, PodError, PreconditionFailed
from pod_server.http.negotiation import essence
from pod_server.ldp import paths, rdf
from pod_server.ldp.conditions import Conditions
from pod_server.ldp.media_types import TURTLE
from pod_server.ldp.store import Body
from pod_server.pods.transfer import walk
from pod_server.storage.base import Meta

if TYPE_CHECKING:
    from pod_server.ui.views import _Request

MAX_ITEMS = 500  # a folder renamed from the page holds at most this many items


def moved(path: str, source: str, target: str) -> str:
    """Where ``path`` (at or below the folder ``source``) goes when it becomes ``target``."""
    if not path.startswith(source):
        raise ValueError(f"{path!r} is not inside {source!r}")
    return target + path[len(source) :]


def rebased(data: bytes, media: str, url: str, source_url: str, target_url: str) -> bytes:
    """An RDF body stored at ``url`` with its IRIs under ``source_url`` moved under
    ``target_url``, as Turtle relative to where it goes (unparsable: unchanged)."""
    if not data.strip():
        return data
    try:
        graph = rdf.parse(data, media, url)
    except PodError:
        return data
    new_url = target_url + url[len(source_url) :]
    out = rdf.serialize(pod_archive.rebase(graph, source_url, target_url), TURTLE, new_url)
    return out[out.index(b"\n") + 1 :] if out.startswith(b"@base ") else out


async def form(r: _Request, source: str, target: str, origin: str) -> web.Response:
    t = r.t
    name = unquote(paths.name(target))
    items = await _tree(r, source)
    await r.authorize(origin, "PUT", target)
    for meta in items:
        aux = paths.aux_subject(meta.path)
        if aux is not None and aux[0] == paths.ACL_SUFFIX:
            where = unquote(paths.name(aux[1])) if aux[1] != source else name
            raise Conflict(t("rename_folder_acl", name=where))
        if aux is None:
            await r.authorize(origin, "GET", meta.path)
            await r.authorize(origin, "DELETE", meta.path)
    if await r.store.meta(target) is not None or await r.store.meta(target[:-1]) is not None:
        raise Conflict(t("rename_exists", name=name))
    copied = await _copy(r, items, source, target, name)
    r.wrote()
    kept = await _delete(r, items, copied)
    note = f"renamed_kept&n={kept}" if kept else "renamed"
    location = r.store.url(target) + f"?note={note}&name=" + paths.encode_segment(name)
    return web.Response(status=303, headers={"Location": location, "Cache-Control": "no-store"})


async def _tree(r: _Request, source: str) -> list[Meta]:
    items: list[Meta] = []
    async for meta in walk(r.store.backend, source):
        items.append(meta)
        if len(items) > MAX_ITEMS:
            raise Conflict(r.t("rename_too_many", count=str(MAX_ITEMS)))
    return items


async def _copy(
    r: _Request, items: list[Meta], source: str, target: str, name: str
) -> dict[str, str]:
    """Copy each item (parents first); the etag of each source copied, by path."""
    source_url, target_url = r.store.url(source), r.store.url(target)
    copied: dict[str, str] = {}
    written: list[str] = []
    try:
        for meta in items:
            new = moved(meta.path, source, target)
            data, media = await _read(r, meta)
            if rdf.is_rdf(media):
                url = r.store.url(meta.path)
                data = rebased(data, media, url, source_url, target_url)
                media = TURTLE if data else media
            body = Body(media, _once(data), len(data), media)
            try:
                await r.store.put(new, body, Conditions(if_none_match=("*",)), (), r.log())
            except PreconditionFailed:
                raise Conflict(r.t("rename_exists", name=name)) from None
            written.append(new)
            copied[meta.path] = meta.etag
    except PodError:
        if written:
            await r.store.delete_tree(target)  # the old folder is still whole
        raise
    return copied


async def _read(r: _Request, meta: Meta) -> tuple[bytes, str]:
    """The stored bytes of one item (a folder's own triples) and its media type."""
    stored = await r.store.backend.read(meta.path)
    try:
        data = await stored.read_all()
    finally:
        stored.close()
    return data, essence(meta.content_type)


async def _delete(r: _Request, items: list[Meta], copied: dict[str, str]) -> int:
    """Delete the old items deepest first, each only as it was copied. Returns how many
    stayed because they changed meanwhile (a document written again, or a folder given a
    new item); the folders above them stay too, uncounted."""
    kept = 0
    blocked: set[str] = set()
    for meta in sorted(items, key=lambda m: m.path.rstrip("/").count("/"), reverse=True):
        if meta.path in blocked or paths.aux_subject(meta.path) is not None:
            continue  # kept with what it holds; a description goes with its resource
        if meta.is_container:
            cond = Conditions()
        else:
            cond = Conditions(if_match=(f'"{copied[meta.path]}"',))
        try:
            await r.store.delete(meta.path, cond, r.log())
        except (PreconditionFailed, Conflict):
            kept += 1
            parent = paths.parent(meta.path)
            while parent is not None:
                blocked.add(parent)
                parent = paths.parent(parent)
    return kept


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data
