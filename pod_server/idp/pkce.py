"""Proof Key for Code Exchange (RFC 7636), S256 only (plain is refused: OAuth 2.1 §7.5.2)."""

from __future__ import annotations

import hashlib
import hmac
import re

from pod_server.auth.jose import b64url_encode

S256 = "S256"
# RFC 7636 §4.1 and §4.2: 43 to 128 unreserved characters.
_VALUE = re.compile(r"[A-Za-z0-9\-._~]{43,128}")


def well_formed(value: str) -> bool:
    """A code_verifier or code_challenge has the shape RFC 7636 §4.1/§4.2 allow."""
    return _VALUE.fullmatch(value) is not None


def challenge_of(verifier: str) -> str:
    """RFC 7636 §4.2: BASE64URL(SHA256(ASCII(code_verifier)))."""
    return b64url_encode(hashlib.sha256(verifier.encode("ascii")).digest())


def verify(verifier: str, challenge: str) -> bool:
    """RFC 7636 §4.6, in constant time."""
    if not well_formed(verifier):
        return False
    return hmac.compare_digest(challenge_of(verifier), challenge)
