"""Data Integrity proofs with the ``eddsa-jcs-2022`` cryptosuite (W3C VC-DI-EdDSA §3.3).

The signed bytes are ``sha256(JCS(proof options)) || sha256(JCS(document without proof))``;
JCS (RFC 8785) of our documents is sorted-key, separator-free JSON, since they hold only
strings, booleans, lists and objects (no numbers, whose JCS form differs from Python's).
Chosen over Ed25519Signature2020 because it needs no JSON-LD context resolution to
verify, and the Inrupt client verifies nothing itself: it asks our ``verify`` endpoint.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-jcs-2022"
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
# Multikey header of an Ed25519 public key (multicodec 0xed, varint-encoded).
_ED25519_PUB = b"\xed\x01"


def jcs(value: Any) -> bytes:
    """RFC 8785 canonical JSON of a number-free value."""
    _no_numbers(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def b58encode(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, rem = divmod(n, 58)
        out = _B58[rem] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def b58decode(text: str) -> bytes:
    n = 0
    for char in text:
        digit = _B58.find(char)
        if digit < 0:
            raise ValueError(f"not base58btc: {char!r}")
        n = n * 58 + digit
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


def multikey(public: Ed25519PublicKey) -> str:
    """``publicKeyMultibase`` of a Multikey verification method."""
    raw = public.public_bytes_raw()
    return "z" + b58encode(_ED25519_PUB + raw)


def public_from_multikey(text: str) -> Ed25519PublicKey:
    if not text.startswith("z"):
        raise ValueError("a Multikey must be base58btc (z...)")
    raw = b58decode(text[1:])
    if not raw.startswith(_ED25519_PUB) or len(raw) != 34:
        raise ValueError("not an Ed25519 Multikey")
    return Ed25519PublicKey.from_public_bytes(raw[2:])


def sign(
    document: dict[str, Any], key: Ed25519PrivateKey, method: str, created: str
) -> dict[str, Any]:
    """``document`` with an assertion proof by ``key`` (published at ``method``)."""
    unsigned = {k: v for k, v in document.items() if k != "proof"}
    options = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": created,
        "verificationMethod": method,
        "proofPurpose": "assertionMethod",
    }
    signature = key.sign(_signed_bytes(options, unsigned, document.get("@context")))
    return {**unsigned, "proof": {**options, "proofValue": "z" + b58encode(signature)}}


def verify(document: dict[str, Any], public: Ed25519PublicKey, method: str) -> list[str]:
    """Why the proof of ``document`` does not hold with ``public`` (empty: it holds)."""
    proof = document.get("proof")
    if not isinstance(proof, dict):
        return ["the credential has no proof"]
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        return [f"unsupported proof: {proof.get('type')} / {proof.get('cryptosuite')}"]
    if proof.get("verificationMethod") != method:
        return [f"the proof's verification method is not {method}"]
    value = proof.get("proofValue")
    if not isinstance(value, str) or not value.startswith("z"):
        return ["the proof value is not base58btc multibase"]
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    unsigned = {k: v for k, v in document.items() if k != "proof"}
    try:
        public.verify(
            b58decode(value[1:]), _signed_bytes(options, unsigned, unsigned.get("@context"))
        )
    except (InvalidSignature, ValueError, TypeError):
        return ["the proof's signature does not match the credential"]
    return []


def _signed_bytes(options: dict[str, Any], unsigned: dict[str, Any], context: Any) -> bytes:
    # §3.3.4: the proof configuration carries the document's @context.
    config = {**options, "@context": context} if context is not None else options
    return hashlib.sha256(jcs(config)).digest() + hashlib.sha256(jcs(unsigned)).digest()


def _no_numbers(value: Any) -> None:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, dict):
        for item in value.values():
            _no_numbers(item)
        return
    if isinstance(value, list):
        for item in value:
            _no_numbers(item)
        return
    raise ValueError(f"cannot canonicalise {type(value).__name__} values")
