"""The budget app's pages: thin aiohttp handlers over ``source`` and ``analysis``,
rendered on the server (Jinja2), a form for every action, no script. Sign-in, visits and
the Client ID Document are the shared frame's (``apps.webapp.site``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from aiohttp import web

from apps.budget import analysis, source
from apps.budget.records import CATEGORIES, Balance, Tx, apply_overrides, category_label
from apps.webapp import charts
from apps.webapp.documents import Progress
from apps.webapp.site import (
    Site,
    Visit,
    access_need,
    check_form,
    failed,
    make_site,
    read_for_page,
    render,
    signed_in,
    visit_of,
)
from client import PodClientError
from client.transport import Transport

NAME = "Budget"
BANK_PATH = "bank/"
OWN_PATH = "apps/budget/"


INDEX_PATH = "settings/privateTypeIndex.ttl"  # where pods made by our server keep it


def needs(bank_path: str, index_path: str = INDEX_PATH) -> list[dict[str, Any]]:
    """The access needs the Client ID Document declares: the bank data, read only; and,
    optionally, adding (only adding) to the private type index, to list the person's
    own categories there."""
    why = "To show your spending by category, your income and your balance."
    listed = "So that other apps you allow find the categories you give your transactions."
    return [
        access_need("bank", f"Your {source.WHAT}", why, bank_path),
        access_need(
            "index", "Your private type index", listed, index_path, "acl:Append", required=False
        ),
    ]


@dataclass(frozen=True)
class Settings:
    base: str  # where the app is served, e.g. http://127.0.0.1:8600
    bank_path: str = BANK_PATH
    own_path: str = OWN_PATH


PATHS = web.AppKey("paths", Settings)


async def home(request: web.Request, visit: Visit) -> web.StreamResponse:
    pod, webid, paths = visit.pod, visit.webid, request.app[PATHS]
    assert pod is not None and webid is not None

    async def read(progress: Progress) -> tuple[source.Place, source.Loaded, dict[str, str]]:
        place = visit.place or await source.find(pod, webid, paths.bank_path, paths.own_path)
        loaded = await source.load(pod, place, progress)
        return place, loaded, await source.read_overrides(pod, place)

    result, page = await read_for_page(request, visit, read)
    if page is not None:
        return page
    visit.place, loaded, overrides = result
    txs = apply_overrides(loaded.transactions, overrides)
    values = dashboard(txs, request.query.get("month"), overrides, loaded.balances)
    return render(
        request,
        "dashboard.html",
        **values,
        loaded=loaded,
        place=visit.place,
        visit=visit,
        categories=CATEGORIES,
        saved=request.query.get("saved"),
    )


def dashboard(
    txs: list[Tx], month: str | None, overrides: dict[str, str], balances: list[Balance]
) -> dict[str, Any]:
    """Everything the page shows, from the transactions (kept apart from the handler so a
    test can check it without a browser)."""
    months = analysis.months_of(txs)
    if month not in months:
        month = months[-1] if months else None
    totals = analysis.monthly_totals(txs)
    gaps = analysis.missing_months(months)
    rows: list[tuple[str, Decimal | None, Decimal | None]] = [
        (m.month, m.income, m.spending) for m in totals
    ]
    rows = sorted(rows + [(g, None, None) for g in gaps])
    current = next((m for m in totals if m.month == month), None)
    by_category = analysis.spending_by_category(txs, month)
    return {
        "month": month,
        "months": months,
        "current": current,
        "all_income": sum((m.income for m in totals), Decimal(0)),
        "all_spending": sum((m.spending for m in totals), Decimal(0)),
        "category_chart": charts.bars(
            [(category_label(c), v) for c, v in by_category], f"Spending by category, {month}"
        ),
        "months_chart": charts.paired_columns(rows, "Income and spending by month"),
        "missing": gaps,
        "balance_chart": charts.line(analysis.balance_series(txs, balances), "Balance over time"),
        "recurring": analysis.recurring(txs),
        "unusual": analysis.unusual(txs, month),
        "rows": [t for t in txs if t.month == month],
        "overrides": overrides,
        "money": charts.money,
        "category_label": category_label,
    }


async def recategorise(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    visit = check_form(visit_of(request), form)
    category, tx = str(form.get("category", "")), str(form.get("tx", ""))
    if visit.pod is None or visit.place is None:
        raise web.HTTPSeeOther("/")
    if category not in CATEGORIES or not tx.startswith(visit.place.data):
        raise web.HTTPBadRequest(text="Unknown category or transaction.")
    try:
        await source.save_override(visit.pod, visit.place, tx, category)
        listed = await source.register_overrides(visit.pod, visit.webid or "", visit.place)
    except PodClientError as exc:
        return failed(request, visit, exc, "Not saved")
    month = str(form.get("month", ""))
    saved = "listed" if listed else "unlisted"
    raise web.HTTPSeeOther(f"/?month={month}&saved={saved}#tx-list")


async def export(request: web.Request) -> web.Response:
    visit = signed_in(request)
    if visit.pod is None or visit.place is None:
        raise web.HTTPSeeOther("/")
    month = request.query.get("month", "")
    try:
        loaded = await source.load(visit.pod, visit.place)
        overrides = await source.read_overrides(visit.pod, visit.place)
    except (source.NoAccess, PodClientError) as exc:
        return failed(request, visit, exc)
    txs = apply_overrides(loaded.transactions, overrides)
    if month not in analysis.months_of(txs):
        raise web.HTTPNotFound(text=f"No transactions in {month!r}.")
    return web.Response(
        text=analysis.month_csv(txs, month),
        content_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="budget-{month}.csv"'},
    )


def make_app(settings: Settings, transport: Transport | None = None) -> web.Application:
    site = Site(
        NAME,
        settings.base,
        settings.own_path,
        tuple(needs(settings.bank_path)),
        "See where your money goes",
        "budget",
        "bank transactions",
        "bank folder",
    )
    app = make_site(site, Path(__file__).parent / "templates", home, transport)
    app[PATHS] = settings
    app.router.add_post("/category", recategorise)
    app.router.add_get("/export.csv", export)
    return app
