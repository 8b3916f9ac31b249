"""The token endpoint (RFC 6749 §3.2) and revocation (RFC 7009), as plain async logic.

Every token request carries a DPoP proof (RFC 9449 §5, required by Solid-OIDC §8) whose
key the issued tokens are bound to. Grants: ``authorization_code`` (PKCE-checked, single
use; a reused code revokes the refresh tokens issued from it, RFC 6749 §4.1.2),
``refresh_token`` (rotated on every use; presenting a spent one revokes the whole family,
RFC 9700 §4.14.2), and ``client_credentials`` for credentials an account owner created.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from pod_server.auth.agent import InvalidCredentials
from pod_server.auth.authenticator import replay_key
from pod_server.auth.dpop import DpopProof, verify_dpop_proof
from pod_server.idp import pkce
from pod_server.idp.clients import Client, ClientDirectory
from pod_server.idp.config import IdpConfig
from pod_server.idp.crypto import digest, matches, new_secret
from pod_server.idp.errors import (
    INVALID_CLIENT,
    INVALID_DPOP_PROOF,
    INVALID_GRANT,
    INVALID_REQUEST,
    INVALID_SCOPE,
    UNAUTHORIZED_CLIENT,
    UNSUPPORTED_GRANT_TYPE,
    OAuthError,
)
from pod_server.idp.keys import KeyRing
from pod_server.idp.minting import Grant, access_token, id_token
from pod_server.state.base import AuthorizationCode, IdpState, RefreshFamily, RefreshToken

FORM = "application/x-www-form-urlencoded"
GRANTS = ("authorization_code", "refresh_token", "client_credentials")
MAX_VALUE_LENGTH = 4_096


@dataclass(frozen=True)
class TokenRequest:
    """What the HTTP layer hands over: form fields, the Authorization and DPoP headers."""

    params: Mapping[str, str]
    authorization: str | None
    dpop: tuple[str, ...]


def parse_form(body: bytes, content_type: str, max_bytes: int) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body with no repeated parameter
    (RFC 6749 §3.2: parameters MUST NOT be included more than once)."""
    if content_type != FORM:
        raise OAuthError(INVALID_REQUEST, f"the request body must be {FORM}")
    if len(body) > max_bytes:
        raise OAuthError(INVALID_REQUEST, "the request body is too large")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        raise OAuthError(INVALID_REQUEST, "the request body is not a valid form") from None
    params: dict[str, str] = {}
    for name, value in pairs:
        if name in params:
            raise OAuthError(INVALID_REQUEST, f"{name} appears more than once")
        if len(value) > MAX_VALUE_LENGTH:
            raise OAuthError(INVALID_REQUEST, f"{name} is too long")
        params[name] = value
    return params


def basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """RFC 6749 §2.3.1: HTTP Basic with the client id and secret each form-urlencoded."""
    if authorization is None:
        return None
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise _client_error("the Basic credentials are not valid base64", basic=True) from None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise _client_error("the Basic credentials lack a colon", basic=True)
    return unquote_plus(client_id), unquote_plus(secret)


def _client_error(description: str, *, basic: bool) -> OAuthError:
    # RFC 6749 §5.2: 401 and a challenge for the scheme the client tried.
    headers = {"WWW-Authenticate": 'Basic realm="token"'} if basic else {}
    return OAuthError(INVALID_CLIENT, description, 401, headers=headers)


class TokenService:
    def __init__(
        self,
        state: IdpState,
        keys: KeyRing,
        clients: ClientDirectory,
        config: IdpConfig,
        issuer: str,
        token_url: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._state = state
        self._keys = keys
        self._clients = clients
        self._config = config
        self._issuer = issuer
        self._token_url = token_url
        self._clock = clock

    # -- the token endpoint ---------------------------------------------------------------
    async def token(self, request: TokenRequest) -> dict[str, Any]:
        grant_type = request.params.get("grant_type")
        if not grant_type:
            raise OAuthError(INVALID_REQUEST, "grant_type is required")
        if grant_type not in GRANTS:
            raise OAuthError(UNSUPPORTED_GRANT_TYPE, "grant_type is not supported")
        client = await self.authenticate(request)
        if grant_type not in client.grant_types:
            raise OAuthError(UNAUTHORIZED_CLIENT, f"the client may not use {grant_type}")
        proof = await self._proof(request.dpop)
        if grant_type == "authorization_code":
            return await self._code_grant(client, request.params, proof)
        if grant_type == "refresh_token":
            return await self._refresh_grant(client, request.params, proof)
        return await self._credentials_grant(client, request.params, proof)

    async def authenticate(self, request: TokenRequest) -> Client:
        """RFC 6749 §2.3: exactly one way of authenticating; public clients send client_id."""
        basic = basic_credentials(request.authorization)
        posted_secret = request.params.get("client_secret")
        if basic is not None and posted_secret is not None:
            raise OAuthError(INVALID_REQUEST, "use one client authentication method, not two")
        client_id, secret = basic if basic else (request.params.get("client_id"), posted_secret)
        if basic and request.params.get("client_id", client_id) != client_id:
            raise OAuthError(INVALID_REQUEST, "client_id differs from the Basic credentials")
        if not client_id:
            raise _client_error("client authentication is required", basic=basic is not None)
        try:
            client = await self._clients.find(client_id)
        except OAuthError as exc:
            raise _client_error(exc.description, basic=basic is not None) from exc
        if client.secret_hash is None:
            if secret:
                raise _client_error("the client is public and has no secret", basic=bool(basic))
            return client
        if not secret or not matches(secret, client.secret_hash):
            raise _client_error("client authentication failed", basic=basic is not None)
        return client

    async def _proof(self, headers: tuple[str, ...]) -> DpopProof:
        """RFC 9449 §4.3 at the token endpoint (no ``ath``: there is no token yet)."""
        if len(headers) != 1:
            why = "a DPoP proof is required" if not headers else "send exactly one DPoP header"
            raise OAuthError(INVALID_DPOP_PROOF, why)
        now = self._clock()
        try:
            proof = verify_dpop_proof(
                headers[0], "POST", self._token_url, now, self._config.dpop, ath=None
            )
        except InvalidCredentials as exc:
            raise OAuthError(INVALID_DPOP_PROOF, exc.reason) from exc
        dpop = self._config.dpop
        expires = proof.iat + dpop.iat_window + dpop.clock_skew
        if not await self._state.use_once("dpop:" + replay_key(proof.jti), expires, now):
            raise OAuthError(INVALID_DPOP_PROOF, "the DPoP proof was used before")
        return proof

    # -- grants ---------------------------------------------------------------------------
    async def _code_grant(
        self, client: Client, params: Mapping[str, str], proof: DpopProof
    ) -> dict[str, Any]:
        code = await self._code(client, params)
        if code.dpop_jkt is not None and code.dpop_jkt != proof.jkt:  # RFC 9449 §10
            raise OAuthError(INVALID_GRANT, "the DPoP key is not the one named by dpop_jkt")
        await self._still_linked(code.webid, code.account_id)
        if not await self._state.use_code(code.code_hash):  # lost a race with another use
            await self._state.revoke_family(code.family_id)
            raise OAuthError(INVALID_GRANT, "the authorization code was already used")
        grant = Grant(
            self._issuer, code.webid, client.client_id, proof.jkt, code.scope,
            code.auth_time, code.nonce,
        )  # fmt: skip
        body = await self._tokens(grant)
        if "offline_access" in code.scope.split() and "refresh_token" in client.grant_types:
            family = RefreshFamily(
                code.family_id, client.client_id, code.account_id, code.webid, code.scope,
                proof.jkt, code.auth_time, self._clock() + self._config.refresh_family_ttl,
            )  # fmt: skip
            body["refresh_token"] = await self._start_family(family)
        return body

    async def _code(self, client: Client, params: Mapping[str, str]) -> AuthorizationCode:
        """The stored code, if this client may redeem it with these parameters."""
        value = _required(params, "code")
        redirect_uri = _required(params, "redirect_uri")
        verifier = _required(params, "code_verifier")
        code = await self._state.get_code(digest(value))
        if code is None or code.client_id != client.client_id:
            raise OAuthError(INVALID_GRANT, "the authorization code is unknown to this client")
        if code.used:
            await self._state.revoke_family(code.family_id)
            raise OAuthError(
                INVALID_GRANT, "the authorization code was already used; its tokens are revoked"
            )
        if code.expires_at <= self._clock():
            raise OAuthError(INVALID_GRANT, "the authorization code has expired")
        if redirect_uri != code.redirect_uri:  # RFC 6749 §4.1.3
            raise OAuthError(INVALID_GRANT, "redirect_uri differs from the authorization request")
        if not pkce.well_formed(verifier):
            raise OAuthError(INVALID_REQUEST, "code_verifier is malformed (RFC 7636 §4.1)")
        if not pkce.verify(verifier, code.code_challenge):
            raise OAuthError(INVALID_GRANT, "code_verifier does not match the code_challenge")
        return code

    async def _refresh_grant(
        self, client: Client, params: Mapping[str, str], proof: DpopProof
    ) -> dict[str, Any]:
        old = _required(params, "refresh_token")
        token = await self._refresh_token(client, old, proof)
        family = token.family
        scope = _narrowed_scope(params.get("scope"), family.scope)
        await self._still_linked(family.webid, family.account_id)
        new = new_secret()
        expires = min(self._clock() + self._config.refresh_token_ttl, family.expires_at)
        if not await self._state.rotate_refresh_token(token.token_hash, digest(new), expires):
            await self._state.revoke_family(family.id)  # a concurrent use of the same token
            raise OAuthError(INVALID_GRANT, "the refresh token was already used")
        grant = Grant(
            self._issuer, family.webid, client.client_id, proof.jkt, scope, family.auth_time
        )
        return {**(await self._tokens(grant)), "refresh_token": new}

    async def _refresh_token(self, client: Client, value: str, proof: DpopProof) -> RefreshToken:
        token = await self._state.get_refresh_token(digest(value))
        if token is None or token.family.client_id != client.client_id:
            raise OAuthError(INVALID_GRANT, "the refresh token is unknown to this client")
        if token.family.revoked:
            raise OAuthError(INVALID_GRANT, "the refresh token has been revoked")
        if token.used:  # RFC 9700 §4.14.2: a replayed refresh token revokes them all
            await self._state.revoke_family(token.family.id)
            raise OAuthError(
                INVALID_GRANT, "the refresh token was already used; all its successors are revoked"
            )
        now = self._clock()
        if token.expires_at <= now or token.family.expires_at <= now:
            raise OAuthError(INVALID_GRANT, "the refresh token has expired")
        if token.family.jkt != proof.jkt:  # RFC 9449 §5: bound to the DPoP key
            raise OAuthError(INVALID_GRANT, "the DPoP key is not the one the token is bound to")
        return token

    async def _credentials_grant(
        self, client: Client, params: Mapping[str, str], proof: DpopProof
    ) -> dict[str, Any]:
        if client.webid is None or client.account_id is None:  # not an account's credential
            raise OAuthError(UNAUTHORIZED_CLIENT, "only account credentials use this grant")
        if await self._state.webid_owner(client.webid) != client.account_id:
            raise OAuthError(UNAUTHORIZED_CLIENT, "the credentials' WebID left the account")
        requested = set(params.get("scope", "").split())
        scope = " ".join(s for s in ("openid", "webid") if s in requested) or "webid"
        grant = Grant(self._issuer, client.webid, client.client_id, proof.jkt, scope)
        return await self._tokens(grant, with_id_token=False)  # no end-user sign-in here

    # -- helpers --------------------------------------------------------------------------
    async def _still_linked(self, webid: str, account_id: str) -> None:
        if await self._state.webid_owner(webid) != account_id:
            raise OAuthError(INVALID_GRANT, "the WebID is no longer linked to the account")

    async def _tokens(self, grant: Grant, *, with_id_token: bool = True) -> dict[str, Any]:
        signer = await self._keys.signer()
        now, ttl = self._clock(), self._config.access_token_ttl
        body = _token_body(access_token(signer, grant, now, ttl), ttl, grant.scope)
        if with_id_token and "openid" in grant.scope.split():  # OIDC Core §3.1.3.3
            body["id_token"] = id_token(signer, grant, now, self._config.id_token_ttl)
        return body

    async def _start_family(self, family: RefreshFamily) -> str:
        value = new_secret()
        expires = min(self._clock() + self._config.refresh_token_ttl, family.expires_at)
        await self._state.add_refresh_token(family, digest(value), expires)
        return value

    # -- revocation (RFC 7009) ------------------------------------------------------------
    async def revoke(self, request: TokenRequest) -> None:
        """RFC 7009 §2.1: revoking a refresh token revokes its whole family. Unknown
        tokens, other clients' tokens and access tokens (self-contained JWTs that expire
        within minutes) are answered with success and left alone (§2.2)."""
        client = await self.authenticate(request)
        value = _required(request.params, "token")
        token = await self._state.get_refresh_token(digest(value))
        if token is not None and token.family.client_id == client.client_id:
            await self._state.revoke_family(token.family.id)


def _required(params: Mapping[str, str], name: str) -> str:
    value = params.get(name)
    if not value:
        raise OAuthError(INVALID_REQUEST, f"{name} is required")
    return value


def _narrowed_scope(requested: str | None, granted: str) -> str:
    """RFC 6749 §6: a refresh may ask for fewer scopes, never more."""
    if requested is None:
        return granted
    wanted = requested.split()
    if not set(wanted) <= set(granted.split()):
        raise OAuthError(INVALID_SCOPE, "scope exceeds what was granted")
    return " ".join(wanted)


def _token_body(access: str, ttl: float, scope: str) -> dict[str, Any]:
    # RFC 9449 §5: token_type DPoP for a DPoP-bound access token.
    return {"access_token": access, "token_type": "DPoP", "expires_in": int(ttl), "scope": scope}
