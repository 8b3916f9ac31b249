"""OAuth errors (RFC 6749 §5.2, RFC 7591 §3.2.2, RFC 9449 §5) and their one rendering."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

INVALID_REQUEST = "invalid_request"
INVALID_CLIENT = "invalid_client"
INVALID_GRANT = "invalid_grant"
UNAUTHORIZED_CLIENT = "unauthorized_client"
UNSUPPORTED_GRANT_TYPE = "unsupported_grant_type"
UNSUPPORTED_RESPONSE_TYPE = "unsupported_response_type"
INVALID_SCOPE = "invalid_scope"
ACCESS_DENIED = "access_denied"
INVALID_DPOP_PROOF = "invalid_dpop_proof"  # RFC 9449 §5
INVALID_CLIENT_METADATA = "invalid_client_metadata"  # RFC 7591 §3.2.2
INVALID_REDIRECT_URI = "invalid_redirect_uri"
LOGIN_REQUIRED = "login_required"  # OIDC Core §3.1.2.6
CONSENT_REQUIRED = "consent_required"
REQUEST_NOT_SUPPORTED = "request_not_supported"
REQUEST_URI_NOT_SUPPORTED = "request_uri_not_supported"
TEMPORARILY_UNAVAILABLE = "temporarily_unavailable"
SLOW_DOWN = "slow_down"

# RFC 6749 §5.2: error_description is %x20-21 / %x23-5B / %x5D-7E.
_UNSAFE = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}  # RFC 6749 §5.1


class OAuthError(Exception):
    """An error the client is told about, as ``{"error", "error_description"}``."""

    def __init__(
        self,
        error: str,
        description: str,
        status: int = 400,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = _UNSAFE.sub(" ", description)[:300]
        self.status = status
        self.headers = dict(headers or {})

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


def json_response(
    body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """A JSON answer that no cache keeps: every token endpoint answer holds secrets."""
    return web.Response(
        status=status,
        text=json.dumps(body, separators=(",", ":")),
        content_type="application/json",
        headers={**NO_STORE, **(headers or {})},
    )


def error_response(exc: OAuthError) -> web.Response:
    return json_response(exc.body(), exc.status, exc.headers)
