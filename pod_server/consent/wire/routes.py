"""The HTTP of consent: thin service handlers over a ``ConsentPort``.

* ``POST R.well-known/access-requests``: a signed-in agent asks for access (any form
  ``requests`` reads); 201 with ``Location`` = the new consent record. Other methods: 405.
* ``POST R.well-known/consent/<id>``: an owner of the storage decides (``decisions``);
  200 with the record as Turtle. ``DELETE``: the owner or the record's recipient
  withdraws; 204. GET and HEAD fall through to the ordinary reads of the stored record.
* A POST of an ``interop:AccessRequest`` (or ``consent:AccessRequest``) to the storage's
  ``inbox/`` is stored as usual and becomes a consent request too (``inbox_screen``).
* The storage description names both services, with the LWS draft's terms.

The handlers only parse, check who is calling, and call the port; the consent service
(its model, records, ACL rules, audit) sits behind it. Until it is plugged in
(``app[CONSENT_PORT].port``), the services answer 503.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from aiohttp import web
from rdflib import Graph
from rdflib.namespace import DCTERMS, RDF

from pod_server.auth import Agent
from pod_server.consent.wire.decisions import Decision, parse_decision
from pod_server.consent.wire.requests import (
    CONSENT,
    INTEROP,
    LWS,
    MAX_BODY,
    ParsedRequest,
    RequestedTarget,
    Scope,
    invalid,
    parse_graph,
    parse_request,
)
from pod_server.errors import Forbidden, MethodNotAllowed, NotFound, ServiceUnavailable
from pod_server.http.keys import AUTHENTICATOR, POLICY, SERVICES, STORE
from pod_server.http.services import Call, Screened
from pod_server.ldp import rdf
from pod_server.ldp.layout import WELL_KNOWN
from pod_server.ldp.media_types import TURTLE
from pod_server.ldp.staging import Body, read_limited
from pod_server.ldp.store import ResourceStore

log = logging.getLogger(__name__)

ACCESS_REQUESTS = "access-requests"
CONSENT_RECORDS = "consent/"
INBOX = "inbox/"  # below a storage root, as pods are provisioned
_RECORD_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # secrets.token_urlsafe
DCTERMS_CONFORMS_TO = str(DCTERMS.conformsTo)


@dataclass(frozen=True, slots=True)
class RecordInfo:
    """What the wire needs to know of a stored consent record."""

    url: str
    recipient: str


class ConsentPort(Protocol):
    """The consent service as the wire calls it (the real ConsentService behind an adapter).

    Errors are PodErrors (404 unknown record, 409 impossible transition, 422 a grant
    beyond the request); each decision's Turtle is the record as stored after it.
    """

    async def request(self, root: str, requester: Agent, req: ParsedRequest) -> str:
        """Record a new request; return the consent record's URL."""
        ...

    async def approve(
        self,
        root: str,
        record_id: str,
        by: str,
        granted: tuple[RequestedTarget, ...] | None,
        until: datetime | None,
    ) -> str: ...

    async def deny(self, root: str, record_id: str, by: str) -> str: ...

    async def withdraw(self, root: str, record_id: str, by: str) -> str: ...

    async def get(self, root: str, record_id: str) -> RecordInfo | None: ...


@dataclass
class PortSlot:
    """Where create_app (or a test) plugs the consent service in."""

    port: ConsentPort | None = None

    def require(self) -> ConsentPort:
        if self.port is None:
            raise ServiceUnavailable("The consent service is not available on this server")
        return self.port


CONSENT_PORT: web.AppKey[PortSlot] = web.AppKey("consent_port", PortSlot)


def add_consent_wire(app: web.Application, store: ResourceStore) -> PortSlot:
    """Register the services, the inbox screen and the storage description entries."""
    slot = PortSlot()
    app[CONSENT_PORT] = slot
    app[SERVICES].add(ACCESS_REQUESTS, access_requests)
    app[SERVICES].add(CONSENT_RECORDS, consent_records)
    app[SERVICES].add_post_screen(inbox_screen)
    store.description_providers.append(lambda root: describe_services(store, root))
    return slot


# --------------------------------------------------------------------------- services


async def access_requests(request: web.Request, call: Call) -> web.StreamResponse | None:
    if request.method == "OPTIONS":
        return None
    if request.method != "POST":
        raise MethodNotAllowed(
            f"{request.method} is not supported: POST an access request", allowed=("POST",)
        )
    store = request.app[STORE]
    agent = await _caller(request, call, "an access request comes from a signed-in agent")
    port = request.app[CONSENT_PORT].require()
    body = await _read(request)
    url = store.url(call.path)
    parsed = await store.runner.run(  # parsing and shapes: on a worker, within the limits
        parse_request,
        body,
        request.headers.get("Content-Type", ""),
        agent.webid or "",
        _scope(store, call.root),
        url,
        store.limits.work.max_nesting,
    )
    location = await port.request(call.root, agent, parsed)
    response = web.Response(status=201, text=f"Access request recorded: {location}\n")
    response.headers["Location"] = location
    return response


async def consent_records(request: web.Request, call: Call) -> web.StreamResponse | None:
    record_id = call.rest
    if request.method not in ("POST", "DELETE") or not _RECORD_ID.match(record_id):
        return None  # reads, and anything about the container or auxiliaries, go on as usual
    store, policy = request.app[STORE], request.app[POLICY]
    agent = await _caller(request, call, "decisions on consent come from a signed-in agent")
    port = request.app[CONSENT_PORT].require()
    webid = agent.webid or ""
    is_owner = webid in await policy.owners_of(call.root)
    if request.method == "DELETE":
        info = await port.get(call.root, record_id)
        if not is_owner and (info is None or info.recipient != webid):
            raise Forbidden(f"{webid} is neither an owner of this storage nor the recipient")
        if info is None:
            raise NotFound(f"No consent record {store.url(call.path)}")
        await port.withdraw(call.root, record_id, webid)
        return web.Response(status=204)
    if not is_owner:
        raise Forbidden(f"Only an owner of this storage decides on its consent; not {webid}")
    decided = parse_decision(
        await _read(request), request.headers.get("Content-Type", ""), _scope(store, call.root)
    )
    if decided.decision is Decision.APPROVE:
        turtle = await port.approve(call.root, record_id, webid, decided.targets, decided.until)
    elif decided.decision is Decision.DENY:
        turtle = await port.deny(call.root, record_id, webid)
    else:
        turtle = await port.withdraw(call.root, record_id, webid)
    return web.Response(body=turtle.encode(), content_type=TURTLE, charset="utf-8")


async def _caller(request: web.Request, call: Call, why: str) -> Agent:
    store = request.app[STORE]
    agent = await request.app[AUTHENTICATOR].identify(
        request.method, store.url(call.path), request.headers
    )
    if not agent.authenticated:
        raise request.app[POLICY].sign_in_required(agent, why)
    return agent


async def _read(request: web.Request) -> bytes:
    """The body, or a 422 once it passes MAX_BODY (without reading on)."""
    buf = bytearray()
    async for chunk in request.content.iter_chunked(16 * 1024):
        buf += chunk
        if len(buf) > MAX_BODY:
            raise invalid("body", f"larger than the {MAX_BODY}-byte limit")
    return bytes(buf)


def _scope(store: ResourceStore, root: str) -> Scope:
    return Scope(store.layout, root, datetime.now(UTC))


# --------------------------------------------------------------------------- LDN inbox


async def inbox_screen(
    request: web.Request, path: str, agent: Agent, body: Body
) -> Screened | None:
    """An access request POSTed to a storage's ``inbox/`` becomes a consent request once
    stored; a malformed one is refused before anything is stored. Other posts pass."""
    store = request.app[STORE]
    root = store.storage_root_of(path)
    if root is None or path != root + INBOX or not rdf.is_rdf(body.content_type):
        return None
    raw = await read_limited(body.chunks, store.limits.max_rdf_size)  # the store's own limit
    replay = Screened(Body(body.content_type, _once(raw), len(raw), body.header))
    if b"AccessRequest" not in raw:
        return replay  # cheap: most notifications are not access requests
    graph = await store.runner.run(  # a 400 the store would give, off the loop
        rdf.parse, raw, body.content_type, store.url(path), store.limits.work.max_nesting
    )
    if not _has_request(graph):
        return replay
    if not agent.authenticated or agent.webid is None:
        raise request.app[POLICY].sign_in_required(agent, "an access request needs a requester")
    port = request.app[CONSENT_PORT].port
    if port is None:
        log.warning("access request in %s stored without the consent service", path)
        return replay
    parsed = await store.runner.run(parse_graph, graph, agent.webid, _scope(store, root))

    async def after(_member: str) -> None:
        await port.request(root, agent, parsed)

    return Screened(replay.body, after)


def _has_request(graph: Graph) -> bool:
    kinds = (INTEROP.AccessRequest, CONSENT.AccessRequest)
    return any((None, RDF.type, kind) in graph for kind in kinds)


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


# --------------------------------------------------------------------------- description


def describe_services(store: ResourceStore, root: str) -> str:
    """The storage description's service entries (LWS "Access Requests and Grants":
    ``service`` objects typed AccessRequestService / AccessGrantService)."""
    if not store.is_storage_root(root):
        return ""  # a multi-user server's own description: no storage, no services
    base = store.url(root + WELL_KNOWN)
    return (
        f"<{store.url(root)}> <{LWS}service> "
        f"[ a <{LWS}AccessRequestService>; <{LWS}serviceEndpoint> <{base}{ACCESS_REQUESTS}>;"
        f" <{DCTERMS_CONFORMS_TO}> <{LWS}AccessProfile> ],"
        f" [ a <{LWS}AccessGrantService>; <{LWS}serviceEndpoint> <{base}{CONSENT_RECORDS}> ]."
    )


__all__ = [
    "CONSENT_PORT",
    "ConsentPort",
    "PortSlot",
    "RecordInfo",
    "add_consent_wire",
]
