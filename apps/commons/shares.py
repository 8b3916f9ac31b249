"""Additive secret sharing modulo a prime, and each share encrypted for its aggregator.

A pod's contribution is a vector of non-negative integers. Each coordinate x is split
into ``a`` uniform below ``PRIME`` and ``b = x - a mod PRIME``: either share alone is
uniform whatever x is, their sum mod PRIME is x, and sums of shares are shares of sums.
The broker's shares are encrypted to the broker's key and the authority's to the
authority's (ECDH-ES + A256GCM JWE, keys fixed by the signed study), so the broker, which
carries both, can open only its own.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Sequence
from typing import Any

from jwcrypto import jwe, jwk
from jwcrypto.common import JWException

PRIME = 2**127 - 1  # a Mersenne prime, far above any sum of contributions


class ShareError(ValueError):
    """A share that does not decrypt or is malformed."""


def split(values: Sequence[int]) -> tuple[list[int], list[int]]:
    """Two share vectors of ``values`` (each in [0, PRIME))."""
    first = [secrets.randbelow(PRIME) for _ in values]
    second = [(v - a) % PRIME for v, a in zip(values, first, strict=True)]
    return first, second


def add(total: list[int], share: Sequence[int]) -> list[int]:
    if len(total) != len(share):
        raise ShareError(f"a share has {len(share)} values, expected {len(total)}")
    return [(t + s) % PRIME for t, s in zip(total, share, strict=True)]


def sum_shares(shares: Iterable[Sequence[int]], size: int) -> list[int]:
    total = [0] * size
    for share in shares:
        total = add(total, share)
    return total


def combine(first: Sequence[int], second: Sequence[int]) -> list[int]:
    """The signed integers two aggregated (and noised) share vectors stand for."""
    return [centered((a + b) % PRIME) for a, b in zip(first, second, strict=True)]


def centered(value: int) -> int:
    """``value`` mod PRIME as a signed integer (noise can make a small sum negative)."""
    value %= PRIME
    return value - PRIME if value > PRIME // 2 else value


def new_key(kid: str) -> jwk.JWK:
    return jwk.JWK.generate(kty="EC", crv="P-256", kid=kid, use="enc")


def encrypt(share: Sequence[int], public: dict[str, Any], context: str) -> str:
    """``share`` as a compact JWE for ``public`` (a JWK), bound to ``context`` (study and
    round) so it cannot be replayed into another round."""
    header = {"alg": "ECDH-ES", "enc": "A256GCM", "kid": public.get("kid"), "ctx": context}
    token = jwe.JWE(
        json.dumps([format(v, "x") for v in share]).encode(), protected=json.dumps(header)
    )
    token.add_recipient(jwk.JWK(**public))
    return str(token.serialize(compact=True))


def decrypt(token: str, key: jwk.JWK, context: str, size: int) -> list[int]:
    item = jwe.JWE()
    try:
        item.deserialize(token, key=key)
        if item.jose_header.get("ctx") != context:
            raise ShareError("a share made for another study or round")
        values = [int(v, 16) for v in json.loads(item.payload)]
    except (JWException, ValueError, TypeError) as err:
        raise ShareError(f"a share does not decrypt: {err}") from None
    if len(values) != size or not all(0 <= v < PRIME for v in values):
        raise ShareError("a share has the wrong size or values out of range")
    return values
