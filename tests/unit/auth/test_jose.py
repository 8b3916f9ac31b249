"""Compact JWS parsing, JWK validation and RFC 7638 thumbprints."""

from __future__ import annotations

import base64
import json

import pytest

from pod_server.auth.agent import InvalidCredentials
from pod_server.auth.jose import (
    ALGS,
    b64url_decode,
    parse_compact,
    public_jwk,
    verify_with,
)
from tests.unit.auth.conftest import key
from tests.unit.auth.helpers import compact, public_jwk_dict, sign, thumbprint


@pytest.mark.parametrize("alg", ["ES256", "ES384", "RS256", "EdDSA"])
def test_thumbprint_matches_jwcrypto(alg: str) -> None:
    k = key(alg)
    assert public_jwk(public_jwk_dict(k)).thumbprint == thumbprint(k)


def test_thumbprint_of_rfc7638_example() -> None:
    # RFC 7638 §3.1: the example RSA key and its SHA-256 thumbprint.
    n = (
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSo"
        "c_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YG"
        "jQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdk"
        "t-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqD"
        "Kgw"
    )
    jwk = {"kty": "RSA", "n": n, "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"}
    assert public_jwk(jwk).thumbprint == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


@pytest.mark.parametrize("alg", ["ES256", "RS256", "EdDSA"])
def test_private_jwk_is_refused(alg: str) -> None:
    private = key(alg).export_private(as_dict=True)
    with pytest.raises(InvalidCredentials, match="private"):
        public_jwk(private)


@pytest.mark.parametrize(
    "jwk",
    [
        {"kty": "oct", "k": "c2VjcmV0"},
        {"kty": "XYZ", "x": "AA"},
        {"kty": "EC", "crv": "P-256", "x": "AA"},
        {"kty": "EC", "crv": "P-256", "x": "A" * 43, "y": "A" * 43},  # not on the curve
        {"kty": "EC", "crv": "P-999", "x": "A" * 43, "y": "A" * 43},
        {"kty": "RSA", "n": "AQAB", "e": "AQAB"},  # far too small
        {"kty": "OKP", "crv": "X25519", "x": "A" * 43},
        {"kty": "OKP", "crv": "Ed25519", "x": "AAAA"},
        {"kty": "EC", "crv": "P-256", "x": 1, "y": 2},
        "not an object",
    ],
)
def test_unusable_jwks_are_refused(jwk: object) -> None:
    with pytest.raises(InvalidCredentials):
        public_jwk(jwk)


@pytest.mark.parametrize("segment", ["abc=", "ab+c", "a/bc", "abcde", "ab c", "é"])
def test_base64url_is_strict(segment: str) -> None:
    with pytest.raises(InvalidCredentials, match="base64url"):
        b64url_decode(segment, "x")


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        "a.b",
        "a.b.c.d",
        "e30.e30",
        "!!!.e30.AA",
        "e30.!!!.AA",
        base64.urlsafe_b64encode(b"not json").decode().rstrip("=") + ".e30.AA",
        "W10.e30.AA",  # header is a JSON array
        "e30.W10.AA",
        "e30.e30.AA." + "A" * 20_000,
    ],
)
def test_malformed_compact_jws_is_refused(token: str) -> None:
    with pytest.raises(InvalidCredentials):
        parse_compact(token, "token")


def test_deeply_nested_json_is_refused_not_crashing() -> None:
    deep = base64.urlsafe_b64encode(b"[" * 5000).decode().rstrip("=")
    with pytest.raises(InvalidCredentials, match="JSON"):
        parse_compact(f"{deep}.e30.AA", "token")


def test_critical_header_is_refused() -> None:
    with pytest.raises(InvalidCredentials, match="critical"):
        parse_compact(compact({"alg": "ES256", "crit": ["x"], "x": 1}, {}), "token")


@pytest.mark.parametrize("alg", ["ES256", "ES384", "RS256", "PS256", "EdDSA"])
def test_signatures_verify_with_the_right_key_only(alg: str) -> None:
    signer, other = key(alg), key(alg, "other")
    jws = parse_compact(sign(signer, {"alg": alg}, {"a": 1}), "token")
    right, wrong = public_jwk(public_jwk_dict(signer)), public_jwk(public_jwk_dict(other))
    assert verify_with(jws, ALGS[alg], (wrong, right), "token") is right
    with pytest.raises(InvalidCredentials, match="does not verify"):
        verify_with(jws, ALGS[alg], (wrong,), "token")


def test_key_must_fit_the_alg() -> None:
    ec_key = public_jwk(public_jwk_dict(key("ES256")))
    assert ec_key.fits(ALGS["ES256"])
    assert not ec_key.fits(ALGS["ES384"])  # wrong curve
    assert not ec_key.fits(ALGS["RS256"])  # wrong kty
    declared = public_jwk({**public_jwk_dict(key("RS256")), "alg": "RS256"})
    assert not declared.fits(ALGS["PS256"])  # RFC 7517 §4.4: the key's own alg binds it


def test_ecdsa_signature_of_wrong_length_does_not_verify() -> None:
    k = key("ES256")
    token = sign(k, {"alg": "ES256"}, {"a": 1})
    head, body, sig = token.split(".")
    der_like = base64.urlsafe_b64encode(base64.urlsafe_b64decode(sig + "==") + b"\0")
    jws = parse_compact(f"{head}.{body}.{der_like.decode().rstrip('=')}", "token")
    assert not public_jwk(public_jwk_dict(k)).verify(
        ALGS["ES256"], jws.signing_input, jws.signature
    )


def test_json_segments_decode() -> None:
    jws = parse_compact(compact({"alg": "ES256"}, {"n": [1, 2]}, b"sig"), "token")
    assert jws.header == {"alg": "ES256"}
    assert jws.claims == {"n": [1, 2]}
    assert jws.signature == b"sig"
    assert json.loads(base64.urlsafe_b64decode(jws.header_segment + "==")) == jws.header
