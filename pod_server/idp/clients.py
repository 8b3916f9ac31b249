"""Who a client is: a registered client, a Solid Client ID Document, or an account's
credentials, seen through one ``Client`` value."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal
from urllib.parse import urlsplit

from pod_server.auth.cache import TtlCache
from pod_server.auth.fetch import FetchError, GuardedFetcher
from pod_server.consent.apps.needs import NO_NEEDS, AppNeeds, NeedsError, parse_needs
from pod_server.idp.errors import INVALID_CLIENT, OAuthError
from pod_server.idp.registration import (
    JSON_TYPES,
    MAX_URI_LENGTH,
    is_loopback,
    validate_metadata,
)
from pod_server.ldp.media_types import JSON_LD
from pod_server.state.base import Credential, IdpState, RegisteredClient

DOCUMENT_ACCEPT = f"{JSON_LD}, application/json;q=0.9"
Kind = Literal["registered", "document", "credential"]


@dataclass(frozen=True)
class Client:
    client_id: str
    kind: Kind
    auth_method: str  # none | client_secret_basic | client_secret_post
    grant_types: frozenset[str]
    redirect_uris: tuple[str, ...] = ()
    post_logout_redirect_uris: tuple[str, ...] = ()
    secret_hash: str | None = None
    name: str | None = None
    client_uri: str | None = None
    scope: frozenset[str] | None = None  # scopes the client may ask for, when it says
    account_id: str | None = None  # credentials: the owner and the WebID they act as
    webid: str | None = None
    # Access needs its Client ID Document declares (none: it asks for full access), or
    # why they cannot be read (the consent page refuses to go on, saying so).
    needs: AppNeeds = NO_NEEDS
    needs_error: str | None = None

    @property
    def public(self) -> bool:
        return self.secret_hash is None


def from_metadata(client_id: str, kind: Kind, meta: dict[str, Any], secret: str | None) -> Client:
    scope = meta.get("scope")
    return Client(
        client_id=client_id,
        kind=kind,
        auth_method=meta["token_endpoint_auth_method"] if secret else "none",
        grant_types=frozenset(meta["grant_types"]),
        redirect_uris=tuple(meta["redirect_uris"]),
        post_logout_redirect_uris=tuple(meta.get("post_logout_redirect_uris", ())),
        secret_hash=secret,
        name=meta.get("client_name"),
        client_uri=meta.get("client_uri"),
        scope=frozenset(scope.split()) if scope else None,
    )


def from_registered(client: RegisteredClient) -> Client:
    return from_metadata(client.client_id, "registered", dict(client.metadata), client.secret_hash)


def from_credential(credential: Credential) -> Client:
    return Client(
        client_id=credential.client_id,
        kind="credential",
        auth_method="client_secret_basic",
        grant_types=frozenset({"client_credentials"}),
        secret_hash=credential.secret_hash,
        name=credential.label,
        account_id=credential.account_id,
        webid=credential.webid,
    )


def is_document_id(client_id: str) -> bool:
    return urlsplit(client_id).scheme in ("http", "https")


def from_document(url: str, body: bytes, content_type: str, allow_http: bool) -> Client:
    """Solid-OIDC §5.1: the dereferenced document must name itself as ``client_id``."""
    if content_type not in JSON_TYPES:
        raise OAuthError(INVALID_CLIENT, "Client ID Document is not JSON-LD", 401)
    try:
        doc = json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):
        raise OAuthError(INVALID_CLIENT, "Client ID Document is not valid JSON", 401) from None
    if not isinstance(doc, dict) or doc.get("client_id") != url:
        raise OAuthError(
            INVALID_CLIENT, "Client ID Document does not name its own URL as client_id", 401
        )
    try:
        meta = validate_metadata(doc, allow_http=allow_http)
    except OAuthError as exc:
        raise OAuthError(INVALID_CLIENT, f"Client ID Document: {exc.description}", 401) from exc
    client = from_metadata(url, "document", meta, None)  # always a public client
    try:
        return replace(client, needs=parse_needs(doc))
    except NeedsError as exc:
        return replace(client, needs_error=str(exc))


class ClientDirectory:
    """Finds clients by id; Client ID Documents are fetched and cached for a while."""

    def __init__(
        self,
        state: IdpState,
        fetch: GuardedFetcher,
        *,
        allow_http: bool,
        document_ttl: float,
        clock: Callable[[], float],
    ) -> None:
        self._state = state
        self._fetch = fetch
        self._allow_http = allow_http
        self._ttl = document_ttl
        self._clock = clock
        self._documents: TtlCache[str, Client] = TtlCache(1_000, clock)

    async def find(self, client_id: str) -> Client:
        """The client, or OAuthError(invalid_client, 401) saying why there is none."""
        if not client_id or len(client_id) > MAX_URI_LENGTH:
            raise OAuthError(INVALID_CLIENT, "client_id is missing or too long", 401)
        if is_document_id(client_id):
            return await self._document(client_id)
        credential = await self._state.get_credential(client_id)
        if credential is not None:
            return from_credential(credential)
        registered = await self._state.get_client(client_id)
        if registered is not None:
            return from_registered(registered)
        raise OAuthError(INVALID_CLIENT, "unknown client", 401)

    async def _document(self, url: str) -> Client:
        cached = self._documents.get(url)
        if cached is not None:
            return cached
        parts = urlsplit(url)
        if parts.fragment or "#" in url:
            raise OAuthError(INVALID_CLIENT, "a client_id URL must not have a fragment", 401)
        if parts.scheme != "https" and not (self._allow_http or is_loopback(parts.hostname or "")):
            raise OAuthError(INVALID_CLIENT, "a client_id URL must use https", 401)
        try:
            fetched = await self._fetch.get(url, DOCUMENT_ACCEPT)
        except FetchError as exc:
            raise OAuthError(
                INVALID_CLIENT, f"Client ID Document could not be fetched ({exc})", 401
            ) from exc
        client = from_document(url, fetched.body, fetched.content_type, self._allow_http)
        self._documents.put(url, client, self._clock() + self._ttl)
        return client
