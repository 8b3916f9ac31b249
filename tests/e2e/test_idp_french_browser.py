"""The identity provider's pages in French, in a real browser: chosen by the browser's
``Accept-Language`` or by the header's switch (then remembered), through sign-in and the
account page. Screenshots go to the ``screens`` folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.e2e.conftest import Server
from tests.e2e.loopback import Loopback
from tests.e2e.test_idp_browser import PASSWORD, app, press, register, shoot, sign_up

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

__all__ = ["app"]  # the app's loopback server, a fixture shared with the English tests

pytestmark = pytest.mark.timeout(180)  # a browser, a server and password hashing


@pytest.fixture
def french(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh profile of a browser set to French."""
    fresh = browser.new_context(
        locale="fr-FR", extra_http_headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"}
    )
    fresh.set_default_timeout(15_000)
    try:
        yield fresh
    finally:
        fresh.close()


def test_sign_in_and_account_in_french_by_accept_language(
    page: Page, french: BrowserContext, server: Server, screens: Path
) -> None:
    person = sign_up(page, server, "amelie")
    fr = french.new_page()
    fr.goto(server.url("idp/login"))
    assert fr.locator("html").get_attribute("lang") == "fr"
    assert fr.get_by_role("heading", level=1).inner_text() == "Connexion"
    fr.get_by_label("Adresse e-mail").fill(person.email)
    fr.get_by_label("Mot de passe").fill("pas le bon mot de passe")
    assert press(fr, "Se connecter") == 401
    assert (
        "L'adresse e-mail ou le mot de passe est incorrect." in fr.get_by_role("alert").inner_text()
    )
    shoot(fr, screens, "fr-sign-in-wrong")
    fr.get_by_label("Mot de passe").fill(person.password)
    assert press(fr, "Se connecter") == 303
    assert fr.url == server.url("idp/account")
    assert fr.locator("html").get_attribute("lang") == "fr"
    assert fr.get_by_role("heading", level=1).inner_text() == "Votre compte"
    main = fr.get_by_role("main")
    assert "Connecté en tant que amelie@example.org" in fr.locator("header").inner_text()
    assert main.get_by_role("heading", name="Vos pods").is_visible()
    assert " : " in main.get_by_role("listitem").last.inner_text()  # "… : 12,3 ko"
    shoot(fr, screens, "fr-account")

    fr.get_by_role("link", name="Changer le mot de passe").click()
    fr.get_by_label("Mot de passe actuel").fill(person.password)
    fr.get_by_label("Nouveau mot de passe", exact=True).fill("un autre mot de passe long")
    fr.get_by_label("Nouveau mot de passe, à nouveau").fill("pas le même")
    assert press(fr, "Changer le mot de passe") == 400
    assert fr.get_by_role("alert").inner_text() == "Les deux nouveaux mots de passe diffèrent."
    fr.get_by_label("Mot de passe actuel").fill(person.password)
    fr.get_by_label("Nouveau mot de passe", exact=True).fill("court")
    fr.get_by_label("Nouveau mot de passe, à nouveau").fill("court")
    fr.evaluate("document.getElementById('password').removeAttribute('minlength')")
    assert press(fr, "Changer le mot de passe") == 400  # the server's own check, in French
    assert "Choisissez un mot de passe d'au moins" in fr.get_by_role("alert").inner_text()
    shoot(fr, screens, "fr-password-error")
    new = "un autre mot de passe long"
    fr.get_by_label("Mot de passe actuel").fill(person.password)
    fr.get_by_label("Nouveau mot de passe", exact=True).fill(new)
    fr.get_by_label("Nouveau mot de passe, à nouveau").fill(new)
    assert press(fr, "Changer le mot de passe") == 200
    assert fr.get_by_role("heading", level=1).inner_text() == "Mot de passe changé"

    fr.goto(server.url("idp/logout"))
    assert "Se déconnecter de ce fournisseur d'identité ?" in fr.get_by_role("main").inner_text()
    shoot(fr, screens, "fr-sign-out")
    press(fr, "Se déconnecter")
    assert fr.get_by_role("heading", level=1).inner_text() == "Déconnecté"
    assert fr.get_by_role("link", name="Se connecter").is_visible()


def test_the_switch_turns_the_pages_to_french_and_is_remembered(
    page: Page, server: Server, screens: Path
) -> None:
    page.goto(server.url("idp/login"))
    assert page.get_by_role("heading", level=1).inner_text() == "Sign in"
    page.get_by_role("link", name="Français").click()
    page.wait_for_url("**/idp/login?lang=fr")
    assert page.get_by_role("heading", level=1).inner_text() == "Connexion"
    shoot(page, screens, "fr-sign-in")
    page.goto(server.url("idp/login"))  # no choice in the URL: the cookie keeps it
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.get_by_role("button", name="Se connecter").is_visible()
    page.get_by_role("link", name="English").click()
    page.wait_for_url("**/idp/login?lang=en")
    page.goto(server.url("idp/login"))
    assert page.get_by_role("heading", level=1).inner_text() == "Sign in"


def test_sign_up_and_consent_in_french_during_an_app_login(
    french: BrowserContext, server: Server, app: Loopback, screens: Path
) -> None:
    client = register(server, app)
    fr = french.new_page()
    fr.goto(client.authorize_url(server, "premier"))
    assert "Connectez-vous pour continuer vers Browser Test App." in fr.inner_text("main")
    fr.get_by_role("link", name="Créer un compte").click()
    fr.wait_for_url(lambda url: url.startswith(server.url("idp/signup?authz=")))
    assert fr.get_by_role("heading", level=1).inner_text() == "Créer un compte"
    fr.get_by_label("Adresse e-mail").fill("zoe@example.org")
    fr.get_by_label("Nom du pod").fill("zoe")
    fr.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    fr.get_by_label("Mot de passe, à nouveau").fill("pas le même mot de passe")
    assert press(fr, "Créer le compte") == 400
    assert fr.get_by_role("alert").inner_text() == "Les deux mots de passe diffèrent."
    fr.get_by_label("Nom du pod").fill("Zoé!")
    fr.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    fr.get_by_label("Mot de passe, à nouveau").fill(PASSWORD)
    assert press(fr, "Créer le compte") == 400  # the pod server's refusal, in French
    assert "n'est pas utilisable" in fr.get_by_role("alert").inner_text()
    shoot(fr, screens, "fr-sign-up-error")
    fr.get_by_label("Nom du pod").fill("zoe")
    fr.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    fr.get_by_label("Mot de passe, à nouveau").fill(PASSWORD)
    assert press(fr, "Créer le compte") == 303
    assert fr.title() == "Autoriser Browser Test App ?"
    main = fr.inner_text("main")
    assert "Si vous l'autorisez, l'application pourra" in main
    assert "savoir qui vous êtes" in main or "utiliser votre WebID" in main
    shoot(fr, screens, "fr-consent")
    fr.get_by_role("link", name="English").click()  # the same request, in English
    fr.wait_for_load_state()
    assert fr.title() == "Allow Browser Test App?"
    assert press(fr, "Allow") == 303
    assert [c["state"] for c in client.callbacks()] == [["premier"]]
