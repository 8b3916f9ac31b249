"""The default aiohttp fetcher against a real issuer and WebID server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from jwcrypto.jwk import JWK

from pod_server.auth import (
    AiohttpFetcher,
    AuthConfig,
    Authenticator,
    FetchError,
    MemoryReplayCache,
)
from tests.unit.auth.conftest import key
from tests.unit.auth.helpers import (
    ath_of,
    jwks_document,
    mint_access_token,
    mint_dpop_proof,
    profile_turtle,
    thumbprint,
)

POD_URL = "https://pod.example/alice/doc.ttl"


@dataclass
class IdentityServer:
    base: str
    issuer_key: JWK
    hits: dict[str, int] = field(default_factory=dict)

    @property
    def issuer(self) -> str:
        return self.base + "/"

    @property
    def webid(self) -> str:
        return self.base + "/alice/profile/card#me"


@pytest.fixture
async def idp() -> AsyncIterator[IdentityServer]:
    """An issuer (discovery + JWKS) and a WebID profile, served by a real aiohttp server."""
    server = IdentityServer("", key("ES256", "issuer"))

    def counted(name: str, body: bytes, content_type: str) -> web.Response:
        server.hits[name] = server.hits.get(name, 0) + 1
        return web.Response(body=body, content_type=content_type)

    async def discovery(_request: web.Request) -> web.Response:
        config = {"issuer": server.issuer, "jwks_uri": server.base + "/jwks"}
        return counted("discovery", json.dumps(config).encode(), "application/json")

    async def jwks(_request: web.Request) -> web.Response:
        return counted("jwks", jwks_document(server.issuer_key), "application/jwk-set+json")

    async def profile(_request: web.Request) -> web.Response:
        body = profile_turtle(server.webid, [server.issuer])
        return counted("profile", body, "text/turtle")

    async def huge(_request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.content_type = "text/turtle"
        await response.prepare(_request)
        for _ in range(64):  # chunked: no Content-Length to trust
            await response.write(b"#" * 65_536)
        return response

    release = asyncio.Event()

    async def slow(_request: web.Request) -> web.Response:
        await release.wait()  # answers only at teardown
        return web.Response(text="late")

    async def moved(_request: web.Request) -> web.Response:
        raise web.HTTPFound("/alice/profile/card")

    app = web.Application()
    app.router.add_get("/.well-known/openid-configuration", discovery)
    app.router.add_get("/jwks", jwks)
    app.router.add_get("/alice/profile/card", profile)
    app.router.add_get("/huge", huge)
    app.router.add_get("/moved", moved)
    app.router.add_get("/slow", slow)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    server.base = f"http://{host}:{port}"
    yield server
    release.set()
    await runner.cleanup()


async def test_full_flow_over_real_http(idp: IdentityServer) -> None:
    client = key("ES256", "client")
    auth = Authenticator(AuthConfig(), MemoryReplayCache())
    try:
        token = mint_access_token(idp.issuer_key, idp.issuer, idp.webid, thumbprint(client))
        for _ in range(3):
            proof = mint_dpop_proof(client, "GET", POD_URL, ath=ath_of(token))
            headers = {"Authorization": f"DPoP {token}", "DPoP": proof}
            agent = await auth.identify("GET", POD_URL, headers)
            assert agent.webid == idp.webid, agent.reason
            assert agent.issuer == idp.issuer
        assert idp.hits == {"discovery": 1, "jwks": 1, "profile": 1}
    finally:
        await auth.close()


async def test_fetcher_limits_and_errors(idp: IdentityServer) -> None:
    fetch = AiohttpFetcher(timeout=5.0, max_bytes=1_000_000)
    try:
        fetched = await fetch(idp.base + "/moved", "text/turtle")
        assert fetched.url == idp.base + "/alice/profile/card"  # after the redirect
        assert fetched.content_type == "text/turtle"
        with pytest.raises(FetchError, match="too large"):
            await fetch(idp.base + "/huge", "text/turtle")
        with pytest.raises(FetchError, match="404"):
            await fetch(idp.base + "/missing", "text/turtle")
        with pytest.raises(FetchError):
            await fetch("http://127.0.0.1:1/", "text/turtle")  # nothing listens there
        with pytest.raises(FetchError):
            await fetch("http://[::1", "text/turtle")
    finally:
        await fetch.close()
    await fetch.close()  # idempotent


async def test_fetcher_timeout_is_a_fetch_error(idp: IdentityServer) -> None:
    fetch = AiohttpFetcher(timeout=0.2, max_bytes=1_000_000)
    try:
        with pytest.raises(FetchError, match="timed out"):
            await fetch(idp.base + "/slow", "text/turtle")
    finally:
        await fetch.close()
