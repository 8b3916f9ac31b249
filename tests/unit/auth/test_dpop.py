"""DPoP proof checks (RFC 9449 §4.3) as a pure function: no server, no network."""

from __future__ import annotations

from typing import Any

import pytest

from pod_server.auth import AuthConfig, InvalidCredentials, normalize_url, verify_dpop_proof
from pod_server.auth.agent import INVALID_DPOP_PROOF
from pod_server.auth.dpop import ProofKeys
from tests.unit.auth.conftest import URL, key
from tests.unit.auth.helpers import (
    ath_of,
    compact,
    hmac_token,
    mint_dpop_proof,
    public_jwk_dict,
    sign,
    thumbprint,
)

NOW = 1_700_000_000.0
CONFIG = AuthConfig()
TOKEN = "header.payload.signature"


def check(proof: str, method: str = "GET", url: str = URL, now: float = NOW, **kw: Any) -> Any:
    kw.setdefault("ath", ath_of(TOKEN))
    return verify_dpop_proof(proof, method, url, now, kw.pop("config", CONFIG), **kw)


def proof(alg: str = "ES256", method: str = "GET", url: str = URL, **kw: Any) -> str:
    kw.setdefault("iat", NOW)
    return mint_dpop_proof(key(alg, "client"), method, url, **kw)


def refused(proof_text: str, match: str, **kw: Any) -> None:
    with pytest.raises(InvalidCredentials, match=match) as info:
        check(proof_text, **kw)
    assert info.value.error == INVALID_DPOP_PROOF


@pytest.mark.parametrize("alg", ["ES256", "ES384", "RS256", "PS256", "EdDSA"])
def test_valid_proof(alg: str) -> None:
    result = check(proof(alg, ath=ath_of(TOKEN), jti="j-1"))
    assert result.jkt == thumbprint(key(alg, "client"))
    assert result.jti == "j-1"
    assert result.iat == NOW


def test_proof_without_ath_is_accepted() -> None:
    # The Inrupt SDK sends neither ath nor nonce on data requests.
    assert check(proof()).jti


def test_proof_keys_memo_gives_the_same_answer() -> None:
    keys = ProofKeys(max_entries=1)
    first = check(proof(jti="a"), keys=keys)
    second = check(proof(jti="b"), keys=keys)
    assert first.jkt == second.jkt
    assert check(proof("RS256"), keys=keys).jkt == thumbprint(key("RS256", "client"))


def test_alg_none_is_refused() -> None:
    header = {"typ": "dpop+jwt", "alg": "none", "jwk": public_jwk_dict(key("ES256", "client"))}
    refused(compact(header, {"htm": "GET", "htu": URL, "iat": NOW, "jti": "x"}), "alg")


def test_hs256_signed_with_the_public_key_is_refused() -> None:
    jwk = public_jwk_dict(key("ES256", "client"))
    header = {"typ": "dpop+jwt", "jwk": jwk}
    claims = {"htm": "GET", "htu": URL, "iat": NOW, "jti": "x"}
    refused(hmac_token(key("ES256", "client").export_to_pem(), header, claims), "alg")


def test_alg_outside_the_configured_list_is_refused() -> None:
    refused(proof("ES256"), "alg", config=AuthConfig(dpop_algs=("RS256",)))


def test_config_refuses_symmetric_algs() -> None:
    with pytest.raises(ValueError, match="HS256"):
        AuthConfig(dpop_algs=("ES256", "HS256"))


def test_missing_typ_is_refused() -> None:
    refused(proof(typ=None), "typ")


@pytest.mark.parametrize("typ", ["JWT", "at+jwt", "dpop"])
def test_wrong_typ_is_refused(typ: str) -> None:
    refused(proof(typ=typ), "typ")


def test_typ_is_a_case_insensitive_media_type() -> None:
    assert check(proof(typ="application/DPoP+JWT"))


def test_jwk_with_private_key_is_refused() -> None:
    private = key("ES256", "client").export_private(as_dict=True)
    refused(proof(header_jwk=private), "private")


def test_signature_by_another_key_is_refused() -> None:
    other = public_jwk_dict(key("ES256", "other"))
    refused(proof(header_jwk=other), "signature")


def test_jwk_that_does_not_fit_the_alg_is_refused() -> None:
    signer = key("ES256", "client")
    header = {"typ": "dpop+jwt", "alg": "ES384", "jwk": public_jwk_dict(signer)}
    refused(compact(header, {"htm": "GET", "htu": URL, "iat": NOW, "jti": "x"}, b"s" * 96), "fit")


def test_wrong_htm_is_refused() -> None:
    refused(proof(method="POST"), "htm")
    refused(proof(method="get"), "htm")  # RFC 9110 §9.1: methods are case-sensitive


@pytest.mark.parametrize(
    "htu",
    [
        "https://pod.example/alice/notes/other.ttl",
        "https://evil.example/alice/notes/doc.ttl",
        "http://pod.example/alice/notes/doc.ttl",
        "https://pod.example:8443/alice/notes/doc.ttl",
        "https://pod.example/alice/notes/doc.ttl/",
        "urn:x:y",
        "https://pod.example:99999/alice/notes/doc.ttl",
    ],
)
def test_wrong_htu_is_refused(htu: str) -> None:
    refused(proof(url=htu), "htu")


@pytest.mark.parametrize(
    "htu",
    [
        "HTTPS://POD.example/alice/notes/doc.ttl",
        "https://pod.example:443/alice/notes/doc.ttl",
        "https://pod.example/alice/notes/doc.ttl?x=1",
        "https://pod.example/alice/notes/doc.ttl#frag",
        "https://pod.example/alice/notes/%64oc.ttl",
        "https://user@pod.example/alice/notes/doc.ttl",
    ],
)
def test_htu_is_compared_after_normalisation(htu: str) -> None:
    assert check(proof(url=htu))


def test_request_url_is_normalised_too() -> None:
    assert check(proof(url=URL), url="https://Pod.Example:443/alice/notes/doc.ttl?q=2")


def test_normalize_url() -> None:
    assert normalize_url("HTTP://Example.COM:80") == "http://example.com/"
    assert normalize_url("http://[::1]:8080/a%2fb%7e") == "http://[::1]:8080/a%2Fb~"
    with pytest.raises(ValueError):
        normalize_url("ftp://example.com/")


def test_iat_in_the_future_is_refused() -> None:
    refused(proof(iat=NOW + CONFIG.clock_skew + 1), "future")
    assert check(proof(iat=NOW + CONFIG.clock_skew))  # within the skew


def test_old_proof_is_refused() -> None:
    refused(proof(iat=NOW - CONFIG.iat_window - 1), "old")
    assert check(proof(iat=NOW - CONFIG.iat_window))


@pytest.mark.parametrize("iat", ["1700000000", True, None, [1]])
def test_non_numeric_iat_is_refused(iat: object) -> None:
    refused(proof(extra={"iat": iat}), "iat")


def test_ath_mismatch_is_refused() -> None:
    refused(proof(ath=ath_of("another.token.value")), "ath")
    refused(proof(extra={"ath": 42}), "ath")
    refused(proof(ath="é" * 43), "ath")


def test_missing_or_oversized_jti_is_refused() -> None:
    refused(proof(extra={"jti": ""}), "jti")
    refused(proof(jti="x" * 257), "jti")


def test_missing_htu_is_refused() -> None:
    signer = key("ES256", "client")
    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": public_jwk_dict(signer)}
    refused(sign(signer, header, {"htm": "GET", "iat": NOW, "jti": "x"}), "htu")


@pytest.mark.parametrize("garbage", ["", "garbage", "a.b", "a.b.c.d", "@@.e30.AA", "e30.e30.AA"])
def test_malformed_proofs_are_refused(garbage: str) -> None:
    with pytest.raises(InvalidCredentials) as info:
        check(garbage)
    assert info.value.error == INVALID_DPOP_PROOF
