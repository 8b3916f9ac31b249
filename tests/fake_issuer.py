"""A minimal Solid-OIDC issuer on loopback for tests: discovery, JWKS, WebID profiles.

It mints tokens directly (no login flow): enough for the resource server to verify them
exactly as it verifies tokens from a real issuer, over real HTTP.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web
from jwcrypto import jwk

from tests.conftest import free_socket
from tests.unit.auth.helpers import (
    ath_of,
    jwks_document,
    make_issuer_key,
    mint_access_token,
    mint_dpop_proof,
    profile_turtle,
    thumbprint,
)


@dataclass
class Caller:
    """An agent holding a DPoP key and an access token bound to it."""

    webid: str
    key: jwk.JWK
    token: str

    def headers(self, method: str, url: str, *, with_ath: bool = False) -> dict[str, str]:
        ath = ath_of(self.token) if with_ath else None
        proof = mint_dpop_proof(self.key, method, url, ath=ath)
        return {"Authorization": f"DPoP {self.token}", "DPoP": proof}


@dataclass
class Issuer:
    base: str
    key: jwk.JWK
    profiles: dict[str, bytes] = field(default_factory=dict)

    def webid(self, name: str) -> str:
        return f"{self.base}{name}/card#me"

    def add_person(self, name: str, issuers: Iterable[str] | None = None) -> str:
        webid = self.webid(name)
        listed = [self.base] if issuers is None else list(issuers)
        self.profiles[f"/{name}/card"] = profile_turtle(webid, listed)
        return webid

    def caller(self, name: str) -> Caller:
        webid = self.webid(name)
        client_key = make_issuer_key("ES256")
        token = mint_access_token(self.key, self.base, webid, thumbprint(client_key))
        return Caller(webid, client_key, token)


@asynccontextmanager
async def running_issuer() -> AsyncIterator[Issuer]:
    sock = free_socket()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    issuer = Issuer(base, make_issuer_key("ES256"))

    async def discovery(_: web.Request) -> web.Response:
        doc = {"issuer": base, "jwks_uri": base + "jwks"}
        return web.Response(text=json.dumps(doc), content_type="application/json")

    async def jwks(_: web.Request) -> web.Response:
        return web.Response(body=jwks_document(issuer.key), content_type="application/json")

    async def profile(request: web.Request) -> web.Response:
        body = issuer.profiles.get(request.path)
        if body is None:
            raise web.HTTPNotFound()
        return web.Response(body=body, content_type="text/turtle")

    app = web.Application()
    app.router.add_get("/.well-known/openid-configuration", discovery)
    app.router.add_get("/jwks", jwks)
    app.router.add_get("/{name}/card", profile)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    try:
        yield issuer
    finally:
        await runner.cleanup()
