"""Sharing in a real browser: Alice shares a document with Bob from its sharing page, Bob
reads it in his own browser, Alice removes his access and Bob is refused; the page in
French; the refusal to lock oneself out; the WebID profile as a card. Every page is
checked with axe-core and saved as a screenshot (``screens``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.e2e.conftest import Server
from tests.e2e.loopback import http
from tests.e2e.test_idp_browser import post, press, shoot, sign_up, webid_of
from tests.e2e.test_pod_pages import AXE, accessible, upload

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext

pytestmark = pytest.mark.timeout(240)


def _checked(browser: Browser) -> BrowserContext:
    """A fresh profile whose pages axe can be injected into (CSP bypassed)."""
    if not AXE.exists():
        pytest.skip("axe-core is not installed (cd tests/js && npm install)")
    fresh = browser.new_context(bypass_csp=True)
    fresh.set_default_timeout(15_000)
    return fresh


def test_share_read_revoke_french_and_lock_out(
    browser: Browser, server: Server, screens: Path
) -> None:
    alice_context, bob_context = _checked(browser), _checked(browser)
    try:
        alice, bob = alice_context.new_page(), bob_context.new_page()
        sign_up(alice, server, "alice")
        bob_person = sign_up(bob, server, "bob")
        bob_webid = webid_of(server, bob_person)
        home = server.url("alice/")
        doc = home + "letter.txt"
        alice.goto(home)
        upload(alice, ("letter.txt", "text/plain", b"Dear Bob, here is the plan."))

        response = bob.goto(doc)
        assert response is not None and response.status == 403  # not shared yet

        alice.goto(doc)
        alice.get_by_role("link", name="Sharing", exact=True).click()
        alice.wait_for_url(doc + "?ui=sharing")
        assert alice.locator("h1").inner_text() == "Sharing of letter.txt"
        assert alice.get_by_role("link", name="change it there").count() >= 1  # inherited
        accessible(alice, "sharing-inherited", screens)

        alice.select_option("#share-kind", "person")
        alice.fill("#share-who", bob_webid)
        alice.select_option("#share-level", "see")
        assert press(alice, "Give access") == 303
        assert alice.get_by_role("status").inner_text() == "Access given."
        row = alice.get_by_role("row").filter(has=alice.get_by_role("link", name=bob_webid))
        assert "can see" in row.inner_text()
        accessible(alice, "sharing-shared", screens)

        response = bob.goto(doc)
        assert response is not None and response.status == 200
        assert "here is the plan" in bob.locator("pre").inner_text()
        assert bob.get_by_role("link", name="Sharing", exact=True).count() == 0
        shoot(bob, screens, "ui-sharing-bob-reads")

        remove = alice.get_by_role("button", name=f"Remove the access of {bob_webid}")
        assert post(alice, remove.click) == 303
        assert alice.get_by_role("status").inner_text() == "Access removed."
        assert alice.get_by_role("link", name=bob_webid).count() == 0

        response = bob.goto(doc)
        assert response is not None and response.status == 403
        assert "do not have access" in bob.get_by_role("alert").inner_text()
        shoot(bob, screens, "ui-sharing-bob-refused")

        alice.goto(doc + "?ui=sharing&lang=fr")
        assert alice.locator("h1").inner_text() == "Partage de letter.txt"
        assert alice.get_by_role("button", name="Donner accès").count() == 1
        accessible(alice, "sharing-french", screens)

        alice.goto(home + "?ui=sharing&lang=en")
        me = server.url("alice/profile/card#me")
        mine = alice.get_by_role("button", name=f"Remove the access of {me}")
        assert post(alice, mine.click) == 409
        assert "take away your own access" in alice.get_by_role("alert").inner_text()
        accessible(alice, "sharing-lock-out", screens)
        alice.set_viewport_size({"width": 375, "height": 800})  # a phone
        alice.goto(doc + "?ui=sharing")
        accessible(alice, "sharing-narrow", screens)
        assert alice.evaluate("document.documentElement.scrollWidth") <= 375
    finally:
        alice_context.close()
        bob_context.close()


def test_the_profile_is_a_card_for_people(browser: Browser, server: Server, screens: Path) -> None:
    context = _checked(browser)
    try:
        page = context.new_page()
        sign_up(page, server, "dora")
        card = server.url("dora/profile/card")
        page.goto(card)
        assert page.locator("h1").inner_text() == "Profile of dora"
        assert page.get_by_role("link", name=server.url("dora/inbox/")).count() == 1
        accessible(page, "profile-card", screens)
        page.locator("summary").click()  # the statements are there, folded
        assert page.get_by_role("cell", name="identity provider").count() >= 1
        page.goto(card + "?lang=fr")
        assert page.locator("h1").inner_text() == "Profil de dora"
        accessible(page, "profile-card-french", screens)
        status, headers, body = http("GET", card, headers={"Accept": "text/turtle"})
        assert status == 200 and headers["Content-Type"].startswith("text/turtle")
        assert b"PersonalProfileDocument" in body
    finally:
        context.close()
