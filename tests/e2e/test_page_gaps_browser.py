"""What the pages added last, in Debian's Chromium: sharing a folder with an app by its
client id (English and French, "manage sharing" refused), the refusal to remove a group
the owner's own access comes through, renaming a folder with what it holds, downloading
the pod as an archive from the account page, and axe-core on the identity provider's
pages (sign-up, sign-in, account, password, sign-out). Every page is checked with axe-core
and saved as a screenshot (``screens``)."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from client import PodClient
from tests.e2e.conftest import Server
from tests.e2e.loopback import Loopback
from tests.e2e.test_consent_pages_browser import make_credentials, run
from tests.e2e.test_idp_browser import app, fill_sign_in, press, register, sign_up  # noqa: F401
from tests.e2e.test_pod_pages import accessible, checked, upload  # noqa: F401 (a fixture)

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

pytestmark = pytest.mark.timeout(240)
APP_ID = "https://budget.example/id"
VCARD_MEMBER = "http://www.w3.org/2006/vcard/ns#hasMember"


def make_folder(page: Page, name: str) -> None:
    """Create a folder with the form of the folder page open."""
    page.fill("#folder-name", name)
    with page.expect_navigation():
        page.get_by_role("button", name="Create", exact=True).click()


def give(page: Page, kind: str, who: str, level: str) -> int:
    page.select_option("#share-kind", kind)
    page.fill("#share-who", who)
    page.select_option("#share-level", level)
    return press(page, "Give access")


def test_share_a_folder_with_an_app(
    checked: BrowserContext,  # noqa: F811
    server: Server,
    screens: Path,
) -> None:
    page = checked.new_page()
    sign_up(page, server, "appy")
    home = server.url("appy/")
    page.goto(home)
    make_folder(page, "budget")
    folder = home + "budget/"
    page.goto(folder + "?ui=sharing")
    assert page.get_by_role("option", name="App (by its client id)").count() == 1
    assert give(page, "app", APP_ID, "add") == 303
    row = page.locator("table.sharing tr", has_text=APP_ID)
    assert row.locator("td").nth(0).inner_text() == f"The app {APP_ID}"
    assert row.locator("td").nth(1).inner_text() == "can see, can add (and everything inside)"
    accessible(page, "sharing-app", screens)
    page.goto(folder + "?ui=sharing&lang=fr")
    row = page.locator("table.sharing tr", has_text=APP_ID)
    assert row.locator("td").nth(0).inner_text() == f"L'application {APP_ID}"
    accessible(page, "sharing-app-fr", screens)
    page.goto(folder + "?ui=sharing&lang=en")
    assert give(page, "app", APP_ID, "manage") == 400
    assert "not the management of sharing" in page.locator("main").inner_text()
    accessible(page, "sharing-app-manage-refused", screens)
    page.goto(folder + "?ui=sharing")
    page.select_option("#share-kind", "app")
    page.fill("#share-who", "budget")  # not an address: the browser says so, sends nothing
    page.get_by_role("button", name="Give access", exact=True).click()
    assert page.locator("#share-who:invalid").count() == 1
    assert page.url == folder + "?ui=sharing"
    page.goto(folder + "?ui=sharing")
    remove = page.get_by_role("button", name=f"Remove the access of {APP_ID}")
    with page.expect_navigation():
        remove.click()
    assert page.get_by_role("status").inner_text() == "Access removed."
    assert page.locator("table.sharing tr", has_text=APP_ID).count() == 0


def test_removing_the_group_the_owner_s_access_comes_through_is_refused(
    checked: BrowserContext,  # noqa: F811
    server: Server,
    screens: Path,
) -> None:
    page = checked.new_page()
    sign_up(page, server, "grace")
    home = server.url("grace/")
    me = server.url("grace/profile/card#me")
    group = home + "family#us"
    client_id, secret = make_credentials(page, server, screens)

    async def setup() -> None:  # her reading and writing only through the group
        async with PodClient() as script:
            await script.login_client_credentials(server.base, client_id, secret)
            await script.put(home + "family", f"<#us> <{VCARD_MEMBER}> <{me}>.", "text/turtle")
            acl = (
                "@prefix acl: <http://www.w3.org/ns/auth/acl#>.\n"
                f"<#family> a acl:Authorization; acl:agentGroup <{group}>;"
                f" acl:accessTo <{home}>; acl:default <{home}>; acl:mode acl:Read, acl:Write.\n"
                f"<#me> a acl:Authorization; acl:agent <{me}>; acl:accessTo <{home}>;"
                " acl:mode acl:Control.\n"
            )
            await script.put(home + ".acl", acl, "text/turtle")

    run(setup)
    page.goto(home + "?ui=sharing")
    assert page.get_by_text(group).count() >= 1
    remove = page.get_by_role("button", name=f"Remove the access of {group}")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        remove.click()
    assert posted.value.status == 409
    text = page.locator("main").inner_text()
    assert f"only as a member of the group {group}" in text and me in text
    accessible(page, "sharing-group-lock-out", screens)
    page.goto(home + "?ui=sharing&lang=fr")
    page.get_by_role("button", name=f"Retirer l'accès de {group}").click()
    page.wait_for_load_state()
    assert f"qu'en tant que membre du groupe {group}" in page.locator("main").inner_text()
    accessible(page, "sharing-group-lock-out-fr", screens)
    page.goto(home + "?lang=en")


def test_rename_a_folder_and_download_the_pod(
    checked: BrowserContext,  # noqa: F811
    server: Server,
    screens: Path,
) -> None:
    page = checked.new_page()
    sign_up(page, server, "ren")
    home = server.url("ren/")
    page.goto(home)
    make_folder(page, "trip")
    page.goto(home + "trip/")
    upload(page, ("notes.txt", "text/plain", b"Sun every day."))
    make_folder(page, "days")
    page.goto(home + "trip/")
    assert page.locator("#rename-name").input_value() == "trip"
    accessible(page, "folder-with-rename", screens)
    page.fill("#rename-name", "holiday 2026")
    assert press(page, "Rename") == 303
    assert page.url.startswith(home + "holiday%202026/?note=renamed")
    assert page.get_by_role("status").inner_text() == "Renamed to holiday 2026."
    listing = page.locator("table").inner_text()
    assert "notes.txt" in listing and "days/" in listing
    accessible(page, "folder-renamed", screens)
    page.get_by_role("link", name="notes.txt", exact=True).click()
    assert "Sun every day." in page.locator("main").inner_text()
    response = page.goto(home + "trip/")
    assert response is not None and response.status == 404
    # The same form refuses a name already taken, saying so.
    page.goto(home)
    make_folder(page, "taken")
    page.goto(home + "holiday%202026/")
    page.fill("#rename-name", "taken")
    assert press(page, "Rename") == 409
    assert page.locator("h1").inner_text() == "Not renamed"
    assert "already in this folder" in page.locator("main").inner_text()
    accessible(page, "folder-rename-taken", screens)
    page.get_by_role("link", name="Back to holiday 2026").click()
    page.wait_for_url(home + "holiday%202026/")

    # The account page's copy of the pod: a pod archive holding what was just renamed.
    page.goto(server.url("idp/account/settings"))
    with page.expect_download() as got:
        page.get_by_role("button", name="Download a copy (ren)").click()
    download = got.value
    assert download.suggested_filename.startswith("ren-") and download.suggested_filename.endswith(
        ".tar.gz"
    )
    data = Path(download.path()).read_bytes()
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
        names = tar.getnames()
    assert manifest["source"] == home
    assert "data/holiday%202026/notes.txt" in names, names
    assert {e["path"] for e in manifest["entries"]} >= {"holiday%202026/", "profile/card"}


def test_the_identity_provider_s_pages_pass_axe(
    checked: BrowserContext,  # noqa: F811
    server: Server,
    screens: Path,
) -> None:
    page = checked.new_page()
    page.goto(server.url("idp/signup"))
    accessible(page, "idp-sign-up", screens)
    page.goto(server.url("idp/login"))
    accessible(page, "idp-sign-in", screens)
    page.fill("#email", "nobody@example.org")
    page.fill("#password", "not a password at all")
    assert press(page, "Sign in") == 401
    accessible(page, "idp-sign-in-wrong", screens)
    sign_up(page, server, "axel")
    accessible(page, "idp-account", screens)
    page.goto(server.url("idp/account?lang=fr"))
    accessible(page, "idp-account-fr", screens)
    page.goto(server.url("idp/account?lang=en"))
    page.get_by_role("link", name="Change password").click()
    page.wait_for_load_state()
    accessible(page, "idp-password", screens)
    page.goto(server.url("idp/logout"))
    accessible(page, "idp-sign-out", screens)


def test_an_app_s_sign_in_and_consent_pages_pass_axe(
    checked: BrowserContext,  # noqa: F811
    server: Server,
    app: Loopback,  # noqa: F811
    screens: Path,
) -> None:
    page = checked.new_page()
    person = sign_up(page, server, "conny")
    page.context.clear_cookies()
    client = register(server, app)
    page.goto(client.authorize_url(server, "state-axe"))
    accessible(page, "idp-app-sign-in", screens)
    assert fill_sign_in(page, person.email, person.password) == 303
    assert page.title() == "Allow Browser Test App?"
    accessible(page, "idp-consent", screens)
    assert press(page, "Allow") == 303
    assert page.url.startswith(client.redirect_uri + "?")
