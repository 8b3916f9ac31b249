"""DPoP (RFC 9449): a key per session and a fresh proof per request.

A proof is a JWT signed by the session's private key, with the public key in its header,
naming the method (``htm``), the URL without query or fragment (``htu``), the time and a
unique ``jti``; with an access token it also carries ``ath``, the token's SHA-256, so a
stolen proof is useless with another token.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from jwcrypto import jwk, jws

ALG = "ES256"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def token_hash(access_token: str) -> str:
    """``ath``: base64url(SHA-256(token)) (RFC 9449 §4.2)."""
    return b64url(hashlib.sha256(access_token.encode("ascii")).digest())


def htu_of(url: str) -> str:
    """The URL as a proof names it: without query and fragment (RFC 9449 §4.2)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", "", ""))


class DpopKey:
    """An ES256 (P-256) key pair that signs a session's proofs."""

    def __init__(self, key: jwk.JWK) -> None:
        if not key.has_private:
            raise ValueError("a DPoP key needs its private part")
        self._key = key
        public = json.loads(key.export_public())
        self._public = {k: public[k] for k in ("kty", "crv", "x", "y")}

    @classmethod
    def generate(cls) -> DpopKey:
        return cls(jwk.JWK.generate(kty="EC", crv="P-256"))

    @classmethod
    def from_json(cls, text: str) -> DpopKey:
        return cls(jwk.JWK.from_json(text))

    def to_json(self) -> str:
        """The private key as a JWK (for a session file that only its owner can read)."""
        return str(self._key.export_private())

    @property
    def public_jwk(self) -> dict[str, Any]:
        return dict(self._public)

    def thumbprint(self) -> str:
        """RFC 7638 SHA-256 thumbprint: ``dpop_jkt`` and the tokens' ``cnf.jkt``."""
        return str(self._key.thumbprint())

    def proof(
        self,
        method: str,
        url: str,
        *,
        access_token: str | None = None,
        nonce: str | None = None,
        now: float | None = None,
    ) -> str:
        claims: dict[str, Any] = {
            "htm": method.upper(),
            "htu": htu_of(url),
            "iat": int(time.time() if now is None else now),
            "jti": str(uuid.uuid4()),
        }
        if access_token is not None:
            claims["ath"] = token_hash(access_token)
        if nonce is not None:
            claims["nonce"] = nonce
        header = {"typ": "dpop+jwt", "alg": ALG, "jwk": self._public}
        token = jws.JWS(json.dumps(claims, separators=(",", ":")).encode())
        token.add_signature(self._key, alg=ALG, protected=json.dumps(header))
        return str(token.serialize(compact=True))


__all__ = ["ALG", "DpopKey", "b64url", "htu_of", "token_hash"]
