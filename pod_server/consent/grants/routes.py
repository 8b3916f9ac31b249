"""HTTP for the Access Grants API: discovery, the VC service and the UMA token endpoint.

Fixed routes at the origin (the client resolves ``/.well-known/...`` against it):
``/.well-known/uma2-configuration``, ``/.well-known/vc-configuration`` (also below the
issuer, where ``isValidVc`` looks), and ``/.well-known/vc/{issue,status,verify,derive,
query,token,key}``. Credentials are read at ``R.well-known/credentials/<id>/<kind>``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from pod_server.auth.agent import INVALID_TOKEN, Agent
from pod_server.consent.grants import credentials as vc
from pod_server.consent.grants import proof
from pod_server.consent.grants import query as q
from pod_server.consent.grants.service import Grants
from pod_server.consent.grants.tokens import TOKEN_PREFIX, covers
from pod_server.errors import BadRequest, Forbidden, MethodNotAllowed, PodError
from pod_server.http.handlers import target
from pod_server.http.keys import AUTHENTICATOR, POLICY
from pod_server.http.services import Call
from pod_server.ldp.media_types import JSON_LD
from pod_server.ldp.vocabulary import SOLID_VC_NS

GRANTS: web.AppKey[Grants] = web.AppKey("access_grants")
MAX_BODY = 256 * 1024
UMA_GRANT = "urn:ietf:params:oauth:grant-type:uma-ticket"
VC_CLAIM_FORMAT = "https://www.w3.org/TR/vc-data-model/#json-ld"
SOLID_VC = SOLID_VC_NS
CONSENT_MANAGEMENT_UI = "http://inrupt.com/ns/ess#ConsentManagementUI"
_SERVICES = (
    "issuerService",
    "statusService",
    "verifierService",
    "derivationService",
    "queryService",
)


def add_access_grants(app: web.Application, grants: Grants, base_path: str) -> None:
    """Register the fixed routes (before the catch-all) and the credentials service."""
    app[GRANTS] = grants
    grants.store.description_providers.append(consent_ui_line(grants))
    well_known = base_path.rstrip("/") + "/.well-known/"
    app.router.add_get(well_known + "uma2-configuration", uma_configuration)
    app.router.add_get(well_known + "vc-configuration", vc_configuration)
    app.router.add_get(well_known + "vc/.well-known/vc-configuration", vc_configuration)
    app.router.add_get(well_known + "vc/key", verification_key)
    app.router.add_get(well_known + "vc/query", query_filtered)
    for name, handler in (
        ("issue", issue),
        ("status", status),
        ("verify", verify),
        ("derive", derive),
        ("query", query),
        ("token", token),
    ):
        app.router.add_post(well_known + "vc/" + name, handler)


def consent_ui_line(grants: Grants) -> Callable[[str], str]:
    """The storage description's pointer to the owner's page of pending requests, where
    ``redirectToAccessManagementUi`` sends owners (``ess:ConsentManagementUI``)."""
    store = grants.store

    def line(root: str) -> str:
        if store.multiuser and root == "/":
            return ""  # the multi-user server's own description: no storage there
        page = store.url(root) + "?ui=requests"
        return f"<{store.url(root)}> <{CONSENT_MANAGEMENT_UI}> <{page}>."

    return line


def challenge(grants: Grants, then: Callable[[Agent], str]) -> Callable[[Agent], str]:
    """UMA first (the Access Grants client reads only the first challenge), then DPoP."""

    def both(agent: Agent) -> str:
        uma = f'UMA as_uri="{grants.base}", ticket="{grants.minter.ticket()}"'
        return uma + ", " + then(agent)

    return both


def grant_token_verifier(grants: Grants) -> Callable[[str, str, str], Awaitable[Agent | None]]:
    """For the Authenticator: a ``Bearer`` token of ours names the grant's holder, for the
    grant's resources and modes only, while the grant is in force."""

    async def identify(method: str, url: str, authorization: str) -> Agent | None:
        scheme, _, value = authorization.strip().partition(" ")
        value = value.strip()
        if scheme.lower() != "bearer" or not value.startswith(TOKEN_PREFIX):
            return None
        claims = grants.minter.read_token(value)
        if claims is None:
            return Agent(reason="access grant token is invalid or expired", error=INVALID_TOKEN)
        try:
            record = await grants.consent.get(claims.root, claims.record)
        except PodError:
            return Agent(reason="the access grant no longer exists", error=INVALID_TOKEN)
        if not record.active(datetime.now(UTC)) or record.recipient != claims.webid:
            return Agent(reason="the access grant is no longer in force", error=INVALID_TOKEN)
        if not covers(record, url.split("?", 1)[0], method):
            return Agent(reason="the access grant does not cover this request", error=INVALID_TOKEN)
        return Agent(webid=claims.webid, issuer=grants.issuer.url)

    return identify


# -- discovery -----------------------------------------------------------------------------


async def uma_configuration(request: web.Request) -> web.Response:
    grants = request.app[GRANTS]
    return web.json_response(
        {
            "issuer": grants.base,
            "token_endpoint": grants.service_url + "token",
            "grant_types_supported": [UMA_GRANT],
            "verifiable_credential_issuer": grants.service_url,
            "dpop_signing_alg_values_supported": ["ES256", "RS256", "EdDSA"],
        }
    )


async def vc_configuration(request: web.Request) -> web.Response:
    grants = request.app[GRANTS]
    # An inline context: the client parses this without fetching any context document;
    # with no known credentials context listed, it uses its default (Inrupt v2).
    context: dict[str, Any] = {name: {"@id": SOLID_VC + name, "@type": "@id"} for name in _SERVICES}
    context["supportedSignatureTypes"] = {"@id": SOLID_VC + "supportedSignatureTypes"}
    url = grants.service_url
    body = {
        "@context": [context],
        "issuerService": url + "issue",
        "statusService": url + "status",
        "verifierService": url + "verify",
        "derivationService": url + "derive",
        "queryService": url + "query",
        "supportedSignatureTypes": [proof.CRYPTOSUITE],
    }
    return web.json_response(body, content_type=JSON_LD)


async def verification_key(request: web.Request) -> web.Response:
    """The issuer's controller document: its Ed25519 Multikey (and as a JWK)."""
    grants = request.app[GRANTS]
    public = grants.key.public_key()
    raw = base64.urlsafe_b64encode(public.public_bytes_raw()).rstrip(b"=").decode()
    method = {
        "id": grants.issuer.method,
        "type": "Multikey",
        "controller": grants.issuer.url,
        "publicKeyMultibase": proof.multikey(public),
        "publicKeyJwk": {"kty": "OKP", "crv": "Ed25519", "x": raw},
    }
    return web.json_response(
        {
            "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
            "id": grants.issuer.url,
            "verificationMethod": [method],
            "assertionMethod": [grants.issuer.method],
        }
    )


# -- the VC service ----------------------------------------------------------------------------


async def issue(request: web.Request) -> web.Response:
    grants = request.app[GRANTS]
    agent = await _signed_in(request, "issue access credentials")
    issued = await grants.issue(agent, await _json(request))
    return web.json_response(issued, status=201)


async def status(request: web.Request) -> web.Response:
    grants = request.app[GRANTS]
    agent = await _signed_in(request, "change a credential's status")
    await grants.revoke(agent, await _json(request))
    return web.Response(status=204)


async def verify(request: web.Request) -> web.Response:
    body = await _json(request)
    credential = body.get("verifiableCredential") if isinstance(body, dict) else None
    result = await request.app[GRANTS].verify(credential, datetime.now(UTC))
    return web.json_response(result)


async def derive(request: web.Request) -> web.Response:
    """The legacy lookup: ``{verifiableCredential: shape, options: {include}}``."""
    body = await _json(request)
    shape = body.get("verifiableCredential") if isinstance(body, dict) else None
    options = body.get("options") if isinstance(body, dict) else None
    include = isinstance(options, dict) and options.get("include") == "ExpiredVerifiableCredential"
    return await _presentation(request, shape, include)


async def query(request: web.Request) -> web.Response:
    """``QueryByExample`` (VP Request Spec): the first example names the shape."""
    body = await _json(request)
    try:
        shape = body["query"][0]["credentialQuery"][0]["example"]
    except (KeyError, IndexError, TypeError):
        raise BadRequest(
            "Expected a QueryByExample request with a credentialQuery example"
        ) from None
    return await _presentation(request, shape, False)


async def query_filtered(request: web.Request) -> web.Response:
    """The client's ``query``/``paginatedQuery``: ``{items}`` and paging ``Link``s."""
    grants = request.app[GRANTS]
    agent = await _signed_in(request, "look up access credentials")
    wanted = q.parse_filter(request.query)
    found, total = await grants.query(agent, wanted, datetime.now(UTC))
    links = q.page_links(grants.service_url + "query", request.query, wanted, total)
    return web.json_response({"items": found}, headers={"Link": ", ".join(links)})


async def _presentation(request: web.Request, shape: Any, include_expired: bool) -> web.Response:
    agent = await _signed_in(request, "look up access credentials")
    found = await request.app[GRANTS].find(agent, shape, datetime.now(UTC), include_expired)
    return web.json_response(
        {"@context": [vc.VC_V1], "type": ["VerifiablePresentation"], "verifiableCredential": found}
    )


async def token(request: web.Request) -> web.Response:
    """UMA 2.0 §3.3.1 with a VP of the grant as claim token; the caller must be the
    grant's ``isProvidedTo``, signed in with Solid-OIDC (DPoP), so a leaked grant is no
    bearer credential."""
    grants = request.app[GRANTS]
    form = await request.post()
    if form.get("grant_type") != UMA_GRANT:
        return _oauth_error("unsupported_grant_type", f"grant_type must be {UMA_GRANT}")
    if not grants.minter.ticket_valid(str(form.get("ticket", ""))):
        return _oauth_error("invalid_grant", "the permission ticket is unknown or expired")
    if form.get("claim_token_format") != VC_CLAIM_FORMAT:
        return _oauth_error("invalid_request", f"claim_token_format must be {VC_CLAIM_FORMAT}")
    try:
        presentation = json.loads(base64.b64decode(str(form.get("claim_token", "")), validate=True))
        credential = presentation["verifiableCredential"][0]
    except (ValueError, binascii.Error, KeyError, IndexError, TypeError):
        return _oauth_error("invalid_request", "claim_token must be a base64 VP with the grant")
    agent = await _caller(request)
    if not agent.authenticated:
        return _oauth_error(
            "invalid_client", "sign in (Solid-OIDC, DPoP) as the grant's holder", 401
        )
    checked = await grants.verify(credential, datetime.now(UTC))
    if checked["errors"]:
        return _oauth_error("invalid_grant", "; ".join(checked["errors"]))
    if vc.GRANT not in credential.get("type", []):
        return _oauth_error("invalid_grant", "the credential is not an access grant")
    located = grants.locate(credential.get("id"))
    record = await grants.consent.get(located.root, located.record)
    if agent.webid != record.recipient:
        return _oauth_error(
            "invalid_grant", f"this grant is for {record.recipient}, not {agent.webid}", 403
        )
    access, lifetime = grants.minter.token(located.root, located.record, record.recipient)
    return web.json_response(
        {"access_token": access, "token_type": "Bearer", "expires_in": lifetime},
        headers={"Cache-Control": "no-store"},
    )


def _oauth_error(code: str, description: str, status: int = 400) -> web.Response:
    return web.json_response({"error": code, "error_description": description}, status=status)


async def credential_service(request: web.Request, call: Call) -> web.StreamResponse | None:
    """GET ``R.well-known/credentials/<id>/<kind>``: the signed credential."""
    if request.method not in ("GET", "HEAD"):
        raise MethodNotAllowed(f"{request.method} is not supported", allowed=("GET", "HEAD"))
    grants = request.app[GRANTS]
    agent = await _caller(request)
    if not agent.authenticated:
        raise request.app[POLICY].sign_in_required(agent, "read access credentials")
    located = grants.locate(grants.store.url(call.path))
    return web.json_response(await grants.read(agent, located))


async def _caller(request: web.Request) -> Agent:
    _, url = target(request, request.app[GRANTS].store)
    return await request.app[AUTHENTICATOR].identify(request.method, url, request.headers)


async def _signed_in(request: web.Request, what: str) -> Agent:
    agent = await _caller(request)
    if not agent.authenticated:
        raise request.app[POLICY].sign_in_required(agent, what)
    if agent.issuer == request.app[GRANTS].issuer.url:
        raise Forbidden("An access grant token cannot act on access credentials")
    return agent


async def _json(request: web.Request) -> Any:
    raw = await request.content.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        raise BadRequest(f"The body is larger than {MAX_BODY} bytes")
    try:
        return json.loads(raw)
    except ValueError:
        raise BadRequest("The body is not JSON") from None
