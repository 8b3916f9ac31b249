"""Access and ID tokens as signed JWTs: pure functions of a grant, a signer and the clock."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from pod_server.idp.keys import Signer

SOLID_AUDIENCE = "solid"


@dataclass(frozen=True)
class Grant:
    """What a token says: who (WebID), through which client, bound to which DPoP key."""

    issuer: str
    webid: str
    client_id: str
    jkt: str  # RFC 7638 thumbprint of the client's DPoP key (RFC 9449 §6.1 cnf.jkt)
    scope: str
    auth_time: float | None = None
    nonce: str | None = None


def access_token(signer: Signer, grant: Grant, now: float, ttl: float) -> str:
    """Solid-OIDC §8: a DPoP-bound JWT (RFC 9068 shape) naming the WebID and the client."""
    issued = int(now)
    claims = {
        "iss": grant.issuer,  # exactly the discovery issuer: clients compare it verbatim
        "sub": grant.webid,
        "webid": grant.webid,
        "client_id": grant.client_id,
        "aud": [SOLID_AUDIENCE, grant.client_id],
        "azp": grant.client_id,
        "cnf": {"jkt": grant.jkt},
        "scope": grant.scope,
        "iat": issued,
        "exp": issued + int(ttl),
        "jti": uuid.uuid4().hex,
    }
    return signer.sign(claims, "at+jwt")


def id_token(signer: Signer, grant: Grant, now: float, ttl: float) -> str:
    """OIDC Core §2 ID token with Solid-OIDC's ``webid`` claim (§6.1)."""
    issued = int(now)
    claims: dict[str, object] = {
        "iss": grant.issuer,
        "sub": grant.webid,
        "webid": grant.webid,
        "aud": grant.client_id,
        "azp": grant.client_id,
        "iat": issued,
        "exp": issued + int(ttl),
        "jti": uuid.uuid4().hex,
    }
    if grant.auth_time is not None:
        claims["auth_time"] = int(grant.auth_time)
    if grant.nonce is not None:
        claims["nonce"] = grant.nonce  # OIDC Core §3.1.2.1: echoed unmodified
    return signer.sign(claims, "JWT")
