"""Identity provider settings: lifetimes, limits, switches. The defaults suit a public host."""

from __future__ import annotations

from dataclasses import dataclass, field

from pod_server.auth.config import AuthConfig

HOUR = 3600.0
DAY = 24 * HOUR


@dataclass(frozen=True)
class IdpConfig:
    signup: bool = True  # the sign-up page (needs a provisioning callback to create pods)
    # Token lifetimes (seconds). Access tokens are short: a JWT cannot be recalled.
    access_token_ttl: float = 600.0
    id_token_ttl: float = HOUR
    code_ttl: float = 120.0  # RFC 6749 §4.1.2: short-lived, 10 minutes at most
    refresh_token_ttl: float = 30 * DAY  # each token in a family
    refresh_family_ttl: float = 180 * DAY  # the whole rotating chain
    session_ttl: float = 14 * DAY  # a sign-in at the provider
    # Signing key rotation: a new key is published ``key_publish_ahead`` before it signs,
    # signs for ``key_rotation``, and stays in the JWKS until its tokens have expired.
    key_rotation: float = 30 * DAY
    key_publish_ahead: float = HOUR
    key_reload: float = 60.0  # how often a process re-reads keys other processes made
    # Abuse limits: failed sign-ins per account and per client IP, sign-ups and dynamic
    # registrations per IP, each over a sliding window.
    login_window: float = 15 * 60.0
    max_login_failures_per_account: int = 10
    max_login_failures_per_ip: int = 100
    signup_window: float = HOUR
    max_signups_per_ip: int = 10
    registration_window: float = HOUR
    max_registrations_per_ip: int = 100
    # Request size limits (bytes) and password policy (NIST SP 800-63B §5.1.1.2).
    max_form_bytes: int = 16_384
    max_registration_bytes: int = 16_384
    min_password_length: int = 8
    max_password_length: int = 1_024
    # Behind a reverse proxy every request comes from the proxy: name the header in which
    # it records the client address (its last entry is used), e.g. "X-Forwarded-For".
    client_ip_header: str | None = None
    client_document_ttl: float = 300.0  # Client ID Documents are cached this long
    purge_interval: float = 600.0  # expired codes, tokens, sessions are dropped this often
    # Accepted DPoP algorithms, proof age and clock skew: the resource server's policy.
    dpop: AuthConfig = field(default_factory=AuthConfig)

    @property
    def key_keep(self) -> float:
        """How long a retired key stays published: until every token it signed expired."""
        return max(self.access_token_ttl, self.id_token_ttl) + self.dpop.clock_skew + HOUR
