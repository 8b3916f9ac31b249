"""The provider's parts, built once per application and shared by its handlers."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web

from pod_server.auth.fetch import Fetcher, GuardedFetcher
from pod_server.consent.apps.lookup import AppGrants
from pod_server.idp.accounts import Passwords, Refused
from pod_server.idp.clients import ClientDirectory
from pod_server.idp.config import IdpConfig
from pod_server.idp.discovery import Endpoints
from pod_server.idp.keys import KeyRing
from pod_server.idp.pages import Paths
from pod_server.idp.ratelimit import Limit, RateLimiter
from pod_server.idp.sessions import Sessions
from pod_server.idp.token import TokenService
from pod_server.state.base import IdpState

# ``provision(account_id, name) -> webid``: creates the pod for a new account and returns
# the WebID it hosts; raises ProvisionRefused with a message for the person (name taken).
Provision = Callable[[str, str], Awaitable[str]]


# ``pods_of(webids) -> [(pod URL, bytes used, byte limit or None)]``: the pods those WebIDs
# own on this server, shown to the person on their account page.
PodsOf = Callable[[list[str]], Awaitable[list[tuple[str, int, int | None]]]]


# ``storage_of(webid) -> storage root URL (ending in /) or None``: where the access needs
# an app declares (paths relative to the person's storage) are placed.
StorageOf = Callable[[str], Awaitable[str | None]]


class ProvisionRefused(Refused):
    """Provisioning declined: shown on the sign-up page."""


@dataclass
class Provider:
    issuer: str
    endpoints: Endpoints
    paths: Paths
    state: IdpState
    config: IdpConfig
    keys: KeyRing
    clients: ClientDirectory
    tokens: TokenService
    sessions: Sessions
    limiter: RateLimiter
    passwords: Passwords
    provision: Provision | None
    clock: Callable[[], float]
    login_per_account: Limit
    login_per_ip: Limit
    signups_per_ip: Limit
    registrations_per_ip: Limit
    pods_of: PodsOf | None = None
    app_grants: AppGrants | None = None  # what each person let each app do
    storage_of: StorageOf | None = None
    # Called with the account's WebIDs after each sign-in (the audit log records it).
    on_sign_in: Callable[[list[str]], Awaitable[None]] | None = None

    @property
    def signup_enabled(self) -> bool:
        return self.config.signup and self.provision is not None

    def client_ip(self, request: web.Request) -> str:
        """The caller's address; behind a trusted proxy, the last hop it recorded."""
        header = self.config.client_ip_header
        if header:
            forwarded = request.headers.get(header, "")
            last = forwarded.rsplit(",", 1)[-1].strip()
            if last:
                return last
        return request.remote or "unknown"


def build_provider(
    issuer: str,
    state: IdpState,
    fetch: Fetcher,
    *,
    config: IdpConfig,
    passwords: Passwords,
    provision: Provision | None,
    pods_of: PodsOf | None = None,
    app_grants: AppGrants | None = None,
    storage_of: StorageOf | None = None,
    clock: Callable[[], float] = time.time,
) -> Provider:
    endpoints = Endpoints(issuer)
    base_path = urlsplit(issuer).path or "/"
    paths = Paths(
        authorize=base_path + "idp/authorize",
        login=base_path + "idp/login",
        signup=base_path + "idp/signup",
        consent=base_path + "idp/consent",
        logout=base_path + "idp/logout",
        account=base_path + "idp/account",
        password=base_path + "idp/password",
    )
    dpop = config.dpop
    guarded = GuardedFetcher(
        fetch, dpop.fetch_timeout, 4 * config.max_registration_bytes, dpop.max_concurrent_fetches
    )
    clients = ClientDirectory(
        state,
        guarded,
        allow_http=issuer.startswith("http://"),
        document_ttl=config.client_document_ttl,
        clock=clock,
    )
    keys = KeyRing(state, config, clock)
    return Provider(
        issuer=issuer,
        endpoints=endpoints,
        paths=paths,
        state=state,
        config=config,
        keys=keys,
        clients=clients,
        tokens=TokenService(state, keys, clients, config, issuer, endpoints.token, clock),
        sessions=Sessions(state, config, issuer, clock),
        limiter=RateLimiter(state, clock),
        passwords=passwords,
        provision=provision,
        clock=clock,
        login_per_account=Limit(
            "login-account", config.max_login_failures_per_account, config.login_window
        ),
        login_per_ip=Limit("login-ip", config.max_login_failures_per_ip, config.login_window),
        signups_per_ip=Limit("signup-ip", config.max_signups_per_ip, config.signup_window),
        registrations_per_ip=Limit(
            "register-ip", config.max_registrations_per_ip, config.registration_window
        ),
        pods_of=pods_of,
        app_grants=app_grants or AppGrants(state),
        storage_of=storage_of,
    )
