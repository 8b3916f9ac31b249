"""Random secrets and how they are stored: only their SHA-256 digest.

Codes, refresh tokens, client secrets and session ids are 256-bit random values, so a
plain SHA-256 digest is enough to keep them out of the database (no salt or stretching
needed: there is nothing to guess). Passwords are another matter: see ``accounts``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from pod_server.auth.jose import b64url_encode

SECRET_BYTES = 32


def new_secret(nbytes: int = SECRET_BYTES) -> str:
    return secrets.token_urlsafe(nbytes)


def digest(value: str) -> str:
    return b64url_encode(hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest())


def matches(value: str, stored_digest: str) -> bool:
    """Constant-time comparison of a presented secret with a stored digest."""
    return hmac.compare_digest(digest(value), stored_digest)
