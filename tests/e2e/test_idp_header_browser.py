"""The identity provider's header in a real browser: it names who is signed in on every
page and signs them out; on the answer to a form its language switch opens the form
afresh in the other language (no 405, nothing sent again). Screenshots go to ``screens``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.e2e.conftest import Server
from tests.e2e.loopback import Loopback
from tests.e2e.test_idp_browser import app, fill_sign_in, press, register, shoot, sign_up, signed_in
from tests.e2e.test_pod_pages import accessible, checked

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Locator, Page

__all__ = ["app", "checked"]  # fixtures: the app's loopback server, a profile axe can check

pytestmark = pytest.mark.timeout(180)  # a browser, a server and password hashing


def account_nav(page: Page, name: str = "Your account") -> Locator:
    return page.locator("header").get_by_role("navigation", name=name)


def test_the_header_names_the_person_and_signs_them_out(
    checked: BrowserContext, server: Server, screens: Path
) -> None:
    page = checked.new_page()
    person = sign_up(page, server, "hal")
    page.get_by_role("link", name="Change password").click()
    page.wait_for_url(server.url("idp/password"))
    nav = account_nav(page)
    assert nav.get_by_role("listitem").first.inner_text() == f"Signed in as {person.email}"
    accessible(page, "idp-header-signed-in", screens)
    nav.get_by_role("link", name="Sign out").click()
    page.wait_for_url(server.url("idp/logout"))
    assert "Sign out of this identity provider?" in page.inner_text("main")
    assert f"Signed in as {person.email}" in account_nav(page).inner_text()
    assert account_nav(page).get_by_role("link").count() == 0  # this page is the way out
    shoot(page, screens, "header-sign-out")
    assert press(page, "Sign out") == 200
    assert page.title() == "Signed out"
    assert page.locator("header").get_by_text("Signed in as").count() == 0
    shoot(page, screens, "header-signed-out")
    assert not signed_in(page, server)
    assert page.locator("header").get_by_text("Signed in as").count() == 0  # sign-in page


def test_the_switch_on_a_wrong_sign_in_opens_the_form_in_french(
    browser: Browser, checked: BrowserContext, server: Server, app: Loopback, screens: Path
) -> None:
    page = checked.new_page()
    newcomer = browser.new_context()
    person = sign_up(newcomer.new_page(), server, "ivy")
    newcomer.close()
    client = register(server, app)
    page.goto(client.authorize_url(server, "switched"))
    assert fill_sign_in(page, person.email, "not my password") == 401
    assert page.get_by_role("alert").inner_text() == "The email or password is wrong."
    shoot(page, screens, "header-wrong-sign-in")
    with page.expect_navigation() as went:
        page.get_by_role("link", name="Français").click()
    answer = went.value
    assert answer is not None and answer.request.method == "GET" and answer.status == 200
    assert page.url.startswith(server.url("idp/login?authz=")) and page.url.endswith("&lang=fr")
    assert page.get_by_role("heading", level=1).inner_text() == "Connexion"
    assert page.locator("[role=alert]").count() == 0  # the form afresh, not sent again
    accessible(page, "idp-header-switched-sign-in", screens)
    page.get_by_label("Adresse e-mail").fill(person.email)
    page.get_by_label("Mot de passe").fill(person.password)
    assert press(page, "Se connecter") == 303
    assert page.title() == "Autoriser Browser Test App ?"  # the app's request went on
    nav = account_nav(page, "Votre compte")
    assert f"Connecté en tant que {person.email}" in nav.inner_text()
    assert nav.get_by_role("link", name="Se déconnecter").is_visible()
    accessible(page, "idp-header-fr-consent", screens)
    assert press(page, "Autoriser") == 303
    assert [c["state"] for c in client.callbacks()] == [["switched"]]
