"""OpenID Provider metadata (OIDC Discovery 1.0 §3, RFC 8414 §2) for Solid-OIDC."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pod_server.idp.keys import ALG
from pod_server.idp.registration import AUTH_METHODS

SCOPES = ("openid", "webid", "offline_access")  # Solid-OIDC §9: webid is listed
GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
CLAIMS = (
    "iss", "sub", "aud", "azp", "exp", "iat", "auth_time", "nonce", "jti",
    "webid", "client_id", "cnf", "scope",
)  # fmt: skip


@dataclass(frozen=True)
class Endpoints:
    """Absolute URLs of the provider's endpoints, all under the issuer."""

    issuer: str

    def url(self, path: str) -> str:
        return self.issuer + path

    @property
    def authorize(self) -> str:
        return self.url("idp/authorize")

    @property
    def token(self) -> str:
        return self.url("idp/token")

    @property
    def register(self) -> str:
        return self.url("idp/register")

    @property
    def jwks(self) -> str:
        return self.url("idp/jwks")

    @property
    def revoke(self) -> str:
        return self.url("idp/revoke")

    @property
    def logout(self) -> str:
        return self.url("idp/logout")


def configuration(endpoints: Endpoints, dpop_algs: tuple[str, ...]) -> dict[str, Any]:
    return {
        "issuer": endpoints.issuer,  # exactly the public base URL, trailing slash and all
        "authorization_endpoint": endpoints.authorize,
        "token_endpoint": endpoints.token,
        "registration_endpoint": endpoints.register,
        "jwks_uri": endpoints.jwks,
        "revocation_endpoint": endpoints.revoke,
        "end_session_endpoint": endpoints.logout,
        "scopes_supported": list(SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": list(GRANT_TYPES),
        "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "revocation_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "code_challenge_methods_supported": ["S256"],
        "dpop_signing_alg_values_supported": list(dpop_algs),
        "id_token_signing_alg_values_supported": [ALG],
        "subject_types_supported": ["public"],
        "claims_supported": list(CLAIMS),
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "authorization_response_iss_parameter_supported": True,  # RFC 9207
        "prompt_values_supported": ["none", "login", "consent"],
    }
