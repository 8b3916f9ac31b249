"""Just enough JOSE for a resource server: compact JWS, public JWKs, RFC 7638 thumbprints.

Built on ``cryptography`` directly (jwcrypto's own dependency) because the hot path
verifies one DPoP proof per request, and every microsecond there is a request's.
Only asymmetric algorithms exist here, so ``none`` and HS* (RFC 7518 §3.2) can never
verify anything: the key-confusion attack has no code path to reach.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed448 import Ed448PublicKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from pod_server.auth.agent import InvalidCredentials

JsonObject = dict[str, Any]
VerifyingKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey | Ed25519PublicKey | Ed448PublicKey

_B64URL = re.compile(r"[A-Za-z0-9_-]*")
MAX_JWS_LENGTH = 16_384  # far above any real token; bounds work on hostile input
MIN_RSA_BITS = 2048  # RFC 7518 §3.3


@dataclass(frozen=True, slots=True)
class Alg:
    """One JWS algorithm of RFC 7518 §3 (asymmetric ones only)."""

    name: str
    kty: str
    hash: type[hashes.HashAlgorithm] | None = None
    curve: str | None = None  # EC: the one curve the alg names (RFC 7518 §3.4)
    pss: bool = False


ALGS: dict[str, Alg] = {
    a.name: a
    for a in (
        Alg("ES256", "EC", hashes.SHA256, "P-256"),
        Alg("ES384", "EC", hashes.SHA384, "P-384"),
        Alg("ES512", "EC", hashes.SHA512, "P-521"),
        Alg("RS256", "RSA", hashes.SHA256),
        Alg("RS384", "RSA", hashes.SHA384),
        Alg("RS512", "RSA", hashes.SHA512),
        Alg("PS256", "RSA", hashes.SHA256, pss=True),
        Alg("PS384", "RSA", hashes.SHA384, pss=True),
        Alg("PS512", "RSA", hashes.SHA512, pss=True),
        Alg("EdDSA", "OKP"),  # RFC 8037 §3.1
    )
}

_CURVES: dict[str, tuple[ec.EllipticCurve, int]] = {
    "P-256": (ec.SECP256R1(), 32),
    "P-384": (ec.SECP384R1(), 48),
    "P-521": (ec.SECP521R1(), 66),
}
# Members whose presence makes a JWK private or symmetric (RFC 7518 §6.2.2, §6.3.2, §6.4).
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
# RFC 7638 §3.2: the required members that make up a thumbprint, per key type.
_THUMBPRINT_MEMBERS = {
    "EC": ("crv", "kty", "x", "y"),
    "RSA": ("e", "kty", "n"),
    "OKP": ("crv", "kty", "x"),
}


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(segment: str, what: str) -> bytes:
    """Strict base64url without padding (RFC 7515 §2): anything else is malformed."""
    if len(segment) % 4 == 1 or not _B64URL.fullmatch(segment):
        raise InvalidCredentials(f"{what} is not valid base64url")
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except binascii.Error as exc:
        raise InvalidCredentials(f"{what} is not valid base64url") from exc


def json_object(data: bytes, what: str) -> JsonObject:
    try:  # decoding first skips json's encoding sniffing; RFC 8259 §8.1 says UTF-8
        value = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError
        raise InvalidCredentials(f"{what} is not JSON") from exc
    if not isinstance(value, dict):
        raise InvalidCredentials(f"{what} is not a JSON object")
    return value


@dataclass(frozen=True, slots=True)
class CompactJws:
    """A JWS in compact serialization (RFC 7515 §7.1), decoded but not yet verified."""

    header_segment: str
    header: JsonObject
    claims: JsonObject
    signing_input: bytes
    signature: bytes


def split_compact(token: str, what: str) -> tuple[str, str, str]:
    if len(token) > MAX_JWS_LENGTH:
        raise InvalidCredentials(f"{what} is too long")
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidCredentials(f"{what} is not a compact JWS (three segments)")
    return parts[0], parts[1], parts[2]


def decode_header(segment: str, what: str) -> JsonObject:
    header = json_object(b64url_decode(segment, what + " header"), what + " header")
    # RFC 7515 §4.1.11: extensions we do not understand must make the JWS invalid.
    if "crit" in header:
        raise InvalidCredentials(f"{what} has critical header parameters")
    return header


def decode_claims(segment: str, what: str) -> JsonObject:
    return json_object(b64url_decode(segment, what + " payload"), what + " payload")


def parse_compact(token: str, what: str) -> CompactJws:
    head, body, sig = split_compact(token, what)
    header = decode_header(head, what)
    claims = decode_claims(body, what)
    signature = b64url_decode(sig, what + " signature")
    return CompactJws(head, header, claims, f"{head}.{body}".encode("ascii"), signature)


def asymmetric_alg(name: object, allowed: tuple[str, ...] | None, what: str) -> Alg:
    """The algorithm named in a header, if it is asymmetric and allowed."""
    alg = ALGS.get(name) if isinstance(name, str) else None
    if alg is None or (allowed is not None and alg.name not in allowed):
        raise InvalidCredentials(f"{what} uses an unsupported alg")
    return alg


@dataclass(frozen=True, slots=True)
class PublicJwk:
    """A validated public JWK, ready to verify signatures."""

    kty: str
    crv: str | None
    key: VerifyingKey
    thumbprint: str  # RFC 7638, SHA-256
    kid: str | None = None
    alg: str | None = None  # the JWK's own "alg" member, when it has one

    def fits(self, alg: Alg) -> bool:
        """RFC 7517 §4.4 / RFC 7518: the key type, curve and declared alg must match."""
        if self.alg is not None and self.alg != alg.name:
            return False
        if self.kty != alg.kty:
            return False
        return alg.curve is None or alg.curve == self.crv

    def verify(self, alg: Alg, signing_input: bytes, signature: bytes) -> bool:
        if not self.fits(alg):
            return False
        try:
            self._verify(alg, signing_input, signature)
        except (InvalidSignature, ValueError):
            return False
        return True

    def _verify(self, alg: Alg, data: bytes, signature: bytes) -> None:
        key = self.key
        if isinstance(key, ec.EllipticCurvePublicKey) and alg.hash is not None:
            # RFC 7518 §3.4: R || S, each exactly the curve's coordinate size.
            size = _CURVES[self.crv or ""][1]
            if len(signature) != 2 * size:
                raise InvalidSignature
            r = int.from_bytes(signature[:size], "big")
            s = int.from_bytes(signature[size:], "big")
            key.verify(encode_dss_signature(r, s), data, _ecdsa(alg.hash))
        elif isinstance(key, rsa.RSAPublicKey) and alg.hash is not None:
            digest = alg.hash()
            pad: padding.AsymmetricPadding = (
                # RFC 7518 §3.5: MGF1 with the same hash, salt as long as the hash output.
                padding.PSS(padding.MGF1(digest), digest.digest_size)
                if alg.pss
                else padding.PKCS1v15()
            )
            key.verify(signature, data, pad, digest)
        elif isinstance(key, Ed25519PublicKey | Ed448PublicKey):
            key.verify(signature, data)
        else:
            raise InvalidSignature


@functools.cache  # one per hash algorithm; immutable, so shared by every verification
def _ecdsa(digest: type[hashes.HashAlgorithm]) -> ec.ECDSA:
    return ec.ECDSA(digest())


def public_jwk(jwk: object, what: str = "jwk") -> PublicJwk:
    """Validate a JWK as a public signing key, or refuse it."""
    if not isinstance(jwk, dict):
        raise InvalidCredentials(f"{what} is not a JSON object")
    if _PRIVATE_MEMBERS.intersection(jwk):
        raise InvalidCredentials(f"{what} contains private or symmetric key material")
    kty = jwk.get("kty")
    if not isinstance(kty, str) or kty not in _THUMBPRINT_MEMBERS:
        raise InvalidCredentials(f"{what} has an unsupported kty")
    values: dict[str, str] = {}
    for member in _THUMBPRINT_MEMBERS[kty]:
        value = jwk.get(member)
        if not isinstance(value, str):
            raise InvalidCredentials(f"{what} lacks required members")
        values[member] = value
    kid, alg = jwk.get("kid"), jwk.get("alg")
    try:
        key = _load_key(kty, values, what)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise InvalidCredentials(f"{what} is not a valid public key") from exc
    return PublicJwk(
        kty=kty,
        crv=values.get("crv"),
        key=key,
        thumbprint=_thumbprint(values),
        kid=kid if isinstance(kid, str) else None,
        alg=alg if isinstance(alg, str) else None,
    )


def _load_key(kty: str, values: dict[str, str], what: str) -> VerifyingKey:
    if kty == "EC":
        curve, size = _CURVES.get(values["crv"], (None, 0))
        x, y = b64url_decode(values["x"], what), b64url_decode(values["y"], what)
        # RFC 7518 §6.2.1.2-3: coordinates are full-size octet strings.
        if curve is None or len(x) != size or len(y) != size:
            raise ValueError("bad EC key")
        numbers = ec.EllipticCurvePublicNumbers(_int(x), _int(y), curve)
        return numbers.public_key()  # raises ValueError when the point is not on the curve
    if kty == "RSA":
        n, e = _int(b64url_decode(values["n"], what)), _int(b64url_decode(values["e"], what))
        if n.bit_length() < MIN_RSA_BITS:
            raise ValueError("RSA key too small")
        return rsa.RSAPublicNumbers(e, n).public_key()
    x = b64url_decode(values["x"], what)
    if values["crv"] == "Ed25519":
        return Ed25519PublicKey.from_public_bytes(x)
    if values["crv"] == "Ed448":
        return Ed448PublicKey.from_public_bytes(x)
    raise ValueError("unsupported OKP curve")


def _int(data: bytes) -> int:
    return int.from_bytes(data, "big")


def _thumbprint(required: dict[str, str]) -> str:
    """RFC 7638 §3: required members only, sorted, no whitespace, SHA-256, base64url."""
    canonical = json.dumps(required, separators=(",", ":"), sort_keys=True)
    return b64url_encode(hashlib.sha256(canonical.encode("utf-8")).digest())


def verify_with(jws: CompactJws, alg: Alg, keys: tuple[PublicJwk, ...], what: str) -> PublicJwk:
    """The first key that verifies the signature; refuses when none does."""
    for key in keys:
        if key.verify(alg, jws.signing_input, jws.signature):
            return key
    raise InvalidCredentials(f"{what} signature does not verify")
