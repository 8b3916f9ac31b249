"""The budget app (apps/budget) in a real browser, against a real pod server: a person signs
in through our IdP's consent page, sees the charts and totals equal to those summed from the
synthetic source files, re-categorises a transaction and sees it after a reload; signed in
with only its own folder allowed, the app says it may not read the bank transactions."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import Namespace

from apps.connector import mapping
from tests.conftest import free_socket
from tests.e2e.conftest import Server
from tests.e2e.loopback import Loopback, http
from tests.e2e.readme_screens import readme_shot
from tests.e2e.test_apps_browser import authorize_url, call, publish, token_for
from tests.e2e.test_idp_browser import Person, fill_sign_in, press, shoot, sign_up, webid_of
from tests.unit.auth.helpers import ath_of, make_issuer_key, mint_dpop_proof
from tests.unit.budget.synthetic import PROV, direct_totals, source_files, statements
from vocab.namespaces import BANK

SOLID = Namespace("http://www.w3.org/ns/solid/terms#")
MISSING = "2024-03"

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def budget() -> Iterator[str]:
    yield from serve_app("apps.budget")


def serve_app(module: str, *args: str, host: str = "127.0.0.1") -> Iterator[str]:
    """``python -m MODULE ARGS`` on a loopback port of its own; its base URL, named with
    ``host`` (``localhost`` for a provider that takes plain-HTTP client ids only there)."""
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    base = f"http://{host}:{port}"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    command = [sys.executable, "-m", module, "--port", str(port), "--base-url", base, *args]
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if http("GET", base + "/id")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail(f"{module} did not start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def fill_pod(browser: Browser, server: Server, person: Person, folder: str, docs: list[mapping.Document], register: str | None = None) -> Callable[[str], bytes]:  # fmt: skip
    """Write the connector's documents into the person's ``folder``, as an organisation's
    connector would (here through an app the person gives full access); with
    ``register``, the folder is registered for that class in the public type index.
    Returns a reader of the person's documents (with that full access), to check them."""
    site = Loopback()
    site.pages["/callback"] = "<!DOCTYPE html><title>Loader</title>"
    try:
        loader = publish(site, "loader")
        context = browser.new_context()
        page = context.new_page()
        page.goto(authorize_url(server, site, loader, "v" * 43))
        assert fill_sign_in(page, person.email, person.password) == 303
        assert press(page, "Allow") == 303
        context.close()
        key = make_issuer_key("ES256")
        token = token_for(server, site, loader, "v" * 43, key)
    finally:
        site.close()
    container = server.url(f"{person.name}/{folder}")
    for doc in docs:
        body = doc.graph.serialize(format="turtle").encode()
        assert call("PUT", container + doc.name, token, key, body) in (201, 204, 205)
    if register is not None:
        index = server.url(f"{person.name}/settings/publicTypeIndex.ttl")
        patch = (
            "@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n"
            "_:p a solid:InsertDeletePatch; solid:inserts { <#budget-test> a "
            f"solid:TypeRegistration; solid:forClass <{register}>; "
            f"solid:instanceContainer <{container}> }}."
        )
        headers = {"Authorization": f"DPoP {token}", "Content-Type": "text/n3",
                   "DPoP": mint_dpop_proof(key, "PATCH", index, ath=ath_of(token))}  # fmt: skip
        assert http("PATCH", index, data=patch.encode(), headers=headers)[0] in (200, 204, 205)

    def read(url: str) -> bytes:
        proof = mint_dpop_proof(key, "GET", url, ath=ath_of(token))
        headers = {"Authorization": f"DPoP {token}", "DPoP": proof, "Accept": "text/turtle"}
        status, _, body = http("GET", url, headers=headers)
        assert status == 200, (url, status)
        return body

    return read


def sign_in_to_app(page: Page, app: str, server: Server, person: Person) -> str:
    """Through the app's start page and our IdP's sign-in, to its consent page (whose
    text is returned)."""
    page.goto(app + "/")
    page.fill("#webid", webid_of(server, person))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(server.url("idp/") + "**")
    assert fill_sign_in(page, person.email, person.password) == 303
    return page.inner_text("main")


def sign_in_to_budget(page: Page, budget: str, server: Server, person: Person) -> None:
    main = sign_in_to_app(page, budget, server, person)
    assert page.title() == "Allow Budget?"
    assert "Your bank transactions: read the folder bank/" in main
    assert "apps/budget/" in main
    # optional, and ticked unless the person unticks it: adding to the private index
    assert page.get_by_role("checkbox", name="Your private type index").is_checked()


def recategorise(page: Page, row: str, category: str) -> str:
    """Pick ``category`` for the transaction in table row ``row`` and save it; its IRI."""
    found = page.locator(row)
    tx = found.get_attribute("data-tx")
    assert tx is not None
    found.get_by_role("combobox").select_option(category)
    found.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    return tx


def kept_after_reload(page: Page, tx: str, category: str) -> None:
    page.reload()
    row = page.locator(f'tr[data-tx="{tx}"]')
    assert row.get_by_role("combobox").input_value() == category
    assert "yours" in row.inner_text()


def data(page: Page, id_: str) -> Decimal:
    return Decimal(page.get_attribute(f"#{id_}", "value") or "nan")


def test_budget_signs_in_shows_totals_and_keeps_a_new_category(
    browser: Browser, server: Server, budget: str, screens: Path, tmp_path: Path
) -> None:
    files = source_files(tmp_path, customers=1, months=5, fmt="camt053")
    newcomer = browser.new_context()
    person = sign_up(newcomer.new_page(), server, "bea")
    newcomer.close()
    holder = webid_of(server, person)
    docs = mapping.bank_documents(statements(files), server.url("bea/bank/"), holder, PROV)
    docs = [d for d in docs if d.period != MISSING]  # a statement the bank did not send
    read = fill_pod(browser, server, person, "bank/", docs, register=str(BANK.Transaction))
    expected = {m: v for m, v in direct_totals(files).items() if m != MISSING}

    context = browser.new_context()
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        page.goto(budget + "/")
        shoot(page, screens, "budget-start")
        sign_in_to_budget(page, budget, server, person)
        shoot(page, screens, "budget-consent")
        readme_shot(page, "budget", "consent", 760)
        assert press(page, "Allow") == 303
        page.wait_for_url(budget + "/")
        page.wait_for_selector("#month-income")  # past the progress page, if one was shown
        assert page.locator("svg.chart").count() == 3
        assert page.locator("#fallback").count() == 0  # found through the type index
        assert "4 by one query" in page.inner_text("#stats")  # the first visit asks SPARQL
        assert MISSING in page.inner_text("#missing")  # a gap, said so, not a zero month
        assert page.get_by_role("link", name=MISSING).count() == 0
        shoot(page, screens, "budget-dashboard")
        readme_shot(page, "budget", "dashboard", 1010)
        for month, (income, spending) in sorted(expected.items()):
            page.goto(f"{budget}/?month={month}")
            assert (data(page, "month-income"), data(page, "month-spending")) == (income, spending)
        assert data(page, "all-income") == sum(i for i, _ in expected.values())
        assert data(page, "all-spending") == sum(s for _, s in expected.values())
        stats = re.search(r"from (\d+) documents \((\d+) from the cache", page.inner_text("#stats"))
        assert stats is not None and stats[1] == stats[2] == "4"  # a later visit: all cached
        assert page.locator("#recurring").inner_text().count("LOYER") == 1

        tx = recategorise(page, "#tx-1", "Leisure")
        saved = page.inner_text("#saved")
        assert "listed in your private type index" in saved and "not listed" not in saved
        index = Graph().parse(
            data=read(server.url("bea/settings/privateTypeIndex.ttl")), format="turtle"
        )
        assert (None, SOLID.instance, URIRef(server.url("bea/apps/budget/categories.ttl"))) in index
        kept_after_reload(page, tx, "Leisure")
        assert "Leisure" in page.locator("svg.chart").first.inner_html()
        shoot(page, screens, "budget-recategorised")
        readme_shot(page, "budget", "recurring", selector="section[aria-labelledby=t-rec]")
        page.goto(f"{budget}/?month={month}#tx-list")
        readme_shot(page, "budget", "transactions", 520)  # the changed one: "yours"

        with page.expect_download() as got:
            page.get_by_role("link", name=f"Export {month} as CSV").click()
        text = Path(got.value.path()).read_text(encoding="utf-8")
        assert tx is not None and tx in text and "Leisure" in text
    finally:
        context.close()


def test_an_app_allowed_only_its_folder_says_it_cannot_read_the_bank(
    browser: Browser, server: Server, budget: str, screens: Path
) -> None:
    newcomer = browser.new_context()
    person = sign_up(newcomer.new_page(), server, "cid")
    newcomer.close()
    context = browser.new_context()
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        sign_in_to_budget(page, budget, server, person)
        page.locator('input[name="access"][value="own"]').check()
        assert press(page, "Allow") == 303
        page.wait_for_url(budget + "/")
        message = page.inner_text("#message")
        assert "may not read your bank transactions" in message
        assert (
            "allow it “Your bank transactions”" in message
        )  # the consent page's words and "/cid/bank/" in message
        shoot(page, screens, "budget-refused")
        readme_shot(page, "budget", "refused", 420)
    finally:
        context.close()
