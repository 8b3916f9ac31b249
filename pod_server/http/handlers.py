"""Thin HTTP handlers: parse the request, call the resource store, render the response."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from pod_server.errors import MethodNotAllowed, NotFound
from pod_server.http import headers as h
from pod_server.ldp import conneg, paths, rdf
from pod_server.ldp.conditions import http_date
from pod_server.ldp.store import (
    Body,
    Representation,
    ResourceStore,
    allowed_methods,
    negotiate,
)
from pod_server.ldp.vocabulary import PIM
from pod_server.storage.base import CHUNK_SIZE, Meta

STORE = web.AppKey("store", ResourceStore)
OPEN_WAC_ALLOW = 'user="read write append control", public="read write append control"'

Handler = Callable[[web.Request, ResourceStore, str], Awaitable[web.StreamResponse]]


def target_path(request: web.Request, store: ResourceStore) -> str:
    """The canonical resource path of a request, relative to the public base URL."""
    raw = request.raw_path.split("?", 1)[0].split("#", 1)[0]
    base_path = store.base_path
    if not raw.startswith(base_path):
        if raw + "/" == base_path:
            raw = base_path
        else:
            raise NotFound("Outside this server's base URL")
    return paths.canonical("/" + raw[len(base_path) :])


def describe(
    response: web.StreamResponse, store: ResourceStore, path: str, meta: Meta | None
) -> None:
    """Headers that every response about a resource carries, whether it exists or not."""
    is_root = store.is_storage_root(path)
    rdf_source = None if meta is None else rdf.is_rdf(meta.content_type.split(";")[0].strip())
    hdrs = response.headers
    hdrs["Link"] = h.resource_links(store.url(path), path, store.base_url, rdf_source)
    hdrs["Allow"] = ", ".join(allowed_methods(path, is_root))
    hdrs["Accept-Patch"] = h.ACCEPT_PATCH
    hdrs["Accept-Put"] = "*/*"
    if paths.is_container(path):
        hdrs["Accept-Post"] = "*/*"
    hdrs["Vary"] = "Accept, Authorization, Origin"
    hdrs["WAC-Allow"] = OPEN_WAC_ALLOW


def body_of(request: web.Request) -> Body:
    header = request.headers.get("Content-Type", "").strip()
    media, _ = conneg.parse_content_type(header)
    return Body(media, request.content.iter_chunked(CHUNK_SIZE), request.content_length, header)


async def handle(request: web.Request) -> web.StreamResponse:
    """Route every method on every path: explicit dispatch, no trial and error."""
    store = request.app[STORE]
    path = target_path(request, store)
    if path == h.STORAGE_DESCRIPTION_PATH and request.method in ("GET", "HEAD"):
        return storage_description(request, store)
    handler = _METHODS.get(request.method)
    if handler is None:
        raise MethodNotAllowed(
            f"{request.method} is not supported",
            allowed=allowed_methods(path, store.is_storage_root(path)),
        )
    return await handler(request, store, path)


async def get(request: web.Request, store: ResourceStore, path: str) -> web.StreamResponse:
    cond = h.request_conditions(request.headers)
    try:
        rep = await store.get(path, request.headers.get("Accept"), cond, request.method)
    except NotFound as exc:
        response = web.Response(status=404, text=exc.message + "\n")
        describe(response, store, path, None)
        return response
    try:
        return await _send(request, store, path, rep)
    finally:
        if rep.stored is not None:
            rep.stored.close()


async def _send(
    request: web.Request, store: ResourceStore, path: str, rep: Representation
) -> web.StreamResponse:
    span = _range(request, rep) if rep.stored is not None else None
    response = web.StreamResponse(status=206 if span else 200)
    describe(response, store, path, rep.meta)
    response.headers["Content-Type"] = rep.content_type
    response.headers["ETag"] = rep.etag
    response.headers["Last-Modified"] = http_date(rep.meta.modified)
    if rep.stored is not None:
        response.headers["Accept-Ranges"] = "bytes"
    start, end = span or (0, rep.length)
    response.content_length = end - start
    if span:
        response.headers["Content-Range"] = f"bytes {start}-{end - 1}/{rep.length}"
    await response.prepare(request)
    if request.method == "HEAD":
        return response
    if rep.data is not None:
        await response.write(rep.data)
    elif rep.stored is not None:
        async for chunk in rep.stored.iter_range(start, end):
            await response.write(chunk)
    await response.write_eof()
    return response


def _range(request: web.Request, rep: Representation) -> tuple[int, int] | None:
    if_range = request.headers.get("If-Range")
    if if_range is not None and if_range.strip() != rep.etag:
        return None  # the client's copy is stale: send everything (RFC 9110 §13.1.5)
    return h.byte_range(request.headers.get("Range"), rep.length)


async def put(request: web.Request, store: ResourceStore, path: str) -> web.StreamResponse:
    types = h.link_types(request.headers.getall("Link", []))
    result = await store.put(path, body_of(request), h.request_conditions(request.headers), types)
    return _written(store, path, result.meta, result.created)


async def post(request: web.Request, store: ResourceStore, path: str) -> web.StreamResponse:
    if not paths.is_container(path):
        meta = await store.meta(path)
        if meta is None:
            raise NotFound(f"No container at {path}")
        raise MethodNotAllowed(
            "POST is only allowed on containers", allowed=allowed_methods(path, False)
        )
    types = h.link_types(request.headers.getall("Link", []))
    result = await store.post(path, body_of(request), request.headers.get("Slug"), types)
    return _written(store, result.meta.path, result.meta, created=True)


async def patch(request: web.Request, store: ResourceStore, path: str) -> web.StreamResponse:
    result = await store.patch(path, body_of(request), h.request_conditions(request.headers))
    return _written(store, path, result.meta, result.created)


async def delete(request: web.Request, store: ResourceStore, path: str) -> web.StreamResponse:
    await store.delete(path, h.request_conditions(request.headers))
    response = web.Response(status=204)
    describe(response, store, path, None)
    return response


async def options(request: web.Request, store: ResourceStore, path: str) -> web.StreamResponse:
    response = web.Response(status=204)
    describe(response, store, path, await store.meta(path))
    return response


def _written(store: ResourceStore, path: str, meta: Meta, created: bool) -> web.Response:
    response = web.Response(status=201 if created else 204)
    describe(response, store, path, meta)
    response.headers["ETag"] = f'"{meta.etag}"'
    response.headers["Last-Modified"] = http_date(meta.modified)
    if created:
        response.headers["Location"] = store.url(path)
    return response


def storage_description(request: web.Request, store: ResourceStore) -> web.StreamResponse:
    """The storage description resource (Solid Protocol §4.1.2), negotiable RDF."""
    url = store.url(h.STORAGE_DESCRIPTION_PATH)
    turtle = f"<{store.base_url}> a <{PIM}Storage>.\n".encode()
    media = negotiate(request.headers.get("Accept"), rdf.RDF_TYPES)
    body = (
        turtle
        if media == "text/turtle"
        else rdf.serialize(rdf.parse(turtle, "text/turtle", url), media, url)
    )
    response = web.Response(body=body, content_type=media)
    response.headers["Vary"] = "Accept, Origin"
    return response


_METHODS: dict[str, Handler] = {
    "GET": get,
    "HEAD": get,
    "PUT": put,
    "POST": post,
    "PATCH": patch,
    "DELETE": delete,
    "OPTIONS": options,
}
