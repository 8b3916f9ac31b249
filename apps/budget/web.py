"""The budget app's web side: thin aiohttp handlers over ``signin``, ``source`` and
``analysis``; pages rendered on the server (Jinja2), forms for every action, no script.

One in-memory visit per browser (a random cookie): the pending sign-in, then the signed-in
``PodClient``. Forms carry the visit's token, so another site cannot post them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from apps.budget import analysis, charts, signin, source
from apps.budget.records import CATEGORIES, Balance, Tx, apply_overrides
from client import AiohttpTransport, PodClient, PodClientError
from client.transport import Transport

COOKIE = "budget_visit"
NAME = "Budget"
BANK_PATH = "bank/"
OWN_PATH = "apps/budget/"


def needs(bank_path: str) -> list[dict[str, Any]]:
    """The access needs the Client ID Document declares (bank data, read only)."""
    return [
        {
            "@id": "#bank",
            "skos:prefLabel": "Your bank transactions",
            "skos:definition": "To show your spending by category, your income and your balance.",
            "interop:accessMode": "acl:Read",
            "consent:targetPath": bank_path,
            "interop:accessNecessity": "interop:AccessRequired",
        }
    ]


@dataclass
class Visit:
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    pending: signin.Pending | None = None
    pod: PodClient | None = None
    place: source.Place | None = None
    webid: str | None = None
    error: str | None = None


@dataclass
class Settings:
    base: str  # where the app is served, e.g. http://127.0.0.1:8600
    bank_path: str = BANK_PATH
    own_path: str = OWN_PATH

    @property
    def client_id(self) -> str:
        return self.base + "/id"

    @property
    def redirect_uri(self) -> str:
        return self.base + "/callback"


SETTINGS = web.AppKey("settings", Settings)
VISITS = web.AppKey("visits", dict)
TRANSPORT = web.AppKey("transport", Transport)
TEMPLATES = web.AppKey("templates", jinja2.Environment)


def _visit(request: web.Request) -> Visit | None:
    sid = request.cookies.get(COOKIE)
    return request.app[VISITS].get(sid) if sid else None


def _render(request: web.Request, name: str, status: int = 200, **values: Any) -> web.Response:
    page = request.app[TEMPLATES].get_template(name).render(name=NAME, **values)
    response = web.Response(text=page, content_type="text/html", status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _check_form(visit: Visit | None, form: Any) -> Visit:
    if visit is None or not secrets.compare_digest(str(form.get("token", "")), visit.token):
        raise web.HTTPForbidden(text="This form has expired: reload the page and try again.")
    return visit


async def client_id_document(request: web.Request) -> web.Response:
    s = request.app[SETTINGS]
    doc = signin.client_document(s.client_id, s.redirect_uri, NAME, s.own_path, needs(s.bank_path))
    return web.json_response(doc, content_type="application/ld+json")


async def home(request: web.Request) -> web.Response:
    visit = _visit(request)
    fresh = visit is None
    visit = visit or Visit()
    if visit.pod is None:
        response = _render(request, "start.html", visit=visit, error=visit.error)
        if fresh:
            request.app[VISITS][_new_cookie(response)] = visit
        return response
    assert visit.webid is not None
    s = request.app[SETTINGS]
    try:
        if visit.place is None:
            visit.place = await source.locate(visit.pod, visit.webid, s.bank_path, s.own_path)
        loaded = await source.load(visit.pod, visit.place)
        overrides = await source.read_overrides(visit.pod, visit.place)
    except source.NoAccess as exc:
        return _render(request, "refused.html", 403, visit=visit, message=str(exc))
    except PodClientError as exc:
        return _render(
            request, "refused.html", 502, visit=visit, message=f"Your pod answered: {exc}"
        )
    txs = apply_overrides(loaded.transactions, overrides)
    values = dashboard(txs, request.query.get("month"), overrides, loaded.balances)
    return _render(
        request,
        "dashboard.html",
        **values,
        loaded=loaded,
        place=visit.place,
        visit=visit,
        categories=CATEGORIES,
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
    current = next((m for m in totals if m.month == month), None)
    by_category = analysis.spending_by_category(txs, month)
    return {
        "month": month,
        "months": months,
        "current": current,
        "all_income": sum((m.income for m in totals), Decimal(0)),
        "all_spending": sum((m.spending for m in totals), Decimal(0)),
        "category_chart": charts.bars(by_category, f"Spending by category, {month}"),
        "months_chart": charts.paired_columns(
            [(m.month, m.income, m.spending) for m in totals], "Income and spending by month"
        ),
        "balance_chart": charts.line(analysis.balance_series(txs, balances), "Balance over time"),
        "recurring": analysis.recurring(txs),
        "unusual": analysis.unusual(txs, month),
        "rows": [t for t in txs if t.month == month],
        "overrides": overrides,
        "money": charts.money,
    }


def _new_cookie(response: web.StreamResponse) -> str:
    sid = secrets.token_urlsafe(24)
    response.set_cookie(COOKIE, sid, httponly=True, samesite="Lax", path="/")
    return sid


async def login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    visit = _check_form(_visit(request), form)
    s = request.app[SETTINGS]
    webid = str(form.get("webid", "")).strip()
    if not webid.startswith(("http://", "https://")):
        visit.error = (
            "Type your WebID: an address starting with https:// (or http:// on this computer)."
        )
        raise web.HTTPSeeOther("/")
    try:
        visit.pending, url = await signin.start(
            request.app[TRANSPORT], webid, s.client_id, s.redirect_uri
        )
    except PodClientError as exc:
        visit.error = f"Cannot sign in with {webid}: {exc}"
        raise web.HTTPSeeOther("/") from None
    visit.error = None
    raise web.HTTPSeeOther(url)


async def callback(request: web.Request) -> web.StreamResponse:
    visit = _visit(request)
    if visit is None or visit.pending is None:
        raise web.HTTPSeeOther("/")
    s = request.app[SETTINGS]
    pending, visit.pending = visit.pending, None
    try:
        session = await signin.finish(
            request.app[TRANSPORT], pending, dict(request.query), s.client_id, s.redirect_uri
        )
    except PodClientError as exc:
        visit.error = f"Sign-in did not finish: {exc}"
        raise web.HTTPSeeOther("/") from None
    visit.pod = PodClient(session, transport=request.app[TRANSPORT])
    visit.webid = session.webid or pending.webid
    visit.place = None
    raise web.HTTPSeeOther("/")


async def recategorise(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    visit = _check_form(_visit(request), form)
    category, tx = str(form.get("category", "")), str(form.get("tx", ""))
    if visit.pod is None or visit.place is None:
        raise web.HTTPSeeOther("/")
    if category not in CATEGORIES or not tx.startswith(visit.place.bank):
        raise web.HTTPBadRequest(text="Unknown category or transaction.")
    try:
        await source.save_override(visit.pod, visit.place, tx, category)
    except PodClientError as exc:
        return _render(request, "refused.html", 502, visit=visit, message=f"Not saved: {exc}")
    month = str(form.get("month", ""))
    raise web.HTTPSeeOther(f"/?month={month}#tx-list" if month else "/")


async def export(request: web.Request) -> web.Response:
    visit = _visit(request)
    if visit is None or visit.pod is None or visit.place is None:
        raise web.HTTPSeeOther("/")
    month = request.query.get("month", "")
    try:
        loaded = await source.load(visit.pod, visit.place)
        overrides = await source.read_overrides(visit.pod, visit.place)
    except source.NoAccess as exc:
        return _render(request, "refused.html", 403, visit=visit, message=str(exc))
    txs = apply_overrides(loaded.transactions, overrides)
    if month not in analysis.months_of(txs):
        raise web.HTTPNotFound(text=f"No transactions in {month!r}.")
    return web.Response(
        text=analysis.month_csv(txs, month),
        content_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="budget-{month}.csv"'},
    )


async def logout(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    visit = _check_form(_visit(request), form)
    visit.pod, visit.place, visit.webid = None, None, None
    raise web.HTTPSeeOther("/")


def make_app(settings: Settings, transport: Transport | None = None) -> web.Application:
    app = web.Application()
    app[SETTINGS] = settings
    app[VISITS] = {}
    app[TRANSPORT] = transport or AiohttpTransport()
    app[TEMPLATES] = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
    )
    app.router.add_get("/", home)
    app.router.add_get("/id", client_id_document)
    app.router.add_post("/login", login)
    app.router.add_get("/callback", callback)
    app.router.add_post("/category", recategorise)
    app.router.add_get("/export.csv", export)
    app.router.add_post("/logout", logout)

    async def close(app: web.Application) -> None:
        closer = getattr(app[TRANSPORT], "aclose", None)
        if closer is not None:
            await closer()

    app.on_cleanup.append(close)
    return app
