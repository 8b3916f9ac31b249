"""Solid-OIDC access tokens (RFC 9068-style JWTs): claims and signature, as pure functions.

Split in two so the cheap checks run before any network traffic: ``peek_access_token``
decodes and checks the claims against the clock, ``verify_token_signature`` checks the
signature once the issuer's keys are known.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from pod_server.auth.agent import InvalidCredentials
from pod_server.auth.jose import (
    Alg,
    CompactJws,
    JsonObject,
    PublicJwk,
    asymmetric_alg,
    parse_compact,
    verify_with,
)

SOLID_AUDIENCE = "solid"  # Solid-OIDC §8 (Access token): aud includes "solid"
WHAT = "access token"


@dataclass(frozen=True, slots=True)
class AccessToken:
    """The claims of an access token that authentication relies on."""

    issuer: str
    webid: str
    client_id: str | None
    jkt: str | None  # cnf.jkt (RFC 9449 §6.1); None for an unbound token
    expires_at: float


@dataclass(frozen=True, slots=True)
class UnverifiedToken:
    """A token whose claims passed the clock and shape checks, signature not yet checked."""

    jws: CompactJws
    alg: Alg
    kid: str | None
    claims: AccessToken


def peek_access_token(token: str, now: float, leeway: float) -> UnverifiedToken:
    """Decode an access token and check its claims; raises InvalidCredentials."""
    jws = parse_compact(token, WHAT)
    alg = asymmetric_alg(jws.header.get("alg"), None, WHAT)  # RFC 8725 §3.1
    kid = jws.header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise InvalidCredentials("access token kid is not a string")
    return UnverifiedToken(jws, alg, kid, check_claims(jws.claims, now, leeway))


def verify_token_signature(unverified: UnverifiedToken, keys: Iterable[PublicJwk]) -> AccessToken:
    verify_with(unverified.jws, unverified.alg, tuple(keys), WHAT)
    return unverified.claims


def check_claims(claims: JsonObject, now: float, leeway: float) -> AccessToken:
    """RFC 7519 §4.1 time claims, the Solid audience, and the Solid-OIDC identity claims."""
    exp = _number(claims, "exp", required=True)
    if exp is None or now >= exp + leeway:
        raise InvalidCredentials("access token has expired")
    iat = _number(claims, "iat", required=False)
    if iat is not None and iat > now + leeway:
        raise InvalidCredentials("access token iat is in the future")
    nbf = _number(claims, "nbf", required=False)
    if nbf is not None and nbf > now + leeway:
        raise InvalidCredentials("access token is not valid yet")
    if not _has_audience(claims.get("aud"), SOLID_AUDIENCE):
        raise InvalidCredentials('access token audience does not include "solid"')
    issuer = claims.get("iss")
    if not isinstance(issuer, str) or not is_http_url(issuer):
        raise InvalidCredentials("access token iss is not an http(s) URL")
    webid = claims.get("webid")
    if not isinstance(webid, str) or not is_http_url(webid):
        raise InvalidCredentials("access token webid is not an http(s) URL")
    client_id = claims.get("client_id")
    if client_id is not None and not isinstance(client_id, str):
        raise InvalidCredentials("access token client_id is not a string")
    return AccessToken(issuer, webid, client_id, _jkt(claims), exp)


def _number(claims: JsonObject, name: str, *, required: bool) -> float | None:
    value = claims.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidCredentials(f"access token {name} is not a number")
    return float(value)


def _has_audience(aud: object, wanted: str) -> bool:
    """RFC 7519 §4.1.3: a single string or an array of strings."""
    if isinstance(aud, str):
        return aud == wanted
    return isinstance(aud, list) and wanted in aud


def _jkt(claims: JsonObject) -> str | None:
    cnf = claims.get("cnf")
    if cnf is None:
        return None
    jkt = cnf.get("jkt") if isinstance(cnf, dict) else None
    if not isinstance(jkt, str) or not jkt:
        raise InvalidCredentials("access token cnf has no jkt")
    return jkt


def is_http_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def issuer_listed(issuer: str, listed: Iterable[str]) -> bool:
    """Solid-OIDC §5.3: the WebID names the issuer; a trailing slash is not significant."""
    wanted = issuer.rstrip("/")
    return any(candidate.rstrip("/") == wanted for candidate in listed)
