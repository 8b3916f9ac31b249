"""The energy app's page: a thin handler over ``source`` and ``analysis``, rendered on the
server; sign-in, visits and the Client ID Document are the shared frame's."""

from __future__ import annotations

import asyncio
import calendar
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from aiohttp import web

from apps.energy import analysis, homes, source
from apps.energy.records import EXAMPLE_TARIFF, Reading, Tariff
from apps.webapp import charts
from apps.webapp.documents import Progress
from apps.webapp.site import TRANSPORT, Site, Visit, access_need, make_site, read_for_page, render
from client import PodClient
from client.transport import Transport

NAME = "Energy"
DATA_PATH = "energy/"
OWN_PATH = "apps/energy/"


def needs(data_path: str) -> list[dict[str, Any]]:
    """The access needs the Client ID Document declares (load curves, read only)."""
    why = "To show your consumption by day and month and estimate its cost."
    return [access_need("energy", f"Your {source.WHAT}", why, data_path)]


@dataclass(frozen=True)
class Settings:
    base: str
    data_path: str = DATA_PATH
    own_path: str = OWN_PATH
    statistics: tuple[str, ...] = ()  # published releases of the common-good statistics
    statistics_index: str | None = None  # the broker's index of its releases (DCAT)


PATHS = web.AppKey("paths", Settings)


def dashboard(
    readings: list[Reading],
    month: str | None,
    tariff: Tariff,
    means: list[homes.Mean] | None = None,
    region: str | None = None,
    unavailable: bool = False,
) -> dict[str, Any]:
    """Everything the page shows, from the readings (testable without a browser); with
    the published ``means`` and the home's ``region``, the "homes like mine" line;
    ``unavailable`` when statistics were configured but some could not be read (the page
    says so when it has no comparison to show)."""
    months = analysis.monthly(readings)
    names = [m for m, _ in months]
    if month not in names:
        month = names[-1] if names else None
    like_mine = homes.like_mine(means or [], region, names)
    reference = [like_mine[m].kwh if m in like_mine else None for m in names]
    peak, off = analysis.split(readings, month)
    days = analysis.daily(readings, month)
    winters = analysis.winters(months)
    return {
        "month": month,
        "months": names,
        "month_total": peak + off,
        "peak": peak,
        "off_peak": off,
        "cost": analysis.cost(peak, off, tariff),
        "tariff": tariff,
        "all_total": sum((v for _, v in months), Decimal(0)),
        "monthly_chart": charts.columns(
            months,
            "Consumption by month",
            charts.kwh,
            reference if like_mine else (),
            f"Homes like mine ({region}), on average",
        ),
        "like_mine": like_mine.get(month) if month else None,
        "like_mine_months": len(like_mine),
        "region": region,
        "statistics_unavailable": unavailable and region is not None and not like_mine,
        "daily_chart": charts.columns(
            [(d[8:], v) for d, v in days], f"Consumption by day, {month}", charts.kwh
        ),
        "split_chart": charts.bars(
            [("Peak hours", peak), ("Off-peak (22:00–06:00)", off)], "Peak and off-peak", charts.kwh
        ),
        "winters": winters,
        "month_name": lambda m: calendar.month_name[m],
        "kwh": charts.kwh,
        "money": charts.money,
        "price": lambda p: charts.number(p, 4, "€"),
    }


async def home(request: web.Request, visit: Visit) -> web.StreamResponse:
    pod, webid, paths = visit.pod, visit.webid, request.app[PATHS]
    assert pod is not None and webid is not None

    async def read(progress: Progress) -> tuple[source.Place, source.Loaded]:
        place = visit.place or await source.find(pod, webid, paths.data_path, paths.own_path)
        return place, await source.load(pod, place, progress)

    result, page = await read_for_page(request, visit, read)
    if page is not None:
        return page
    visit.place, loaded = result
    tariff = loaded.tariff or EXAMPLE_TARIFF
    found = await published(request.app) if loaded.region else homes.Statistics()
    values = dashboard(
        loaded.readings,
        request.query.get("month"),
        tariff,
        found.means,
        loaded.region,
        bool(found.problems),
    )
    return render(
        request,
        "dashboard.html",
        **values,
        loaded=loaded,
        place=visit.place,
        visit=visit,
        example_tariff=loaded.tariff is None,
    )


STATISTICS = web.AppKey("statistics", dict)
STATISTICS_TTL = 600.0  # seconds a read of the published statistics is kept


async def published(app: web.Application) -> homes.Statistics:
    """The published means (the releases the index lists, then those configured one by
    one), read at most every ``STATISTICS_TTL`` seconds for all visitors (they are
    public: one read serves everyone), with what could not be read."""
    kept, settings = app[STATISTICS], app[PATHS]
    if not settings.statistics and settings.statistics_index is None:
        return homes.Statistics()
    now = time.monotonic()
    if kept.get("at") is None or now - kept["at"] > STATISTICS_TTL:
        async with kept["lock"]:
            if kept.get("at") is None or now - kept["at"] > STATISTICS_TTL:
                kept["found"] = await homes.fetch(
                    PodClient(transport=app[TRANSPORT]),
                    settings.statistics,
                    settings.statistics_index,
                )
                kept["at"] = time.monotonic()
    found: homes.Statistics = kept["found"]
    return homes.Statistics(list(found.means), list(found.problems))


def make_app(settings: Settings, transport: Transport | None = None) -> web.Application:
    site = Site(
        NAME,
        settings.base,
        settings.own_path,
        tuple(needs(settings.data_path)),
        "Follow your electricity use",
        "energy use",
        "load curves",
        "energy folder",
    )
    app = make_site(site, Path(__file__).parent / "templates", home, transport)
    app[PATHS] = settings
    app[STATISTICS] = {"lock": asyncio.Lock()}
    return app
