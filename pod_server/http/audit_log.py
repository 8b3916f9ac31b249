"""``GET R.well-known/audit``: a storage's audit log (``pod_server.audit``), for its owners
only, newest first, filtered and paged (``audit.query``, ``audit.render``). Registered as
the ``audit`` service."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from aiohttp import web

from pod_server.access.policy import AccessPolicy
from pod_server.audit.query import next_query, parse_query
from pod_server.audit.render import PREFIXES, page_graph
from pod_server.auth import Agent, Authenticator
from pod_server.errors import Forbidden, MethodNotAllowed, Unauthorized
from pod_server.http.handlers import target
from pod_server.http.services import Call, ServiceHandler
from pod_server.ldp import rdf
from pod_server.ldp.reading import negotiate
from pod_server.ldp.store import ResourceStore
from pod_server.storage.base import Backend

NAME = "audit"
METHODS = ("GET", "HEAD", "OPTIONS")


def audit_service(
    store: ResourceStore,
    policy: AccessPolicy,
    authenticator: Authenticator,
    challenge: Callable[[Agent], str],
) -> ServiceHandler:
    backend: Backend = store.backend

    async def handle(request: web.Request, call: Call) -> web.StreamResponse | None:
        if request.method == "OPTIONS":
            return None  # the ordinary answer
        if request.method not in ("GET", "HEAD"):
            raise MethodNotAllowed("The audit log is read-only", allowed=METHODS)
        _, public_url = target(request, store)
        agent = await authenticator.identify(request.method, public_url, request.headers)
        log_url = store.url(call.path)
        if not agent.authenticated:
            raise Unauthorized(
                f"Sign in as an owner of the storage to read {log_url}",
                headers={"WWW-Authenticate": challenge(agent)},
            )
        if not await policy.owns(agent, call.root):
            raise Forbidden(f"Only the storage's owners may read {log_url}")
        query = parse_query(request.query)
        media = negotiate(request.headers.get("Accept"), rdf.RDF_TYPES)
        # One more than the page: whether a next page exists, without counting.
        rows = await backend.log_page(call.root, replace(query, limit=query.limit + 1))
        following = None
        if len(rows) > query.limit:
            rows = rows[: query.limit]
            following = f"{log_url}?{next_query(request.query, rows[-1].seq)}"
        raw = request.rel_url.raw_query_string  # as sent: a decoded "#" would cut the IRI
        page_url = f"{log_url}?{raw}" if raw else log_url
        graph = page_graph(log_url, page_url, rows, following)
        body = rdf.serialize(graph, media, None, PREFIXES)
        response = web.Response(body=body, content_type=media)
        response.headers["Vary"] = "Accept, Authorization, Origin"
        response.headers["Cache-Control"] = "private, no-store"
        if following is not None:
            response.headers.add("Link", f'<{following}>; rel="next"')
        return response

    return handle


def describe_audit_log(store: ResourceStore) -> Callable[[str], str]:
    """The storage description's link to the log (``consent:auditLog``)."""

    def line(root: str) -> str:
        if store.multiuser and root == "/":
            return ""  # the multi-user server's own description: no storage there
        log_url = store.url(root + ".well-known/" + NAME)
        return (
            f"<{store.url(root)}> <https://w3id.org/solid-pods/vocab/consent#auditLog> <{log_url}>."
        )

    return line
