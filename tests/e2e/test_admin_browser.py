"""The operator pages and the browser's smaller forms in Debian's Chromium: an operator
(``--admin``) suspends a pod (its owner sees it refused), sets its quota and resumes it;
a person who is not an operator is refused; the owner renames a file, and a folder that
is not empty says so. axe-core finds no serious or critical violation on any of them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.e2e.conftest import Server, serving
from tests.e2e.test_idp_browser import fill_sign_in, press, sign_up
from tests.e2e.test_pod_pages import accessible, checked, upload  # noqa: F401 (a fixture)

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def ops_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose operator is the person who signs up as ``op``."""
    with serving(tmp_path_factory, lambda base: ["--admin", base + "op/profile/card#me"]) as s:
        yield s


def row_button(page: Page, pod: str, name: str) -> int:
    """Press a button of one pod's row of the operator page; the POST's status."""
    button = page.locator(f"#pod-{pod}").get_by_role("button", name=name, exact=True)
    with (
        page.expect_navigation(),
        page.expect_response(lambda r: r.request.method == "POST") as posted,
    ):
        button.click()
    return posted.value.status


def test_the_operator_suspends_sets_a_quota_and_resumes_a_pod(
    checked: BrowserContext,  # noqa: F811
    ops_server: Server,
    screens: Path,
) -> None:
    server = ops_server
    owner = checked.new_page()
    dana = sign_up(owner, server, "dana")
    home = server.url("dana/")
    owner.goto(server.url("idp/admin"))
    assert owner.locator("h1").inner_text() == "Access refused"
    assert "Only this server's operators" in owner.locator("main").inner_text()
    accessible(owner, "admin-refused", screens)
    owner.context.clear_cookies()

    operator = checked.browser.new_context(bypass_csp=True) if checked.browser else None
    assert operator is not None
    op = operator.new_page()
    sign_up(op, server, "op")
    op.goto(server.url("idp/admin"))
    assert op.locator("h1").inner_text() == "Operator: accounts and pods"
    assert op.locator("#pod-dana").count() == 1
    accessible(op, "admin", screens)
    op.set_viewport_size({"width": 375, "height": 800})  # a phone: one pod per block
    accessible(op, "admin-narrow", screens)
    op.set_viewport_size({"width": 1280, "height": 800})

    assert row_button(op, "dana", "Suspend dana") == 303
    assert "is suspended" in op.get_by_role("status").inner_text()
    assert "suspended" in op.locator("#pod-dana").inner_text()
    accessible(op, "admin-suspended", screens)

    # The owner, signed in again, finds the pod refused with the reason.
    owner.goto(server.url("idp/login"))
    assert fill_sign_in(owner, dana.email, dana.password) == 303
    response = owner.goto(home)
    assert response is not None and response.status == 403
    assert owner.locator("h1").inner_text() == "This pod is suspended"
    accessible(owner, "pod-suspended", screens)

    op.fill("#quota-dana", "5 MB")
    assert row_button(op, "dana", "Set quota") == 303
    assert op.get_by_role("status").inner_text() == "The quota of dana is now 5.0 MB."
    assert "5.0 MB" in op.locator("#pod-dana").inner_text()
    assert row_button(op, "dana", "Resume dana") == 303
    assert op.get_by_role("status").inner_text() == "The pod dana is active again."
    accessible(op, "admin-resumed", screens)
    op.locator("#pod-dana").get_by_role("link", name="Delete… dana").click()
    op.wait_for_url("**/idp/admin?delete=dana")
    assert "dana@example.org" in op.locator("main").inner_text()
    accessible(op, "admin-delete", screens)
    op.get_by_role("link", name="Cancel").click()
    op.wait_for_url("**/idp/admin")

    response = owner.goto(home)
    assert response is not None and response.status == 200
    assert owner.locator("h1").inner_text() == f"Folder {home}"
    assert "5.0 MB" in owner.locator("main").inner_text()  # the quota the owner now has
    operator.close()


def test_rename_stop_sharing_separately_and_a_folder_that_is_not_empty(
    checked: BrowserContext,  # noqa: F811
    ops_server: Server,
    screens: Path,
) -> None:
    page = checked.new_page()
    sign_up(page, ops_server, "erin")
    home = ops_server.url("erin/")
    page.goto(home)
    upload(page, ("draft.txt", "text/plain", b"first words"))
    page.goto(home + "draft.txt")
    accessible(page, "rename-form", screens)
    page.fill("#rename-name", "final text.txt")
    assert press(page, "Rename") == 303
    assert page.url.startswith(home + "final%20text.txt")
    assert page.get_by_role("status").inner_text() == "Renamed to final text.txt."
    assert "first words" in page.locator("pre").inner_text()
    accessible(page, "renamed", screens)
    response = page.goto(home + "draft.txt")
    assert response is not None and response.status == 404

    # Shared on its own, then back to following its folder.
    page.goto(home + "final%20text.txt?ui=sharing")
    page.select_option("#share-kind", "person")
    page.fill("#share-who", "https://friend.example/profile#me")
    page.select_option("#share-level", "see")
    assert press(page, "Give access") == 303
    assert page.get_by_role("button", name="Stop sharing separately").count() == 1
    accessible(page, "sharing-own", screens)
    assert press(page, "Stop sharing separately") == 303
    assert page.get_by_role("status").inner_text() == "It now follows its folder's sharing."
    assert "friend.example" not in page.locator("main").inner_text()
    accessible(page, "sharing-follows", screens)

    response = page.goto(home + "profile/?ui=delete")
    assert response is not None and response.status == 409
    assert page.locator("h1").inner_text() == "This folder is not empty"
    accessible(page, "folder-not-empty", screens)
