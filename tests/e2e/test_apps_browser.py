"""An app limited by the person, in a real browser: the consent page lists what the app
asks for in its Client ID Document; the person unticks the optional need, and the app,
signed in, is refused there while it reads what was granted."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from pod_server.idp.pkce import challenge_of
from tests.e2e.conftest import Server
from tests.e2e.loopback import Loopback, http, json_of
from tests.e2e.test_idp_browser import fill_sign_in, press, shoot, sign_up
from tests.unit.auth.helpers import ath_of, make_issuer_key, mint_dpop_proof

if TYPE_CHECKING:
    from jwcrypto import jwk
    from playwright.sync_api import Browser

pytestmark = pytest.mark.timeout(180)

NEEDS = {
    "consent:ownContainer": "apps/planner/",
    "interop:hasAccessNeedGroup": [
        {
            "skos:prefLabel": "Planning",
            "interop:hasAccessNeed": [
                {
                    "skos:prefLabel": "Your settings",
                    "skos:definition": "To show dates the way you like them.",
                    "interop:accessMode": "acl:Read",
                    "consent:targetPath": "settings/",
                    "interop:accessNecessity": "interop:AccessRequired",
                },
                {
                    "skos:prefLabel": "Your notes",
                    "skos:definition": "To file each plan as a note.",
                    "interop:accessMode": ["acl:Read", "acl:Write"],
                    "consent:targetPath": "notes/",
                    "interop:accessNecessity": "interop:AccessOptional",
                },
            ],
        }
    ],
}


@pytest.fixture
def site() -> Iterator[Loopback]:
    """The app's site: its Client ID Document and its redirect target."""
    listener = Loopback()
    listener.pages["/callback"] = "<!DOCTYPE html><title>Planner</title><p>Signed in.</p>"
    yield listener
    listener.close()


def publish(site: Loopback, name: str, **extra: object) -> str:
    client_id = site.url(f"/{name}.jsonld")
    site.pages[f"/{name}.jsonld"] = json.dumps(
        {
            "@context": ["https://www.w3.org/ns/solid/oidc-context.jsonld"],
            "client_id": client_id,
            "client_name": name.capitalize(),
            "redirect_uris": [site.url("/callback")],
            "grant_types": ["authorization_code"],
            "scope": "openid webid",
            **extra,
        }
    )
    site.types[f"/{name}.jsonld"] = "application/ld+json"
    return client_id


def authorize_url(server: Server, site: Loopback, client_id: str, verifier: str) -> str:
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": site.url("/callback"),
        "scope": "openid webid",
        "state": "s",
        "code_challenge": challenge_of(verifier),
        "code_challenge_method": "S256",
    }
    return server.url("idp/authorize") + "?" + urlencode(query)


def token_for(server: Server, site: Loopback, client_id: str, verifier: str, key: jwk.JWK) -> str:
    (last,) = [p for p in site.seen if p.startswith("/callback")][-1:]
    code = parse_qs(urlsplit(last).query)["code"][0]
    url = server.url("idp/token")
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": site.url("/callback"),
        "code_verifier": verifier,
        "client_id": client_id,
    }
    status, _, body = http(
        "POST",
        url,
        data=urlencode(form).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "DPoP": mint_dpop_proof(key, "POST", url),
        },
    )
    assert status == 200, body
    return str(json_of(body)["access_token"])


def call(method: str, url: str, token: str, key: jwk.JWK, body: bytes | None = None) -> int:
    headers = {"Authorization": f"DPoP {token}", "DPoP": mint_dpop_proof(key, method, url, ath=ath_of(token))}  # fmt: skip
    if body is not None:
        headers["Content-Type"] = "text/turtle"
    return http(method, url, data=body, headers=headers)[0]


def test_unticking_an_optional_need_limits_the_app(
    browser: Browser, server: Server, site: Loopback, screens: Path
) -> None:
    newcomer = browser.new_context()
    person = sign_up(newcomer.new_page(), server, "fay")
    newcomer.close()
    planner = publish(site, "planner", **NEEDS)
    verifier = secrets.token_urlsafe(48)
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(authorize_url(server, site, planner, verifier))
        assert fill_sign_in(page, person.email, person.password) == 303
        assert page.title() == "Allow Planner?"
        main = page.inner_text("main")
        assert "Your settings: read the folder settings/" in main and "required" in main
        assert "Your notes: read, change and delete the folder notes/" in main
        assert "Only its own folder apps/planner/" in main and "Full access" in main
        required = page.get_by_role("checkbox", name="Your settings")
        assert required.is_checked() and required.is_disabled()
        shoot(page, screens, "apps-consent-needs")
        page.get_by_role("checkbox", name="Your notes").uncheck()
        shoot(page, screens, "apps-consent-unticked")
        assert press(page, "Allow") == 303
        assert page.url.startswith(site.url("/callback?"))
    finally:
        context.close()

    key = make_issuer_key("ES256")
    token = token_for(server, site, planner, verifier, key)
    pod = server.url("fay/")
    assert call("GET", pod + "settings/prefs.ttl", token, key) == 200  # granted
    assert call("PUT", pod + "notes/plan.ttl", token, key, b"<#p> <#q> 1.") == 403  # unticked
    assert call("GET", pod + "notes/", token, key) == 403  # no Read there either
    assert call("PUT", pod + "apps/planner/a.ttl", token, key, b"<#a> <#b> 1.") == 201  # its own
    assert call("GET", pod, token, key) == 403  # nothing else


def test_an_app_without_needs_is_marked_full_access_and_bad_needs_stop_the_login(
    browser: Browser, server: Server, site: Loopback, screens: Path
) -> None:
    newcomer = browser.new_context()
    person = sign_up(newcomer.new_page(), server, "gus")
    newcomer.close()
    everything = publish(site, "everything")
    broken = publish(
        site,
        "broken",
        **{
            "interop:hasAccessNeedGroup": [
                {"interop:hasAccessNeed": [{"consent:targetPath": "notes/"}]}
            ]
        },
    )
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(authorize_url(server, site, everything, "v" * 43))
        assert fill_sign_in(page, person.email, person.password) == 303
        assert "Full access." in page.inner_text("main")
        assert "does not say what it needs" in page.inner_text("main")
        shoot(page, screens, "apps-consent-full")
        page.goto(authorize_url(server, site, broken, "v" * 43))
        assert page.title() == "Cannot continue"
        assert "names no accessMode" in page.inner_text("main")
        shoot(page, screens, "apps-consent-broken")
    finally:
        context.close()
