"""An issuer's signing keys, found by OpenID Connect Discovery and cached.

OIDC Discovery §4: ``{issuer}/.well-known/openid-configuration`` names the issuer and
its ``jwks_uri``. Keys are cached for ``cache_ttl``; an unknown ``kid`` (key rotation)
triggers one JWKS refresh at most every ``refresh_interval`` per issuer, and a failed
fetch is not retried sooner either, so a stream of forged tokens cannot turn the pod
server into an amplifier against an issuer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace

from pod_server.auth.agent import InvalidCredentials
from pod_server.auth.cache import SingleFlight, TtlCache
from pod_server.auth.config import AuthConfig
from pod_server.auth.fetch import FetchError, GuardedFetcher
from pod_server.auth.jose import JsonObject, PublicJwk, public_jwk
from pod_server.auth.tokens import is_http_url

JSON_ACCEPT = "application/json"
JWKS_ACCEPT = "application/jwk-set+json, application/json;q=0.9"
MAX_KEYS = 64


@dataclass(frozen=True, slots=True)
class IssuerState:
    jwks_uri: str
    keys: tuple[PublicJwk, ...]
    refreshed_at: float  # last JWKS fetch, for the unknown-kid rate limit

    def matching(self, kid: str | None) -> tuple[PublicJwk, ...]:
        """RFC 7515 §4.1.4: with a kid, only that key; without, every key may be tried."""
        if kid is None:
            return self.keys
        return tuple(k for k in self.keys if k.kid == kid)


class IssuerKeys:
    """Public keys per issuer, fetched through a GuardedFetcher."""

    def __init__(
        self, fetch: GuardedFetcher, config: AuthConfig, clock: Callable[[], float]
    ) -> None:
        self._fetch = fetch
        self._config = config
        self._clock = clock
        self._states: TtlCache[str, IssuerState] = TtlCache(config.max_cached_documents, clock)
        self._failures: TtlCache[str, str] = TtlCache(config.max_cached_documents, clock)
        self._flight: SingleFlight[str, IssuerState] = SingleFlight()

    async def keys_for(self, issuer: str, kid: str | None) -> tuple[PublicJwk, ...]:
        """Keys that may have signed a token from ``issuer`` with ``kid``; raises
        InvalidCredentials when the issuer cannot be reached or has no such key."""
        state = self._states.get(issuer)
        if state is None:
            state = await self._flight.run(issuer, lambda: self._discover(issuer))
        found = state.matching(kid)
        if found:
            return found
        if self._clock() - state.refreshed_at < self._config.refresh_interval:
            raise InvalidCredentials("access token kid is unknown to its issuer")
        stale = state
        state = await self._flight.run(issuer, lambda: self._refresh(issuer, stale))
        found = state.matching(kid)
        if not found:
            raise InvalidCredentials("access token kid is unknown to its issuer")
        return found

    async def _discover(self, issuer: str) -> IssuerState:
        config_url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        document = await self._get_json(issuer, config_url, JSON_ACCEPT)
        # OIDC Discovery §4.3: the issuer in the document must be the one we asked about.
        if document.get("issuer") != issuer:
            raise self._failed(issuer, "issuer discovery names a different issuer")
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str) or not is_http_url(jwks_uri):
            raise self._failed(issuer, "issuer discovery has no usable jwks_uri")
        return await self._load_keys(issuer, jwks_uri)

    async def _refresh(self, issuer: str, stale: IssuerState) -> IssuerState:
        if self._clock() - stale.refreshed_at < self._config.refresh_interval:
            current = self._states.get(issuer)  # another caller just refreshed
            return current if current is not None else stale
        try:
            return await self._load_keys(issuer, stale.jwks_uri)
        except InvalidCredentials:
            # Keep serving the keys we had, but do not ask again before the interval.
            self._remember(issuer, replace(stale, refreshed_at=self._clock()))
            raise

    async def _load_keys(self, issuer: str, jwks_uri: str) -> IssuerState:
        jwks = await self._get_json(issuer, jwks_uri, JWKS_ACCEPT)
        keys = _signing_keys(jwks)
        if not keys:
            raise self._failed(issuer, "issuer JWKS has no usable signing keys")
        state = IssuerState(jwks_uri, keys, self._clock())
        self._remember(issuer, state)
        return state

    def _remember(self, issuer: str, state: IssuerState) -> None:
        self._states.put(issuer, state, self._clock() + self._config.cache_ttl)

    async def _get_json(self, issuer: str, url: str, accept: str) -> JsonObject:
        if self._failures.get(issuer) is not None:
            raise InvalidCredentials("issuer could not be reached recently")
        try:
            fetched = await self._fetch.get(url, accept)
            document = json.loads(fetched.body)
        except FetchError as exc:
            raise self._failed(issuer, f"issuer could not be reached ({exc})") from exc
        except (ValueError, RecursionError) as exc:
            raise self._failed(issuer, "issuer document is not JSON") from exc
        if not isinstance(document, dict):
            raise self._failed(issuer, "issuer document is not a JSON object")
        return document

    def _failed(self, issuer: str, reason: str) -> InvalidCredentials:
        self._failures.put(issuer, reason, self._clock() + self._config.refresh_interval)
        return InvalidCredentials(reason)

    async def close(self) -> None:
        await self._flight.cancel_all()


def _signing_keys(jwks: JsonObject) -> tuple[PublicJwk, ...]:
    """RFC 7517 §5: the public signature keys of a JWK Set; unusable members are skipped."""
    members = jwks.get("keys")
    if not isinstance(members, list):
        return ()
    keys = []
    for member in members[:MAX_KEYS]:
        if not isinstance(member, dict) or member.get("use", "sig") != "sig":
            continue
        try:
            keys.append(public_jwk(member, "issuer key"))
        except InvalidCredentials:
            continue  # e.g. an encryption or unsupported key next to the signing keys
    return tuple(keys)
