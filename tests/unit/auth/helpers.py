"""Reusable builders for authentication tests: keys, access tokens, DPoP proofs, a fake web.

Importable from any test (``from tests.unit.auth.helpers import ...``); tokens are
signed with jwcrypto so that they come from an implementation independent of ours.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from jwcrypto import jwk, jwt

from pod_server.auth.fetch import Fetched, FetchError

_GENERATE: dict[str, dict[str, Any]] = {
    "ES256": {"kty": "EC", "crv": "P-256"},
    "ES384": {"kty": "EC", "crv": "P-384"},
    "ES512": {"kty": "EC", "crv": "P-521"},
    "RS256": {"kty": "RSA", "size": 2048},
    "PS256": {"kty": "RSA", "size": 2048},
    "EdDSA": {"kty": "OKP", "crv": "Ed25519"},
}
DEFAULT_CLIENT_ID = "https://app.example/id"
_UNSET: Any = object()


def make_issuer_key(alg: str = "ES256", kid: str | None = None) -> jwk.JWK:
    """A fresh private key for ``alg``; its ``alg`` and ``kid`` members are set."""
    return jwk.JWK.generate(**_GENERATE[alg], alg=alg, kid=kid or uuid.uuid4().hex[:12])


def public_jwk_dict(key: jwk.JWK) -> dict[str, Any]:
    return key.export_public(as_dict=True)


def jwks_document(*keys: jwk.JWK) -> bytes:
    return json.dumps({"keys": [public_jwk_dict(k) for k in keys]}).encode()


def thumbprint(key: jwk.JWK) -> str:
    """RFC 7638 SHA-256 thumbprint, as jwcrypto computes it."""
    return key.thumbprint()


def ath_of(token: str) -> str:
    digest = hashlib.sha256(token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(key: jwk.JWK, header: dict[str, Any], claims: dict[str, Any]) -> str:
    """A compact JWS with exactly this header and these claims."""
    token = jwt.JWT(header=header, claims=claims)
    token.make_signed_token(key)
    return token.serialize()


def mint_access_token(
    key: jwk.JWK,
    iss: str,
    webid: str,
    jkt: str | None,
    client_id: str | None = DEFAULT_CLIENT_ID,
    aud: str | list[str] | None = "solid",
    exp: float | None = None,
    iat: float | None = None,
    *,
    alg: str | None = None,
    kid: str | None = _UNSET,
    extra: dict[str, Any] | None = None,
) -> str:
    """A Solid-OIDC access token signed by the issuer ``key``; ``jkt=None`` is unbound.

    ``exp``/``iat`` default to now+300 / now; ``aud=None`` leaves the claim out.
    """
    now = time.time()
    claims: dict[str, Any] = {
        "iss": iss,
        "webid": webid,
        "sub": webid,
        "exp": int(now + 300) if exp is None else exp,
        "iat": int(now) if iat is None else iat,
        "jti": uuid.uuid4().hex,
    }
    if aud is not None:
        claims["aud"] = aud
    if client_id is not None:
        claims["client_id"] = client_id
    if jkt is not None:
        claims["cnf"] = {"jkt": jkt}
    claims.update(extra or {})
    header = {"alg": alg or key.get("alg"), "typ": "at+jwt"}
    kid = key.get("kid") if kid is _UNSET else kid
    if kid is not None:
        header["kid"] = kid
    return sign(key, header, claims)


def mint_dpop_proof(
    key: jwk.JWK,
    htm: str,
    htu: str,
    ath: str | None = None,
    iat: float | None = None,
    jti: str | None = None,
    *,
    alg: str | None = None,
    typ: str | None = "dpop+jwt",
    header_jwk: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> str:
    """A DPoP proof (RFC 9449 §4.2) signed by the client ``key``, public key in the header."""
    header: dict[str, Any] = {"alg": alg or key.get("alg"), "jwk": header_jwk or _bare(key)}
    if typ is not None:
        header["typ"] = typ
    claims: dict[str, Any] = {
        "htm": htm,
        "htu": htu,
        "iat": int(time.time()) if iat is None else iat,
        "jti": jti or str(uuid.uuid4()),
    }
    if ath is not None:
        claims["ath"] = ath
    claims.update(extra or {})
    return sign(key, header, claims)


def _bare(key: jwk.JWK) -> dict[str, Any]:
    """The public JWK without kid/alg, as browser clients send it."""
    return {k: v for k, v in public_jwk_dict(key).items() if k not in ("kid", "alg")}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def compact(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    """An arbitrary (usually unsigned or wrongly signed) compact JWS."""
    head, body = _b64(json.dumps(header).encode()), _b64(json.dumps(claims).encode())
    return f"{head}.{body}.{_b64(signature)}"


def hmac_token(secret: bytes, header: dict[str, Any], claims: dict[str, Any]) -> str:
    """An HS256 JWS keyed by ``secret``: the key-confusion attack when ``secret`` is a
    public key's bytes (RFC 8725 §2.1)."""
    head = _b64(json.dumps({**header, "alg": "HS256"}).encode())
    body = _b64(json.dumps(claims).encode())
    mac = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(mac)}"


def profile_turtle(webid: str, issuers: Iterable[str]) -> bytes:
    lines = [
        "@prefix solid: <http://www.w3.org/ns/solid/terms#> .",
        "@prefix foaf: <http://xmlns.com/foaf/0.1/> .",
        f"<{webid}> a foaf:Person .",
    ]
    lines += [f"<{webid}> solid:oidcIssuer <{issuer}> ." for issuer in issuers]
    return "\n".join(lines).encode()


@dataclass
class FakeWeb:
    """An injectable Fetcher serving fixed documents and counting requests per URL."""

    documents: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    failures: dict[str, BaseException] = field(default_factory=dict)

    async def __call__(self, url: str, accept: str) -> Fetched:
        self.calls.append(url)
        if url in self.failures:
            raise self.failures[url]
        if url not in self.documents:
            raise FetchError("GET answered 404")
        content_type, body = self.documents[url]
        return Fetched(url, content_type, body)

    def count(self, url: str) -> int:
        return self.calls.count(url)

    def serve(self, url: str, body: bytes, content_type: str = "application/json") -> None:
        self.documents[url] = (content_type, body)

    def add_issuer(self, issuer: str, *keys: jwk.JWK) -> str:
        """Discovery document and JWKS for ``issuer``; returns the jwks_uri."""
        jwks_uri = issuer.rstrip("/") + "/jwks"
        config = {"issuer": issuer, "jwks_uri": jwks_uri}
        self.serve(discovery_url(issuer), json.dumps(config).encode())
        self.serve(jwks_uri, jwks_document(*keys))
        return jwks_uri

    def add_profile(self, webid: str, *issuers: str) -> str:
        url = webid.split("#", 1)[0]
        self.serve(url, profile_turtle(webid, issuers), "text/turtle")
        return url


def discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


class Clock:
    """A settable clock for deterministic time checks."""

    def __init__(self, now: float | None = None) -> None:
        self.now = time.time() if now is None else now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
