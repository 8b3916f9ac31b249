"""Tokens we mint pass the resource server's own checks (pod_server.auth)."""

from __future__ import annotations

import time

from pod_server.auth.jose import ALGS, parse_compact
from pod_server.auth.tokens import peek_access_token, verify_token_signature
from pod_server.idp.config import IdpConfig
from pod_server.idp.keys import Signer, load_signer, new_key
from pod_server.idp.minting import Grant, access_token, id_token

ISSUER = "http://127.0.0.1:3000/"
WEBID = "http://127.0.0.1:3000/alice/profile/card#me"


def signer() -> Signer:
    now = time.time()
    return load_signer(new_key(now, now, IdpConfig()))


def test_access_token_passes_the_resource_server_checks() -> None:
    s = signer()
    now = time.time()
    grant = Grant(ISSUER, WEBID, "client-1", "thumb", "openid webid")
    token = access_token(s, grant, now, 600)
    unverified = peek_access_token(token, now, 5)
    assert unverified.kid == s.kid
    claims = verify_token_signature(unverified, [s.verifier])
    assert (claims.issuer, claims.webid, claims.client_id, claims.jkt) == (
        ISSUER, WEBID, "client-1", "thumb",
    )  # fmt: skip
    raw = parse_compact(token, "t")
    assert raw.header == {"alg": "ES256", "typ": "at+jwt", "kid": s.kid}
    assert raw.claims["aud"] == ["solid", "client-1"]
    assert raw.claims["exp"] - raw.claims["iat"] == 600
    assert raw.claims["sub"] == WEBID


def test_id_token_claims() -> None:
    s = signer()
    grant = Grant(ISSUER, WEBID, "client-1", "thumb", "openid", auth_time=123.9, nonce="n-1")
    raw = parse_compact(id_token(s, grant, 1000.0, 3600), "t")
    assert raw.claims["aud"] == "client-1" and raw.claims["azp"] == "client-1"
    assert raw.claims["webid"] == WEBID and raw.claims["nonce"] == "n-1"
    assert raw.claims["auth_time"] == 123 and raw.claims["exp"] == 4600
    assert s.verifier.verify(ALGS["ES256"], raw.signing_input, raw.signature)


def test_jwcrypto_verifies_our_signatures() -> None:
    """An independent JOSE implementation accepts what we sign."""
    from jwcrypto import jwk, jwt

    s = signer()
    token = access_token(s, Grant(ISSUER, WEBID, "c", "j", "webid"), time.time(), 60)
    parsed = jwt.JWT(jwt=token, key=jwk.JWK(**s.public), algs=["ES256"])
    assert '"webid"' in parsed.claims
