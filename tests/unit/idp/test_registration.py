"""Client metadata validation (RFC 7591 §2) and the JSON body rules."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pod_server.idp.clients import from_document
from pod_server.idp.errors import (
    INVALID_CLIENT,
    INVALID_CLIENT_METADATA,
    INVALID_REDIRECT_URI,
    OAuthError,
)
from pod_server.idp.registration import parse_json_body, redirect_uri_problem, validate_metadata

GOOD = {"redirect_uris": ["https://app.example/cb"], "client_name": "App"}


def refused(doc: Any, error: str, *, allow_http: bool = False) -> str:
    with pytest.raises(OAuthError) as caught:
        validate_metadata(doc, allow_http=allow_http)
    assert caught.value.error == error, caught.value.description
    assert caught.value.status == 400
    return caught.value.description


def test_defaults_follow_rfc7591() -> None:
    meta = validate_metadata(GOOD, allow_http=False)
    assert meta["grant_types"] == ["authorization_code"]
    assert meta["response_types"] == ["code"]
    assert meta["token_endpoint_auth_method"] == "client_secret_basic"
    assert meta["client_name"] == "App"


def test_what_the_inrupt_browser_library_registers() -> None:
    doc = {
        "client_name": "Solid app",
        "application_type": "web",
        "redirect_uris": ["http://localhost:3001/"],
        "subject_type": "public",
        "token_endpoint_auth_method": "client_secret_basic",
        "id_token_signed_response_alg": "ES256",
        "grant_types": ["authorization_code", "refresh_token"],
    }
    meta = validate_metadata(doc, allow_http=False)
    assert meta["redirect_uris"] == ["http://localhost:3001/"]


def test_unknown_fields_are_dropped() -> None:
    meta = validate_metadata({**GOOD, "software_id": "x", "jwks": {"keys": []}}, allow_http=False)
    assert "software_id" not in meta and "jwks" not in meta


@pytest.mark.parametrize(
    "uris",
    [
        None,
        [],
        "https://app.example/cb",
        ["relative/cb"],
        ["https://app.example/cb#frag"],
        ["ftp://app.example/cb"],
        ["http://app.example/cb"],  # http off loopback on an https provider
        ["https://app.example:99999/cb"],
        ["https://app.example/" + "x" * 2000],
        [f"https://app.example/{i}" for i in range(21)],
        [42],
    ],
)
def test_bad_redirect_uris(uris: Any) -> None:
    doc = {**GOOD, "redirect_uris": uris} if uris is not None else {"client_name": "x"}
    refused(doc, INVALID_REDIRECT_URI)


def test_http_redirects() -> None:
    for uri in ("http://127.0.0.1:8080/cb", "http://[::1]/cb", "http://localhost/cb"):
        assert redirect_uri_problem(uri, allow_http=False) is None
    assert redirect_uri_problem("http://app.example/cb", allow_http=True) is None
    assert redirect_uri_problem("http://app.example/cb", allow_http=False) is not None


@pytest.mark.parametrize(
    "change",
    [
        {"grant_types": ["client_credentials"]},
        {"grant_types": ["implicit"]},
        {"grant_types": "authorization_code"},
        {"response_types": ["token"]},
        {"token_endpoint_auth_method": "private_key_jwt"},
        {"id_token_signed_response_alg": "RS256"},
        {"subject_type": "pairwise"},
        {"application_type": "desktop"},
        {"client_name": "x" * 201},
        {"client_name": ["x"]},
        {"logo_uri": "javascript:alert(1)"},
        {"contacts": ["a"] * 11},
        {"scope": "x" * 1001},
        {"client_name": "a\x00b"},
        {"extra": {"nested": ["\x00"]}},
    ],
)
def test_bad_metadata(change: dict[str, Any]) -> None:
    refused({**GOOD, **change}, INVALID_CLIENT_METADATA)


def test_not_an_object() -> None:
    refused(["redirect_uris"], INVALID_CLIENT_METADATA)


def test_body_rules() -> None:
    with pytest.raises(OAuthError, match="larger than 10 bytes"):
        parse_json_body(b"{" + b" " * 20 + b"}", "application/json", 10)
    with pytest.raises(OAuthError, match="must be application/json"):
        parse_json_body(b"{}", "text/plain", 100)
    with pytest.raises(OAuthError, match="not valid JSON"):
        parse_json_body(b"{'a': 1}", "application/json", 100)
    with pytest.raises(OAuthError, match="not valid JSON"):
        parse_json_body(b"[" * 5000 + b"]" * 5000, "application/json", 100_000)
    assert parse_json_body(b'{"a": 1}', "application/json", 100) == {"a": 1}


def test_client_id_document_must_name_itself() -> None:
    url = "https://app.example/id.jsonld"
    doc = {"@context": "https://www.w3.org/ns/solid/oidc-context.jsonld", "client_id": url, **GOOD}
    client = from_document(url, json.dumps(doc).encode(), "application/ld+json", False)
    assert client.kind == "document" and client.public and client.name == "App"
    for body, ctype in [
        (
            json.dumps({**doc, "client_id": "https://evil.example/id"}).encode(),
            "application/ld+json",
        ),
        (json.dumps(doc).encode(), "text/html"),
        (b"not json", "application/json"),
        (
            json.dumps({**doc, "redirect_uris": ["https://app.example/#x"]}).encode(),
            "application/json",
        ),
    ]:
        with pytest.raises(OAuthError) as caught:
            from_document(url, body, ctype, False)
        assert caught.value.error == INVALID_CLIENT
