"""A fake Solid world per test: one issuer, one WebID, one client key, a settable clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from jwcrypto.jwk import JWK

from pod_server.auth import Agent, AuthConfig, Authenticator, MemoryReplayCache
from tests.unit.auth.helpers import (
    Clock,
    FakeWeb,
    ath_of,
    make_issuer_key,
    mint_access_token,
    mint_dpop_proof,
    thumbprint,
)

ISSUER = "https://idp.example/"
WEBID = "https://alice.example/profile/card#me"
PROFILE = "https://alice.example/profile/card"
DISCOVERY = "https://idp.example/.well-known/openid-configuration"
JWKS = "https://idp.example/jwks"
URL = "https://pod.example/alice/notes/doc.ttl"

_KEYS: dict[str, JWK] = {}


def key(alg: str, name: str = "default") -> JWK:
    """Keys are slow to generate (RSA); share them across tests by algorithm and role."""
    if (alg, name) not in _KEYS:
        _KEYS[alg, name] = make_issuer_key(alg)
    return _KEYS[alg, name]


@dataclass
class World:
    issuer_key: JWK
    client_key: JWK
    config: AuthConfig = field(default_factory=AuthConfig)
    clock: Clock = field(default_factory=Clock)
    web: FakeWeb = field(default_factory=FakeWeb)
    replay: MemoryReplayCache = field(init=False)
    auth: Authenticator = field(init=False)

    def __post_init__(self) -> None:
        self.web.add_issuer(ISSUER, self.issuer_key)
        self.web.add_profile(WEBID, ISSUER)
        self.replay = MemoryReplayCache(1000, self.clock)
        self.auth = Authenticator(self.config, self.replay, self.web, self.clock)

    def token(self, **kw: Any) -> str:
        """A valid token for the client key unless ``kw`` says otherwise."""
        kw.setdefault("iat", self.clock.now)
        kw.setdefault("exp", self.clock.now + 300)
        signer = kw.pop("signer", self.issuer_key)
        iss = kw.pop("iss", ISSUER)
        webid = kw.pop("webid", WEBID)
        jkt = kw.pop("jkt", thumbprint(self.client_key))
        return mint_access_token(signer, iss, webid, jkt, **kw)

    def proof(self, token: str | None, method: str = "GET", url: str = URL, **kw: Any) -> str:
        kw.setdefault("iat", self.clock.now)
        if token is not None and "ath" not in kw:
            kw["ath"] = ath_of(token)
        return mint_dpop_proof(kw.pop("signer", self.client_key), method, url, **kw)

    def headers(self, token: str, method: str = "GET", url: str = URL, **kw: Any) -> dict[str, str]:
        return {"Authorization": f"DPoP {token}", "DPoP": self.proof(token, method, url, **kw)}

    async def identify(self, headers: Any, method: str = "GET", url: str = URL) -> Agent:
        return await self.auth.identify(method, url, headers)


@pytest.fixture
async def world() -> AsyncIterator[World]:
    w = World(key("ES256", "issuer"), key("ES256", "client"))
    yield w
    await w.auth.close()


@pytest.fixture
async def make_world() -> AsyncIterator[Callable[..., World]]:
    """Build Worlds with other keys or config; all closed at teardown."""
    made: list[World] = []

    def build(issuer_alg: str = "ES256", client_alg: str = "ES256", **config: Any) -> World:
        w = World(key(issuer_alg, "issuer"), key(client_alg, "client"), AuthConfig(**config))
        made.append(w)
        return w

    yield build
    for w in made:
        await w.auth.close()
