"""``add_idp_routes``: the Solid-OIDC provider's routes on an aiohttp application.

Machine endpoints answer JSON (errors rendered once, by ``errors.error_response``); the
pages a person sees are in ``interaction``. All paths sit under the public base path:

    .well-known/openid-configuration   discovery          idp/jwks       signing keys
    idp/register   RFC 7591            idp/authorize      code flow      idp/token
    idp/revoke     RFC 7009            idp/logout         end session
    idp/login, idp/consent, idp/signup, idp/account, idp/password       pages
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web

from pod_server.http.keys import IDP
from pod_server.idp import pages, registration
from pod_server.idp.bodies import read_body
from pod_server.idp.discovery import configuration
from pod_server.idp.errors import (
    INVALID_CLIENT_METADATA,
    INVALID_REQUEST,
    TEMPORARILY_UNAVAILABLE,
    OAuthError,
    error_response,
    json_response,
)
from pod_server.idp.interaction import Interaction
from pod_server.idp.provider import Provider
from pod_server.idp.token import FORM, TokenRequest, parse_form
from pod_server.state.base import InvalidValue, StateBusy

log = logging.getLogger("pod_server.idp")

PUBLIC_CACHE = {"Cache-Control": "public, max-age=300"}
# Pages are for people: other origins get no CORS access to them (the resource server's
# CORS hook reflects any Origin with credentials, which these must not have).
_CORS_HEADERS = (
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Credentials",
    "Access-Control-Expose-Headers",
)
JsonHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def add_idp_routes(app: web.Application, p: Provider) -> None:
    """Add the provider's routes (under its issuer's path) to ``app``, before any catch-all."""
    base = urlsplit(p.issuer).path or "/"
    people = Interaction(p)
    json_api = JsonApi(p)
    router = app.router
    router.add_get(base + ".well-known/openid-configuration", json_api.discovery)
    router.add_get(base + "idp/jwks", json_api.jwks)
    router.add_post(base + "idp/register", json_api.register)
    router.add_post(base + "idp/token", json_api.token)
    router.add_post(base + "idp/revoke", json_api.revoke)
    for method in ("GET", "POST"):
        router.add_route(method, base + "idp/authorize", _page(people.authorize, p.paths))
    routes = {
        "login": (people.login_page, people.login),
        "signup": (people.signup_page, people.signup),
        "logout": (people.logout_page, people.logout),
        "password": (people.password_page, people.password),
    }
    for name, (get, post) in routes.items():
        router.add_get(base + "idp/" + name, _page(get, p.paths))
        router.add_post(base + "idp/" + name, _page(post, p.paths))
    router.add_post(base + "idp/consent", _page(people.consent, p.paths))
    router.add_get(base + "idp/account", _page(people.account, p.paths))


def _page(handler: JsonHandler, paths: pages.Paths) -> JsonHandler:
    """Errors no handler answered, as pages (naming nobody: the store may be what failed)."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except StateBusy:
            s = pages.speech(request, paths)
            return pages.error(s, s.t("busy_title"), s.t("busy"), 503)
        except InvalidValue:
            s = pages.speech(request, paths)
            return pages.error(s, s.t("bad_request_title"), s.t("bad_character"), 400)

    return guarded


def _oauth(handler: JsonHandler) -> JsonHandler:
    """The one place machine endpoints turn errors into OAuth error responses."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except OAuthError as exc:
            log.info("%s %s: %s", request.method, request.path, exc.error)  # never secrets
            return error_response(exc)
        except StateBusy:
            busy = OAuthError(TEMPORARILY_UNAVAILABLE, "the server is busy", 503)
            return error_response(busy)
        except InvalidValue:
            bad = OAuthError(INVALID_REQUEST, "a parameter holds a character not allowed", 400)
            return error_response(bad)

    return guarded


class JsonApi:
    def __init__(self, provider: Provider) -> None:
        self.p = provider
        self.discovery = _oauth(self._discovery)
        self.jwks = _oauth(self._jwks)
        self.register = _oauth(self._register)
        self.token = _oauth(self._token)
        self.revoke = _oauth(self._revoke)

    async def _discovery(self, request: web.Request) -> web.StreamResponse:
        doc = configuration(self.p.endpoints, self.p.config.dpop.dpop_algs)
        return web.json_response(doc, headers=PUBLIC_CACHE)

    async def _jwks(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(
            await self.p.keys.jwks(), content_type="application/jwk-set+json", headers=PUBLIC_CACHE
        )

    async def _register(self, request: web.Request) -> web.StreamResponse:
        p = self.p
        if await p.limiter.count(p.registrations_per_ip, p.client_ip(request)):
            raise OAuthError(
                TEMPORARILY_UNAVAILABLE, "too many registrations from this address", 429
            )
        limit = p.config.max_registration_bytes
        body = await read_body(request, limit)
        if body is None:
            raise OAuthError(
                INVALID_CLIENT_METADATA, f"registration request larger than {limit} bytes"
            )
        doc = registration.parse_json_body(body, request.content_type, limit)
        metadata = registration.validate_metadata(doc, allow_http=p.issuer.startswith("http://"))
        response = await registration.register(p.state, metadata, p.clock())
        return json_response(response, 201)

    async def _token(self, request: web.Request) -> web.StreamResponse:
        body = await self.p.tokens.token(await self._token_request(request))
        return json_response(body)

    async def _revoke(self, request: web.Request) -> web.StreamResponse:
        await self.p.tokens.revoke(await self._token_request(request))
        return json_response({})

    async def _token_request(self, request: web.Request) -> TokenRequest:
        limit = self.p.config.max_form_bytes
        body = await read_body(request, limit)
        if body is None:
            raise OAuthError(INVALID_REQUEST, "the request body is too large")
        content_type = request.content_type if request.body_exists else FORM
        params = parse_form(body, content_type, limit)
        return TokenRequest(
            params,
            request.headers.get("Authorization"),
            tuple(request.headers.getall("DPoP", ())),
        )


@contextlib.asynccontextmanager
async def serving(p: Provider) -> AsyncIterator[None]:
    """The provider at work (its state store already started): a signing key made and
    published on the first start, expired state purged now and then."""
    await p.keys.signer()
    purger = asyncio.create_task(_purge_forever(p))
    try:
        yield
    finally:
        purger.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await purger


async def _purge_forever(p: Provider) -> None:
    while True:
        await asyncio.sleep(p.config.purge_interval)
        try:
            await p.state.purge(p.clock())
        except StateBusy:
            log.warning("state store busy; expired entries are purged next time")


def no_cors_on_pages(
    p: Provider,
) -> Callable[[web.Request, web.StreamResponse], Awaitable[None]]:
    """Response hook taking CORS off the pages (so it must run after the CORS hook)."""
    prefix = (urlsplit(p.issuer).path or "/") + "idp/"
    machine = {prefix + name for name in ("jwks", "register", "token", "revoke")}

    async def strip(request: web.Request, response: web.StreamResponse) -> None:
        if request.path.startswith(prefix) and request.path not in machine:
            for name in _CORS_HEADERS:
                response.headers.popall(name, None)

    return strip


__all__ = ["IDP", "add_idp_routes", "no_cors_on_pages", "serving"]
