"""The Solid-OIDC identity provider: discovery, clients, the code and client-credentials
flows with PKCE and DPoP, tokens, accounts.

Wiring (in create_app, before the catch-all resource route)::

    state = open_state(settings)  # SQLite beside the files, or the storage's PostgreSQL
    add_idp_routes(app, settings, state, provision=make_pod)

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
from pod_server.idp.provider import Provider, Provision, ProvisionRefused
from pod_server.idp.routes import IDP, add_idp_routes

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
    "change_password",
    "create_account",
    "create_credentials",
    "delete_account",
    "link_webid",
    "list_accounts",
    "revoke_credentials",
    "verify_password",
]
