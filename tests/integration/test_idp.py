"""The Solid-OIDC provider through a real server on loopback and a real HTTP client.

The server is a minimal aiohttp app with the provider's routes, a SQLite state file, a
route serving WebID profiles (naming this provider as their issuer) and one serving
Client ID Documents. Access tokens it issues are verified by the resource server's own
Authenticator against the live discovery document and JWKS.
"""

from __future__ import annotations

import asyncio
import base64
import html
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import aiohttp
import pytest
from aiohttp import web
from argon2 import PasswordHasher
from jwcrypto import jwk, jwt

from pod_server.auth import AuthConfig, Authenticator, MemoryReplayCache
from pod_server.auth.fetch import AiohttpFetcher
from pod_server.idp import (
    IdpConfig,
    Passwords,
    ProvisionRefused,
    add_idp_routes,
    build_provider,
    no_cors_on_pages,
    serving,
)
from pod_server.idp.accounts import create_account, create_credentials
from pod_server.idp.pkce import challenge_of
from pod_server.idp.provider import Provider
from pod_server.settings import Settings
from pod_server.state import SqliteState
from tests.conftest import free_socket
from tests.unit.auth.helpers import ath_of, make_issuer_key, mint_dpop_proof

CHEAP = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
PASSWORD = "correct horse battery"
REDIRECT = "http://127.0.0.1:9/callback"  # never contacted: redirects are read, not followed
VERIFIER = "v" * 20 + "-" * 3 + "x" * 20  # 43 characters (RFC 7636 §4.1)
KEYS = {alg: make_issuer_key(alg) for alg in ("ES256", "RS256")}


class OffsetClock:
    """Real time plus an offset tests can advance (code expiry and the like)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@dataclass
class Form:
    action: str
    fields: dict[str, str] = field(default_factory=dict)
    radios: dict[str, list[str]] = field(default_factory=dict)


class Forms(HTMLParser):
    """The forms of a page with their fields' values (checked radios and boxes only)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", "")))
        elif tag == "input" and self.forms and "name" in a:
            form = self.forms[-1]
            if a.get("type") == "radio":
                form.radios.setdefault(a["name"], []).append(a.get("value", ""))
                if "checked" in a:
                    form.fields[a["name"]] = a.get("value", "")
            elif a.get("type") != "checkbox" or "checked" in a:
                form.fields[a["name"]] = a.get("value", "")


@dataclass
class World:
    base: str
    provider: Provider
    state: SqliteState
    session: aiohttp.ClientSession
    clock: OffsetClock
    client_documents: dict[str, dict[str, Any]]
    provisioned: list[tuple[str, str]]

    def url(self, path: str) -> str:
        return self.base + path.lstrip("/")

    def webid(self, name: str) -> str:
        return self.url(f"{name}/profile/card#me")

    async def person(self, name: str = "alice") -> tuple[str, str]:
        """An account with a WebID on this server: (email, webid)."""
        email = f"{name}@example.org"
        await create_account(self.state, email, PASSWORD, self.webid(name), passwords=CHEAP)
        return email, self.webid(name)

    async def register(self, **metadata: Any) -> tuple[int, dict[str, Any]]:
        doc = {"client_name": "Test app", "redirect_uris": [REDIRECT], **metadata}
        async with self.session.post(self.url("idp/register"), json=doc) as r:
            return r.status, await r.json()

    async def confidential_client(self) -> tuple[str, str]:
        status, body = await self.register(grant_types=["authorization_code", "refresh_token"])
        assert status == 201, body
        return body["client_id"], body["client_secret"]

    def proof(self, alg: str = "ES256", url: str | None = None, **kw: Any) -> str:
        kw.setdefault("iat", int(self.clock()))
        return mint_dpop_proof(KEYS[alg], "POST", url or self.url("idp/token"), **kw)

    async def token(
        self,
        data: dict[str, str],
        *,
        basic: tuple[str, str] | None = None,
        dpop: str | list[str] | None = "auto",
        alg: str = "ES256",
        path: str = "idp/token",
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        headers: list[tuple[str, str]] = []
        if basic is not None:
            raw = f"{quote(basic[0], safe='')}:{quote(basic[1], safe='')}".encode()
            headers.append(("Authorization", "Basic " + base64.b64encode(raw).decode()))
        proofs = [self.proof(alg)] if dpop == "auto" else [] if dpop is None else dpop
        proofs = [proofs] if isinstance(proofs, str) else proofs
        headers += [("DPoP", p) for p in proofs]
        async with self.session.post(self.url(path), data=data, headers=headers) as r:
            return r.status, await r.json(), dict(r.headers)

    async def authorize_url(self, client_id: str, **params: str) -> str:
        query = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": REDIRECT,
            "scope": "openid webid offline_access",
            "state": "st-1",
            "nonce": "n-1",
            "code_challenge": challenge_of(VERIFIER),
            "code_challenge_method": "S256",
            **params,
        }
        return self.url("idp/authorize") + "?" + urlencode(query)

    async def get(self, url: str) -> tuple[int, str, dict[str, str]]:
        async with self.session.get(url, allow_redirects=False) as r:
            return r.status, await r.text(), dict(r.headers)

    async def submit(self, form: Form, **values: str) -> tuple[int, str, dict[str, str]]:
        data = {**form.fields, **values}
        async with self.session.post(self.url(form.action), data=data, allow_redirects=False) as r:
            return r.status, await r.text(), dict(r.headers)

    async def sign_in(
        self, page: str, email: str, password: str = PASSWORD
    ) -> tuple[int, str, dict[str, str]]:
        (form,) = Forms(page).forms
        assert form.action.endswith("/idp/login")
        return await self.submit(form, email=email, password=password)

    async def code_flow(self, client_id: str, email: str, **params: str) -> dict[str, list[str]]:
        """Authorize → sign in → consent → back at the client: its query parameters."""
        status, page, _ = await self.get(await self.authorize_url(client_id, **params))
        assert status == 200 and "Sign in" in page
        status, _, headers = await self.sign_in(page, email)
        assert status == 303, "sign-in failed"
        status, page, _ = await self.get(self.url(headers["Location"]))
        assert status == 200 and "Allow" in page, page
        (form,) = Forms(page).forms
        status, _, headers = await self.submit(form, decision="allow")
        assert status == 303
        return callback(headers["Location"])

    async def exchange(
        self, client: tuple[str, str | None], code: str, **kw: Any
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": VERIFIER,
        }
        if client[1] is None:
            return await self.token({**data, "client_id": client[0]}, **kw)
        return await self.token(data, basic=(client[0], client[1]), **kw)


def callback(location: str) -> dict[str, list[str]]:
    assert location.startswith(REDIRECT + "?"), location
    return parse_qs(urlsplit(location).query)


def claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@asynccontextmanager
async def running_world(tmp_path: Path, config: IdpConfig | None = None) -> AsyncIterator[World]:
    sock = free_socket()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    settings = Settings(root=tmp_path, base_url=base)
    state = SqliteState(tmp_path / "state.sqlite3")
    clock = OffsetClock()
    documents: dict[str, dict[str, Any]] = {}
    provisioned: list[tuple[str, str]] = []

    async def provision(account_id: str, name: str) -> str:
        if name == "taken":
            raise ProvisionRefused("That pod name is taken.")
        provisioned.append((account_id, name))
        return f"{base}{name}/profile/card#me"

    async def profile(request: web.Request) -> web.Response:
        webid = f"{base}{request.match_info['name']}/profile/card#me"
        turtle = f"<{webid}> <http://www.w3.org/ns/solid/terms#oidcIssuer> <{base}> ."
        return web.Response(text=turtle, content_type="text/turtle")

    async def client_document(request: web.Request) -> web.Response:
        doc = documents.get(request.match_info["name"])
        if doc is None:
            raise web.HTTPNotFound()
        return web.json_response(doc, content_type="application/ld+json")

    app = web.Application()
    config = config or IdpConfig(max_login_failures_per_account=3, max_registrations_per_ip=1000)
    fetcher = AiohttpFetcher(config.dpop.fetch_timeout, config.max_registration_bytes * 4)
    provider = build_provider(
        settings.public_base,
        state,
        fetcher,
        config=config,
        passwords=CHEAP,
        provision=provision,
        clock=clock,
    )
    add_idp_routes(app, provider)
    app.on_response_prepare.append(no_cors_on_pages(provider))

    async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
        await state.start()
        async with serving(provider):
            yield
        await fetcher.close()
        await state.close()

    app.cleanup_ctx.append(lifecycle)
    app.router.add_get("/{name}/profile/card", profile)
    app.router.add_get("/apps/{name}", client_document)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    jar = aiohttp.CookieJar(unsafe=True)  # cookies for an IP-address host
    try:
        async with aiohttp.ClientSession(cookie_jar=jar) as session:
            yield World(base, provider, state, session, clock, documents, provisioned)
    finally:
        await runner.cleanup()


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with running_world(tmp_path) as running:
        yield running


async def verify_on_resource_server(world: World, token: str, alg: str = "ES256") -> str | None:
    """The resource server's Authenticator, against our live discovery and JWKS."""
    auth = Authenticator(AuthConfig(), MemoryReplayCache())
    try:
        url = world.url("alice/private/data.ttl")
        proof = mint_dpop_proof(KEYS[alg], "GET", url, ath=ath_of(token))
        agent = await auth.identify("GET", url, {"Authorization": f"DPoP {token}", "DPoP": proof})
        assert agent.reason is None, agent.reason
        return agent.webid
    finally:
        await auth.close()


# -- discovery ------------------------------------------------------------------------------


async def test_discovery_and_jwks(world: World) -> None:
    async with world.session.get(world.url(".well-known/openid-configuration")) as r:
        assert r.status == 200
        doc = await r.json()
    assert doc["issuer"] == world.base  # exactly, with 127.0.0.1 and the trailing slash
    assert {"openid", "webid", "offline_access"} <= set(doc["scopes_supported"])
    assert {"authorization_code", "refresh_token", "client_credentials"} <= set(
        doc["grant_types_supported"]
    )
    assert {"client_secret_basic", "client_secret_post", "none"} <= set(
        doc["token_endpoint_auth_methods_supported"]
    )
    assert {"ES256", "RS256"} <= set(doc["dpop_signing_alg_values_supported"])
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["subject_types_supported"] and "webid" in doc["claims_supported"]
    for name in ("authorization_endpoint", "token_endpoint", "registration_endpoint",
                 "jwks_uri", "revocation_endpoint", "end_session_endpoint"):  # fmt: skip
        assert doc[name].startswith(world.base)
    async with world.session.get(doc["jwks_uri"]) as r:
        keys = (await r.json())["keys"]
    assert keys and all(k["alg"] == "ES256" and "d" not in k for k in keys)


async def test_keys_survive_a_restart(world: World, tmp_path: Path) -> None:
    kid = (await world.provider.keys.signer()).kid
    async with SqliteState(tmp_path / "state.sqlite3") as again:
        assert kid in [k.kid for k in await again.list_keys()]


# -- the authorization code flow ------------------------------------------------------------


async def test_code_flow_with_pkce_and_dpop(world: World) -> None:
    email, webid = await world.person()
    client = await world.confidential_client()
    back = await world.code_flow(client[0], email)
    assert back["state"] == ["st-1"] and back["iss"] == [world.base]
    started = time.perf_counter()
    status, body, headers = await world.exchange(client, back["code"][0])
    elapsed = time.perf_counter() - started
    assert status == 200, body
    assert headers["Cache-Control"] == "no-store"
    assert body["token_type"] == "DPoP" and body["expires_in"] == 600
    assert set(body["scope"].split()) == {"openid", "webid", "offline_access"}
    access = claims(body["access_token"])
    assert access["iss"] == world.base and access["webid"] == webid
    assert access["aud"] == ["solid", client[0]] and access["client_id"] == client[0]
    assert access["cnf"]["jkt"] == KEYS["ES256"].thumbprint()
    id_token = claims(body["id_token"])
    assert id_token["webid"] == webid and id_token["aud"] == client[0]
    assert id_token["nonce"] == "n-1" and id_token["azp"] == client[0]
    assert body["refresh_token"]
    assert await verify_on_resource_server(world, body["access_token"]) == webid
    # The ID token verifies with an independent JOSE library against the published JWKS.
    async with world.session.get(world.url("idp/jwks")) as r:
        keyset = jwk.JWKSet.from_json(await r.text())
    jwt.JWT(jwt=body["id_token"], key=keyset, algs=["ES256"])
    assert elapsed < 1.0


async def test_remembered_consent_skips_the_pages(world: World) -> None:
    email, _ = await world.person()
    client = await world.confidential_client()
    await world.code_flow(client[0], email)
    status, _, headers = await world.get(await world.authorize_url(client[0], state="again"))
    assert status == 302
    assert callback(headers["Location"])["state"] == ["again"]
    # prompt=consent asks again; prompt=none never shows a page.
    status, page, _ = await world.get(await world.authorize_url(client[0], prompt="consent"))
    assert status == 200 and "Allow" in page


async def test_public_client_with_a_client_id_document(world: World) -> None:
    email, webid = await world.person()
    client_id = world.url("apps/notes.jsonld")
    world.client_documents["notes.jsonld"] = {
        "@context": "https://www.w3.org/ns/solid/oidc-context.jsonld",
        "client_id": client_id,
        "client_name": "Notes",
        "redirect_uris": [REDIRECT],
        "grant_types": ["authorization_code", "refresh_token"],
        "scope": "openid webid offline_access",
    }
    status, page, _ = await world.get(await world.authorize_url(client_id))
    assert "Notes" in page
    back = await world.code_flow(client_id, email)
    status, body, _ = await world.exchange((client_id, None), back["code"][0], alg="RS256")
    assert status == 200, body
    assert claims(body["access_token"])["cnf"]["jkt"] == KEYS["RS256"].thumbprint()
    assert await verify_on_resource_server(world, body["access_token"], "RS256") == webid


async def test_client_id_document_problems(world: World) -> None:
    client_id = world.url("apps/liar.jsonld")
    world.client_documents["liar.jsonld"] = {
        "client_id": world.url("apps/other"),
        "redirect_uris": [REDIRECT],
    }
    status, page, _ = await world.get(await world.authorize_url(client_id))
    assert status == 400 and "invalid_client" in page and "own URL" in page
    status, page, _ = await world.get(await world.authorize_url(world.url("apps/missing")))
    assert status == 400 and "could not be fetched" in page


async def test_prompt_none_without_a_session(world: World) -> None:
    client = await world.confidential_client()
    status, _, headers = await world.get(await world.authorize_url(client[0], prompt="none"))
    assert status == 302
    back = callback(headers["Location"])
    assert back["error"] == ["login_required"] and back["state"] == ["st-1"]


@pytest.mark.parametrize("forcing", [{"prompt": "login"}, {"max_age": "0"}])
async def test_forced_sign_in_does_not_loop(world: World, forcing: dict[str, str]) -> None:
    email, _ = await world.person()
    client = await world.confidential_client()
    await world.code_flow(client[0], email)  # signed in, consent remembered
    status, page, _ = await world.get(await world.authorize_url(client[0], **forcing))
    assert status == 200 and "Sign in" in page
    status, _, headers = await world.sign_in(page, email)
    assert status == 303 and "prompt=login" not in headers["Location"]
    status, _, headers = await world.get(world.url(headers["Location"]))
    assert status == 302 and "code" in callback(headers["Location"])


async def test_denied_consent(world: World) -> None:
    email, _ = await world.person()
    client = await world.confidential_client()
    _, page, _ = await world.get(await world.authorize_url(client[0]))
    _, _, headers = await world.sign_in(page, email)
    _, page, _ = await world.get(world.url(headers["Location"]))
    status, _, headers = await world.submit(Forms(page).forms[0], decision="deny")
    assert status == 303 and callback(headers["Location"])["error"] == ["access_denied"]


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "webid"}, "invalid_scope"),
        ({"code_challenge": ""}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"request": "eyJ..."}, "request_not_supported"),
        ({"prompt": "none login"}, "invalid_request"),
    ],
)
async def test_authorization_errors_go_back_to_the_client(
    world: World, change: dict[str, str], error: str
) -> None:
    client = await world.confidential_client()
    status, _, headers = await world.get(await world.authorize_url(client[0], **change))
    assert status == 302
    back = callback(headers["Location"])
    assert back["error"] == [error] and back["state"] == ["st-1"] and back["iss"] == [world.base]


async def test_unknown_client_and_redirect_mismatch_are_never_redirected(world: World) -> None:
    status, page, headers = await world.get(await world.authorize_url("no-such-client"))
    assert status == 400 and "Location" not in headers and "unknown client" in page
    client = await world.confidential_client()
    url = await world.authorize_url(client[0], redirect_uri="https://evil.example/cb")
    status, page, headers = await world.get(url)
    assert status == 400 and "Location" not in headers and "redirect_uri is not registered" in page


async def test_wrong_password_and_rate_limit(world: World) -> None:
    email, _ = await world.person()
    client = await world.confidential_client()
    _, page, _ = await world.get(await world.authorize_url(client[0]))
    for _ in range(3):
        status, page, _ = await world.sign_in(page, email, "wrong password")
        assert status == 401 and "email or password is wrong" in page
    status, page, headers = await world.sign_in(page, email, PASSWORD)  # right, but too late
    assert status == 429 and "Too many failed sign-ins" in page and "Retry-After" in headers
    status, page, _ = await world.sign_in(page, "bob@example.org", "whatever")
    assert status == 401  # another account is not locked out


async def test_forms_refuse_cross_site_posts(world: World) -> None:
    email, _ = await world.person()
    async with world.session.post(
        world.url("idp/login"), data={"email": email, "password": PASSWORD, "csrf": "x" * 43},
        allow_redirects=False,
    ) as r:  # fmt: skip
        assert r.status == 403
    _, page, _ = await world.get(world.url("idp/login"))
    form = Forms(page).forms[0]
    async with world.session.post(
        world.url("idp/login"), data={**form.fields, "email": email, "password": PASSWORD},
        headers={"Origin": "https://evil.example"}, allow_redirects=False,
    ) as r:  # fmt: skip
        assert r.status == 403 and "sent from another site" in await r.text()
    # A sibling origin (Fetch Metadata tells) is refused even when it hides its Origin.
    async with world.session.post(
        world.url("idp/login"), data={**form.fields, "email": email, "password": PASSWORD},
        headers={"Origin": "null", "Sec-Fetch-Site": "same-site"}, allow_redirects=False,
    ) as r:  # fmt: skip
        assert r.status == 403 and "sent from another site" in await r.text()


async def test_forms_accept_what_browsers_send(world: World) -> None:
    """``Origin: null`` (a no-referrer policy, a privacy setting) passes with the token;
    without the token it is an expired form, whatever the Origin."""
    email, _ = await world.person()
    _, page, _ = await world.get(world.url("idp/login"))
    form = Forms(page).forms[0]
    for headers in (
        {"Origin": "null", "Sec-Fetch-Site": "same-origin"},
        {"Origin": world.base.rstrip("/"), "Sec-Fetch-Site": "same-origin"},
    ):
        async with world.session.post(
            world.url("idp/login"), data={**form.fields, "email": email, "password": PASSWORD},
            headers=headers, allow_redirects=False,
        ) as r:  # fmt: skip
            assert r.status == 303, headers
    async with world.session.post(
        world.url("idp/login"), data={**form.fields, "csrf": "", "password": PASSWORD},
        headers={"Origin": "null"}, allow_redirects=False,
    ) as r:  # fmt: skip
        assert r.status == 403 and "expired" in await r.text()
    async with world.session.post(
        world.url("idp/login"), data={**form.fields, "email": "x" * 20_000},
        allow_redirects=False,
    ) as r:  # fmt: skip
        assert r.status == 413  # too large, not "expired"


# -- the token endpoint ---------------------------------------------------------------------


async def test_code_errors(world: World) -> None:
    email, _ = await world.person()
    client = await world.confidential_client()
    code = (await world.code_flow(client[0], email))["code"][0]

    async def attempt(**change: str) -> tuple[int, str, str]:
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": VERIFIER,
            **change,
        }
        status, body, _ = await world.token(data, basic=client)
        return status, body.get("error", ""), body.get("error_description", "")

    assert (await attempt(code_verifier="w" * 43))[:2] == (400, "invalid_grant")
    assert (await attempt(code_verifier="short"))[:2] == (400, "invalid_request")
    assert (await attempt(redirect_uri="http://127.0.0.1:9/other"))[:2] == (400, "invalid_grant")
    assert (await attempt(code="nope"))[:2] == (400, "invalid_grant")
    status, body, _ = await world.token(
        {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
         "code_verifier": VERIFIER},
        basic=(client[0], "wrong secret"),
    )  # fmt: skip
    assert (status, body["error"]) == (401, "invalid_client")
    # After all those failures the code is still good once.
    assert (await world.exchange(client, code))[0] == 200


async def test_reused_code_revokes_what_it_issued(world: World) -> None:
    email, _ = await world.person()
    client = await world.confidential_client()
    code = (await world.code_flow(client[0], email))["code"][0]
    status, first, _ = await world.exchange(client, code)
    assert status == 200
    status, body, _ = await world.exchange(client, code)
    assert (status, body["error"]) == (400, "invalid_grant")
    assert "already used" in body["error_description"]
    status, body, _ = await world.token(
        {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}, basic=client
    )
    assert (status, body["error"]) == (400, "invalid_grant") and "revoked" in body[
        "error_description"
    ]


async def test_expired_code(world: World) -> None:
    email, _ = await world.person()
    client = await world.confidential_client()
    code = (await world.code_flow(client[0], email))["code"][0]
    world.clock.offset += world.provider.config.code_ttl + 1
    status, body, _ = await world.exchange(client, code)
    assert (status, body["error"]) == (400, "invalid_grant") and "expired" in body[
        "error_description"
    ]


async def test_dpop_is_required_and_checked(world: World) -> None:
    email, _ = await world.person()
    client = await world.confidential_client()
    code = (await world.code_flow(client[0], email))["code"][0]
    cases = [
        (None, "required"),
        ([world.proof(), world.proof()], "exactly one"),
        (world.proof(url=world.url("idp/other")), "htu"),
        (world.proof(iat=int(world.clock()) - 3600), "too old"),
        (world.proof(ath="abc"), "ath"),
        ("not.a.jwt", "not JSON"),
    ]
    for proof, why in cases:
        status, body, _ = await world.exchange(client, code, dpop=proof)
        assert (status, body["error"]) == (400, "invalid_dpop_proof"), why
        assert why in body["error_description"]
    replayed = world.proof()
    assert (await world.exchange(client, code, dpop=replayed))[0] == 200
    status, body, _ = await world.token({"grant_type": "refresh_token", "refresh_token": "x"},
                                        basic=client, dpop=replayed)  # fmt: skip
    assert body["error"] == "invalid_dpop_proof" and "used before" in body["error_description"]


async def test_dpop_jkt_binds_the_code_to_a_key(world: World) -> None:
    email, _ = await world.person()
    client = await world.confidential_client()
    jkt = KEYS["RS256"].thumbprint()
    code = (await world.code_flow(client[0], email, dpop_jkt=jkt))["code"][0]
    status, body, _ = await world.exchange(client, code, alg="ES256")
    assert (status, body["error"]) == (400, "invalid_grant")
    assert (await world.exchange(client, code, alg="RS256"))[0] == 200


async def test_refresh_rotation_and_reuse_detection(world: World) -> None:
    email, webid = await world.person()
    client = await world.confidential_client()
    code = (await world.code_flow(client[0], email))["code"][0]
    _, first, _ = await world.exchange(client, code)

    async def refresh(token: str, alg: str = "ES256") -> tuple[int, dict[str, Any]]:
        data = {"grant_type": "refresh_token", "refresh_token": token}
        status, body, _ = await world.token(data, basic=client, alg=alg)
        return status, body

    status, body = await refresh(first["refresh_token"], alg="RS256")  # another DPoP key
    assert (status, body["error"]) == (400, "invalid_grant") and "bound" in body[
        "error_description"
    ]
    status, second = await refresh(first["refresh_token"])
    assert status == 200 and second["refresh_token"] != first["refresh_token"]
    assert claims(second["access_token"])["webid"] == webid and second["id_token"]
    status, third = await refresh(second["refresh_token"])
    assert status == 200
    # Replaying a spent token revokes the family: even the newest token stops working.
    status, body = await refresh(first["refresh_token"])
    assert (status, body["error"]) == (400, "invalid_grant")
    assert "already used" in body["error_description"]
    status, body = await refresh(third["refresh_token"])
    assert (status, body["error"]) == (400, "invalid_grant") and "revoked" in body[
        "error_description"
    ]


async def test_concurrent_refresh_with_one_token_succeeds_once(world: World) -> None:
    email, _ = await world.person()
    client = await world.confidential_client()
    _, first, _ = await world.exchange(client, (await world.code_flow(client[0], email))["code"][0])
    data = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    results = await asyncio.gather(*(world.token(data, basic=client) for _ in range(4)))
    assert sorted(r[0] for r in results) == [200, 400, 400, 400]


async def test_revocation(world: World) -> None:
    email, _ = await world.person()
    client = await world.confidential_client()
    _, tokens, _ = await world.exchange(
        client, (await world.code_flow(client[0], email))["code"][0]
    )
    status, body, headers = await world.token(
        {"token": tokens["refresh_token"], "token_type_hint": "refresh_token"},
        basic=client, dpop=None, path="idp/revoke",
    )  # fmt: skip
    assert (status, body) == (200, {}) and headers["Cache-Control"] == "no-store"
    data = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    status, body, _ = await world.token(data, basic=client)
    assert (status, body["error"]) == (400, "invalid_grant")
    # Unknown tokens and access tokens: 200, nothing to do (RFC 7009 §2.2).
    for token in ("unknown", tokens["access_token"]):
        status, _, _ = await world.token(
            {"token": token}, basic=client, dpop=None, path="idp/revoke"
        )
        assert status == 200
    status, body, _ = await world.token(
        {"token": "x"}, basic=(client[0], "bad"), dpop=None, path="idp/revoke"
    )
    assert (status, body["error"]) == (401, "invalid_client")


# -- client credentials ---------------------------------------------------------------------


async def test_client_credentials_flow(world: World) -> None:
    """What @inrupt/solid-client-authn-node sends: Basic with each part form-urlencoded,
    scope ``openid offline_access webid``, a DPoP proof."""
    _, webid = await world.person()
    account = await world.state.find_account("alice@example.org")
    assert account is not None
    made = await create_credentials(world.state, world.base, account.id, webid, "my script")
    assert made["issuer"] == world.base
    data = {"grant_type": "client_credentials", "scope": "openid offline_access webid"}
    status, body, _ = await world.token(data, basic=(made["client_id"], made["client_secret"]))
    assert status == 200, body
    assert "refresh_token" not in body and body["token_type"] == "DPoP"
    access = claims(body["access_token"])
    assert access["iss"] == world.base and access["webid"] == webid
    assert access["aud"] == ["solid", made["client_id"]]
    assert await verify_on_resource_server(world, body["access_token"]) == webid
    # client_secret_post works too; a wrong secret does not.
    posted = {**data, "client_id": made["client_id"], "client_secret": made["client_secret"]}
    assert (await world.token(posted))[0] == 200
    status, body, headers = await world.token(data, basic=(made["client_id"], "wrong"))
    assert (status, body["error"]) == (401, "invalid_client")
    assert headers["WWW-Authenticate"].startswith("Basic")


async def test_registered_apps_cannot_use_client_credentials(world: World) -> None:
    client = await world.confidential_client()
    status, body, _ = await world.token({"grant_type": "client_credentials"}, basic=client)
    assert (status, body["error"]) == (400, "unauthorized_client")


async def test_client_credentials_refusals(world: World) -> None:
    _, webid = await world.person()
    account = await world.state.find_account("alice@example.org")
    assert account is not None
    made = await create_credentials(world.state, world.base, account.id, webid)
    creds = (made["client_id"], made["client_secret"])
    status, body, _ = await world.token(
        {"grant_type": "authorization_code", "code": "x"}, basic=creds
    )
    assert (status, body["error"]) == (400, "unauthorized_client")
    status, body, _ = await world.token({"grant_type": "password"}, basic=creds)
    assert (status, body["error"]) == (400, "unsupported_grant_type")
    status, body, _ = await world.token({}, basic=creds)
    assert (status, body["error"]) == (400, "invalid_request")
    status, body, _ = await world.token({"grant_type": "client_credentials"})
    assert (status, body["error"]) == (401, "invalid_client")
    status, body, _ = await world.token({"grant_type": "client_credentials", "client_id": "nobody"})
    assert (status, body["error"]) == (401, "invalid_client")
    both = {"grant_type": "client_credentials", "client_secret": made["client_secret"]}
    status, body, _ = await world.token(both, basic=creds)
    assert (status, body["error"]) == (400, "invalid_request")
    async with world.session.post(world.url("idp/token"), data="grant_type=client_credentials&grant_type=x",
                                  headers={"Content-Type": "application/x-www-form-urlencoded"}) as r:  # fmt: skip
        assert (r.status, (await r.json())["error"]) == (400, "invalid_request")
    # Unlinking the WebID from the account stops its credentials.
    await world.state.unlink_webid(webid)
    status, body, _ = await world.token({"grant_type": "client_credentials"}, basic=creds)
    assert (status, body["error"]) == (400, "unauthorized_client")


# -- registration ---------------------------------------------------------------------------


async def test_registration(world: World) -> None:
    status, body = await world.register(token_endpoint_auth_method="none")
    assert status == 201 and "client_secret" not in body and body["client_id"]
    assert ":" not in body["client_id"]
    status, body = await world.register()
    assert status == 201 and body["client_secret"] and body["client_secret_expires_at"] == 0


@pytest.mark.parametrize(
    ("payload", "ctype", "error"),
    [
        (b"{" + b'"a":"' + b"x" * 20_000 + b'"}', "application/json", "invalid_client_metadata"),
        (b"{not json", "application/json", "invalid_client_metadata"),
        (b"[]", "application/json", "invalid_client_metadata"),
        (b'{"redirect_uris": ["https://a.example/cb"]}', "text/plain", "invalid_client_metadata"),
        (b'{"client_name": "no redirects"}', "application/json", "invalid_redirect_uri"),
        (b'{"redirect_uris": ["https://a.example/#x"]}', "application/json", "invalid_redirect_uri"),
        (b'{"redirect_uris": ["https://a.example/"], "grant_types": ["client_credentials"]}',
         "application/json", "invalid_client_metadata"),
    ],
)  # fmt: skip
async def test_bad_registrations(world: World, payload: bytes, ctype: str, error: str) -> None:
    async with world.session.post(
        world.url("idp/register"), data=payload, headers={"Content-Type": ctype}
    ) as r:
        body = await r.json()
        assert (r.status, body["error"]) == (400, error), body
        assert r.headers["Cache-Control"] == "no-store"


# -- sign-up, sign-out, account -------------------------------------------------------------


async def test_sign_up_then_authorize(world: World) -> None:
    client = await world.confidential_client()
    _, page, _ = await world.get(await world.authorize_url(client[0]))
    link = html.unescape(page.split('">Create an account')[0].rsplit('href="', 1)[1])
    status, page, _ = await world.get(world.url(link))
    assert status == 200 and "Create an account" in page
    (form,) = Forms(page).forms
    fields = {"email": "carol@example.org", "name": "carol", "password": PASSWORD}
    status, page, _ = await world.submit(form, **fields, confirm="different")
    assert status == 400 and "differ" in page
    status, page, _ = await world.submit(form, **{**fields, "name": "taken"}, confirm=PASSWORD)
    assert status == 400 and "That pod name is taken" in page
    assert await world.state.find_account("carol@example.org") is None  # rolled back
    status, _, headers = await world.submit(form, **fields, confirm=PASSWORD)
    assert status == 303
    assert [name for _, name in world.provisioned] == ["carol"]
    status, page, _ = await world.get(world.url(headers["Location"]))
    assert status == 200 and world.webid("carol") in page  # the consent page, signed in


async def test_sign_up_can_be_switched_off(tmp_path: Path) -> None:
    async with running_world(tmp_path, IdpConfig(signup=False)) as world:
        status, page, _ = await world.get(world.url("idp/login"))
        assert status == 200 and "Create an account" not in page
        status, _, _ = await world.get(world.url("idp/signup"))
        assert status == 404
        async with world.session.post(world.url("idp/signup"), data={"email": "x"}) as r:
            assert r.status == 404


async def test_logout_ends_the_session(world: World) -> None:
    email, _ = await world.person()
    client = await world.confidential_client()
    await world.code_flow(client[0], email)
    status, page, _ = await world.get(world.url("idp/logout"))
    assert status == 200 and "Sign out" in page
    status, page, _ = await world.submit(Forms(page).forms[0])
    assert status == 200 and "signed out" in page
    status, page, _ = await world.get(await world.authorize_url(client[0]))
    assert status == 200 and "Sign in" in page  # the remembered consent needs a sign-in


async def test_logout_redirects_only_to_registered_uris(world: World) -> None:
    email, _ = await world.person()
    after = "http://127.0.0.1:9/bye"
    status, reg = await world.register(post_logout_redirect_uris=[after])
    client = (reg["client_id"], reg["client_secret"])
    code = (await world.code_flow(client[0], email))["code"][0]
    _, tokens, _ = await world.exchange(client, code)
    query = urlencode(
        {"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": after, "state": "s"}
    )
    _, page, _ = await world.get(world.url("idp/logout?" + query))
    status, _, headers = await world.submit(Forms(page).forms[0])
    assert (status, headers["Location"]) == (303, after + "?state=s")
    # Without a session, an unregistered target ends on our own page.
    query = urlencode({"client_id": client[0], "post_logout_redirect_uri": "https://evil.example/"})
    status, page, _ = await world.get(world.url("idp/logout?" + query))
    assert status == 200 and "signed out" in page


async def test_account_and_password_change(world: World) -> None:
    email, webid = await world.person()
    _, page, _ = await world.get(world.url("idp/login"))
    status, _, headers = await world.sign_in(page, email)
    assert headers["Location"].endswith("/idp/account")
    status, page, _ = await world.get(world.url("idp/account"))
    assert status == 200 and webid in page and email in page
    _, page, _ = await world.get(world.url("idp/password"))
    form = Forms(page).forms[0]
    status, page, _ = await world.submit(
        form, current="wrong", password="new password 1", confirm="new password 1"
    )
    assert status == 401
    status, page, _ = await world.submit(
        form, current=PASSWORD, password="new password 1", confirm="new password 1"
    )
    assert status == 200 and "changed" in page
    status, page, _ = await world.get(world.url("idp/account"))
    assert status == 200  # still signed in, on a fresh session


async def test_pages_are_not_shared_cross_origin(world: World) -> None:
    status, _, headers = await world.get(world.url("idp/login"))
    assert status == 200 and "Access-Control-Allow-Origin" not in headers
    assert headers["X-Frame-Options"] == "DENY"
