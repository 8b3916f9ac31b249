"""The owner's pages in a real browser: an organisation (its own account, its client
credentials made on its account page) asks alice for access over HTTP with the client
SDK; alice approves part of it in her browser; the organisation writes; her activity
page shows the write, by the organisation. Then a person deletes their account and pod,
and both are gone. Every page passes axe-core (no serious or critical violation) and is
saved as a screenshot.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import pytest

from client import Forbidden, PodClient
from tests.e2e.conftest import Server
from tests.e2e.loopback import http
from tests.e2e.test_idp_browser import Person, fill_sign_in, press, sign_up
from tests.e2e.test_pod_pages import accessible, checked  # noqa: F401 (a fixture)

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

pytestmark = pytest.mark.timeout(240)
DATA_RETURN = "https://w3id.org/solid-pods/vocab/consent#DataReturn"
T = TypeVar("T")


def run(work: Callable[[], Awaitable[T]]) -> T:
    """The async client SDK, run beside Playwright's own loop (in a thread of its own)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(work())).result(timeout=60)  # type: ignore[arg-type]


def make_credentials(page: Page, server: Server, screens: Path) -> tuple[str, str]:
    """Client credentials made on the account's own page (shown once)."""
    page.goto(server.url("idp/account/settings"))
    page.fill("#cred-label", "requests robot")
    assert press(page, "Create client credentials") == 200
    accessible(page, "credentials-made", screens)
    return page.locator("#made-id").inner_text(), page.locator("#made-secret").inner_text()


def test_an_organisation_asks_alice_approves_in_part_and_sees_its_write(
    checked: BrowserContext,  # noqa: F811
    server: Server,
    screens: Path,
) -> None:
    org_page = checked.new_page()
    sign_up(org_page, server, "bankco")
    client_id, secret = make_credentials(org_page, server, screens)

    alice_context = checked.browser.new_context(bypass_csp=True)  # type: ignore[union-attr]
    alice_context.set_default_timeout(15_000)
    page = alice_context.new_page()
    sign_up(page, server, "alicia")
    home = server.url("alicia/")
    alice = server.url("alicia/profile/card#me")
    page.goto(home)
    page.fill("#folder-name", "bank")
    with page.expect_navigation():
        page.get_by_role("button", name="Create", exact=True).click()

    async def ask() -> str:
        async with PodClient() as org:
            await org.login_client_credentials(server.base, client_id, secret)
            return await org.request_access(
                alice,
                [(home + "bank/", ["Read", "Append"])],
                purpose=DATA_RETURN,
                until=timedelta(days=90),
                note="Your monthly statements, for your own use",
            )

    asked = run(ask)
    assert asked.startswith(home + ".well-known/consent/")

    # Alice finds the request from the site header, then her pod settings.
    page.goto(home)
    page.get_by_role("link", name="Your pod", exact=True).click()
    page.wait_for_url(server.url("idp/account/settings"))
    accessible(page, "account-settings", screens)
    page.get_by_role("link", name="Access requests and grants").click()
    page.wait_for_url(home + "?ui=requests")
    assert page.get_by_role("heading", name="bankco asks for access").count() == 1
    assert page.get_by_text("Return of personal data").count() == 1
    accessible(page, "requests-pending", screens)
    page.get_by_label("see bank/").uncheck()  # adding, yes; reading, no
    assert press(page, "Allow what is ticked") == 303
    assert page.get_by_role("status").inner_text() == "Access given to bankco."
    assert page.get_by_role("button", name="Withdraw access: bankco").count() == 1
    accessible(page, "requests-granted", screens)

    async def write() -> None:
        async with PodClient() as org:
            await org.login_client_credentials(server.base, client_id, secret)
            await org.post(home + "bank/", "<#t> <#amount> 12.", slug="january.ttl")
            with pytest.raises(Forbidden):
                await org.get(home + "bank/")  # reading was not ticked

    run(write)
    page.get_by_role("link", name="What did they do?").first.click()
    assert "agent=" in page.url
    assert page.locator("h1").inner_text() == "What bankco did in your pod"
    timeline = page.locator("table.timeline").inner_text()
    assert "bankco added january.ttl to bank/ — allowed" in timeline
    assert "bankco tried to look at bank/ — refused" in timeline
    accessible(page, "activity-agent", screens)

    page.goto(home + "?ui=activity")
    page.select_option("#f-outcome", "refused")
    with page.expect_navigation():
        page.get_by_role("button", name="Show", exact=True).click()
    assert "outcome=refused" in page.url
    timeline = page.locator("table.timeline").inner_text()
    assert "refused" in timeline and "— allowed" not in timeline
    accessible(page, "activity-refused", screens)
    page.goto(home + "?ui=activity&lang=fr")
    assert "bankco a ajouté january.ttl dans bank/ — autorisé" in page.locator("main").inner_text()
    accessible(page, "activity-fr", screens)
    page.goto(home + "?ui=requests")
    assert page.locator("h1").inner_text() == "Demandes d'accès et accès accordés"
    accessible(page, "requests-fr", screens)
    page.set_viewport_size({"width": 375, "height": 800})  # a phone
    page.goto(home + "?ui=activity&lang=en")
    accessible(page, "activity-narrow", screens)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.goto(home + "?ui=requests")
    accessible(page, "requests-narrow", screens)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    alice_context.close()


def test_delete_my_account_and_pod(
    checked: BrowserContext,  # noqa: F811
    server: Server,
    screens: Path,
) -> None:
    page = checked.new_page()
    person = sign_up(page, server, "dora")
    card = server.url("dora/profile/card")
    assert http("GET", card, headers={"Accept": "text/turtle"})[0] == 200
    page.goto(server.url("idp/account"))
    page.get_by_role("link", name="Your pods: access requests, activity, apps and data").click()
    page.get_by_role("link", name="Delete my account and pod").click()
    page.wait_for_url(server.url("idp/account/delete"))
    assert page.get_by_text("audit logs are erased with them").count() == 1
    accessible(page, "delete-account", screens)
    page.fill("#delete-password", "not my password")
    page.get_by_label("I understand that this cannot be undone").check()
    assert press(page, "Delete everything") == 401
    assert page.get_by_role("alert").inner_text().startswith("The password is wrong")
    accessible(page, "delete-account-wrong", screens)
    page.fill("#delete-password", person.password)
    page.get_by_label("I understand that this cannot be undone").check()
    assert press(page, "Delete everything") == 200
    assert page.locator("h1").inner_text() == "Your account is deleted"
    accessible(page, "account-deleted", screens)
    # The pod is gone (its public profile too), and so is the account.
    assert http("GET", card, headers={"Accept": "text/turtle"})[0] in (401, 404)
    page.goto(server.url("idp/login"))
    assert fill_sign_in(page, person.email, person.password) == 401
    assert isinstance(person, Person)
