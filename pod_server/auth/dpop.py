"""DPoP proof verification (RFC 9449 §4.3) as a pure function of proof, request and clock."""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from pod_server.auth.agent import INVALID_DPOP_PROOF, InvalidCredentials
from pod_server.auth.config import AuthConfig
from pod_server.auth.jose import (
    Alg,
    JsonObject,
    PublicJwk,
    asymmetric_alg,
    b64url_decode,
    decode_claims,
    decode_header,
    split_compact,
)
from pod_server.auth.jose import public_jwk as load_jwk

WHAT = "DPoP proof"
MAX_JTI_LENGTH = 256  # RFC 9449 §11.1: refuse unnecessarily large jti values
_MEMO_URL_LENGTH = 1024
_MEMO_HEADER_LENGTH = 2048  # an RSA-4096 proof header is ~900 characters
_DEFAULT_PORTS = {"http": 80, "https": 443}
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


@dataclass(frozen=True, slots=True)
class DpopProof:
    """What a verified proof tells the caller: the key and the replay identifier."""

    jkt: str  # RFC 7638 thumbprint of the proof key, to match the token's cnf.jkt
    jti: str
    iat: float


class ProofKeys:
    """Memo of validated proof headers: a client sends the same header on every request.

    Keyed by the exact base64url header segment, so a hit stands for the very bytes that
    were validated before, and skips decoding them again. Bounded, oldest dropped first.
    """

    def __init__(self, max_entries: int = 4096) -> None:
        self._max = max_entries
        self._entries: dict[str, tuple[Alg, PublicJwk]] = {}

    def get(self, segment: str, config: AuthConfig) -> tuple[Alg, PublicJwk]:
        hit = self._entries.get(segment)
        if hit is not None:
            return hit
        parsed = proof_header(decode_header(segment, WHAT), config)
        if len(segment) > _MEMO_HEADER_LENGTH:
            return parsed  # padded headers are verified but never occupy the memo
        if len(self._entries) >= self._max:
            del self._entries[next(iter(self._entries))]
        self._entries[segment] = parsed
        return parsed


def proof_header(header: JsonObject, config: AuthConfig) -> tuple[Alg, PublicJwk]:
    """RFC 9449 §4.3 steps 4-7: typ, an allowed asymmetric alg, a public jwk that fits."""
    typ = header.get("typ")
    # RFC 7515 §4.1.9: typ is a media type, case-insensitive, "application/" optional.
    if not isinstance(typ, str) or typ.lower().removeprefix("application/") != "dpop+jwt":
        raise InvalidCredentials("DPoP proof typ is not dpop+jwt", INVALID_DPOP_PROOF)
    try:
        alg = asymmetric_alg(header.get("alg"), config.dpop_algs, WHAT)
        key = load_jwk(header.get("jwk"), "DPoP proof jwk")
    except InvalidCredentials as exc:
        raise InvalidCredentials(exc.reason, INVALID_DPOP_PROOF) from exc
    if not key.fits(alg):
        raise InvalidCredentials("DPoP proof jwk does not fit its alg", INVALID_DPOP_PROOF)
    return alg, key


def verify_dpop_proof(
    proof: str,
    method: str,
    url: str,
    now: float,
    config: AuthConfig,
    *,
    ath: str | None,
    keys: ProofKeys | None = None,
) -> DpopProof:
    """Check one DPoP proof for one request, or raise InvalidCredentials.

    ``url`` is the public request URL. ``ath`` is the base64url SHA-256 of the access
    token; a proof that carries ``ath`` must match it (RFC 9449 §4.3 step 12), one that
    omits it is accepted because Solid clients (the Inrupt SDK) do not send it.
    The jti is returned unrecorded: the caller records it once everything else passed.
    """
    try:
        head, body, sig = split_compact(proof, WHAT)
        if keys is not None:
            alg, key = keys.get(head, config)
        else:
            alg, key = proof_header(decode_header(head, WHAT), config)
        claims = decode_claims(body, WHAT)
        signature = b64url_decode(sig, WHAT + " signature")
    except InvalidCredentials as exc:
        raise InvalidCredentials(exc.reason, INVALID_DPOP_PROOF) from exc
    if not key.verify(alg, f"{head}.{body}".encode("ascii"), signature):
        raise InvalidCredentials("DPoP proof signature does not verify", INVALID_DPOP_PROOF)
    jti = _require_str(claims, "jti")
    if len(jti) > MAX_JTI_LENGTH:
        raise InvalidCredentials("DPoP proof jti is too long", INVALID_DPOP_PROOF)
    if _require_str(claims, "htm") != method:
        raise InvalidCredentials("DPoP proof htm does not match the method", INVALID_DPOP_PROOF)
    if not same_resource(_require_str(claims, "htu"), url):
        raise InvalidCredentials("DPoP proof htu does not match the URL", INVALID_DPOP_PROOF)
    iat = _iat(claims, now, config)
    proof_ath = claims.get("ath")
    # Plain comparison: ath and jkt are public values, there is no secret to time.
    if proof_ath is not None and proof_ath != ath:
        raise InvalidCredentials("DPoP proof ath does not match the token", INVALID_DPOP_PROOF)
    return DpopProof(key.thumbprint, jti, iat)


def _require_str(claims: dict[str, object], name: str) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidCredentials(f"DPoP proof lacks {name}", INVALID_DPOP_PROOF)
    return value


def _iat(claims: dict[str, object], now: float, config: AuthConfig) -> float:
    """RFC 9449 §4.3 step 11 and §11.1: recent, and not ahead of us beyond the skew."""
    iat = claims.get("iat")
    if isinstance(iat, bool) or not isinstance(iat, int | float) or not math.isfinite(iat):
        raise InvalidCredentials("DPoP proof lacks a numeric iat", INVALID_DPOP_PROOF)
    if iat > now + config.clock_skew:
        raise InvalidCredentials("DPoP proof iat is in the future", INVALID_DPOP_PROOF)
    if iat < now - config.iat_window:
        raise InvalidCredentials("DPoP proof is too old", INVALID_DPOP_PROOF)
    return float(iat)


def same_resource(htu: str, url: str) -> bool:
    """RFC 9449 §4.3 step 9: compare without query and fragment, after RFC 3986 §6.2.2-3
    syntax- and scheme-based normalisation (case, default port, percent-encoding)."""
    try:
        return _normalized(htu) == _normalized(url)
    except ValueError:
        return False


def _normalized(url: str) -> str:
    # The same few URLs arrive again and again; only short ones are memoised, so that
    # the memo stays small whatever URLs hostile proofs carry.
    return _normalize_cached(url) if len(url) <= _MEMO_URL_LENGTH else normalize_url(url)


def normalize_url(url: str) -> str:
    """``scheme://host[:port]/path`` normalised; raises ValueError for a non-HTTP URL."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = parts.hostname  # lower-cased, without userinfo and IPv6 brackets
    if scheme not in _DEFAULT_PORTS or not host:
        raise ValueError("not an absolute http(s) URL")
    port = parts.port  # raises ValueError when not a number in range
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = _PERCENT.sub(_normalize_escape, parts.path) if "%" in parts.path else parts.path
    return f"{scheme}://{netloc}{path or '/'}"


_normalize_cached = functools.lru_cache(maxsize=1024)(normalize_url)


def _normalize_escape(match: re.Match[str]) -> str:
    """RFC 3986 §6.2.2.1-2: upper-case escapes, and decode escaped unreserved characters."""
    char = chr(int(match.group(1), 16))
    return char if char in _UNRESERVED else "%" + match.group(1).upper()
