"""The Solid-OIDC identity provider: discovery, clients, the code and client-credentials
flows with PKCE and DPoP, tokens, accounts.

Wiring (in create_app): ``build_provider`` over the state store (``open_state``) and a
fetcher; its routes (``add_idp_routes``) before the catch-all resource route, its response
hook (``no_cors_on_pages``) after the CORS one, ``serving(provider)`` once its state started.

The CLI uses the account functions directly over the same state.
"""

from pod_server.idp.accounts import (
    AccountError,
    AccountSummary,
    Passwords,
    change_password,
    create_account,
    create_credentials,
    delete_account,
    link_webid,
    list_accounts,
    revoke_credentials,
    verify_password,
)
from pod_server.idp.config import IdpConfig
from pod_server.idp.provider import Provider, Provision, ProvisionRefused, build_provider
from pod_server.idp.routes import IDP, add_idp_routes, no_cors_on_pages, serving

__all__ = [
    "IDP",
    "AccountError",
    "AccountSummary",
    "IdpConfig",
    "Passwords",
    "Provider",
    "Provision",
    "ProvisionRefused",
    "add_idp_routes",
    "build_provider",
    "change_password",
    "create_account",
    "create_credentials",
    "delete_account",
    "link_webid",
    "list_accounts",
    "no_cors_on_pages",
    "revoke_credentials",
    "serving",
    "verify_password",
]
