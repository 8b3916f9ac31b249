"""The energy app (apps/energy) in a real browser: a person signs in through our IdP's
consent page and sees, month by month, the consumption summed from the synthetic load
curves, with its charts, and "homes like mine" from a release of the common-good
statistics (published on another site, found through the broker's index of its releases)
for the months it covers, nothing for the others; with an index that is not there, the
same page says there is no comparison, and works as without it."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.e2e.conftest import Server
from tests.e2e.loopback import Loopback
from tests.e2e.readme_screens import readme_shot
from tests.e2e.test_budget_browser import fill_pod, serve_app, sign_in_to_app
from tests.e2e.test_idp_browser import press, shoot, sign_up
from tests.unit.energy.synthetic import (
    PROV,
    curves,
    direct_monthly,
    release,
    source_files,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.timeout(240)


# Published for two of the person's months; 2024-01 suppressed (too few homes).
PUBLISHED = {
    ("Bretagne", "2023-11"): Decimal("702.3"),
    ("Bretagne", "2023-12"): Decimal("815.9"),
    ("Bretagne", "2024-01"): None,
    ("Occitanie", "2023-12"): Decimal("431.0"),
}


@pytest.fixture(scope="module")
def statistics() -> Iterator[Loopback]:
    """The broker's site: one release (Turtle, public) and its index (a DCAT catalog made
    by the broker's own ``catalog``), listing it."""
    from apps.commons.catalog import catalog

    site = Loopback()
    base = site.url("/results/grid/r1/")
    cube = release(2023, PUBLISHED, base=base).serialize(format="turtle")
    entry = {"url": base, "title": "Grid", "round": "r1", "published": "2024-02-01T08:00:00+00:00"}
    listed = catalog([entry], site.url("/results/")).serialize(format="turtle")
    for path, text in (("/results/grid/r1/", cube), ("/results/catalog", listed)):
        site.pages[path] = text
        site.types[path] = "text/turtle"
    yield site
    site.close()


@pytest.fixture(scope="module")
def energy(statistics: Loopback) -> Iterator[str]:
    yield from serve_app("apps.energy", "--statistics-index", statistics.url("/results/catalog"))


@pytest.fixture(scope="module")
def energy_without_index(statistics: Loopback) -> Iterator[str]:
    yield from serve_app("apps.energy", "--statistics-index", statistics.url("/results/gone"))


def test_energy_shows_the_months_of_the_source_files(
    browser: Browser,
    server: Server,
    energy: str,
    energy_without_index: str,
    statistics: Loopback,
    screens: Path,
    tmp_path: Path,
) -> None:
    from apps.connector import mapping

    files = source_files(tmp_path, months=4, first="2023-11")  # no summer-time change inside
    newcomer = browser.new_context()
    person = sign_up(newcomer.new_page(), server, "eve")
    newcomer.close()
    # The home's region as the energy supplier's connector writes it (from its customer
    # file), with the meter: what the page groups the person's home by.
    where = server.url("eve/energy/")
    docs = mapping.load_curve_documents(curves(files), where, PROV, region="Bretagne")
    fill_pod(browser, server, person, "energy/", docs)
    expected = direct_monthly(files)

    context = browser.new_context()
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        main = sign_in_to_app(page, energy, server, person)
        assert page.title() == "Allow Energy?"
        assert "Your energy data: read the folder energy/" in main
        assert press(page, "Allow") == 303
        page.wait_for_url(energy + "/")
        if page.locator("#progress").count():  # a first read longer than the page waits
            shoot(page, screens, "energy-progress")
            assert "Reading your data" in page.inner_text("main")
        page.wait_for_selector("#month-kwh")  # the page refreshes itself until it is read
        assert page.locator("svg.chart").count() == 3
        assert "so Energy reads" in page.inner_text("#fallback")  # no type registered
        shoot(page, screens, "energy-dashboard")
        for month, kwh in sorted(expected.items()):
            page.goto(f"{energy}/?month={month}")
            assert Decimal(page.get_attribute("#month-kwh", "value") or "nan") == kwh
        assert Decimal(page.get_attribute("#all-kwh", "value") or "nan") == sum(expected.values())
        assert "an example" in page.inner_text("#tariff")
        assert "Two winters" in page.inner_text("main")
        assert page.locator("#homes-like-mine").count() == 0  # 2024-02: not published

        page.goto(f"{energy}/?month=2023-12")
        assert Decimal(page.get_attribute("#homes-kwh", "value") or "nan") == Decimal("815.9")
        assert "Homes like mine in Bretagne" in page.inner_text("#homes-like-mine")
        chart = page.locator("svg.chart").nth(2).inner_html()  # by month: the dashed line
        assert chart.count("<circle") == 2 and "Homes like mine (Bretagne)" in chart
        shoot(page, screens, "energy-homes-like-mine")
        readme_shot(page, "energy", "dashboard", 1000)
        readme_shot(page, "energy", "by-month", selector="section[aria-labelledby=t-months]")
        page.goto(f"{energy}/?month=2024-01")  # its cell was suppressed
        assert page.locator("#homes-like-mine").count() == 0
        assert page.locator("#homes-unavailable").count() == 0
        assert {"/results/catalog", "/results/grid/r1/"} <= set(statistics.seen)
    finally:
        context.close()

    # The same app pointed at an index that is not there (404): no comparison, said.
    context = browser.new_context()
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        sign_in_to_app(page, energy_without_index, server, person)
        assert press(page, "Allow") == 303
        page.wait_for_url(energy_without_index + "/")
        page.wait_for_selector("#month-kwh")
        page.goto(f"{energy_without_index}/?month=2023-12")
        assert Decimal(page.get_attribute("#month-kwh", "value") or "nan") == expected["2023-12"]
        assert page.locator("#homes-like-mine").count() == 0
        said = page.inner_text("#homes-unavailable")
        assert "No comparison with homes like yours" in said
        assert page.locator("svg.chart").nth(2).inner_html().count("<circle") == 0
        shoot(page, screens, "energy-statistics-unavailable")
    finally:
        context.close()
