"""Authentication policy, and the WWW-Authenticate challenge that advertises it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pod_server.auth.agent import INVALID_TOKEN, Agent
from pod_server.auth.jose import ALGS


@dataclass(frozen=True)
class AuthConfig:
    """Tunable limits; the defaults suit a public pod server."""

    # RFC 9449 §4.3 step 5: only asymmetric algorithms the server supports.
    dpop_algs: tuple[str, ...] = ("ES256", "ES384", "RS256", "PS256", "EdDSA")
    iat_window: float = 60.0  # how old a DPoP proof may be (RFC 9449 §11.1)
    clock_skew: float = 5.0  # future iat tolerated; also the exp/nbf leeway for tokens
    allow_bearer: bool = False  # Solid-OIDC wants DPoP; Bearer only for trusted setups
    fetch_timeout: float = 5.0  # per outbound request (discovery, JWKS, WebID profile)
    max_document_bytes: int = 1_000_000
    cache_ttl: float = 300.0  # issuer keys, WebID profiles, verified access tokens
    # Not in the list, bounded so that hostile input cannot grow memory or traffic:
    refresh_interval: float = 30.0  # min gap between JWKS refreshes / retries per issuer
    # A WebID profile that timed out or got a 5xx/429 is asked again this soon; meanwhile
    # its last known issuers stay trusted for up to cache_ttl more (stale-if-error).
    transient_retry: float = 2.0
    max_cached_tokens: int = 10_000
    max_cached_documents: int = 1_000  # issuers and WebID profiles, each
    max_concurrent_fetches: int = 16

    def __post_init__(self) -> None:
        unknown = [alg for alg in self.dpop_algs if alg not in ALGS]
        if unknown:  # RFC 9449 §4.3 step 5: symmetric algs and "none" must never be allowed
            raise ValueError(f"unsupported DPoP algorithms: {', '.join(unknown)}")


# RFC 6750 §3: error_description may only use %x20-21 / %x23-5B / %x5D-7E.
_UNSAFE = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")
_MAX_DESCRIPTION = 200


def www_authenticate(config: AuthConfig, agent: Agent | None = None) -> str:
    """The DPoP challenge of RFC 9449 §7.1, with the error when credentials were refused.

    >>> www_authenticate(AuthConfig())
    'DPoP algs="ES256 ES384 RS256 PS256 EdDSA"'
    """
    params = []
    if agent is not None and agent.reason:
        description = _UNSAFE.sub(" ", agent.reason)[:_MAX_DESCRIPTION]
        params.append(f'error="{agent.error or INVALID_TOKEN}"')
        params.append(f'error_description="{description}"')
    params.append(f'algs="{" ".join(config.dpop_algs)}"')
    challenge = "DPoP " + ", ".join(params)
    return challenge + ", Bearer" if config.allow_bearer else challenge
