"""Access-token claims and signatures as pure functions of token, keys and clock."""

from __future__ import annotations

from typing import Any

import pytest

from pod_server.auth import InvalidCredentials, check_claims, peek_access_token, public_jwk
from pod_server.auth.tokens import issuer_listed, verify_token_signature
from tests.unit.auth.conftest import ISSUER, WEBID, key
from tests.unit.auth.helpers import (
    compact,
    hmac_token,
    mint_access_token,
    public_jwk_dict,
    thumbprint,
)

NOW = 1_700_000_000.0
LEEWAY = 5.0
JKT = "jkt-value"


def claims(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "iss": ISSUER,
        "webid": WEBID,
        "aud": ["solid", "https://app.example/id"],
        "exp": NOW + 300,
        "iat": NOW,
        "client_id": "https://app.example/id",
        "cnf": {"jkt": JKT},
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def refused(values: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidCredentials, match=match):
        check_claims(values, NOW, LEEWAY)


def test_valid_claims() -> None:
    token = check_claims(claims(), NOW, LEEWAY)
    assert (token.issuer, token.webid, token.jkt) == (ISSUER, WEBID, JKT)
    assert token.client_id == "https://app.example/id"
    assert token.expires_at == NOW + 300


def test_aud_may_be_a_string_and_client_id_and_cnf_optional() -> None:
    token = check_claims(claims(aud="solid", client_id=None, cnf=None), NOW, LEEWAY)
    assert token.client_id is None
    assert token.jkt is None


def test_expired_token_is_refused() -> None:
    refused(claims(exp=NOW - LEEWAY), "expired")
    assert check_claims(claims(exp=NOW - LEEWAY + 1), NOW, LEEWAY)  # within the leeway


def test_exp_is_required_and_numeric() -> None:
    refused(claims(exp=None), "exp")
    refused(claims(exp="tomorrow"), "exp")
    refused(claims(exp=True), "exp")


def test_iat_or_nbf_in_the_future_is_refused() -> None:
    refused(claims(iat=NOW + LEEWAY + 1), "future")
    refused(claims(nbf=NOW + LEEWAY + 1), "not valid yet")
    assert check_claims(claims(iat=NOW + LEEWAY), NOW, LEEWAY)


@pytest.mark.parametrize("aud", [None, "https://pod.example/", ["other"], {"solid": 1}, 7])
def test_audience_must_include_solid(aud: object) -> None:
    refused(claims(aud=aud), "audience")


@pytest.mark.parametrize("webid", [None, "alice", "urn:x:alice", "ftp://x/", 42])
def test_webid_must_be_an_http_url(webid: object) -> None:
    refused(claims(webid=webid), "webid")


@pytest.mark.parametrize("iss", [None, "idp", "mailto:x@y", 3])
def test_issuer_must_be_an_http_url(iss: object) -> None:
    refused(claims(iss=iss), "iss")


def test_client_id_and_cnf_shapes() -> None:
    refused(claims(client_id=["x"]), "client_id")
    refused(claims(cnf={"x5t#S256": "abc"}), "jkt")
    refused(claims(cnf="jkt"), "jkt")


def test_signature_is_checked_against_the_issuer_keys() -> None:
    signer, other = key("RS256", "issuer"), key("RS256", "other")
    token = mint_access_token(signer, ISSUER, WEBID, JKT, iat=NOW, exp=NOW + 60)
    unverified = peek_access_token(token, NOW, LEEWAY)
    assert unverified.kid == signer["kid"]
    keys = [public_jwk(public_jwk_dict(signer))]
    assert verify_token_signature(unverified, keys).webid == WEBID
    with pytest.raises(InvalidCredentials, match="signature"):
        verify_token_signature(unverified, [public_jwk(public_jwk_dict(other))])


def test_alg_none_token_is_refused() -> None:
    with pytest.raises(InvalidCredentials, match="alg"):
        peek_access_token(compact({"alg": "none"}, claims()), NOW, LEEWAY)


def test_hs256_token_signed_with_the_public_key_is_refused() -> None:
    # RFC 8725 §2.1 key confusion: HMAC keyed with the issuer's public key bytes.
    pem = key("RS256", "issuer").export_to_pem()
    with pytest.raises(InvalidCredentials, match="alg"):
        peek_access_token(hmac_token(pem, {"kid": "k"}, claims()), NOW, LEEWAY)


def test_non_string_kid_is_refused() -> None:
    token = mint_access_token(
        key("ES256", "issuer"), ISSUER, WEBID, JKT, kid=None, iat=NOW, exp=NOW + 60, extra={}
    )
    assert peek_access_token(token, NOW, LEEWAY).kid is None
    with pytest.raises(InvalidCredentials, match="kid"):
        peek_access_token(compact({"alg": "ES256", "kid": 5}, claims()), NOW, LEEWAY)


def test_issuer_listed_ignores_a_trailing_slash() -> None:
    assert issuer_listed("https://idp.example/", ["https://idp.example"])
    assert issuer_listed("https://idp.example", ["https://idp.example/"])
    assert not issuer_listed("https://idp.example", ["https://idp.example.evil/"])
    assert not issuer_listed("https://idp.example", [])


def test_thumbprint_binding_round_trip() -> None:
    client = key("ES256", "client")
    token = mint_access_token(
        key("ES256", "issuer"), ISSUER, WEBID, thumbprint(client), iat=NOW, exp=NOW + 60
    )
    assert peek_access_token(token, NOW, LEEWAY).claims.jkt == thumbprint(client)
