"""The Authenticator end to end against a fake issuer, JWKS and WebID profile."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Callable

import pytest
from multidict import CIMultiDict

from pod_server.auth import (
    ANONYMOUS,
    Agent,
    AuthConfig,
    Authenticator,
    Fetched,
    FetchError,
    MemoryReplayCache,
)
from pod_server.auth.agent import INVALID_DPOP_PROOF, INVALID_TOKEN
from tests.unit.auth.conftest import DISCOVERY, ISSUER, JWKS, PROFILE, URL, WEBID, World, key
from tests.unit.auth.helpers import (
    ath_of,
    compact,
    hmac_token,
    jwks_document,
    make_issuer_key,
    profile_turtle,
    thumbprint,
)

MakeWorld = Callable[..., World]


def anonymous(agent: Agent, reason: str) -> None:
    assert not agent.authenticated
    assert agent.webid is None
    assert agent.reason is not None
    assert reason in agent.reason, agent.reason


# --- accepted -------------------------------------------------------------------------


async def test_no_authorization_header_is_plain_anonymous(world: World) -> None:
    agent = await world.identify({})
    assert agent is ANONYMOUS
    assert agent.reason is None
    assert world.web.calls == []


@pytest.mark.parametrize(
    ("issuer_alg", "client_alg"),
    [("ES256", "ES256"), ("RS256", "RS256"), ("PS256", "EdDSA"), ("EdDSA", "ES384")],
)
async def test_valid_flow(make_world: MakeWorld, issuer_alg: str, client_alg: str) -> None:
    w = make_world(issuer_alg, client_alg)
    agent = await w.identify(w.headers(w.token()))
    assert agent == Agent(webid=WEBID, client_id="https://app.example/id", issuer=ISSUER)
    assert agent.authenticated
    assert agent.reason is None


async def test_proof_without_ath_is_accepted(world: World) -> None:
    token = world.token()
    headers = {"Authorization": f"DPoP {token}", "DPoP": world.proof(None)}
    assert (await world.identify(headers)).authenticated


async def test_verified_token_is_cached_and_documents_fetched_once(world: World) -> None:
    token = world.token()
    for method in ("GET", "PUT", "GET", "DELETE"):
        agent = await world.identify(world.headers(token, method), method)
        assert agent.authenticated
    assert world.web.count(DISCOVERY) == 1
    assert world.web.count(JWKS) == 1
    assert world.web.count(PROFILE) == 1
    other_token = world.token(client_id="https://other.example/app")
    agent = await world.identify(world.headers(other_token))
    assert agent.client_id == "https://other.example/app"
    assert len(world.web.calls) == 3  # issuer keys and profile came from the cache


async def test_caches_expire_after_ttl(make_world: MakeWorld) -> None:
    w = make_world(cache_ttl=60.0)
    token = w.token(exp=w.clock.now + 3600)
    assert (await w.identify(w.headers(token))).authenticated
    w.clock.advance(61)
    assert (await w.identify(w.headers(token))).authenticated
    assert w.web.count(DISCOVERY) == 2
    assert w.web.count(PROFILE) == 2


async def test_concurrent_requests_share_one_fetch(world: World) -> None:
    token = world.token()
    agents = await asyncio.gather(*(world.identify(world.headers(token)) for _ in range(10)))
    assert all(a.authenticated for a in agents)
    assert world.web.count(DISCOVERY) == 1
    assert world.web.count(PROFILE) == 1


async def test_unknown_kid_triggers_one_jwks_refresh(make_world: MakeWorld) -> None:
    w = make_world(refresh_interval=30.0)
    assert (await w.identify(w.headers(w.token()))).authenticated
    rotated = make_issuer_key("ES256")
    w.web.serve(JWKS, jwks_document(w.issuer_key, rotated))
    w.clock.advance(31)
    assert (await w.identify(w.headers(w.token(signer=rotated)))).authenticated
    assert w.web.count(JWKS) == 2
    assert w.web.count(DISCOVERY) == 1
    # Another unknown kid right after: no new fetch (rate limit per issuer).
    stranger = make_issuer_key("ES256")
    agent = await w.identify(w.headers(w.token(signer=stranger)))
    anonymous(agent, "kid is unknown")
    assert w.web.count(JWKS) == 2
    w.clock.advance(31)
    anonymous(await w.identify(w.headers(w.token(signer=stranger))), "kid is unknown")
    assert w.web.count(JWKS) == 3


async def test_profile_may_name_the_issuer_without_trailing_slash(world: World) -> None:
    world.web.serve(PROFILE, profile_turtle(WEBID, ["https://idp.example"]), "text/turtle")
    assert (await world.identify(world.headers(world.token()))).authenticated


async def test_relative_profile_iris_resolve_against_the_document(world: World) -> None:
    turtle = b"<#me> <http://www.w3.org/ns/solid/terms#oidcIssuer> <https://idp.example/> ."
    world.web.serve(PROFILE, turtle, "text/turtle")
    assert (await world.identify(world.headers(world.token()))).authenticated


async def test_bearer_allowed_for_unbound_tokens(make_world: MakeWorld) -> None:
    w = make_world(allow_bearer=True)
    agent = await w.identify({"Authorization": f"Bearer {w.token(jkt=None)}"})
    assert agent.webid == WEBID


async def test_headers_may_be_a_case_insensitive_multidict(world: World) -> None:
    headers = CIMultiDict({k.lower(): v for k, v in world.headers(world.token()).items()})
    assert (await world.identify(headers)).authenticated


# --- refused: the token ---------------------------------------------------------------


async def test_alg_none_token(world: World) -> None:
    claims = {"iss": ISSUER, "webid": WEBID, "aud": "solid", "exp": world.clock.now + 60}
    token = compact({"alg": "none"}, claims)
    anonymous(await world.identify(world.headers(token)), "alg")


async def test_hs256_token_keyed_with_the_issuer_public_key(world: World) -> None:
    claims = {
        "iss": ISSUER,
        "webid": WEBID,
        "aud": "solid",
        "exp": world.clock.now + 60,
        "cnf": {"jkt": thumbprint(world.client_key)},
    }
    pem = world.issuer_key.export_to_pem()
    token = hmac_token(pem, {"kid": world.issuer_key["kid"]}, claims)
    anonymous(await world.identify(world.headers(token)), "alg")


async def test_token_signed_by_the_wrong_key(world: World) -> None:
    impostor = key("ES256", "other")
    token = world.token(signer=impostor, kid=world.issuer_key["kid"])
    anonymous(await world.identify(world.headers(token)), "signature does not verify")


async def test_expired_token(world: World) -> None:
    token = world.token(exp=world.clock.now - 60, iat=world.clock.now - 400)
    agent = await world.identify(world.headers(token))
    anonymous(agent, "expired")
    assert agent.error == INVALID_TOKEN
    assert world.web.calls == []  # refused before any network traffic


async def test_cached_token_expires_with_its_exp(world: World) -> None:
    token = world.token(exp=world.clock.now + 30)
    assert (await world.identify(world.headers(token))).authenticated
    world.clock.advance(40)
    anonymous(await world.identify(world.headers(token)), "expired")


async def test_token_iat_in_the_future(world: World) -> None:
    token = world.token(iat=world.clock.now + 600, exp=world.clock.now + 900)
    anonymous(await world.identify(world.headers(token)), "future")


async def test_token_without_solid_audience(world: World) -> None:
    anonymous(await world.identify(world.headers(world.token(aud="https://other/"))), "audience")
    anonymous(await world.identify(world.headers(world.token(aud=None))), "audience")


@pytest.mark.parametrize(
    "token",
    ["garbage", "a.b", "a.b.c.d", "@@@.e30.AA", "bm90IGpzb24.e30.AA", "e30.e30.AA", "..."],
)
async def test_malformed_tokens(world: World, token: str) -> None:
    agent = await world.identify(world.headers(token))
    assert not agent.authenticated
    assert agent.reason


async def test_webid_profile_not_naming_the_issuer(world: World) -> None:
    world.web.serve(PROFILE, profile_turtle(WEBID, ["https://other-idp.example/"]), "text/turtle")
    anonymous(await world.identify(world.headers(world.token())), "does not list")


async def test_webid_profile_naming_the_issuer_for_another_subject(world: World) -> None:
    other = "https://alice.example/profile/card#someone-else"
    world.web.serve(PROFILE, profile_turtle(other, [ISSUER]), "text/turtle")
    anonymous(await world.identify(world.headers(world.token())), "does not list")


async def test_webid_profile_broken_or_not_rdf(world: World) -> None:
    world.web.serve(PROFILE, b"<#me> this is not turtle", "text/turtle")
    anonymous(await world.identify(world.headers(world.token())), "not readable RDF")
    bob = world.token(webid="https://bob.example/card#me")
    world.web.serve("https://bob.example/card", b"<html></html>", "text/html")
    anonymous(await world.identify(world.headers(bob)), "not readable RDF")


async def test_webid_profile_in_json_ld(world: World) -> None:
    document = {
        "@id": WEBID,
        "http://www.w3.org/ns/solid/terms#oidcIssuer": {"@id": ISSUER},
    }
    world.web.serve(PROFILE, json.dumps(document).encode(), "application/ld+json")
    assert (await world.identify(world.headers(world.token()))).authenticated


async def test_discovery_naming_another_issuer(world: World) -> None:
    world.web.serve(
        DISCOVERY, b'{"issuer": "https://evil.example/", "jwks_uri": "' + JWKS.encode() + b'"}'
    )
    anonymous(await world.identify(world.headers(world.token())), "different issuer")


@pytest.mark.parametrize(
    "failure",
    [FetchError("GET answered 500"), OSError("connection refused"), TimeoutError()],
)
async def test_unreachable_issuer(world: World, failure: BaseException) -> None:
    world.web.failures[DISCOVERY] = failure
    anonymous(await world.identify(world.headers(world.token())), "issuer could not be reached")
    # Not asked again right away: a flood of tokens is not a flood of fetches.
    anonymous(await world.identify(world.headers(world.token())), "issuer could not be reached")
    assert world.web.count(DISCOVERY) == 1
    world.clock.advance(world.config.refresh_interval + 1)
    del world.web.failures[DISCOVERY]
    assert (await world.identify(world.headers(world.token()))).authenticated


async def test_a_busy_profile_server_is_asked_again_soon(world: World) -> None:
    world.web.failures[PROFILE] = FetchError("GET answered 503", transient=True)
    anonymous(await world.identify(world.headers(world.token())), "could not be fetched")
    anonymous(await world.identify(world.headers(world.token())), "read recently")
    assert world.web.count(PROFILE) == 1  # a flood of tokens is still not a flood of fetches
    world.clock.advance(world.config.transient_retry + 0.1)  # not refresh_interval
    del world.web.failures[PROFILE]
    assert (await world.identify(world.headers(world.token()))).authenticated


async def test_known_issuers_outlive_a_busy_profile_server(world: World) -> None:
    assert (await world.identify(world.headers(world.token()))).authenticated
    world.clock.advance(world.config.cache_ttl + 1)  # the profile must be read again...
    world.web.failures[PROFILE] = FetchError("GET timed out", transient=True)
    assert (await world.identify(world.headers(world.token()))).authenticated  # ...it can't
    world.clock.advance(world.config.cache_ttl)  # too long without a fresh read: refused
    anonymous(await world.identify(world.headers(world.token())), "could not be fetched")


async def test_a_missing_profile_is_not_retried_at_once(world: World) -> None:
    assert (await world.identify(world.headers(world.token()))).authenticated
    world.clock.advance(world.config.cache_ttl + 1)
    world.web.failures[PROFILE] = FetchError("GET answered 404")  # an answer: no stale use
    anonymous(await world.identify(world.headers(world.token())), "could not be fetched")
    world.clock.advance(world.config.transient_retry + 0.1)
    anonymous(await world.identify(world.headers(world.token())), "read recently")


async def test_hanging_issuer_times_out(world: World) -> None:
    async def hang(url: str, accept: str) -> Fetched:
        await asyncio.sleep(10)
        raise AssertionError("unreachable")

    config = AuthConfig(fetch_timeout=0.05)
    auth = Authenticator(config, MemoryReplayCache(10, world.clock), hang, world.clock)
    try:
        headers = world.headers(world.token())
        anonymous(await auth.identify("GET", URL, headers), "timed out")
    finally:
        await auth.close()


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"keys": "none"}', b'{"keys": []}'])
async def test_unusable_jwks(world: World, body: bytes) -> None:
    world.web.serve(JWKS, body)
    anonymous(await world.identify(world.headers(world.token())), "issuer")


async def test_oversized_document_is_refused(make_world: MakeWorld) -> None:
    w = make_world(max_document_bytes=1000)
    w.web.serve(PROFILE, profile_turtle(WEBID, [ISSUER]) + b"#" * 2000, "text/turtle")
    anonymous(await w.identify(w.headers(w.token())), "too large")


async def test_bearer_refused_by_default(world: World) -> None:
    agent = await world.identify({"Authorization": f"Bearer {world.token(jkt=None)}"})
    anonymous(agent, "Bearer tokens are not accepted")
    assert world.web.calls == []


async def test_dpop_bound_token_presented_as_bearer(make_world: MakeWorld) -> None:
    w = make_world(allow_bearer=True)
    anonymous(await w.identify({"Authorization": f"Bearer {w.token()}"}), "presented as Bearer")


@pytest.mark.parametrize(
    "authorization", ["Basic dXNlcjpwYXNz", "DPoP", "DPoP ", "DPoP a b", "DPoP tök.en.x", ""]
)
async def test_unusable_authorization_headers(world: World, authorization: str) -> None:
    agent = await world.identify({"Authorization": authorization, "DPoP": "x"})
    assert not agent.authenticated
    assert agent.reason


# --- refused: the proof ---------------------------------------------------------------


async def test_missing_or_repeated_dpop_header(world: World) -> None:
    token = world.token()
    anonymous(await world.identify({"Authorization": f"DPoP {token}"}), "exactly one DPoP")
    headers = CIMultiDict(world.headers(token))
    headers.add("DPoP", world.proof(token))
    agent = await world.identify(headers)
    anonymous(agent, "exactly one DPoP")
    assert agent.error == INVALID_DPOP_PROOF


async def test_wrong_htu(world: World) -> None:
    headers = world.headers(world.token(), url="https://pod.example/alice/other")
    anonymous(await world.identify(headers), "htu")


async def test_wrong_htm(world: World) -> None:
    anonymous(await world.identify(world.headers(world.token(), "GET"), "PUT"), "htm")


async def test_proof_iat_in_the_future(world: World) -> None:
    headers = world.headers(world.token(), iat=world.clock.now + 30)
    anonymous(await world.identify(headers), "future")


async def test_replayed_proof(world: World) -> None:
    headers = world.headers(world.token())
    assert (await world.identify(headers)).authenticated
    agent = await world.identify(headers)
    anonymous(agent, "already used")
    assert agent.error == INVALID_DPOP_PROOF


async def test_odd_jti_values_are_remembered(world: World) -> None:
    token = world.token()
    for jti in ("\ud800 lone surrogate", "x" * 256):
        headers = world.headers(token, jti=jti)
        assert (await world.identify(headers)).authenticated
        anonymous(await world.identify(headers), "already used")
    anonymous(await world.identify(world.headers(token, jti="x" * 257)), "jti is too long")


async def test_replay_cache_full_refuses(world: World) -> None:
    for i in range(1000):
        world.replay.add_now(f"filler-{i}", world.clock.now + 60)
    anonymous(await world.identify(world.headers(world.token())), "replay cache is full")


async def test_ath_mismatch(world: World) -> None:
    headers = world.headers(world.token(), ath=ath_of("some.other.token"))
    anonymous(await world.identify(headers), "ath")


async def test_cnf_jkt_mismatch(world: World) -> None:
    token = world.token(jkt=thumbprint(key("ES256", "other")))
    anonymous(await world.identify(world.headers(token)), "cnf.jkt")
    assert world.web.calls == []


async def test_non_ascii_jkt_and_ath(world: World) -> None:
    token = world.token(jkt="é" * 43)
    anonymous(await world.identify(world.headers(token)), "cnf.jkt")
    anonymous(await world.identify(world.headers(world.token(), ath="ü" * 43)), "ath")


async def test_cnf_jkt_mismatch_on_a_cached_token(world: World) -> None:
    token = world.token()
    assert (await world.identify(world.headers(token))).authenticated
    thief = world.headers(token, signer=key("ES256", "other"))  # stolen token, own key
    anonymous(await world.identify(thief), "cnf.jkt")


async def test_unbound_token_with_dpop_scheme(world: World) -> None:
    anonymous(await world.identify(world.headers(world.token(jkt=None))), "cnf.jkt")


async def test_proof_missing_typ(world: World) -> None:
    anonymous(await world.identify(world.headers(world.token(), typ=None)), "typ")


async def test_proof_jwk_with_private_key(world: World) -> None:
    private = world.client_key.export_private(as_dict=True)
    anonymous(await world.identify(world.headers(world.token(), header_jwk=private)), "private")


async def test_proof_with_alg_none(world: World) -> None:
    token = world.token()
    header = {"typ": "dpop+jwt", "alg": "none", "jwk": world.client_key.export_public(as_dict=True)}
    claims = {"htm": "GET", "htu": URL, "iat": world.clock.now, "jti": "x", "ath": ath_of(token)}
    agent = await world.identify(
        {"Authorization": f"DPoP {token}", "DPoP": compact(header, claims)}
    )
    anonymous(agent, "alg")


# --- robustness -----------------------------------------------------------------------


async def test_tokens_are_never_logged(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="pod_server.auth")
    token = world.token(aud="nobody")
    headers = world.headers(token)
    await world.identify(headers)
    assert "audience" in caplog.text
    assert token not in caplog.text
    assert headers["DPoP"] not in caplog.text


async def test_mangled_credentials_never_raise(world: World) -> None:
    rng = random.Random(9449)
    token = world.token()
    assert (await world.identify(world.headers(token))).authenticated
    alphabet = 'ABCxyz019-_.=+/ "{}é\x00'
    for _ in range(400):
        headers = world.headers(token)
        name = rng.choice(["Authorization", "DPoP"])
        value = list(headers[name])
        for _ in range(rng.randint(1, 4)):
            position = rng.randrange(len(value))
            if rng.random() < 0.5:
                value[position] = rng.choice(alphabet)
            else:
                del value[position]
        headers[name] = "".join(value)
        agent = await world.identify(headers)
        assert isinstance(agent, Agent)
        if agent.authenticated:  # a mutation in ignorable bytes: still this caller
            assert agent.webid == WEBID
