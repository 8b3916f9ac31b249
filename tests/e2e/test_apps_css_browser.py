"""The budget app signing a person in at another Solid-OIDC provider: the Community Solid
Server 7.2 (the reference server, ``bench/peer/install.sh``), in Debian's Chromium.

The person has an account and a pod there (made through CSS's own account API); the bank
documents are written to the pod with the person's client credentials, as a connector
would. Then, in the browser: the app's start page, CSS's login and consent pages (which
name the app from its Client ID Document), back to the app, whose totals equal those of
the synthetic source files; a re-categorisation saved in the CSS pod survives a reload.
CSS profiles name no type index, so the app reads the folder it declared, and says so.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp
import pytest

from apps.connector import mapping
from client import PodClient
from conformance.peer.provision import call
from tests.e2e.readme_screens import readme_shot
from tests.e2e.test_budget_browser import data, kept_after_reload, recategorise, serve_app
from tests.e2e.test_idp_browser import shoot
from tests.integration.test_client import Css, css_missing
from tests.unit.budget.synthetic import PROV, direct_totals, source_files, statements

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.timeout(300)
T = TypeVar("T")


def aside(work: Callable[[], T]) -> T:
    """Run ``work`` in a thread of its own: Playwright's sync API keeps an event loop
    running in this one, where ``asyncio.run`` is refused."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(work).result()


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return aside(lambda: asyncio.run(coroutine))


@dataclass(frozen=True)
class Account:
    """A person on CSS: what they type in the browser, and client credentials."""

    email: str
    password: str
    webid: str
    pod: str
    client_id: str
    client_secret: str


@pytest.fixture(scope="module")
def css(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    reason = css_missing()
    if reason is not None:
        pytest.skip(reason)
    peer = Css(tmp_path_factory.mktemp("css"))
    try:
        yield aside(peer.ready).base
    finally:
        peer.stop()


@pytest.fixture(scope="module")
def budget_for_css() -> Iterator[str]:
    # CSS accepts a plain-HTTP Client ID only on localhost.
    yield from serve_app("apps.budget", host="localhost")


async def make_account(base: str, name: str) -> Account:
    """An account with a password, a pod and client credentials, through CSS's account
    API (every URL from its ``controls``)."""
    email, password = f"{name}@example.org", secrets.token_urlsafe(12)
    async with aiohttp.ClientSession() as http:
        index = await call(http, "GET", base + ".account/", None)
        token = (await call(http, "POST", index["controls"]["account"]["create"], None, {}))[
            "authorization"
        ]
        controls = (await call(http, "GET", base + ".account/", token))["controls"]
        login = {"email": email, "password": password}
        await call(http, "POST", controls["password"]["create"], token, login)
        pod = await call(http, "POST", controls["account"]["pod"], token, {"name": name})
        made = await call(
            http,
            "POST",
            controls["account"]["clientCredentials"],
            token,
            {"name": f"loader-{name}", "webId": pod["webId"]},
        )
    return Account(email, password, pod["webId"], pod["pod"], made["id"], made["secret"])


async def write_documents(base: str, who: Account, docs: list[mapping.Document]) -> None:
    async with PodClient() as pod:
        await pod.login_client_credentials(base, who.client_id, who.client_secret)
        for doc in docs:
            await pod.put(who.pod + "bank/" + doc.name, doc.graph.serialize(format="turtle"))


def test_budget_signs_in_at_the_community_solid_server(
    browser: Browser, css: str, budget_for_css: str, screens: Path, tmp_path: Path
) -> None:
    who = run(make_account(css, "ann"))
    files = source_files(tmp_path, customers=1, months=3, fmt="camt053")
    docs = mapping.bank_documents(statements(files), who.pod + "bank/", who.webid, PROV)
    run(write_documents(css, who, docs))
    expected = direct_totals(files)

    context = browser.new_context()
    context.set_default_timeout(30_000)
    try:
        page = context.new_page()
        page.goto(budget_for_css + "/")
        page.fill("#webid", who.webid)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(css + ".account/**")  # CSS's own login page
        page.fill("#email", who.email)
        page.fill("#password", who.password)
        shoot(page, screens, "budget-css-login")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(css + ".account/oidc/consent/**")
        page.get_by_text(budget_for_css + "/id").wait_for()  # CSS's page fills itself in
        consent = page.inner_text("main")
        assert "Budget" in consent and budget_for_css + "/id" in consent  # from the document
        assert who.webid in consent
        shoot(page, screens, "budget-css-consent")
        readme_shot(page, "budget", "css-consent", 640)
        page.get_by_role("button", name="Authorize").click()
        page.wait_for_url(budget_for_css + "/**")
        page.wait_for_selector("#month-income")  # past the progress page, if one was shown
        assert who.webid in page.inner_text("header")
        assert "so Budget reads" in page.inner_text("#fallback")  # CSS: no type index
        assert page.locator("svg.chart").count() == 3
        stats = page.inner_text("#stats")
        assert "by one query" not in stats  # CSS has no SPARQL endpoint: documents read
        shoot(page, screens, "budget-css-dashboard")
        for month, (income, spending) in sorted(expected.items()):
            page.goto(f"{budget_for_css}/?month={month}")
            assert (data(page, "month-income"), data(page, "month-spending")) == (income, spending)
        assert data(page, "all-spending") == sum((s for _, s in expected.values()), Decimal(0))
        assert "3 from the cache" in page.inner_text("#stats")  # kept in the CSS pod

        tx = recategorise(page, "#tx-2", "Leisure")
        assert "not listed in your private type index" in page.inner_text("#saved")  # none
        kept_after_reload(page, tx, "Leisure")
    finally:
        context.close()
