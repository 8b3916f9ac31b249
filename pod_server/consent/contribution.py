"""``R.well-known/contribution``: the owner's agent records what the pod contributed to a
study of public-interest statistics (issue 23), in the storage's audit log.

The pod's contribution itself (clipped, secret-shared, encrypted for two aggregators) is
computed by the owner's agent from the owner's own data and never passes through here:
this service only writes one ``Announce`` entry per contribution, naming the study, the
statistic, the round, the consent record the person opted in with, and a digest of what
was sent, so the owner's log shows every contribution and the chain makes it tamper-evident.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from pod_server.access.policy import AccessPolicy
from pod_server.audit.entry import Action, AuditEntry
from pod_server.auth import Authenticator
from pod_server.errors import (
    BadRequest,
    Forbidden,
    MethodNotAllowed,
    PayloadTooLarge,
    Unauthorized,
)
from pod_server.http.handlers import target
from pod_server.http.services import Call, ServiceHandler
from pod_server.ldp.store import ResourceStore

NAME = "contribution"
METHODS = ("POST", "OPTIONS")
MAX_BODY = 8 * 1024
_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_TOKEN = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def contribution_entry(root: str, webid: str, client: str | None, body: Any) -> AuditEntry:
    """The audit entry of one contribution described by ``body`` (parsed JSON); BadRequest
    naming the first field that is missing or malformed."""
    if not isinstance(body, dict):
        raise BadRequest("A contribution is a JSON object")
    study = body.get("study")
    if not isinstance(study, str) or not study.startswith(("http://", "https://")):
        raise BadRequest("'study' must be the study's http(s) IRI")
    consent = body.get("consent")
    if not isinstance(consent, str) or not consent.startswith(("http://", "https://")):
        raise BadRequest("'consent' must be the URL of the opt-in consent record")
    for name in ("statistic", "round"):
        if not isinstance(body.get(name), str) or not _TOKEN.match(body[name]):
            raise BadRequest(f"'{name}' must be a short token (letters, digits, ._:-)")
    digest = body.get("digest")
    if not isinstance(digest, str) or not _DIGEST.match(digest):
        raise BadRequest("'digest' must be the SHA-256 (hex) of what was sent")
    cells = body.get("cells")
    if not isinstance(cells, int) or isinstance(cells, bool) or not 0 <= cells <= 1_000_000:
        raise BadRequest("'cells' must be the number of cells contributed to")
    detail = json.dumps(
        {
            "statistic": body["statistic"],
            "round": body["round"],
            "cells": cells,
            "digest": digest,
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return AuditEntry(
        root=root,
        action=Action.CONTRIBUTE,
        resource=study,
        outcome=201,
        agent=webid,
        client=client,
        consent=consent,
        detail=detail,
    )


def contribution_service(
    store: ResourceStore, policy: AccessPolicy, authenticator: Authenticator
) -> ServiceHandler:
    """The handler, for ``Services.add(NAME, ...)``: POST by an owner of the storage."""

    async def handle(request: web.Request, call: Call) -> web.StreamResponse | None:
        if request.method == "OPTIONS":
            return None
        if request.method != "POST":
            raise MethodNotAllowed("Contributions are recorded by POST", allowed=METHODS)
        _, public_url = target(request, store)
        agent = await authenticator.identify(request.method, public_url, request.headers)
        if not agent.authenticated or agent.webid is None:
            raise Unauthorized(f"Sign in as an owner of the storage to record at {public_url}")
        if not await policy.owns(agent, call.root):
            raise Forbidden("Only the storage's owners record its contributions")
        raw = await request.content.read(MAX_BODY + 1)
        if len(raw) > MAX_BODY:
            raise PayloadTooLarge(f"A contribution record is at most {MAX_BODY} bytes")
        try:
            body = json.loads(raw)
        except ValueError:
            raise BadRequest("The body is not JSON") from None
        entry = contribution_entry(call.root, agent.webid, agent.client_id, body)
        await store.commit([], [entry.mutation()], under=call.root)
        return web.json_response({"recorded": True, "at": entry.at}, status=201)

    return handle
