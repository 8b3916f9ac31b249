"""The provider's ES256 signing keys: generated, persisted, rotated, published (RFC 7517).

Rotation (OIDC Core §10.1.1): a successor key is published ``key_publish_ahead`` before it
starts signing, so that resource servers holding a cached JWKS meet its ``kid`` only after
they could have fetched it; a retired key stays in the JWKS until every token it signed
has expired. Keys live in the state store, so every process signs with the same key and
a restart keeps them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from pod_server.auth.jose import PublicJwk, b64url_decode, b64url_encode, public_jwk
from pod_server.idp.config import IdpConfig
from pod_server.state.base import IdpState, StoredKey

ALG = "ES256"  # RFC 7518 §3.4: ECDSA P-256 SHA-256
_COORDINATE = 32


@dataclass(frozen=True)
class Signer:
    """One private key, ready to sign compact JWS."""

    kid: str
    key: ec.EllipticCurvePrivateKey
    public: dict[str, str]  # the public JWK as published
    verifier: PublicJwk

    def sign(self, claims: dict[str, Any], typ: str) -> str:
        header = {"alg": ALG, "typ": typ, "kid": self.kid}
        signing_input = f"{_segment(header)}.{_segment(claims)}".encode("ascii")
        r, s = decode_dss_signature(self.key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        raw = r.to_bytes(_COORDINATE, "big") + s.to_bytes(_COORDINATE, "big")
        return f"{signing_input.decode('ascii')}.{b64url_encode(raw)}"


def _segment(value: dict[str, Any]) -> str:
    return b64url_encode(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def _coordinate(value: int) -> str:
    return b64url_encode(value.to_bytes(_COORDINATE, "big"))


def new_key(now: float, use_from: float, config: IdpConfig) -> StoredKey:
    """A fresh P-256 key; its kid is its RFC 7638 thumbprint."""
    private = ec.generate_private_key(ec.SECP256R1())
    numbers = private.private_numbers()
    public = {
        "kty": "EC",
        "crv": "P-256",
        "x": _coordinate(numbers.public_numbers.x),
        "y": _coordinate(numbers.public_numbers.y),
    }
    kid = public_jwk(public).thumbprint
    jwk = {**public, "d": _coordinate(numbers.private_value), "kid": kid, "alg": ALG}
    retire = use_from + config.key_rotation
    return StoredKey(kid, json.dumps(jwk), now, use_from, retire, retire + config.key_keep)


def load_signer(stored: StoredKey) -> Signer:
    jwk = json.loads(stored.private_jwk)
    d = int.from_bytes(b64url_decode(jwk["d"], "signing key"), "big")
    private = ec.derive_private_key(d, ec.SECP256R1())
    public = {
        "kty": "EC",
        "crv": "P-256",
        "x": jwk["x"],
        "y": jwk["y"],
        "kid": stored.kid,
        "alg": ALG,
        "use": "sig",
    }
    return Signer(stored.kid, private, public, public_jwk(public))


def successor_due(keys: list[StoredKey], now: float, config: IdpConfig) -> float | None:
    """When a new key should start signing, if one must be made now; else None."""
    if not any(k.use_from <= now < k.retire_after for k in keys):
        return now  # no usable key at all (first start, or a long pause): sign at once
    last_retirement = max(k.retire_after for k in keys)
    if last_retirement - now < 2 * config.key_publish_ahead:
        return now + config.key_publish_ahead
    return None


def current(keys: list[StoredKey], now: float) -> StoredKey | None:
    """The key that signs now: the newest one whose signing period has begun."""
    usable = [k for k in keys if k.use_from <= now < k.retire_after]
    return max(usable, key=lambda k: (k.use_from, k.kid), default=None)


class KeyRing:
    """Per-process view of the stored keys, re-read every ``key_reload`` seconds."""

    def __init__(self, state: IdpState, config: IdpConfig, clock: Callable[[], float]) -> None:
        self._state = state
        self._config = config
        self._clock = clock
        self._keys: list[StoredKey] = []
        self._signers: dict[str, Signer] = {}
        self._loaded_at = float("-inf")
        self._lock = asyncio.Lock()

    async def signer(self) -> Signer:
        now = self._clock()
        keys = await self._fresh(now)
        stored = current(keys, now)
        if stored is None:  # only if rotation failed to run: make sure, then retry
            keys = await self._fresh(now, force=True)
            stored = current(keys, now)
            if stored is None:
                raise RuntimeError("no signing key available")
        return self._signer(stored)

    async def jwks(self) -> dict[str, list[dict[str, str]]]:
        now = self._clock()
        keys = await self._fresh(now)
        return {"keys": [self._signer(k).public for k in keys if k.drop_after > now]}

    async def verifiers(self) -> tuple[PublicJwk, ...]:
        """Public keys of every published key, to check our own tokens (id_token_hint)."""
        now = self._clock()
        return tuple(self._signer(k).verifier for k in await self._fresh(now))

    async def _fresh(self, now: float, *, force: bool = False) -> list[StoredKey]:
        if not force and now - self._loaded_at < self._config.key_reload:
            return self._keys
        async with self._lock:
            if force or now - self._loaded_at >= self._config.key_reload:
                await self._rotate(now)
        return self._keys

    async def _rotate(self, now: float) -> None:
        keys = [k for k in await self._state.list_keys() if k.drop_after > now]
        use_from = successor_due(keys, now, self._config)
        if use_from is not None:
            await self._state.add_key(new_key(now, use_from, self._config))
            keys = [k for k in await self._state.list_keys() if k.drop_after > now]
        self._keys = keys
        self._loaded_at = now

    def _signer(self, stored: StoredKey) -> Signer:
        signer = self._signers.get(stored.kid)
        if signer is None:
            signer = self._signers[stored.kid] = load_signer(stored)
        return signer
