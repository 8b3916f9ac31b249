"""Where to send someone after signing out (OpenID Connect RP-Initiated Logout 1.0 §3).

Only a ``post_logout_redirect_uri`` the client registered is honoured, the client being
named by ``client_id`` or by an ID token we issued (``id_token_hint``, checked against our
own keys; an expired one still identifies the client, §2). Anything else ends on our own
"signed out" page, so the endpoint is no open redirector.
"""

from __future__ import annotations

from collections.abc import Mapping

from pod_server.auth.agent import InvalidCredentials
from pod_server.auth.jose import PublicJwk, asymmetric_alg, parse_compact, verify_with
from pod_server.idp.authorize import with_params
from pod_server.idp.clients import ClientDirectory
from pod_server.idp.errors import OAuthError
from pod_server.idp.keys import ALG

PARAMS = ("id_token_hint", "post_logout_redirect_uri", "state", "client_id")


def hinted_client(hint: str, issuer: str, keys: tuple[PublicJwk, ...]) -> str | None:
    """The client an ID token of ours was issued to, or None."""
    try:
        jws = parse_compact(hint, "id_token_hint")
        alg = asymmetric_alg(jws.header.get("alg"), (ALG,), "id_token_hint")
        verify_with(jws, alg, keys, "id_token_hint")
    except InvalidCredentials:
        return None
    azp, aud = jws.claims.get("azp"), jws.claims.get("aud")
    if jws.claims.get("iss") != issuer:
        return None
    client_id = azp if isinstance(azp, str) else aud if isinstance(aud, str) else None
    return client_id


async def logout_target(
    params: Mapping[str, str],
    clients: ClientDirectory,
    issuer: str,
    keys: tuple[PublicJwk, ...],
) -> str | None:
    uri = params.get("post_logout_redirect_uri")
    if not uri:
        return None
    client_id = params.get("client_id")
    hint = params.get("id_token_hint")
    if hint:
        hinted = hinted_client(hint, issuer, keys)
        if hinted is None or (client_id and client_id != hinted):
            return None
        client_id = hinted
    if not client_id:
        return None
    try:
        client = await clients.find(client_id)
    except OAuthError:
        return None
    if uri not in client.post_logout_redirect_uris:
        return None
    state = params.get("state")
    return with_params(uri, {"state": state}) if state else uri
