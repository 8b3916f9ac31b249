"""Authentication: who is calling (Solid-OIDC with DPoP-bound access tokens).

It never refuses a request: failures yield an anonymous Agent with a reason, and the
authorization layer decides what an anonymous caller may do. Wiring::

    auth = Authenticator(AuthConfig(), MemoryReplayCache())   # one per process
    agent = await auth.identify(request.method, public_url, request.headers)
    if denied and not agent.authenticated:
        headers["WWW-Authenticate"] = www_authenticate(config, agent)
    await auth.close()                                        # on shutdown

``public_url`` is the URL as clients address it (scheme/host from --base-url, path as
sent, query ignored); ``request.headers`` should be aiohttp's multidict, so a repeated
DPoP header is seen and refused.
"""

from pod_server.auth.agent import ANONYMOUS, Agent, InvalidCredentials
from pod_server.auth.authenticator import Authenticator
from pod_server.auth.config import AuthConfig, www_authenticate
from pod_server.auth.dpop import DpopProof, normalize_url, verify_dpop_proof
from pod_server.auth.fetch import AiohttpFetcher, Fetched, Fetcher, FetchError
from pod_server.auth.issuers import IssuerKeys
from pod_server.auth.jose import PublicJwk, public_jwk
from pod_server.auth.replay import MemoryReplayCache, ReplayCache, SharedReplayCache
from pod_server.auth.tokens import AccessToken, check_claims, peek_access_token
from pod_server.auth.webid import WebIdProfiles

__all__ = [
    "ANONYMOUS",
    "AccessToken",
    "Agent",
    "AiohttpFetcher",
    "AuthConfig",
    "Authenticator",
    "DpopProof",
    "FetchError",
    "Fetched",
    "Fetcher",
    "InvalidCredentials",
    "IssuerKeys",
    "MemoryReplayCache",
    "PublicJwk",
    "ReplayCache",
    "SharedReplayCache",
    "WebIdProfiles",
    "check_claims",
    "normalize_url",
    "peek_access_token",
    "public_jwk",
    "verify_dpop_proof",
    "www_authenticate",
]
