"""The identity provider's pages in a real browser: sign-up, sign-in, an app's login,
sign-out, password change, and forged posts from other sites.

The test plays the app: it registers itself, builds the authorization URL with PKCE,
waits for the browser at its own loopback redirect URI, exchanges the code with a DPoP
proof and reads the person's private data with the token. Screenshots of the pages go to
the ``screens`` folder.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from pod_server.idp.pkce import challenge_of
from tests.e2e.conftest import Server
from tests.e2e.loopback import Loopback, auto_post, http, json_of
from tests.unit.auth.helpers import ath_of, make_issuer_key, mint_dpop_proof

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

pytestmark = pytest.mark.timeout(180)  # a browser, a server and password hashing

PASSWORD = "correct horse battery staple"
WRONG_CREDENTIALS = "The email or password is wrong."
CROSS_SITE = "sent from another site"


@dataclass
class Person:
    email: str
    name: str
    password: str = PASSWORD


def shoot(page: Page, screens: Path, name: str) -> None:
    page.screenshot(path=str(screens / f"{name}.png"), full_page=True)


def post(page: Page, click: Callable[[], None]) -> int:
    """Send a form by ``click``; the status of the POST itself (before any redirect)."""
    with (
        page.expect_navigation(),
        page.expect_response(lambda r: r.request.method == "POST") as posted,
    ):
        click()
    return posted.value.status


def press(page: Page, button: str) -> int:
    return post(page, lambda: page.get_by_role("button", name=button, exact=True).click())


def sign_up(page: Page, server: Server, name: str, screens: Path | None = None) -> Person:
    person = Person(f"{name}@example.org", name)
    page.goto(server.url("idp/signup"))
    page.fill("#email", person.email)
    page.fill("#name", person.name)
    page.fill("#password", person.password)
    page.fill("#confirm", person.password)
    if screens is not None:
        shoot(page, screens, "sign-up")
    assert press(page, "Create account") == 303
    assert page.url == server.url("idp/account")
    return person


def fill_sign_in(page: Page, email: str, password: str) -> int:
    page.fill("#email", email)
    page.fill("#password", password)
    return press(page, "Sign in")


def webid_of(server: Server, person: Person) -> str:
    return server.url(f"{person.name}/profile/card#me")


def signed_in(page: Page, server: Server) -> bool:
    page.goto(server.url("idp/account"))
    return page.url == server.url("idp/account")


@pytest.fixture
def app() -> Iterator[Loopback]:
    """The app's own loopback web server: its redirect URI is /callback there."""
    listener = Loopback()
    listener.pages["/callback"] = "<!DOCTYPE html><title>App</title><p>Signed in.</p>"
    yield listener
    listener.close()


@dataclass
class App:
    """An app of the test's making: a public client registered dynamically."""

    listener: Loopback
    client_id: str
    verifier: str

    @property
    def redirect_uri(self) -> str:
        return self.listener.url("/callback")

    def authorize_url(self, server: Server, state: str) -> str:
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": "openid webid offline_access",
            "state": state,
            "nonce": secrets.token_urlsafe(16),
            "code_challenge": challenge_of(self.verifier),
            "code_challenge_method": "S256",
        }
        return server.url("idp/authorize") + "?" + urlencode(query)

    def callbacks(self) -> list[dict[str, list[str]]]:
        return [parse_qs(urlsplit(p).query) for p in self.listener.seen if "/callback" in p]


def register(server: Server, listener: Loopback) -> App:
    metadata = {
        "client_name": "Browser Test App",
        "redirect_uris": [listener.url("/callback")],
        "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code", "refresh_token"],
    }
    status, _, body = http(
        "POST",
        server.url("idp/register"),
        data=json.dumps(metadata).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert status == 201, body
    return App(listener, json_of(body)["client_id"], secrets.token_urlsafe(48))


def claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


# -- sign-up and sign-in --------------------------------------------------------------------


def test_sign_up_gives_a_pod(page: Page, server: Server, screens: Path) -> None:
    person = sign_up(page, server, "ada", screens)
    webid = webid_of(server, person)
    assert f"Signed in as {person.email}" in page.inner_text("header")  # said once, there
    assert "Signed in as" not in page.inner_text("main")
    link = page.get_by_role("link", name=webid, exact=True)
    assert link.get_attribute("href") == webid  # the WebID is a link
    assert page.get_by_role("link", name=server.url("ada/"), exact=True).is_visible()
    shoot(page, screens, "account")
    status, _, body = http("GET", server.url("ada/profile/card"), headers={"Accept": "text/turtle"})
    assert status == 200 and server.base.encode() in body  # it names this provider
    status, _, _ = http("GET", server.url("ada/settings/prefs.ttl"))
    assert status == 401  # private until the owner signs in


def test_sign_in_and_wrong_credentials(browser: Browser, server: Server, screens: Path) -> None:
    newcomer = browser.new_context()
    person = sign_up(newcomer.new_page(), server, "bea")
    newcomer.close()
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(server.url("idp/login"))
        assert fill_sign_in(page, person.email, "not my password") == 401
        assert page.get_by_role("alert").inner_text() == WRONG_CREDENTIALS
        assert page.input_value("#email") == person.email  # the form again, email kept
        assert page.get_attribute("#password", "aria-invalid") == "true"
        shoot(page, screens, "wrong-password")
        assert fill_sign_in(page, "nobody@example.org", PASSWORD) == 401
        assert page.get_by_role("alert").inner_text() == WRONG_CREDENTIALS  # same message
        assert not signed_in(page, server)
        page.goto(server.url("idp/login"))
        assert fill_sign_in(page, person.email, person.password) == 303
        assert page.url == server.url("idp/account")
        assert person.email in page.inner_text("header")
    finally:
        context.close()


def test_a_form_without_its_cookie_has_expired(page: Page, context: BrowserContext,
                                                server: Server) -> None:  # fmt: skip
    person = sign_up(page, server, "cid")
    context.clear_cookies()
    page.goto(server.url("idp/login"))
    context.clear_cookies()  # the token cookie is gone (expired, or cleared by the person)
    assert fill_sign_in(page, person.email, person.password) == 403
    assert page.title() == "Form expired"
    assert not signed_in(page, server)


# -- an app's login: authorization code, PKCE, DPoP ------------------------------------------


def test_app_login_with_pkce_and_dpop(
    browser: Browser, server: Server, app: Loopback, screens: Path
) -> None:
    newcomer = browser.new_context()
    person = sign_up(newcomer.new_page(), server, "dee")
    newcomer.close()
    client = register(server, app)
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(client.authorize_url(server, "state-1"))
        assert "Sign in to continue to Browser Test App" in page.inner_text("main")
        shoot(page, screens, "app-sign-in")
        assert fill_sign_in(page, person.email, person.password) == 303
        assert page.title() == "Allow Browser Test App?"
        items = page.locator("main ul li").all_inner_texts()
        assert len(items) == len(set(items)) == 2, items  # each ask said once
        shoot(page, screens, "consent")
        assert press(page, "Allow") == 303
        assert page.url.startswith(client.redirect_uri + "?")
        (answer,) = client.callbacks()
    finally:
        context.close()
    assert answer["state"] == ["state-1"] and answer["iss"] == [server.base]

    key = make_issuer_key("ES256")
    token_url = server.url("idp/token")
    form = {
        "grant_type": "authorization_code",
        "code": answer["code"][0],
        "redirect_uri": client.redirect_uri,
        "code_verifier": client.verifier,
        "client_id": client.client_id,
    }
    status, _, body = http(
        "POST",
        token_url,
        data=urlencode(form).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "DPoP": mint_dpop_proof(key, "POST", token_url),
        },
    )
    assert status == 200, body
    tokens = json_of(body)
    assert tokens["token_type"] == "DPoP" and "refresh_token" in tokens
    webid = webid_of(server, person)
    assert claims(tokens["access_token"])["webid"] == webid

    private = server.url("dee/settings/prefs.ttl")
    access = tokens["access_token"]
    proof = mint_dpop_proof(key, "GET", private, ath=ath_of(access))
    status, _, body = http(
        "GET", private, headers={"Authorization": f"DPoP {access}", "DPoP": proof}
    )
    assert status == 200, body
    assert http("GET", private)[0] == 401
    # The code was used once: a second exchange is refused.
    status, _, _ = http(
        "POST",
        token_url,
        data=urlencode(form).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "DPoP": mint_dpop_proof(key, "POST", token_url),
        },
    )
    assert status == 400


def test_sign_up_during_an_app_login_and_remembered_consent(
    page: Page, server: Server, app: Loopback
) -> None:
    client = register(server, app)
    page.goto(client.authorize_url(server, "first"))
    page.get_by_role("link", name="Create an account").click()  # a newcomer, sent by the app
    page.wait_for_url(lambda url: url.startswith(server.url("idp/signup?authz=")))
    page.fill("#email", "eve@example.org")
    page.fill("#name", "eve")
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD)
    assert press(page, "Create account") == 303
    assert page.title() == "Allow Browser Test App?"  # straight on to the app's request
    assert webid_of(server, Person("eve@example.org", "eve")) in page.inner_text("main")
    page.uncheck("input[name=remember]")
    assert press(page, "Allow") == 303
    page.goto(client.authorize_url(server, "second"))
    assert page.title() == "Allow Browser Test App?"  # not remembered: asked again
    assert press(page, "Allow") == 303  # "remember" is checked by default
    page.goto(client.authorize_url(server, "third"))
    assert page.url.startswith(client.redirect_uri + "?")
    assert [c["state"] for c in client.callbacks()] == [["first"], ["second"], ["third"]]


# -- sign-out and password ------------------------------------------------------------------


def test_sign_out(page: Page, server: Server, screens: Path) -> None:
    person = sign_up(page, server, "fay")
    assert press(page, "Sign out") == 200
    assert page.title() == "Signed out"
    assert not signed_in(page, server)
    page.goto(server.url("idp/login"))
    assert fill_sign_in(page, person.email, person.password) == 303
    page.goto(server.url("idp/logout"))  # the confirmation page an app sends people to
    shoot(page, screens, "sign-out")
    assert press(page, "Sign out") == 200
    assert page.title() == "Signed out"
    assert not signed_in(page, server)


def test_password_change(page: Page, server: Server, screens: Path) -> None:
    person = sign_up(page, server, "gil")
    new = "a brand new passphrase"
    page.get_by_role("link", name="Change password").click()
    page.wait_for_url(server.url("idp/password"))
    page.fill("#current", "not my password")
    page.fill("#password", new)
    page.fill("#confirm", new)
    assert press(page, "Change password") == 401
    assert page.get_by_role("alert").inner_text() == "The current password is wrong."
    shoot(page, screens, "password-wrong")
    page.fill("#current", person.password)
    page.fill("#password", new)
    page.fill("#confirm", new)
    assert press(page, "Change password") == 200
    assert page.title() == "Password changed"
    page.get_by_role("link", name="Your account").click()
    page.wait_for_url(server.url("idp/account"))
    assert press(page, "Sign out") == 200
    page.goto(server.url("idp/login"))
    assert fill_sign_in(page, person.email, person.password) == 401
    assert fill_sign_in(page, person.email, new) == 303
    assert page.url == server.url("idp/account")


# -- forged posts from other sites ----------------------------------------------------------


@pytest.fixture
def other_site() -> Iterator[Loopback]:
    """Another site: a different loopback address (so cookies are not sent along)."""
    site = Loopback("127.0.0.2")
    yield site
    site.close()


@pytest.fixture
def other_port() -> Iterator[Loopback]:
    """Another origin on our own site (same host, another port: cookies are sent)."""
    site = Loopback("127.0.0.1")
    yield site
    site.close()


def forged(page: Page, server: Server, site: Loopback, target: str, fields: dict[str, str],
           referrer: str | None = None) -> tuple[int, str]:  # fmt: skip
    """Open a page of ``site`` that posts ``fields`` to our ``target``: status and text."""
    site.pages["/forge"] = auto_post(server.url(target), fields, referrer=referrer)
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.goto(site.url("/forge"))
    page.wait_for_url(lambda url: url.startswith(server.base))  # refused, or let through
    page.wait_for_load_state()
    return posted.value.status, page.inner_text("main")


def test_cross_site_sign_in_is_refused(
    browser: Browser, page: Page, server: Server, other_site: Loopback, other_port: Loopback,
    screens: Path,
) -> None:  # fmt: skip
    newcomer = browser.new_context()
    mallory = sign_up(newcomer.new_page(), server, "mallory")
    newcomer.close()
    page.goto(server.url("idp/login"))  # the victim has our token cookie...
    token = page.input_value("input[name=csrf]")  # ...and the forger knows it: worst case
    fields = {"email": mallory.email, "password": mallory.password, "csrf": token}
    status, text = forged(page, server, other_site, "idp/login", fields)
    assert status == 403 and CROSS_SITE in text
    shoot(page, screens, "cross-site-refused")
    # Same host, other port: cookies go along, Origin is hidden by no-referrer.
    status, text = forged(page, server, other_port, "idp/login", fields, referrer="no-referrer")
    assert status == 403 and CROSS_SITE in text
    assert not signed_in(page, server)  # nobody was signed in


def test_cross_site_consent_is_refused(
    page: Page, server: Server, app: Loopback, other_site: Loopback, other_port: Loopback
) -> None:
    sign_up(page, server, "hal")
    client = register(server, app)
    page.goto(client.authorize_url(server, "st"))
    assert page.title() == "Allow Browser Test App?"
    fields = {name: page.input_value(f"input[name={name}]") for name in ("csrf", "authz", "webid")}
    fields |= {"decision": "allow", "remember": "yes"}
    for site, referrer in ((other_site, None), (other_port, "no-referrer"), (other_port, None)):
        status, text = forged(page, server, site, "idp/consent", fields, referrer)
        assert status == 403 and CROSS_SITE in text, (site.origin, referrer)
    assert client.callbacks() == []  # the app got no code
    page.goto(client.authorize_url(server, "st"))
    assert page.title() == "Allow Browser Test App?"  # and no consent was remembered
