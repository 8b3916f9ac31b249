"""Thin HTTP handlers: parse the request, call the resource store, render the response."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from aiohttp import web

from pod_server.access.modes import wac_allow
from pod_server.access.policy import Access, AccessPolicy
from pod_server.audit.hook import RequestAudit, around
from pod_server.auth import Agent
from pod_server.errors import Forbidden, MethodNotAllowed, NotFound, Unauthorized
from pod_server.http import headers as h
from pod_server.http import negotiation
from pod_server.http.keys import AUDIT, AUTHENTICATOR, PAGES, POLICY, SERVICES, STORE
from pod_server.ldp import conneg, paging, paths, rdf
from pod_server.ldp.conditions import Conditions, http_date
from pod_server.ldp.media_types import TURTLE
from pod_server.ldp.patch import ACCEPT_PATCH, Patch
from pod_server.ldp.shapes import LDP_CONSTRAINED_BY
from pod_server.ldp.store import (
    STORAGE_DESCRIPTION,
    Body,
    Representation,
    ResourceStore,
    negotiate,
)
from pod_server.ldp.vocabulary import PIM_STORAGE, SOLID_OWNER, SOLID_STORAGE_DESCRIPTION
from pod_server.ldp.writing import LogFor
from pod_server.storage.base import CHUNK_SIZE, Meta

SERVER_DESCRIPTION = "/" + STORAGE_DESCRIPTION  # the multi-user server's own, at its root


@dataclass(frozen=True, slots=True)
class Context:
    """One request after parsing and authentication: what every handler works from."""

    store: ResourceStore
    policy: AccessPolicy
    path: str
    agent: Agent
    origin: str | None
    audit: RequestAudit | None = None  # None: this request is not logged

    async def authorize(
        self, method: str, *, target_exists: bool | None = None, patch: Patch | None = None
    ) -> Access:
        access = await self.policy.authorize(
            self.agent, self.origin, method, self.path, target_exists=target_exists, patch=patch
        )
        if self.audit is not None:
            await self.audit.decide(access.is_owner, access.consents)
        return access

    def log_for(self) -> LogFor | None:
        """What makes this request's write's audit entry (committed with the write)."""
        return None if self.audit is None else self.audit.log_for()


Handler = Callable[[web.Request, Context], Awaitable[web.StreamResponse]]


def target(request: web.Request, store: ResourceStore) -> tuple[str, str]:
    """The canonical resource path of a request, and the public URL the client used."""
    raw = request.raw_path.split("?", 1)[0].split("#", 1)[0]
    base_path = store.base_path
    if not raw.startswith(base_path):
        if raw + "/" != base_path:
            raise NotFound("Outside this server's base URL")
        raw = base_path
    relative = raw[len(base_path) :]
    return paths.canonical("/" + relative), store.base_url + relative


def describe(
    response: web.StreamResponse, ctx: Context, meta: Meta | None, access: Access | None = None
) -> None:
    """Headers that every response about a resource carries, whether it exists or not."""
    store, path = ctx.store, ctx.path
    rdf_source = None if meta is None else rdf.is_rdf(meta.content_type.split(";")[0].strip())
    hdrs = response.headers
    hdrs["Link"] = h.resource_links(
        store.url(path),
        path,
        store.url(store.storage_description_path(path)),
        rdf_source,
        storage=store.is_storage_root(path),
    )
    hdrs["Allow"] = h.allow(store.allowed_methods(path))
    hdrs["Accept-Patch"] = ACCEPT_PATCH
    hdrs["Accept-Put"] = "*/*"
    if paths.is_container(path):
        hdrs["Accept-Post"] = "*/*"
    hdrs["Vary"] = "Accept, Authorization, Origin"
    if access is not None:
        hdrs["WAC-Allow"] = wac_allow(access.user, access.public)
        for owner in sorted(access.owners):  # Solid Protocol §4.1: the storage's owners
            hdrs["Link"] += f', <{owner}>; rel="{SOLID_OWNER}"'


def body_of(request: web.Request) -> Body:
    header = request.headers.get("Content-Type", "").strip()
    media, _ = conneg.parse_content_type(header)
    return Body(media, request.content.iter_chunked(CHUNK_SIZE), request.content_length, header)


async def handle(request: web.Request) -> web.StreamResponse:
    """Route every method on every path: explicit dispatch, no trial and error."""
    store = request.app[STORE]
    path, public_url = target(request, store)
    if request.method in ("GET", "HEAD"):
        if path == store.storage_description_path(path):
            return await storage_description(request, store, path)
        if path == SERVER_DESCRIPTION and store.multiuser:
            return server_description(request, store)
    service = request.app[SERVICES].find(store.layout, path)
    if service is not None:
        # A suspended storage's services (requests, consent, audit log, query) refuse too.
        await request.app[POLICY].check_active(store.storage_root_of(path))
        response = await service[0](request, service[1])
        if response is not None:
            return response
    handler = _METHODS.get(request.method)
    if handler is None:
        raise MethodNotAllowed(
            f"{request.method} is not supported",
            allowed=store.allowed_methods(path),
        )
    # Authentication only identifies the caller; it never refuses (access decides).
    agent = await request.app[AUTHENTICATOR].identify(request.method, public_url, request.headers)
    hook = request.app.get(AUDIT)
    audit = None if hook is None else hook.begin(request.method, path, agent)
    ctx = Context(store, request.app[POLICY], path, agent, request.headers.get("Origin"), audit)
    try:
        if audit is None:
            return await handler(request, ctx)
        return await around(audit, lambda: handler(request, ctx))
    except (Unauthorized, Forbidden) as exc:
        if request.method in ("GET", "HEAD"):  # Solid Protocol §4.1, on refusals too
            exc.headers.setdefault("Link", refusal_links(store, path))
        raise


def refusal_links(store: ResourceStore, path: str) -> str:
    """What a refused read still says, so a client can find the storage (Solid Protocol
    §4.1: the storage description on every resource, ``pim:Storage`` on a storage root).
    Both follow from the URL alone: nothing about whether the resource exists."""
    links = [
        f'<{store.url(store.storage_description_path(path))}>; rel="{SOLID_STORAGE_DESCRIPTION}"'
    ]
    if store.is_storage_root(path):
        links.append(f'<{PIM_STORAGE}>; rel="type"')
    return ", ".join(links)


async def get(request: web.Request, ctx: Context) -> web.StreamResponse:
    if negotiation.wants_page(request.method, request.headers, request.query):
        return await request.app[PAGES].page(request, ctx.store, ctx.policy, ctx.path, ctx.audit)
    accept = negotiation.format_accept(request.query) or request.headers.get("Accept")
    if negotiation.raw_for_pages(request.method, request.headers, request.query):
        ctx = replace(ctx, agent=await request.app[PAGES].viewer(request))
        if ctx.audit is not None:  # the log names who is looking, as access judges them
            ctx.audit.agent = ctx.agent
    access = await ctx.authorize(request.method)
    cond = h.request_conditions(request.headers)
    if paths.is_container(ctx.path):
        page = paging.requested_page(request.query)
        if page is not None:
            return await _page(request, ctx, page, cond, access, accept)
        size = paging.preferred_page_size(request.headers.getall("Prefer", []))
        if size is not None:  # LDP Paging §6.2: the client asked for pages: the first
            response = web.Response(status=303)
            response.headers["Location"] = paging.page_url(ctx.store.url(ctx.path), size)
            response.headers["Vary"] = "Accept, Authorization, Origin, Prefer"
            return response
    try:
        if access.target is None:
            raise NotFound(f"No resource at {ctx.path}")  # as of the lookup just made
        rep = await ctx.store.get(ctx.path, accept, cond, request.method, known=access.target)
    except NotFound as exc:
        if await _undescribed(ctx):  # as the reference server: an empty description
            return _rdf_document(request, ctx.store.url(ctx.path), "", accept)
        response = web.Response(status=404, text=exc.message + "\n")
        describe(response, ctx, None, access)
        return response
    try:
        return await _send(request, ctx, rep, access)
    finally:
        if rep.stored is not None:
            rep.stored.close()


async def _page(
    request: web.Request,
    ctx: Context,
    page: paging.PageRequest,
    cond: Conditions,
    access: Access,
    accept: str | None,
) -> web.StreamResponse:
    rep, following = await ctx.store.get_page(ctx.path, page, accept, cond, request.method)
    url = ctx.store.url(ctx.path)
    links = [f'<{paging.LDP_PAGE}>; rel="type"', f'<{url}>; rel="canonical"']
    if following is not None:
        links.append(f'<{paging.page_url(url, page.size, following)}>; rel="next"')
    return await _send(request, ctx, rep, access, links)


async def _send(
    request: web.Request,
    ctx: Context,
    rep: Representation,
    access: Access,
    links: list[str] | None = None,
) -> web.StreamResponse:
    span = _range(request, rep) if rep.stored is not None else None
    start, end = span or (0, rep.length)
    status = 206 if span else 200
    # A body in memory goes as a Response, which aiohttp sends with its headers in one
    # write (a StreamResponse sends its headers on their own first: two syscalls).
    response = (
        web.StreamResponse(status=status)
        if rep.data is None
        else web.Response(status=status, body=rep.data)
    )
    describe(response, ctx, rep.meta, access)
    for link in links or ():
        response.headers.add("Link", link)
    if rep.meta.is_container:  # LDP §4.2.1.6: advertise the constraints on members
        for shapes in await ctx.store.constraints(ctx.path):
            response.headers.add("Link", f'<{shapes}>; rel="{LDP_CONSTRAINED_BY}"')
    response.headers["Content-Type"] = rep.content_type
    response.headers["ETag"] = rep.etag
    response.headers["Last-Modified"] = http_date(rep.meta.modified)
    if rep.stored is not None:
        response.headers["Accept-Ranges"] = "bytes"
    if not rep.meta.is_container and not rdf.is_rdf(rep.content_type):  # a person's file
        navigated = negotiation.is_navigation(request.headers)
        response.headers.update(negotiation.safety_headers(rep.content_type, navigated))
    if span:
        response.headers["Content-Range"] = f"bytes {start}-{end - 1}/{rep.length}"
    if ctx.audit is not None:  # durably logged before anything is sent
        await ctx.audit.before_send(response.status)
    if isinstance(response, web.Response):
        return response  # aiohttp sends it (and leaves the body out for a HEAD)
    response.content_length = end - start
    await response.prepare(request)
    if request.method == "HEAD":
        return response
    if rep.stored is not None:
        async for chunk in rep.stored.iter_range(start, end):
            await response.write(chunk)
    await response.write_eof()
    return response


def _range(request: web.Request, rep: Representation) -> tuple[int, int] | None:
    if_range = request.headers.get("If-Range")
    if if_range is not None and if_range.strip() != rep.etag:
        return None  # the client's copy is stale: send everything (RFC 9110 §13.1.5)
    return h.byte_range(request.headers.get("Range"), rep.length)


async def put(request: web.Request, ctx: Context) -> web.StreamResponse:
    await ctx.authorize("PUT")  # whether the target exists comes with its ACLs
    types = h.link_types(request.headers.getall("Link", []))
    cond = h.request_conditions(request.headers)
    result = await ctx.store.put(ctx.path, body_of(request), cond, types, ctx.log_for())
    return _written(ctx, ctx.path, result.meta, result.created)


async def post(request: web.Request, ctx: Context) -> web.StreamResponse:
    pages = request.app[PAGES]
    if pages.is_form(request.method, request.query):  # the pages' forms (CSRF-checked)
        return await pages.form(request, ctx.store, ctx.policy, ctx.path, ctx.audit)
    await ctx.authorize("POST")
    if not paths.is_container(ctx.path):
        if await ctx.store.meta(ctx.path) is None:
            raise NotFound(f"No container at {ctx.path}")
        allowed = ctx.store.allowed_methods(ctx.path)
        raise MethodNotAllowed("POST is only allowed on containers", allowed=allowed)
    types = h.link_types(request.headers.getall("Link", []))
    body, after = body_of(request), None
    for screen in request.app[SERVICES].post_screens:  # e.g. access requests to an inbox
        screened = await screen(request, ctx.path, ctx.agent, body)
        if screened is not None:
            body, after = screened.body, screened.after
            break
    slug = request.headers.get("Slug")
    result = await ctx.store.post(ctx.path, body, slug, types, ctx.log_for())
    if after is not None:
        await after(result.meta.path)
    return _written(ctx, result.meta.path, result.meta, created=True)


async def patch(request: web.Request, ctx: Context) -> web.StreamResponse:
    parsed = await ctx.store.read_patch(ctx.path, body_of(request))
    await ctx.authorize("PATCH", patch=parsed)
    cond = h.request_conditions(request.headers)
    result = await ctx.store.patch(ctx.path, parsed, cond, ctx.log_for())
    return _written(ctx, ctx.path, result.meta, result.created)


async def delete(request: web.Request, ctx: Context) -> web.StreamResponse:
    ctx.store.check_deletable(ctx.path)  # a 405 comes before authorization
    await ctx.authorize("DELETE")
    await ctx.store.delete(ctx.path, h.request_conditions(request.headers), ctx.log_for())
    response = web.Response(status=204)
    describe(response, ctx, None)
    return response


async def options(request: web.Request, ctx: Context) -> web.StreamResponse:
    # Answered alike whether or not the resource exists: OPTIONS needs no access mode,
    # so it must not reveal existence (see access.evaluate.required_modes).
    response = web.Response(status=204)
    describe(response, ctx, None)
    return response


def _written(ctx: Context, path: str, meta: Meta, created: bool) -> web.Response:
    response = web.Response(status=201 if created else 204)
    describe(response, ctx, meta)
    response.headers["ETag"] = f'"{meta.etag}"'
    response.headers["Last-Modified"] = http_date(meta.modified)
    if created:
        response.headers["Location"] = ctx.store.url(path)
    return response


async def storage_description(
    request: web.Request, store: ResourceStore, path: str
) -> web.StreamResponse:
    """The storage description resource (Solid Protocol §4.1.2), negotiable RDF."""
    root = store.storage_root_of(path) or "/"
    return _rdf_document(request, store.url(path), await store.storage_description(root))


def server_description(request: web.Request, store: ResourceStore) -> web.Response:
    """A multi-user server's own ``/.well-known/solid`` (the pods have theirs): public,
    it tells anyone what the server offers them, such as its notification services."""
    turtle = "\n".join(provide("/") for provide in store.description_providers) + "\n"
    return _rdf_document(request, store.url(SERVER_DESCRIPTION), turtle)


async def _undescribed(ctx: Context) -> bool:
    """Whether the target is the ``.meta`` of an existing resource that has none."""
    aux = paths.aux_subject(ctx.path)
    if aux is None or aux[0] != paths.META_SUFFIX:
        return False
    return await ctx.store.meta(aux[1]) is not None


def _rdf_document(
    request: web.Request, url: str, turtle: str, accept: str | None = None
) -> web.Response:
    """A server-made RDF document, in the format the client prefers."""
    media = negotiate(accept or request.headers.get("Accept"), rdf.RDF_TYPES)
    body = turtle.encode()
    if media != TURTLE:
        body = rdf.serialize(rdf.parse(body, TURTLE, url), media, url)
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
