"""Solid-OIDC sessions: sign in, keep the tokens fresh, sign out.

Two ways in:

* **client credentials** (scripts, organisation services): a ``client_id`` and
  ``client_secret`` an account owner made on their provider, traded for a DPoP-bound
  access token; renewed by signing in again before it expires;
* **authorization code + PKCE** (people): a loopback redirect on ``127.0.0.1``, the
  provider's pages in the system browser (or any ``open_browser`` hook), a client
  registered on the fly (RFC 7591) as a public native app, and a refresh token that
  rotates at every renewal.

Every token request and every resource request carries a fresh DPoP proof from the
session's own key (``ath`` ties it to the token). A session is plain data
(:meth:`Session.to_dict`), so it can be kept between runs (see ``client.profiles``).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import html
import inspect
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from client.dpop import DpopKey, b64url
from client.errors import AuthenticationError, ConnectionFailed, InvalidResponse, Unauthorized
from client.transport import Request, Response, Transport

FORM = "application/x-www-form-urlencoded"
SCOPES = "openid webid offline_access"
Clock = Callable[[], float]
OpenBrowser = Callable[[str], Any]  # may return an awaitable: it is then awaited


@dataclass
class ProviderInfo:
    """The parts of an OpenID provider's discovery document a client uses."""

    issuer: str
    token_endpoint: str
    authorization_endpoint: str | None = None
    registration_endpoint: str | None = None
    revocation_endpoint: str | None = None
    end_session_endpoint: str | None = None

    @classmethod
    def from_document(cls, issuer: str, doc: dict[str, Any]) -> ProviderInfo:
        declared = doc.get("issuer")
        if not isinstance(declared, str) or declared.rstrip("/") != issuer.rstrip("/"):
            raise AuthenticationError(
                f"the provider says its issuer is {declared!r}, not {issuer!r}", url=issuer
            )
        token = doc.get("token_endpoint")
        if not isinstance(token, str):
            raise AuthenticationError("the provider names no token endpoint", url=issuer)

        def opt(name: str) -> str | None:
            value = doc.get(name)
            return value if isinstance(value, str) else None

        return cls(
            declared,
            token,
            opt("authorization_endpoint"),
            opt("registration_endpoint"),
            opt("revocation_endpoint"),
            opt("end_session_endpoint"),
        )


async def discover(transport: Transport, issuer: str) -> ProviderInfo:
    """Fetch ``ISSUER/.well-known/openid-configuration`` (OIDC Discovery §4)."""
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    response = await transport.send(Request("GET", url, {"Accept": "application/json"}))
    body = await response.read()
    if response.status != 200:
        raise AuthenticationError(
            f"no OpenID configuration at {url} (HTTP {response.status})",
            url=url,
            status=response.status,
            hint="Is this the right issuer URL?",
        )
    try:
        doc = json.loads(body)
    except ValueError:
        raise InvalidResponse("the OpenID configuration is not JSON", url=url) from None
    if not isinstance(doc, dict):
        raise InvalidResponse("the OpenID configuration is not a JSON object", url=url)
    return ProviderInfo.from_document(issuer, doc)


def claims_of(jwt: str) -> dict[str, Any]:
    """The payload of a JWT, unverified: only read for display (who am I, until when)."""
    try:
        payload = jwt.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def basic_auth(client_id: str, secret: str) -> str:
    """RFC 6749 §2.3.1: each part form-urlencoded, then Basic."""
    raw = f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


@dataclass
class Session:
    """A signed-in Solid-OIDC session: who, from which provider, with which key and tokens.

    ``kind`` is ``client_credentials`` or ``authorization_code``. ``on_change`` is called
    after every renewal (to persist the new tokens).
    """

    issuer: str
    kind: str
    client_id: str
    key: DpopKey
    provider: ProviderInfo
    access_token: str = ""
    token_type: str = "DPoP"
    expires_at: float = 0.0
    lifetime: float = 300.0
    refresh_token: str | None = None
    client_secret: str | None = None
    webid: str | None = None
    clock: Clock = field(default=time.time, repr=False, compare=False)
    on_change: Callable[[Session], object] | None = field(default=None, repr=False, compare=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False, compare=False)
    _nonces: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    # -- what requests carry --------------------------------------------------------------
    @property
    def expired(self) -> bool:
        return self.clock() >= self.expires_at

    def needs_renewal(self) -> bool:
        """True when the token is gone or within a minute (or half its life) of expiry."""
        left = self.expires_at - self.clock()
        return not self.access_token or left <= min(60.0, self.lifetime / 2)

    async def headers_for(self, method: str, url: str, transport: Transport) -> dict[str, str]:
        """``Authorization`` and ``DPoP`` for one request, renewing the token first if due."""
        if self.needs_renewal():
            await self.renew(transport)
        if self.token_type.lower() != "dpop":
            return {"Authorization": f"Bearer {self.access_token}"}
        nonce = self._nonces.get(_origin(url))
        proof = self.key.proof(method, url, access_token=self.access_token, nonce=nonce)
        return {"Authorization": f"DPoP {self.access_token}", "DPoP": proof}

    def remember_nonce(self, url: str, response: Response) -> bool:
        """RFC 9449 §8-9: keep a server-provided nonce; True when a retry should use it."""
        nonce = response.headers.get("DPoP-Nonce")
        if not nonce or self._nonces.get(_origin(url)) == nonce:
            return False
        self._nonces[_origin(url)] = nonce
        return True

    # -- renewal --------------------------------------------------------------------------
    async def renew(self, transport: Transport, *, force: bool = False) -> None:
        """A fresh access token: the refresh grant, or signing in again with the client's
        credentials. Concurrent callers wait for one renewal."""
        stale = self.access_token
        async with self._lock:
            if self.access_token != stale and not self.needs_renewal():
                return  # another task renewed it while we waited
            if not force and not self.needs_renewal():
                return
            if self.refresh_token:
                fields = {"grant_type": "refresh_token", "refresh_token": self.refresh_token}
            elif self.kind == "client_credentials" and self.client_secret:
                fields = {"grant_type": "client_credentials", "scope": "webid"}
            else:
                raise Unauthorized(
                    "the session has expired and cannot be renewed",
                    url=self.issuer,
                    hint="Sign in again (pod login).",
                )
            try:
                body = await token_request(transport, self, fields)
            except AuthenticationError as exc:
                raise Unauthorized(
                    f"the session could not be renewed: {exc.message}",
                    url=self.issuer,
                    hint="Sign in again (pod login).",
                ) from exc
            self.accept(body)
        if self.on_change is not None:
            self.on_change(self)

    def accept(self, body: dict[str, Any]) -> None:
        """Take the tokens of a token response."""
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise InvalidResponse("the token response has no access_token", url=self.issuer)
        self.access_token = token
        self.token_type = str(body.get("token_type") or "DPoP")
        expires_in = body.get("expires_in")
        lifetime = float(expires_in) if isinstance(expires_in, int | float) else 300.0
        self.lifetime = max(lifetime, 1.0)
        self.expires_at = self.clock() + lifetime
        if isinstance(body.get("refresh_token"), str):
            self.refresh_token = body["refresh_token"]
        claims = claims_of(token)
        webid = claims.get("webid")
        if not isinstance(webid, str) and isinstance(body.get("id_token"), str):
            idc = claims_of(body["id_token"])
            webid = idc.get("webid") or idc.get("sub")
        if isinstance(webid, str):
            self.webid = webid

    # -- sign out -------------------------------------------------------------------------
    async def revoke(self, transport: Transport) -> bool:
        """RFC 7009: revoke the refresh token (and, harmlessly, the access token).
        True when the provider confirmed; the local tokens are dropped either way."""
        endpoint = self.provider.revocation_endpoint
        confirmed = False
        tokens = [(t, h) for t, h in ((self.refresh_token, "refresh_token"),) if t]
        if self.access_token:
            tokens.append((self.access_token, "access_token"))
        if endpoint:
            for token, hint in tokens:
                fields = {"token": token, "token_type_hint": hint}
                headers, fields = _client_auth(self, fields)
                headers["Content-Type"] = FORM
                try:
                    response = await transport.send(
                        Request("POST", endpoint, headers, urlencode(fields).encode())
                    )
                    await response.read()
                    confirmed = confirmed or response.status == 200
                except ConnectionFailed:
                    pass
        self.access_token, self.refresh_token, self.expires_at = "", None, 0.0
        return confirmed

    # -- persistence ----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        p = self.provider
        return {
            "version": 1,
            "issuer": self.issuer,
            "kind": self.kind,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "webid": self.webid,
            "dpop_key": json.loads(self.key.to_json()),
            "access_token": self.access_token,
            "token_type": self.token_type,
            "expires_at": self.expires_at,
            "lifetime": self.lifetime,
            "refresh_token": self.refresh_token,
            "provider": {
                "issuer": p.issuer,
                "token_endpoint": p.token_endpoint,
                "authorization_endpoint": p.authorization_endpoint,
                "registration_endpoint": p.registration_endpoint,
                "revocation_endpoint": p.revocation_endpoint,
                "end_session_endpoint": p.end_session_endpoint,
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], clock: Clock = time.time) -> Session:
        try:
            provider = ProviderInfo(**data["provider"])
            return cls(
                issuer=data["issuer"],
                kind=data["kind"],
                client_id=data["client_id"],
                key=DpopKey.from_json(json.dumps(data["dpop_key"])),
                provider=provider,
                access_token=data.get("access_token") or "",
                token_type=data.get("token_type") or "DPoP",
                expires_at=float(data.get("expires_at") or 0),
                lifetime=float(data.get("lifetime") or 300),
                refresh_token=data.get("refresh_token"),
                client_secret=data.get("client_secret"),
                webid=data.get("webid"),
                clock=clock,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a usable saved session: {exc}") from None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _client_auth(session: Session, fields: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    if session.client_secret:
        return {"Authorization": basic_auth(session.client_id, session.client_secret)}, fields
    return {}, {**fields, "client_id": session.client_id}


async def token_request(
    transport: Transport, session: Session, fields: dict[str, str]
) -> dict[str, Any]:
    """POST to the token endpoint with client authentication and a DPoP proof; one retry
    when the provider asks for a DPoP nonce."""
    url = session.provider.token_endpoint
    for _attempt in range(2):
        headers, form = _client_auth(session, fields)
        headers["Content-Type"] = FORM
        headers["Accept"] = "application/json"
        nonce = session._nonces.get(_origin(url))
        headers["DPoP"] = session.key.proof("POST", url, nonce=nonce)
        response = await transport.send(Request("POST", url, headers, urlencode(form).encode()))
        raw = await response.read()
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        if response.status == 200 and body:
            return body
        if body.get("error") == "use_dpop_nonce" and session.remember_nonce(url, response):
            continue
        error = body.get("error") if isinstance(body.get("error"), str) else None
        description = body.get("error_description") or raw.decode("utf-8", "replace")[:300]
        raise AuthenticationError(
            f"{error or 'HTTP ' + str(response.status)}: {description}".strip(": "),
            error=error,
            status=response.status,
            url=url,
            method="POST",
        )
    raise AuthenticationError("the provider kept asking for a new DPoP nonce", url=url)


async def login_client_credentials(
    transport: Transport,
    issuer: str,
    client_id: str,
    client_secret: str,
    *,
    key: DpopKey | None = None,
    clock: Clock = time.time,
) -> Session:
    """Sign in with an account's client credentials (``client_credentials`` grant)."""
    provider = await discover(transport, issuer)
    session = Session(
        issuer=provider.issuer,
        kind="client_credentials",
        client_id=client_id,
        client_secret=client_secret,
        key=key or DpopKey.generate(),
        provider=provider,
        clock=clock,
    )
    body = await token_request(
        transport, session, {"grant_type": "client_credentials", "scope": "webid"}
    )
    session.accept(body)
    return session


def pkce_pair() -> tuple[str, str]:
    """(verifier, S256 challenge) per RFC 7636."""
    verifier = b64url(secrets.token_bytes(48))  # 64 characters
    challenge = b64url(hashlib.sha256(verifier.encode("ascii")).digest())
    return verifier, challenge


DONE_PAGE = (
    "<!doctype html><meta charset=utf-8><title>{title}</title>"
    "<body style='font-family:sans-serif;margin:3em'><h1>{title}</h1><p>{text}</p>"
)


class _Loopback:
    """A one-shot HTTP listener on 127.0.0.1 for the provider's redirect (RFC 8252 §7.3)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host, self.port = host, port
        self.result: asyncio.Future[dict[str, str]] = asyncio.get_running_loop().create_future()
        self._server: asyncio.Server | None = None

    @property
    def redirect_uri(self) -> str:
        return f"http://{self.host}:{self.port}/callback"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readline(), 10)
            while (await asyncio.wait_for(reader.readline(), 10)) not in (b"\r\n", b"\n", b""):
                pass
            parts = line.decode("latin-1").split()
            target = urlsplit(parts[1]) if len(parts) >= 2 else None
            if target is None or target.path != "/callback" or self.result.done():
                await _answer(writer, 404, "Not found", "Nothing here.")
                return
            params = {k: v[0] for k, v in parse_qs(target.query).items()}
            if "error" in params:
                await _answer(writer, 200, "Sign-in cancelled", "You can close this window.")
            else:
                text = "You are signed in. You can close this window and return to the app."
                await _answer(writer, 200, "Signed in", text)
            self.result.set_result(params)
        except (TimeoutError, OSError, IndexError, UnicodeError):
            pass
        finally:
            writer.close()


async def _answer(writer: asyncio.StreamWriter, status: int, title: str, text: str) -> None:
    page = DONE_PAGE.format(title=html.escape(title), text=html.escape(text)).encode()
    head = (
        f"HTTP/1.1 {status} {'OK' if status == 200 else 'Not Found'}\r\n"
        f"Content-Type: text/html; charset=utf-8\r\nContent-Length: {len(page)}\r\n"
        "Cache-Control: no-store\r\nConnection: close\r\n\r\n"
    )
    writer.write(head.encode() + page)
    await writer.drain()


async def register_native_client(
    transport: Transport, provider: ProviderInfo, redirect_uri: str, client_name: str
) -> str:
    """RFC 7591 registration of a public native client for one loopback redirect URI."""
    if not provider.registration_endpoint:
        raise AuthenticationError(
            "the provider offers no dynamic client registration", url=provider.issuer
        )
    doc = {
        "client_name": client_name,
        "application_type": "native",
        "redirect_uris": [redirect_uri],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        "scope": SCOPES,
    }
    url = provider.registration_endpoint
    response = await transport.send(
        Request(
            "POST",
            url,
            {"Content-Type": "application/json", "Accept": "application/json"},
            json.dumps(doc).encode(),
        )
    )
    raw = await response.read()
    try:
        body = json.loads(raw)
    except ValueError:
        body = {}
    if response.status not in (200, 201) or not isinstance(body.get("client_id"), str):
        why = body.get("error_description") if isinstance(body, dict) else None
        raise AuthenticationError(
            f"client registration failed: {why or 'HTTP ' + str(response.status)}",
            status=response.status,
            url=url,
            method="POST",
        )
    return str(body["client_id"])


async def login_browser(
    transport: Transport,
    issuer: str,
    *,
    open_browser: OpenBrowser | None = None,
    client_name: str = "pod (Python client)",
    timeout: float = 300.0,
    port: int = 0,
    key: DpopKey | None = None,
    clock: Clock = time.time,
) -> Session:
    """Sign a person in: authorization code with PKCE and DPoP, through the browser.

    ``open_browser(url)`` shows the provider's sign-in page (default: the system browser
    via :mod:`webbrowser`); it may be a coroutine function. The provider redirects back to
    ``http://127.0.0.1:PORT/callback`` where this function is listening.
    """
    provider = await discover(transport, issuer)
    if not provider.authorization_endpoint:
        raise AuthenticationError("the provider has no authorization endpoint", url=issuer)
    loopback = _Loopback(port=port)
    await loopback.start()
    helper: asyncio.Task[Any] | None = None
    try:
        client_id = await register_native_client(
            transport, provider, loopback.redirect_uri, client_name
        )
        key = key or DpopKey.generate()
        verifier, challenge = pkce_pair()
        state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        query = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": loopback.redirect_uri,
            "scope": SCOPES,
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "dpop_jkt": key.thumbprint(),
            "prompt": "consent",
        }
        sep = "&" if "?" in provider.authorization_endpoint else "?"
        url = provider.authorization_endpoint + sep + urlencode(query)
        opener = open_browser or _system_browser
        opened = opener(url)
        if inspect.isawaitable(opened):
            helper = asyncio.ensure_future(opened)
        params = await _wait_for_redirect(loopback, helper, timeout)
    finally:
        await loopback.close()
        if helper is not None and not helper.done():
            helper.cancel()
    if params.get("state") != state:
        raise AuthenticationError("the sign-in answer does not match this request (state)")
    if "iss" in params and params["iss"].rstrip("/") != provider.issuer.rstrip("/"):
        raise AuthenticationError("the sign-in answer came from another issuer (RFC 9207)")
    if "error" in params:
        raise AuthenticationError(
            f"{params['error']}: {params.get('error_description', '')}".strip(": "),
            error=params["error"],
            url=issuer,
        )
    if not params.get("code"):
        raise AuthenticationError("the sign-in answer has no code", url=issuer)
    session = Session(
        issuer=provider.issuer,
        kind="authorization_code",
        client_id=client_id,
        key=key,
        provider=provider,
        clock=clock,
    )
    body = await token_request(
        transport,
        session,
        {
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": loopback.redirect_uri,
            "code_verifier": verifier,
        },
    )
    session.accept(body)
    return session


async def _wait_for_redirect(
    loopback: _Loopback, helper: asyncio.Future[Any] | None, timeout: float
) -> dict[str, str]:
    waiting: set[asyncio.Future[Any]] = {loopback.result}
    if helper is not None:
        waiting.add(helper)
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        left = deadline - asyncio.get_running_loop().time()
        done, _ = await asyncio.wait(waiting, timeout=max(left, 0), return_when="FIRST_COMPLETED")
        if loopback.result in done:
            return loopback.result.result()
        if helper is not None and helper in done:
            waiting.discard(helper)
            if helper.exception() is not None:
                raise AuthenticationError(
                    f"the browser step failed: {helper.exception()}"
                ) from helper.exception()
            continue
        raise AuthenticationError(
            f"no sign-in within {int(timeout)} s", hint="Run the login again and finish it."
        )


def _system_browser(url: str) -> Awaitable[None]:
    import webbrowser

    async def show() -> None:
        opened = await asyncio.to_thread(webbrowser.open, url)
        if not opened:
            print(f"Open this address in a browser to sign in:\n  {url}", flush=True)

    return show()


__all__ = [
    "ProviderInfo",
    "Session",
    "basic_auth",
    "claims_of",
    "discover",
    "login_browser",
    "login_client_credentials",
    "pkce_pair",
    "token_request",
]
