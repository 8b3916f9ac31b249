"""The pod's own pages in a real browser: sign up, browse the pod, upload files and open
them, make a folder, delete with confirmation, switch to French, be refused and sign in
to come back, and a stored HTML file that cannot run script as the pages.

Every page is checked with axe-core (no serious or critical violation) and saved as a
screenshot in the ``screens`` folder. axe is injected with ``add_script_tag``, which the
pages' Content-Security-Policy would refuse, so those contexts bypass CSP; the test of a
stored HTML file runs in a context that does not, so the sandbox is really in force.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.conftest import Server, _missing
from tests.e2e.test_idp_browser import Person, fill_sign_in, press, shoot, sign_up

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

pytestmark = pytest.mark.timeout(240)

AXE = Path(__file__).resolve().parents[1] / "js" / "node_modules" / "axe-core" / "axe.min.js"
EVIL = b"""<!DOCTYPE html><title>stored page</title>
<script>document.title = "ran"; fetch("/idp/account").then(function (r) { return r.text(); })
.then(function (t) { document.title = "read " + t.length; });</script><p>hello</p>"""

# A one-page PDF saying "Hello PDF" (the cross-reference table is optional for viewers).
PDF = b"""%PDF-1.4
1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj
2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj
3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 100]/Contents 4 0 R
/Resources<</Font<</F1 5 0 R>>>>>>endobj
4 0 obj<</Length 44>>stream
BT /F1 18 Tf 20 40 Td (Hello PDF) Tj ET
endstream endobj
5 0 obj<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>endobj
trailer<</Root 1 0 R>>
%%EOF
"""


def tiny_png() -> bytes:
    """A 2x2 red PNG, made here (no binary test file)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def checked(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh profile whose pages axe can be injected into (CSP bypassed)."""
    if not AXE.exists():
        _missing("axe-core is not installed (cd tests/js && npm install)")
    fresh = browser.new_context(bypass_csp=True)
    fresh.set_default_timeout(15_000)
    try:
        yield fresh
    finally:
        fresh.close()


def accessible(page: Page, name: str, screens: Path) -> None:
    """No serious or critical axe-core violation on the page; its screenshot saved."""
    shoot(page, screens, f"ui-{name}")
    page.add_script_tag(path=str(AXE))
    violations: list[dict[str, Any]] = page.evaluate(
        """async () => (await axe.run()).violations.map(v => ({
            id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map(n => n.html)}))"""
    )
    bad = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert bad == [], f"{name}: {bad}"


def upload(page: Page, *files: tuple[str, str, bytes]) -> None:
    page.set_input_files(
        "#files", files=[{"name": n, "mimeType": t, "buffer": b} for n, t, b in files]
    )
    with (
        page.expect_response(lambda r: r.request.method == "POST") as posted,
        page.expect_navigation(),
    ):
        page.get_by_role("button", name="Upload", exact=True).click()
    assert posted.value.status == 303, posted.value.text()


def test_browse_upload_open_folder_delete_and_french(
    checked: BrowserContext, server: Server, screens: Path
) -> None:
    page = checked.new_page()
    person = sign_up(page, server, "carol")
    home = server.url("carol/")
    page.goto(home)
    assert page.locator("h1").inner_text() == f"Folder {home}"
    assert page.get_by_text("Signed in as " + server.url("carol/profile/card#me")).count() == 1
    accessible(page, "pod-root", screens)

    upload(
        page,
        ("notes.txt", "text/plain", b"Buy milk.\nCall Bob."),
        ("budget.csv", "text/csv", b"month,amount\nJanuary,12\nFebruary,30\n"),
    )
    assert "note=uploaded" in page.url
    assert page.get_by_role("status").inner_text() == "2 file(s) uploaded."
    accessible(page, "after-upload", screens)

    page.get_by_role("link", name="notes.txt", exact=True).click()
    page.wait_for_url(home + "notes.txt")
    assert "Call Bob." in page.locator("pre").inner_text()
    accessible(page, "text-file", screens)
    page.goto(home + "budget.csv")
    assert page.get_by_role("cell", name="February").count() == 1
    accessible(page, "csv-file", screens)
    page.goto(home)
    upload(page, ("red dot.png", "image/png", tiny_png()))
    page.get_by_role("link", name="red dot.png", exact=True).click()
    image = page.get_by_role("img", name="red dot.png")
    image.wait_for()
    page.wait_for_function("() => document.querySelector('.preview img').complete")
    assert image.evaluate("img => img.naturalWidth") == 2  # the page's own link to the file
    accessible(page, "image-file", screens)
    page.goto(home)
    upload(page, ("letter.pdf", "application/pdf", PDF))
    with page.expect_response(lambda r: r.url.endswith("letter.pdf?format=raw")) as shown:
        page.goto(home + "letter.pdf")
    assert shown.value.status == 200  # the preview frame got the file (sandboxed: the
    # header is checked in test_pages; this context bypasses CSP for axe)
    page.wait_for_timeout(500)
    shoot(page, screens, "ui-pdf-file")

    page.goto(home)
    page.fill("#folder-name", "Holiday photos")
    with page.expect_navigation():
        page.get_by_role("button", name="Create", exact=True).click()
    assert page.url.startswith(home + "Holiday%20photos/")
    assert page.locator("h1").inner_text() == "Folder Holiday photos"
    accessible(page, "new-folder", screens)
    page.get_by_role("navigation", name="You are here").get_by_role("link", name="carol").click()
    page.wait_for_url(home)

    page.goto(server.url("carol/profile/card"))
    page.locator("summary").click()  # the card's statements are folded below it
    assert page.get_by_role("cell", name="identity provider").count() >= 1
    accessible(page, "profile-document", screens)

    page.goto(home)
    page.get_by_role("link", name="Delete notes.txt").click()
    page.wait_for_url(home + "notes.txt?ui=delete")
    assert page.locator("h1").inner_text() == "Delete notes.txt?"
    accessible(page, "confirm-delete", screens)
    assert press(page, "Delete") == 303
    assert page.get_by_role("status").inner_text() == "notes.txt was deleted."
    assert page.get_by_role("link", name="notes.txt", exact=True).count() == 0

    page.get_by_role("link", name="Français").click()
    page.wait_for_url(home + "?lang=fr")
    assert page.locator("h1").inner_text() == f"Dossier {home}"
    accessible(page, "french", screens)
    page.goto(home + "budget.csv")  # the choice is remembered
    assert page.locator("h1").inner_text() == "Fichier budget.csv"
    page.set_viewport_size({"width": 375, "height": 800})  # a phone
    page.goto(home)
    accessible(page, "narrow", screens)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    del person


def test_refused_page_offers_sign_in_and_comes_back(
    checked: BrowserContext, browser: Browser, server: Server, screens: Path
) -> None:
    owner = browser.new_context()
    try:
        sign_up(owner.new_page(), server, "erin")
    finally:
        owner.close()
    page = checked.new_page()
    wanted = server.url("erin/?sort=size&order=desc")
    response = page.goto(wanted)
    assert response is not None and response.status == 401
    assert page.locator("h1").inner_text() == "Access refused"
    accessible(page, "refused", screens)
    page.get_by_role("main").get_by_role("link", name="Sign in").click()
    accessible(page, "sign-in-to-return", screens)
    assert fill_sign_in(page, "erin@example.org", Person("", "").password) == 303
    page.wait_for_url(wanted)
    assert page.locator("h1").inner_text() == "Folder " + server.url("erin/")

    sign_up(page, server, "frank")  # now someone else: refused as who they are
    response = page.goto(server.url("erin/"))
    assert response is not None and response.status == 403
    assert "do not have access" in page.get_by_role("alert").inner_text()
    accessible(page, "forbidden", screens)


def test_a_stored_html_file_cannot_run_as_the_pages(
    context: BrowserContext, server: Server, screens: Path
) -> None:
    page = context.new_page()
    sign_up(page, server, "gina")
    home = server.url("gina/")
    page.goto(home)
    upload(page, ("page.html", "text/html", EVIL))
    account_reads: list[str] = []
    page.on("request", lambda r: account_reads.append(r.url) if "idp/account" in r.url else None)

    page.goto(home + "page.html")  # its page shows the source, as text
    assert "document.title" in page.locator("pre").inner_text()
    assert page.title() != "ran"
    shoot(page, screens, "ui-html-file")

    with page.expect_download() as download:  # the file itself is not shown, but saved
        try:
            page.goto(home + "page.html?format=raw")
        except Exception as exc:  # Playwright reports a download as an error
            assert "Download is starting" in str(exc)
    assert download.value.suggested_filename == "page.html"
    # Even where a browser would show it (a frame, no attachment), the sandbox holds.
    page.goto(home)
    page.evaluate(
        """url => { const f = document.createElement("iframe"); f.src = url;
        document.body.append(f); }""",
        home + "page.html?format=raw",
    )
    page.wait_for_timeout(1000)
    assert page.title().startswith("Folder")
    assert account_reads == []


def test_every_essential_action_works_without_javascript(
    browser: Browser, server: Server, screens: Path
) -> None:
    plain = browser.new_context(java_script_enabled=False)
    plain.set_default_timeout(15_000)
    try:
        page = plain.new_page()
        sign_up(page, server, "hana")
        home = server.url("hana/")
        page.goto(home)
        upload(page, ("plain.txt", "text/plain", b"no script needed"))
        assert page.get_by_role("status").inner_text() == "1 file(s) uploaded."
        page.fill("#folder-name", "Letters")
        with page.expect_navigation():
            page.get_by_role("button", name="Create", exact=True).click()
        assert page.locator("h1").inner_text() == "Folder Letters"
        page.goto(home + "plain.txt?ui=delete")
        assert press(page, "Delete") == 303
        assert page.get_by_role("status").inner_text() == "plain.txt was deleted."
        shoot(page, screens, "ui-no-javascript")
    finally:
        plain.close()
