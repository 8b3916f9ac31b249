"""UMA permission tickets and the short-lived access tokens a grant is exchanged for.

Both are stateless (a payload and its HMAC), keyed from the issuer's signing key so every
process of a deployment accepts them. An access token names a consent record; each use
re-reads the record, so a withdrawal ends tokens already issued.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pod_server.access.modes import NO_MODES, Mode
from pod_server.consent.model import ConsentRecord

TOKEN_PREFIX = "agt."  # tells our tokens from Solid-OIDC ones without parsing
TICKET_PREFIX = "umt."
TOKEN_SECONDS = 300
TICKET_SECONDS = 300


@dataclass(frozen=True, slots=True)
class GrantToken:
    root: str
    record: str  # consent record id
    webid: str  # the holder the token was issued to (the grant's isProvidedTo)
    expires: float


class Minter:
    """Makes and checks tickets and tokens with one deployment secret."""

    def __init__(self, secret: bytes, clock: Callable[[], float] = time.time) -> None:
        self._secret = secret
        self._clock = clock

    def ticket(self) -> str:
        return TICKET_PREFIX + self._seal(
            {"n": secrets.token_urlsafe(8), "exp": self._in(TICKET_SECONDS)}
        )

    def ticket_valid(self, ticket: str) -> bool:
        payload = self._open(ticket, TICKET_PREFIX)
        return payload is not None and payload.get("exp", 0) > self._clock()

    def token(self, root: str, record: str, webid: str) -> tuple[str, int]:
        payload = {"r": root, "id": record, "sub": webid, "exp": self._in(TOKEN_SECONDS)}
        return TOKEN_PREFIX + self._seal(payload), TOKEN_SECONDS

    def read_token(self, token: str) -> GrantToken | None:
        """The token's claims, or None when it is not ours, altered or expired."""
        payload = self._open(token, TOKEN_PREFIX)
        if payload is None or payload.get("exp", 0) <= self._clock():
            return None
        try:
            return GrantToken(payload["r"], payload["id"], payload["sub"], payload["exp"])
        except KeyError:
            return None

    def _in(self, seconds: int) -> int:
        return int(self._clock()) + seconds

    def _seal(self, payload: dict[str, Any]) -> str:
        body = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
        return body + "." + self._mac(body)

    def _open(self, sealed: str, prefix: str) -> dict[str, Any] | None:
        if not sealed.startswith(prefix):
            return None
        body, _, mac = sealed[len(prefix) :].partition(".")
        if not hmac.compare_digest(mac, self._mac(body)):
            return None
        try:
            payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except ValueError:
            return None
        return payload if isinstance(payload, dict) else None

    def _mac(self, body: str) -> str:
        digest = hmac.new(self._secret, body.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def method_modes(method: str) -> tuple[Mode, ...]:
    """Modes any one of which lets a grant cover ``method`` (WAC then decides exactly)."""
    if method in ("GET", "HEAD"):
        return (Mode.READ,)
    if method in ("POST", "PATCH"):
        return (Mode.APPEND, Mode.WRITE)
    if method in ("PUT", "DELETE"):
        return (Mode.WRITE,)
    return (NO_MODES,)  # OPTIONS: needs nothing


def covers(record: ConsentRecord, url: str, method: str) -> bool:
    """Whether ``record``'s granted targets allow ``method`` on ``url``."""
    for target in record.granted:
        inside = url == target.url or (target.url.endswith("/") and url.startswith(target.url))
        if inside and any(mode in target.modes for mode in method_modes(method)):
            return True
    return False
