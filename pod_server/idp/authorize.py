"""The authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1, RFC 7636, RFC 9449 §10):
validation, the decision what to show, and issuing the code.

Errors about the client or its redirect URI are shown to the person, never sent to the
redirect URI (RFC 6749 §4.1.2.1): that URI is not trusted yet. Every later error goes back
to the client with ``state`` and ``iss`` (RFC 9207).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from pod_server.idp import pkce
from pod_server.idp.clients import Client, ClientDirectory
from pod_server.idp.crypto import digest, new_secret
from pod_server.idp.discovery import SCOPES
from pod_server.idp.errors import (
    INVALID_REQUEST,
    INVALID_SCOPE,
    REQUEST_NOT_SUPPORTED,
    REQUEST_URI_NOT_SUPPORTED,
    UNAUTHORIZED_CLIENT,
    UNSUPPORTED_RESPONSE_TYPE,
    OAuthError,
)
from pod_server.state.base import AuthorizationCode, Consent, IdpState, LoginSession

MAX_PARAM_LENGTH = 2_048  # state, nonce and the like: bounded, they are stored and echoed
PROMPTS = frozenset({"none", "login", "consent", "select_account"})
_JKT = re.compile(r"[A-Za-z0-9_-]{43}")  # RFC 7638 SHA-256 thumbprint, base64url


class PageError(Exception):
    """An error shown to the person: the client or redirect URI cannot be trusted."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


class RedirectError(Exception):
    """An error reported to the client at its redirect URI."""

    def __init__(self, location: str) -> None:
        super().__init__("authorization error")
        self.location = location


def with_params(uri: str, params: dict[str, str]) -> str:
    """Add query parameters to a redirect URI, keeping its own (RFC 6749 §3.1.2)."""
    separator = "" if uri.endswith(("?", "&")) else "&" if urlsplit(uri).query else "?"
    return uri + separator + urlencode(params)


def error_location(
    redirect_uri: str, issuer: str, state: str | None, error: str, description: str
) -> str:
    params = {"error": error, "error_description": description, "iss": issuer}
    if state is not None:
        params["state"] = state
    return with_params(redirect_uri, params)


@dataclass(frozen=True)
class AuthorizationRequest:
    client: Client
    redirect_uri: str
    issuer: str
    scopes: tuple[str, ...]
    code_challenge: str
    state: str | None = None
    nonce: str | None = None
    prompt: frozenset[str] = frozenset()
    max_age: int | None = None
    dpop_jkt: str | None = None
    params: tuple[tuple[str, str], ...] = field(default=(), repr=False)

    @property
    def scope(self) -> str:
        return " ".join(self.scopes)

    @property
    def query(self) -> str:
        """The request as sent, for the round trip through sign-in and consent forms."""
        return urlencode(self.params)

    def after_sign_in(self) -> str:
        """The request to resume once the person has just signed in: ``prompt=login`` and
        ``max_age`` are satisfied by that sign-in and must not ask again."""
        kept = []
        for name, value in self.params:
            if name == "max_age":
                continue
            if name == "prompt":
                value = " ".join(p for p in value.split() if p != "login")
                if not value:
                    continue
            kept.append((name, value))
        return urlencode(kept)

    def fail(self, error: str, description: str) -> RedirectError:
        location = error_location(self.redirect_uri, self.issuer, self.state, error, description)
        return RedirectError(location)

    def success(self, code: str) -> str:
        params = {"code": code, "iss": self.issuer}
        if self.state is not None:
            params["state"] = self.state
        return with_params(self.redirect_uri, params)


def _single(pairs: Iterable[tuple[str, str]]) -> tuple[dict[str, str], set[str]]:
    params: dict[str, str] = {}
    repeated: set[str] = set()
    for name, value in pairs:
        if name in params:
            repeated.add(name)
        params[name] = value
    return params, repeated


async def parse_request(
    pairs: list[tuple[str, str]], clients: ClientDirectory, issuer: str
) -> AuthorizationRequest:
    """Validate an authorization request; raises PageError or RedirectError."""
    params, repeated = _single(pairs)
    if repeated & {"client_id", "redirect_uri"}:  # RFC 6749 §3.1: never more than once
        raise PageError(INVALID_REQUEST, "client_id or redirect_uri appears more than once")
    client = await _client(params.get("client_id", ""), clients)
    redirect_uri = params.get("redirect_uri")
    if not redirect_uri:  # OIDC Core §3.1.2.1: required
        raise PageError(INVALID_REQUEST, "the request has no redirect_uri")
    if redirect_uri not in client.redirect_uris:  # exact match: RFC 9700 §4.1.3
        raise PageError(INVALID_REQUEST, "redirect_uri is not registered for this client")
    state = params.get("state")
    base = AuthorizationRequest(client, redirect_uri, issuer, (), "", state=state)
    if state is not None and len(state) > MAX_PARAM_LENGTH:
        raise base.fail(INVALID_REQUEST, "state is too long")
    if repeated:
        raise base.fail(INVALID_REQUEST, f"{sorted(repeated)[0]} appears more than once")
    return _complete(base, params, tuple(pairs))


async def _client(client_id: str, clients: ClientDirectory) -> Client:
    if not client_id:
        raise PageError(INVALID_REQUEST, "the request has no client_id")
    try:
        client = await clients.find(client_id)
    except OAuthError as exc:
        raise PageError(exc.error, exc.description) from exc
    if client.kind == "credential":
        raise PageError(UNAUTHORIZED_CLIENT, "these are credentials for scripts, not an app")
    return client


def _complete(
    base: AuthorizationRequest, params: dict[str, str], pairs: tuple[tuple[str, str], ...]
) -> AuthorizationRequest:
    if "request" in params:  # OIDC Core §6
        raise base.fail(REQUEST_NOT_SUPPORTED, "request objects are not supported")
    if "request_uri" in params:
        raise base.fail(REQUEST_URI_NOT_SUPPORTED, "request_uri is not supported")
    if params.get("response_type") != "code":
        raise base.fail(UNSUPPORTED_RESPONSE_TYPE, "response_type must be code")
    if params.get("response_mode", "query") != "query":
        raise base.fail(INVALID_REQUEST, "response_mode must be query")
    if "authorization_code" not in base.client.grant_types:
        raise base.fail(UNAUTHORIZED_CLIENT, "the client did not register authorization_code")
    nonce = params.get("nonce")
    if nonce is not None and len(nonce) > MAX_PARAM_LENGTH:
        raise base.fail(INVALID_REQUEST, "nonce is too long")
    return AuthorizationRequest(
        client=base.client,
        redirect_uri=base.redirect_uri,
        issuer=base.issuer,
        scopes=_scopes(base, params.get("scope", "")),
        code_challenge=_challenge(base, params),
        state=base.state,
        nonce=nonce,
        prompt=_prompt(base, params.get("prompt", "")),
        max_age=_max_age(base, params.get("max_age")),
        dpop_jkt=_dpop_jkt(base, params.get("dpop_jkt")),
        params=pairs,
    )


def _scopes(base: AuthorizationRequest, scope: str) -> tuple[str, ...]:
    """The scopes granted: supported ones the client may ask for (RFC 6749 §3.3)."""
    requested = set(scope.split())
    if "openid" not in requested:  # OIDC Core §3.1.2.1
        raise base.fail(INVALID_SCOPE, "scope must include openid")
    allowed = base.client.scope
    granted = [s for s in SCOPES if s in requested and (allowed is None or s in allowed)]
    if "openid" not in granted:
        granted.insert(0, "openid")
    # OIDC Core §11: offline_access only means something to a client that can refresh.
    if "refresh_token" not in base.client.grant_types and "offline_access" in granted:
        granted.remove("offline_access")
    return tuple(granted)


def _challenge(base: AuthorizationRequest, params: dict[str, str]) -> str:
    challenge = params.get("code_challenge")
    if not challenge:  # PKCE is required of every client (OAuth 2.1 §4.1.1)
        raise base.fail(INVALID_REQUEST, "code_challenge is required (PKCE)")
    if params.get("code_challenge_method") != pkce.S256:  # absent means plain: refused
        raise base.fail(INVALID_REQUEST, "code_challenge_method must be S256")
    if not pkce.well_formed(challenge):
        raise base.fail(INVALID_REQUEST, "code_challenge is malformed")
    return challenge


def _prompt(base: AuthorizationRequest, prompt: str) -> frozenset[str]:
    values = frozenset(prompt.split())
    if not values <= PROMPTS:
        raise base.fail(INVALID_REQUEST, "prompt has an unsupported value")
    if "none" in values and len(values) > 1:  # OIDC Core §3.1.2.1
        raise base.fail(INVALID_REQUEST, "prompt=none cannot be combined with other values")
    return values


def _max_age(base: AuthorizationRequest, max_age: str | None) -> int | None:
    if max_age is None:
        return None
    if not max_age.isdigit() or len(max_age) > 10:
        raise base.fail(INVALID_REQUEST, "max_age must be a number of seconds")
    return int(max_age)


def _dpop_jkt(base: AuthorizationRequest, jkt: str | None) -> str | None:
    if jkt is not None and not _JKT.fullmatch(jkt):
        raise base.fail(INVALID_REQUEST, "dpop_jkt is not a JWK SHA-256 thumbprint")
    return jkt


def needs_sign_in(request: AuthorizationRequest, session: LoginSession | None, now: float) -> bool:
    if session is None or "login" in request.prompt:
        return True
    return request.max_age is not None and now - session.auth_time > request.max_age


def consent_covers(
    consent: Consent | None, request: AuthorizationRequest, webids: list[str]
) -> bool:
    """A remembered consent applies when it granted at least these scopes to this client."""
    if consent is None or "consent" in request.prompt or consent.webid not in webids:
        return False
    return set(request.scopes) <= set(consent.scope.split())


async def issue_code(
    state: IdpState,
    request: AuthorizationRequest,
    session: LoginSession,
    webid: str,
    now: float,
    ttl: float,
) -> str:
    """A single-use code (RFC 6749 §4.1.2) recording everything the token request checks."""
    code = new_secret()
    await state.add_code(
        AuthorizationCode(
            code_hash=digest(code),
            client_id=request.client.client_id,
            account_id=session.account_id,
            webid=webid,
            redirect_uri=request.redirect_uri,
            scope=request.scope,
            code_challenge=request.code_challenge,
            nonce=request.nonce,
            dpop_jkt=request.dpop_jkt,
            family_id=uuid.uuid4().hex,
            auth_time=session.auth_time,
            expires_at=now + ttl,
        )
    )
    return code
