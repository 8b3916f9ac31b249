"""Signing a person in to a web app: authorization code + PKCE + DPoP against the issuer
their WebID names, the app identified by its Client ID Document (a URL it serves).

Reuses the SDK's pieces (``client.auth``: discovery, PKCE, DPoP-bound token requests,
``Session``); what is added is what a web app needs and a command-line login does not:
the two halves of the flow happen in two HTTP requests, so the pending half is plain data
kept server-side between them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from client import AuthenticationError, PodClient
from client.auth import ProviderInfo, Session, discover, pkce_pair, token_request
from client.dpop import DpopKey
from client.transport import Transport

SCOPE = "openid webid offline_access"


@dataclass
class Pending:
    """A sign-in begun: what the callback needs to finish it."""

    webid: str
    provider: ProviderInfo
    verifier: str
    state: str
    key: DpopKey


def client_document(
    client_id: str, redirect_uri: str, name: str, own: str, needs: list[dict[str, Any]]
) -> dict[str, Any]:
    """A Solid-OIDC Client ID Document declaring access needs the way our IdP's consent
    page reads them (``interop:hasAccessNeedGroup``, ``consent:targetPath``/``ownContainer``)."""
    return {
        "@context": [
            "https://www.w3.org/ns/solid/oidc-context.jsonld",
            {
                "interop": "http://www.w3.org/ns/solid/interop#",
                "consent": "https://w3id.org/solid-pods/vocab/consent#",
                "skos": "http://www.w3.org/2004/02/skos/core#",
                "acl": "http://www.w3.org/ns/auth/acl#",
            },
        ],
        "client_id": client_id,
        "client_name": name,
        "redirect_uris": [redirect_uri],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "scope": SCOPE,
        "token_endpoint_auth_method": "none",
        "consent:ownContainer": own,
        "interop:hasAccessNeedGroup": [{"skos:prefLabel": name, "interop:hasAccessNeed": needs}],
    }


async def issuer_of(transport: Transport, webid: str) -> str:
    """The first ``solid:oidcIssuer`` of a WebID profile (read anonymously)."""
    anonymous = PodClient(transport=transport)
    profile = await anonymous.profile(webid)
    if not profile.issuers:
        raise AuthenticationError("this WebID's profile names no identity provider", url=webid)
    return profile.issuers[0]


async def start(
    transport: Transport, webid: str, client_id: str, redirect_uri: str
) -> tuple[Pending, str]:
    """Discover the person's issuer and build the authorization URL to send them to."""
    provider = await discover(transport, await issuer_of(transport, webid))
    if not provider.authorization_endpoint:
        raise AuthenticationError("the provider has no authorization endpoint", url=provider.issuer)
    verifier, challenge = pkce_pair()
    pending = Pending(webid, provider, verifier, secrets.token_urlsafe(16), DpopKey.generate())
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": SCOPE,
        "state": pending.state,
        "nonce": secrets.token_urlsafe(16),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "dpop_jkt": pending.key.thumbprint(),
        "prompt": "consent",  # the person sees (and may change) what the app may read
    }
    sep = "&" if "?" in provider.authorization_endpoint else "?"
    return pending, provider.authorization_endpoint + sep + urlencode(query)


async def finish(
    transport: Transport,
    pending: Pending,
    params: dict[str, str],
    client_id: str,
    redirect_uri: str,
) -> Session:
    """Check the callback's answer and trade its code for DPoP-bound tokens."""
    if params.get("state") != pending.state:
        raise AuthenticationError("the sign-in answer does not match this sign-in (state)")
    issuer = params.get("iss")
    if issuer and issuer.rstrip("/") != pending.provider.issuer.rstrip("/"):
        raise AuthenticationError("the sign-in answer came from another issuer (RFC 9207)")
    if "error" in params:
        raise AuthenticationError(
            f"{params['error']}: {params.get('error_description', '')}".strip(": "),
            error=params["error"],
        )
    if not params.get("code"):
        raise AuthenticationError("the sign-in answer has no code")
    session = Session(
        issuer=pending.provider.issuer,
        kind="authorization_code",
        client_id=client_id,
        key=pending.key,
        provider=pending.provider,
    )
    body = await token_request(
        transport,
        session,
        {
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": redirect_uri,
            "code_verifier": pending.verifier,
        },
    )
    session.accept(body)
    if session.webid is None:
        session.webid = pending.webid
    return session
