"""Client metadata (RFC 7591 §2, OIDC Dynamic Registration §2): validation and registration.

The same validation serves dynamic registration and Solid Client ID Documents
(Solid-OIDC §5.1), so a client is held to one set of rules however it introduces itself.
Unknown metadata is dropped (RFC 7591 §2: the server ignores what it does not understand);
everything kept is bounded in size.
"""

from __future__ import annotations

import ipaddress
import json
import uuid
from typing import Any
from urllib.parse import urlsplit

from pod_server.idp.crypto import digest, new_secret
from pod_server.idp.errors import INVALID_CLIENT_METADATA, INVALID_REDIRECT_URI, OAuthError
from pod_server.idp.keys import ALG
from pod_server.ldp.media_types import JSON_LD
from pod_server.state.base import IdpState, RegisteredClient

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")
GRANT_TYPES = ("authorization_code", "refresh_token")  # client_credentials: accounts only
MAX_URIS = 20
MAX_URI_LENGTH = 2_000
MAX_TEXT_LENGTH = 200
MAX_SCOPE_LENGTH = 1_000
MAX_CONTACTS = 10
URI_FIELDS = ("client_uri", "logo_uri", "tos_uri", "policy_uri")
JSON_TYPES = ("application/json", JSON_LD)


def is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def redirect_uri_problem(uri: object, allow_http: bool) -> str | None:
    """Why ``uri`` cannot be a redirection endpoint, or None when it can.

    RFC 6749 §3.1.2: absolute, no fragment. OAuth 2.0 Security BCP (RFC 9700 §2.6):
    https, or http on a loopback address for native apps (RFC 8252 §7.3); plain http
    elsewhere only when the provider itself runs on http (development).
    """
    if not isinstance(uri, str) or not uri:
        return "redirect URIs must be non-empty strings"
    if len(uri) > MAX_URI_LENGTH:
        return f"redirect URIs must be at most {MAX_URI_LENGTH} characters"
    try:
        parts = urlsplit(uri)
        host = parts.hostname or ""
        parts.port  # noqa: B018  (raises ValueError for a bad port)
    except ValueError:
        return "a redirect URI is not a valid URI"
    if parts.scheme not in ("https", "http") or not host:
        return "redirect URIs must be absolute http(s) URIs"
    if parts.fragment or "#" in uri:
        return "redirect URIs must not contain a fragment"
    if parts.scheme == "http" and not (allow_http or is_loopback(host)):
        return "http redirect URIs are only allowed on loopback addresses"
    return None


def _uri_list(doc: dict[str, Any], name: str, allow_http: bool, required: bool) -> list[str]:
    value = doc.get(name)
    if value is None and not required:
        return []
    if not isinstance(value, list) or not value:
        raise OAuthError(INVALID_REDIRECT_URI, f"{name} must be a non-empty array of URIs")
    if len(value) > MAX_URIS:
        raise OAuthError(INVALID_REDIRECT_URI, f"{name} may hold at most {MAX_URIS} URIs")
    for uri in value:
        problem = redirect_uri_problem(uri, allow_http)
        if problem:
            raise OAuthError(INVALID_REDIRECT_URI, f"{name}: {problem}")
    return list(dict.fromkeys(value))


def _text(doc: dict[str, Any], name: str, limit: int = MAX_TEXT_LENGTH) -> str | None:
    value = doc.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise OAuthError(INVALID_CLIENT_METADATA, f"{name} must be a string of at most {limit}")
    return value


def _choices(
    doc: dict[str, Any], name: str, allowed: tuple[str, ...], default: list[str]
) -> list[str]:
    value = doc.get(name, default)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise OAuthError(INVALID_CLIENT_METADATA, f"{name} must be an array of strings")
    unsupported = sorted(set(value) - set(allowed))
    if unsupported:
        raise OAuthError(
            INVALID_CLIENT_METADATA, f"{name} {', '.join(unsupported)[:100]} not supported"
        )
    return list(dict.fromkeys(value)) or default


def _http_uri(doc: dict[str, Any], name: str) -> str | None:
    value = _text(doc, name, MAX_URI_LENGTH)
    if value is not None and urlsplit(value).scheme not in ("http", "https"):
        raise OAuthError(INVALID_CLIENT_METADATA, f"{name} must be an http(s) URI")
    return value


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def validate_metadata(doc: object, *, allow_http: bool) -> dict[str, Any]:
    """The client metadata we keep, validated and completed with RFC 7591 §2 defaults."""
    if not isinstance(doc, dict):
        raise OAuthError(INVALID_CLIENT_METADATA, "client metadata must be a JSON object")
    if _has_nul(doc):  # never a meaningful value, and PostgreSQL's jsonb cannot hold one
        raise OAuthError(INVALID_CLIENT_METADATA, "client metadata must not contain NUL")
    meta: dict[str, Any] = {
        "redirect_uris": _uri_list(doc, "redirect_uris", allow_http, required=True),
        "response_types": _choices(doc, "response_types", ("code",), ["code"]),
        "grant_types": _choices(doc, "grant_types", GRANT_TYPES, ["authorization_code"]),
    }
    method = doc.get("token_endpoint_auth_method", "client_secret_basic")
    if method not in AUTH_METHODS:
        raise OAuthError(
            INVALID_CLIENT_METADATA, f"token_endpoint_auth_method must be one of {AUTH_METHODS}"
        )
    meta["token_endpoint_auth_method"] = method
    logout = _uri_list(doc, "post_logout_redirect_uris", allow_http, required=False)
    if logout:
        meta["post_logout_redirect_uris"] = logout
    _optional_fields(doc, meta)
    return meta


def _optional_fields(doc: dict[str, Any], meta: dict[str, Any]) -> None:
    application_type = doc.get("application_type", "web")
    if application_type not in ("web", "native"):
        raise OAuthError(INVALID_CLIENT_METADATA, "application_type must be web or native")
    meta["application_type"] = application_type
    alg = doc.get("id_token_signed_response_alg", ALG)
    if alg != ALG:  # OIDC Registration §2: we sign ID tokens with ES256 only
        raise OAuthError(INVALID_CLIENT_METADATA, f"id_token_signed_response_alg must be {ALG}")
    meta["id_token_signed_response_alg"] = ALG
    if doc.get("subject_type", "public") != "public":
        raise OAuthError(INVALID_CLIENT_METADATA, "subject_type must be public")
    for name, value in (
        ("client_name", _text(doc, "client_name")),
        ("scope", _text(doc, "scope", MAX_SCOPE_LENGTH)),
        *((name, _http_uri(doc, name)) for name in URI_FIELDS),
    ):
        if value is not None:
            meta[name] = value
    contacts = doc.get("contacts")
    if contacts is not None:
        if not isinstance(contacts, list) or len(contacts) > MAX_CONTACTS:
            raise OAuthError(INVALID_CLIENT_METADATA, f"contacts: at most {MAX_CONTACTS} strings")
        if not all(isinstance(c, str) and len(c) <= MAX_TEXT_LENGTH for c in contacts):
            raise OAuthError(INVALID_CLIENT_METADATA, "contacts must be short strings")
        meta["contacts"] = contacts


def parse_json_body(body: bytes, content_type: str, max_bytes: int) -> object:
    """The registration request body (RFC 7591 §3.1): a JSON object, size-bounded."""
    if len(body) > max_bytes:
        raise OAuthError(
            INVALID_CLIENT_METADATA, f"registration request larger than {max_bytes} bytes"
        )
    if content_type not in JSON_TYPES:
        raise OAuthError(INVALID_CLIENT_METADATA, "registration request must be application/json")
    try:
        return json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):  # JSONDecodeError, UnicodeDecodeError
        raise OAuthError(
            INVALID_CLIENT_METADATA, "registration request is not valid JSON"
        ) from None


async def register(state: IdpState, metadata: dict[str, Any], now: float) -> dict[str, Any]:
    """Store a new client; the RFC 7591 §3.2.1 response, with a secret for confidential ones."""
    client_id = uuid.uuid4().hex  # not a URL: URL client ids name Client ID Documents
    secret = None if metadata["token_endpoint_auth_method"] == "none" else new_secret()
    stored = RegisteredClient(client_id, metadata, digest(secret) if secret else None, now)
    await state.add_client(stored)
    response: dict[str, Any] = {**metadata, "client_id": client_id}
    response["client_id_issued_at"] = int(now)
    if secret is not None:
        response["client_secret"] = secret
        response["client_secret_expires_at"] = 0  # never
    return response
