"""Solid-OIDC login through the OAuth 2.0 client credentials grant, with DPoP (RFC 9449).

The suite logs in for real: discovery at the issuer, a DPoP-bound access token from its token
endpoint, and a fresh DPoP proof for every request to the pod. The same proof minting, with
parts deliberately wrong, serves the checks that the pod refuses forged proofs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
from jwcrypto import jwk, jwt

from conformance.http import send, without_query


class LoginError(RuntimeError):
    """The issuer did not hand out a token; the message says what it answered."""


@dataclass(frozen=True)
class Credentials:
    client_id: str
    client_secret: str
    issuer: str
    webid: str

    @classmethod
    def from_file(cls, path: str | Path) -> Credentials:
        data = json.loads(Path(path).read_text())
        missing = [k for k in ("client_id", "client_secret", "issuer", "webid") if not data.get(k)]
        if missing:
            raise ValueError(f"{path}: missing {', '.join(missing)} (client credentials needed)")
        return cls(data["client_id"], data["client_secret"], data["issuer"], data["webid"])


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def ath_of(token: str) -> str:
    """The ``ath`` claim: base64url SHA-256 of the access token (RFC 9449 section 4.2)."""
    return b64url(hashlib.sha256(token.encode()).digest())


def new_key() -> jwk.JWK:
    return jwk.JWK.generate(kty="EC", crv="P-256")


def unsigned_jwt(header: dict[str, Any], claims: dict[str, Any]) -> str:
    """An ``alg: none`` JWT, which a verifier must never accept."""
    parts = (json.dumps(header).encode(), json.dumps(claims).encode())
    return ".".join(b64url(part) for part in parts) + "."


def mint_proof(
    key: jwk.JWK,
    method: str,
    url: str,
    *,
    token: str | None = None,
    nonce: str | None = None,
    header: dict[str, Any] | None = None,
    claims: dict[str, Any] | None = None,
    drop: tuple[str, ...] = (),
    signer: jwk.JWK | None = None,
) -> str:
    """A DPoP proof JWT. ``header``/``claims`` override fields, ``drop`` removes claims and
    ``signer`` signs with another key than the one embedded: the knobs forging checks turn."""
    head: dict[str, Any] = {
        "typ": "dpop+jwt",
        "alg": "ES256",
        "jwk": key.export_public(as_dict=True),
    }
    head.update(header or {})
    body: dict[str, Any] = {
        "htm": method,
        "htu": without_query(url),
        "iat": int(time.time()),
        "jti": str(uuid.uuid4()),
    }
    if token is not None:
        body["ath"] = ath_of(token)
    if nonce is not None:
        body["nonce"] = nonce
    body.update(claims or {})
    for name in drop:
        body.pop(name, None)
    if head.get("alg") == "none":
        return unsigned_jwt(head, body)
    signed = jwt.JWT(header=head, claims=body)
    signed.make_signed_token(signer or key)
    return str(signed.serialize())


def decode_unverified(token: str) -> dict[str, Any]:
    """A JWT's claims, read without verification (only to inspect what the issuer minted)."""
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


@dataclass
class Login:
    """One identity logged in: its DPoP key, its access token and how to refresh it."""

    credentials: Credentials
    key: jwk.JWK = field(default_factory=new_key)
    token: str = ""
    expires_at: float = 0.0
    config: dict[str, Any] = field(default_factory=dict)
    token_response: dict[str, Any] = field(default_factory=dict)

    @property
    def webid(self) -> str:
        return self.credentials.webid

    async def discover(self, http: aiohttp.ClientSession) -> dict[str, Any]:
        if not self.config:
            issuer = self.credentials.issuer.rstrip("/")
            reply = await send(http, "GET", issuer + "/.well-known/openid-configuration")
            if not reply.ok:
                raise LoginError(f"issuer discovery failed: {reply.describe()}")
            self.config = json.loads(reply.body)
        return self.config

    async def ensure_token(self, http: aiohttp.ClientSession) -> str:
        """A token valid for at least another 30 seconds, logging in again when needed."""
        if not self.token or time.time() > self.expires_at - 30:
            await self.log_in(http)
        return self.token

    async def log_in(self, http: aiohttp.ClientSession) -> None:
        config = await self.discover(http)
        endpoint = config.get("token_endpoint")
        if not endpoint:
            raise LoginError("the issuer's discovery document names no token_endpoint")
        # RFC 6749 section 2.3.1: id and secret are form-encoded before Basic encoding.
        creds = self.credentials
        basic = f"{quote(creds.client_id, safe='')}:{quote(creds.client_secret, safe='')}"
        headers = {
            "Authorization": "Basic " + base64.b64encode(basic.encode()).decode(),
            "Content-Type": "application/x-www-form-urlencoded",
        }
        form = "grant_type=client_credentials&scope=webid"
        nonce: str | None = None
        for _ in range(2):  # a second try when the issuer demands a DPoP nonce (RFC 9449 s8)
            headers["DPoP"] = mint_proof(self.key, "POST", endpoint, nonce=nonce)
            reply = await send(http, "POST", endpoint, body=form, headers=headers)
            nonce = reply.header("DPoP-Nonce")
            if reply.ok or not nonce:
                break
        if not reply.ok:
            raise LoginError(f"token request refused: {reply.describe()}")
        self.token_response = json.loads(reply.body)
        self.token = self.token_response["access_token"]
        self.expires_at = time.time() + float(self.token_response.get("expires_in", 300))

    def headers(self, method: str, url: str) -> dict[str, str]:
        """Authorization and DPoP headers for one request to a resource server."""
        proof = mint_proof(self.key, method, url, token=self.token)
        return {"Authorization": f"DPoP {self.token}", "DPoP": proof}
