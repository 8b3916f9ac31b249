"""Authenticator: from request headers to an Agent, never refusing, never raising.

Per request with a known access token, the work is one DPoP proof verification (one
signature) plus dictionary lookups: verified tokens are cached by their SHA-256 until
they expire (or ``cache_ttl``, so a WebID that drops its issuer is noticed in time).
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping

from pod_server.auth.agent import ANONYMOUS, INVALID_DPOP_PROOF, Agent, InvalidCredentials
from pod_server.auth.cache import TtlCache
from pod_server.auth.config import AuthConfig
from pod_server.auth.dpop import ProofKeys, verify_dpop_proof
from pod_server.auth.fetch import AiohttpFetcher, Fetcher, GuardedFetcher
from pod_server.auth.issuers import IssuerKeys
from pod_server.auth.jose import b64url_encode
from pod_server.auth.replay import ReplayCache
from pod_server.auth.tokens import (
    AccessToken,
    issuer_listed,
    peek_access_token,
    verify_token_signature,
)
from pod_server.auth.webid import WebIdProfiles

log = logging.getLogger(__name__)

_TOKEN68 = re.compile(r"[A-Za-z0-9._~+/-]+=*")  # RFC 9110 §11.2


class Authenticator:
    """Identifies callers from ``Authorization`` (+ ``DPoP``) headers per Solid-OIDC."""

    def __init__(
        self,
        config: AuthConfig,
        replay: ReplayCache,
        fetch: Fetcher | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._config = config
        self._replay = replay
        self._clock = clock
        # An AiohttpFetcher made here is ours to close; an injected fetcher is the caller's.
        self._own_fetcher: AiohttpFetcher | None = None
        if fetch is None:
            fetch = self._own_fetcher = AiohttpFetcher(
                config.fetch_timeout, config.max_document_bytes
            )
        guarded = GuardedFetcher(
            fetch, config.fetch_timeout, config.max_document_bytes, config.max_concurrent_fetches
        )
        self.issuer_keys = IssuerKeys(guarded, config, clock)
        self.profiles = WebIdProfiles(guarded, config, clock)
        self._tokens: TtlCache[bytes, AccessToken] = TtlCache(config.max_cached_tokens, clock)
        # A client sends the same token with every request: its hashes, once each.
        self._digests: dict[str, tuple[bytes, str]] = {}
        self._proof_keys = ProofKeys()
        # Other token kinds this server issues (access grant tokens): each returns an
        # Agent for a token it recognises, None to pass it on to Solid-OIDC.
        self.token_verifiers: list[Callable[[str, str, str], Awaitable[Agent | None]]] = []

    async def identify(self, method: str, url: str, headers: Mapping[str, str]) -> Agent:
        """The caller of a request. ``url`` is its public URL (as clients address it)."""
        authorization = headers.get("Authorization")
        if authorization is None:
            return ANONYMOUS
        for verifier in self.token_verifiers:
            found = await verifier(method, url, authorization)
            if found is not None:
                return found
        try:
            return await self._identify(method, url, headers, authorization)
        except InvalidCredentials as exc:
            log.debug("credentials not accepted: %s", exc.reason)  # never the token itself
            return exc.agent()

    async def _identify(
        self, method: str, url: str, headers: Mapping[str, str], authorization: str
    ) -> Agent:
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if not _TOKEN68.fullmatch(token):
            raise InvalidCredentials("Authorization header is malformed")
        scheme = scheme.lower()  # RFC 9110 §11.1: auth schemes are case-insensitive
        if scheme == "dpop":
            return await self._dpop(method, url, headers, token)
        if scheme == "bearer":
            return await self._bearer(token)
        raise InvalidCredentials("unsupported authorization scheme")

    async def _dpop(self, method: str, url: str, headers: Mapping[str, str], token: str) -> Agent:
        proofs = _all_values(headers, "DPoP")
        if len(proofs) != 1:  # RFC 9449 §4.3 step 1
            raise InvalidCredentials("exactly one DPoP header is required", INVALID_DPOP_PROOF)
        now = self._clock()
        digest, ath = self._digest(token)
        proof = verify_dpop_proof(
            proofs[0], method, url, now, self._config, ath=ath, keys=self._proof_keys
        )
        access = await self._access_token(token, digest, now, proof.jkt)
        # RFC 9449 §6.1 / §7.1: the proof key must be the one the token is bound to.
        if access.jkt is None or access.jkt != proof.jkt:
            raise InvalidCredentials("DPoP proof key does not match the token's cnf.jkt")
        # Last, so that only otherwise valid proofs occupy the replay cache (RFC 9449 §11.1).
        expires = proof.iat + self._config.iat_window + self._config.clock_skew
        if not await self._replay.add(replay_key(proof.jti), expires):
            raise InvalidCredentials(
                "DPoP proof jti was already used (or the replay cache is full)", INVALID_DPOP_PROOF
            )
        return _agent(access)

    def _digest(self, token: str) -> tuple[bytes, str]:
        """The token's SHA-256 (the token cache's key) and its base64url (a proof's
        ``ath``), memoised per token: bounded like the token cache, oldest dropped."""
        known = self._digests.get(token)
        if known is not None:
            return known
        digest = hashlib.sha256(token.encode("ascii")).digest()
        if len(self._digests) >= self._config.max_cached_tokens:
            del self._digests[next(iter(self._digests))]
        known = self._digests[token] = (digest, b64url_encode(digest))
        return known

    async def _bearer(self, token: str) -> Agent:
        if not self._config.allow_bearer:
            raise InvalidCredentials("Bearer tokens are not accepted; use DPoP")
        digest = hashlib.sha256(token.encode("ascii")).digest()
        access = await self._access_token(token, digest, self._clock(), None)
        if access.jkt is not None:
            # RFC 9449 §7.2: a DPoP-bound token presented as Bearer is a downgrade.
            raise InvalidCredentials("DPoP-bound access token presented as Bearer")
        return _agent(access)

    async def _access_token(
        self, token: str, digest: bytes, now: float, jkt: str | None
    ) -> AccessToken:
        cached = self._tokens.get(digest)
        if cached is not None:
            return cached
        leeway = self._config.clock_skew
        unverified = peek_access_token(token, now, leeway)
        claims = unverified.claims
        if jkt is not None and claims.jkt != jkt:
            # Refuse before any network traffic: the token is not this caller's anyway.
            raise InvalidCredentials("DPoP proof key does not match the token's cnf.jkt")
        keys = await self.issuer_keys.keys_for(claims.issuer, unverified.kid)
        access = verify_token_signature(unverified, keys)
        if not issuer_listed(access.issuer, await self.profiles.issuers(access.webid)):
            raise InvalidCredentials("WebID profile does not list the token's issuer")
        expires = min(access.expires_at + leeway, self._clock() + self._config.cache_ttl)
        self._tokens.put(digest, access, expires)
        return access

    async def close(self) -> None:
        await self.issuer_keys.close()
        await self.profiles.close()
        if self._own_fetcher is not None:
            await self._own_fetcher.close()


def _all_values(headers: Mapping[str, str], name: str) -> list[str]:
    """Every value of a header: multidicts (aiohttp) keep repeats, plain dicts cannot."""
    getall = getattr(headers, "getall", None)
    if getall is not None:
        values: list[str] = getall(name, [])
        return values
    value = headers.get(name)
    return [] if value is None else [value]


def replay_key(jti: str) -> str:
    """A fixed-size stand-in for a jti: RFC 9449 §11.1 suggests storing only a hash, so
    that large jti values cannot inflate the replay cache (128 bits, 22 characters)."""
    digest = hashlib.sha256(jti.encode("utf-8", "surrogatepass")).digest()[:16]
    return b64url_encode(digest)


def _agent(access: AccessToken) -> Agent:
    return Agent(webid=access.webid, client_id=access.client_id, issuer=access.issuer)
