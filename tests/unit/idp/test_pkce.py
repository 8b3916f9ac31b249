"""PKCE S256 (RFC 7636)."""

from __future__ import annotations

from pod_server.idp import pkce


def test_rfc7636_appendix_b_example() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert pkce.challenge_of(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    assert pkce.verify(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")


def test_mismatch_and_malformed_verifiers_fail() -> None:
    challenge = pkce.challenge_of("a" * 43)
    assert not pkce.verify("b" * 43, challenge)
    assert not pkce.verify("a" * 42, pkce.challenge_of("a" * 42))  # too short (§4.1)
    assert not pkce.verify("a" * 129, pkce.challenge_of("a" * 129))  # too long
    assert not pkce.verify("a" * 42 + "!", challenge)  # not unreserved


def test_well_formed() -> None:
    assert pkce.well_formed("A-._~" + "x" * 38)
    assert not pkce.well_formed("x" * 42)
    assert not pkce.well_formed("x" * 42 + " ")
