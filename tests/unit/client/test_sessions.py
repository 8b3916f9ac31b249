"""DPoP proofs, sign-in against a scripted provider, renewal, persistence, logout."""

from __future__ import annotations

import asyncio
import base64
import json
import stat
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from jwcrypto import jwk, jws

from client import AuthenticationError, PodClient, ProfileStore, Response, Unauthorized
from client.auth import Session, claims_of, login_client_credentials, pkce_pair
from client.dpop import DpopKey, token_hash
from tests.unit.client.helpers import ISSUER, POD, WEBID, FakeServer, discovery, session, token


def verify_proof(proof: str) -> tuple[dict, dict]:  # type: ignore[type-arg]
    token = jws.JWS()
    token.deserialize(proof)
    header = token.jose_header
    token.verify(jwk.JWK(**header["jwk"]))  # signed by the key it names
    return header, json.loads(token.payload)


def test_dpop_proofs() -> None:
    key = DpopKey.generate()
    header, claims = verify_proof(key.proof("get", "https://h/a?q=1#f", access_token="tok"))
    assert header["typ"] == "dpop+jwt" and header["alg"] == "ES256" and "d" not in header["jwk"]
    assert claims["htm"] == "GET" and claims["htu"] == "https://h/a"
    assert claims["ath"] == token_hash("tok")
    _, other = verify_proof(key.proof("GET", "https://h/a", nonce="n"))
    assert other["jti"] != claims["jti"] and other["nonce"] == "n" and "ath" not in other
    again = DpopKey.from_json(key.to_json())
    assert again.thumbprint() == key.thumbprint() == jwk.JWK(**key.public_jwk).thumbprint()
    verifier, challenge = pkce_pair()
    assert 43 <= len(verifier) <= 128 and len(challenge) == 43


async def test_client_credentials_login() -> None:
    server = FakeServer()
    server.on("GET", ISSUER + ".well-known/openid-configuration", discovery())
    server.on("POST", ISSUER + "token", token())
    s = await login_client_credentials(server.transport, ISSUER, "id:1", "s&cret")
    assert s.webid == WEBID and s.kind == "client_credentials" and s.refresh_token is None
    (sent,) = server.sent("POST")
    basic = base64.b64decode(sent.headers["Authorization"].split()[1]).decode()
    assert basic == "id%3A1:s%26cret"  # RFC 6749 §2.3.1: form-urlencoded, then Basic
    form = parse_qs(sent.body.decode())  # type: ignore[union-attr]
    assert form == {"grant_type": ["client_credentials"], "scope": ["webid"]}
    _, claims = verify_proof(sent.headers["DPoP"])
    assert claims["htu"] == ISSUER + "token" and "ath" not in claims


async def test_login_failures_are_clear() -> None:
    server = FakeServer()
    server.on(
        "GET",
        ISSUER + ".well-known/openid-configuration",
        discovery("https://elsewhere.example/"),
    )
    with pytest.raises(AuthenticationError, match="elsewhere"):
        await login_client_credentials(server.transport, ISSUER, "a", "b")
    server.on("GET", ISSUER + ".well-known/openid-configuration", discovery())
    server.on(
        "POST",
        ISSUER + "token",
        Response(
            401,
            {"Content-Type": "application/json"},
            '{"error": "invalid_client", "error_description": "client authentication failed"}',
        ),
    )
    with pytest.raises(AuthenticationError) as caught:
        await login_client_credentials(server.transport, ISSUER, "a", "b")
    assert caught.value.error == "invalid_client" and caught.value.status == 401
    assert "client authentication failed" in str(caught.value)


async def test_token_endpoint_nonce_is_answered() -> None:
    server = FakeServer()
    server.on("GET", ISSUER + ".well-known/openid-configuration", discovery())
    server.on(
        "POST",
        ISSUER + "token",
        Response(400, {"DPoP-Nonce": "abc"}, '{"error": "use_dpop_nonce"}'),
        token(),
    )
    await login_client_credentials(server.transport, ISSUER, "a", "b")
    first, second = server.sent("POST")
    assert "nonce" not in claims_of(first.headers["DPoP"])
    assert claims_of(second.headers["DPoP"])["nonce"] == "abc"


async def test_renewal_before_expiry_once_for_concurrent_requests() -> None:
    now = [1000.0]
    server = FakeServer()
    server.on("POST", ISSUER + "token", token(2))
    server.on("GET", POD + "x", Response(200, {}, "ok"))
    s = session(lambda: now[0], client_secret="secret")
    s.accept(json.loads(await token(1).read()))
    async with PodClient(s, transport=server.transport) as pod:
        await pod.get(POD + "x")
        assert not server.sent("POST")  # fresh: no renewal
        now[0] += 300 - 30  # within a minute of expiry
        await asyncio.gather(*(pod.get(POD + "x") for _ in range(5)))
        assert len(server.sent("POST")) == 1  # one renewal for all five
        assert claims_of(s.access_token)["n"] == 2
        last = server.sent("GET")[-1]
        assert verify_proof(last.headers["DPoP"])[1]["ath"] == token_hash(s.access_token)


async def test_refresh_grant_rotates_and_failure_asks_to_sign_in_again() -> None:
    server = FakeServer()
    server.on(
        "POST",
        ISSUER + "token",
        token(2, refresh_token="r2"),
        Response(400, {}, '{"error": "invalid_grant", "error_description": "revoked"}'),
    )
    changes: list[str | None] = []
    s = session(lambda: 0.0, kind="authorization_code", refresh_token="r1")
    s.on_change = lambda x: changes.append(x.refresh_token)
    await s.renew(server.transport)
    form = parse_qs(server.sent("POST")[0].body.decode())  # type: ignore[union-attr]
    assert form == {"grant_type": ["refresh_token"], "refresh_token": ["r1"], "client_id": ["cid"]}
    assert s.refresh_token == "r2" and changes == ["r2"]
    with pytest.raises(Unauthorized, match="revoked") as caught:
        await s.renew(server.transport, force=True)
    assert "pod login" in str(caught.value)
    plain = session(lambda: 0.0, kind="authorization_code")
    with pytest.raises(Unauthorized, match="cannot be renewed"):
        await plain.renew(server.transport)


async def test_a_token_the_server_refuses_is_renewed_once() -> None:
    server = FakeServer()
    server.on("POST", ISSUER + "token", token(2))
    refused = Response(401, {"WWW-Authenticate": 'DPoP error="invalid_token"'})
    server.on("GET", POD + "x", refused, Response(200, {}, "ok"), refused)
    s = session(lambda: 0.0, client_secret="s")
    s.accept(json.loads(await token(1).read()))
    async with PodClient(s, transport=server.transport) as pod:
        assert (await pod.get(POD + "x")).text() == "ok"
        with pytest.raises(Unauthorized, match="did not accept the session"):
            await pod.get(POD + "x")  # refused again after one more renewal: give up
    assert len(server.sent("POST")) == 2


async def test_profiles_are_private_files_and_logout_revokes(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path / "cfg" / "sessions")
    s = session(lambda: 0.0, kind="authorization_code", refresh_token="r1", webid=WEBID)
    s.access_token, s.expires_at = "tok", 500.0
    path = store.save("work", s)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert store.names() == ["work"]
    loaded = store.load("work")
    assert loaded is not None and loaded.to_dict() == s.to_dict()
    assert loaded.key.thumbprint() == s.key.thumbprint()
    with pytest.raises(ValueError, match="profile name"):
        store.path("../escape")
    (store.directory / "broken.json").write_text("{")
    with pytest.raises(ValueError, match="cannot read"):
        store.load("broken")

    server = FakeServer()
    server.on("POST", ISSUER + "revoke", Response(200, {}, "{}"))
    pod = PodClient.from_profile("work", store=store, transport=server.transport)
    assert pod.webid == WEBID
    assert await pod.logout() is True
    revoked = [parse_qs(r.body.decode()) for r in server.sent("POST")]  # type: ignore[union-attr]
    assert {"token": ["r1"], "token_type_hint": ["refresh_token"], "client_id": ["cid"]} in revoked
    assert store.load("work") is None and pod.session is None


def test_session_from_a_bad_file() -> None:
    with pytest.raises(ValueError, match="not a usable saved session"):
        Session.from_dict({"issuer": ISSUER})
