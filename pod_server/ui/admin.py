"""The operator pages: accounts, pods, the storage each uses and its quota; set a quota,
suspend, resume and delete a pod. They show counts and sizes only, never what a pod
holds (``pods.operator`` reads only roots' own triples and the byte counters).

An operator is a signed-in person one of whose WebIDs the ``admin`` setting names (the
same page session cookie as every other page, ``ui.viewer``). Routes, under the identity
provider: ``GET idp/admin`` (the overview), ``GET idp/admin?delete=NAME`` (confirm) and
``POST idp/admin`` (``do`` = quota | suspend | resume | delete), every post CSRF-checked
before the session is read, as the account pages do.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from pod_server.errors import BadRequest
from pod_server.http.keys import IDP, STORE
from pod_server.idp.bodies import read_form
from pod_server.idp.provider import Provider
from pod_server.idp.sessions import FormCheck
from pod_server.ldp.store import ResourceStore
from pod_server.pods.hosting import HostingError
from pod_server.pods.operator import (
    PodSummary,
    delete_pod,
    parse_quota,
    pod_summaries,
    pod_summary,
    set_quota,
    set_suspended,
)
from pod_server.ui import admin_words, i18n, summaries
from pod_server.ui.render import OPERATORS, Chrome, new_nonce, page, sign_in_link

ADMINS = OPERATORS
PATH = "idp/admin"
ACTIONS = frozenset({"quota", "suspend", "resume", "delete"})
NOTES = frozenset(
    {"suspended_note", "resumed_note", "quota_note", "pod_deleted_note", "unchanged_note"}
)


def add_admin_pages(app: web.Application, base_path: str, admins: frozenset[str]) -> None:
    """Register the pages (before the catch-all resource route)."""
    app[ADMINS] = admins
    app.router.add_get(base_path + PATH, admin_page)
    app.router.add_post(base_path + PATH, admin_form)


def is_operator(webids: list[str], admins: frozenset[str]) -> bool:
    return any(webid in admins for webid in webids)


class _Visit:
    """One request to these pages by someone signed in."""

    def __init__(self, request: web.Request, webids: list[str]) -> None:
        self.request = request
        self.p: Provider = request.app[IDP]
        self.store: ResourceStore = request.app[STORE]
        self.webids = webids
        self.url = request.path
        lang = i18n.request_language(request)
        self.chrome = Chrome(
            request,
            lang,
            webids[0] if webids else None,
            self.store.url("/"),
            self.p.paths.account,
            self.p.paths.login,
            self.p.sessions.csrf_token(request),
            new_nonce(),
        )
        self.t = admin_words.translator(lang)

    @property
    def allowed(self) -> bool:
        return is_operator(self.webids, self.request.app[ADMINS])

    def render(self, template: str, title: str, status: int = 200, **values: Any) -> web.Response:
        response = page(self.chrome, template, title, status, t=self.t, **values)
        self.p.sessions.set_csrf(response, self.chrome.csrf)
        return response

    def message(self, status: int, title: str, text: str, back: bool = True) -> web.Response:
        links = [{"url": self.url, "label": self.t("back_to_admin")}] if back else []
        return self.render(
            "message.html", title, status, text=text, detail=None, links=links, alert=True
        )

    def refused(self) -> web.Response:
        return self.message(403, self.t("refused_title"), self.t("admin_only"), back=False)


async def _visit(request: web.Request) -> _Visit | None:
    p: Provider = request.app[IDP]
    session = await p.sessions.current(request)
    if session is None or await p.state.get_account(session.account_id) is None:
        return None
    return _Visit(request, await p.state.account_webids(session.account_id))


def _to_sign_in(request: web.Request) -> web.Response:
    location = sign_in_link(request.app[IDP].paths.login, request.raw_path)
    return web.Response(status=303, headers={"Location": location, "Cache-Control": "no-store"})


def _see(url: str, **query: str) -> web.Response:
    location = url + ("?" + urlencode(query) if query else "")
    return web.Response(status=303, headers={"Location": location, "Cache-Control": "no-store"})


# -- pages ------------------------------------------------------------------------------------


async def admin_page(request: web.Request) -> web.StreamResponse:
    visit = await _visit(request)
    if visit is None:
        return _to_sign_in(request)
    if not visit.allowed:
        return visit.refused()
    name = request.query.get("delete")
    if name is not None:
        return await _confirm_delete(visit, name)
    return await _overview(visit)


def _size(count: int | None, lang: str) -> str:
    return "" if count is None else i18n.human_size(count, lang)


def pod_row(pod: PodSummary, t: i18n.Translate, lang: str) -> dict[str, Any]:
    """What the pods table shows of one pod (counts and sizes, no content)."""
    if pod.limit is not None:
        quota = _size(pod.limit, lang)
    elif pod.default_limit:
        quota = t("default_quota", size=_size(pod.default_limit, lang))
    else:
        quota = t("no_quota")
    limit = pod.effective_limit
    status = (
        t("suspended_status", date=pod.suspended_since[:10])
        if pod.suspended_since
        else t("active_status")
    )
    return {
        "name": pod.name,
        "url": pod.url,
        "owner": pod.owner,
        "email": pod.email,
        "used": pod.used,
        "used_text": _size(pod.used, lang),
        "limit": limit,
        "quota_text": quota,
        "quota_value": "" if pod.limit is None else str(pod.limit),
        "suspended": pod.suspended_since is not None,
        "status_text": status,
    }


async def _overview(visit: _Visit) -> web.Response:
    t, lang = visit.t, visit.chrome.lang
    state = visit.p.state
    pods = await pod_summaries(visit.store, state) if visit.store.multiuser else []
    accounts = []
    for account in await state.list_accounts():
        webids = await state.account_webids(account.id)
        accounts.append(
            {
                "email": account.email,
                "created": summaries.long_date(datetime.fromtimestamp(account.created, UTC), lang),
                "webids": len(webids),
                "pods": sum(1 for pod in pods if pod.owner in webids),
            }
        )
    return visit.render(
        "admin.html",
        t("admin_title"),
        accounts=accounts,
        pods=[pod_row(pod, t, lang) for pod in pods],
        action=visit.url,
        note=_note(visit),
    )


def _note(visit: _Visit) -> str | None:
    query = visit.request.query
    key = query.get("note", "")
    if key not in NOTES:
        return None
    return visit.t(key, name=query.get("name", ""), size=query.get("size", ""))


async def _find(visit: _Visit, name: str) -> PodSummary | None:
    if not visit.store.multiuser:
        return None
    return await pod_summary(visit.store, visit.p.state, name)


async def _confirm_delete(visit: _Visit, name: str) -> web.Response:
    t = visit.t
    pod = await _find(visit, name)
    if pod is None:
        return visit.message(404, t("not_found_title"), t("no_such_pod", name=name))
    return visit.render(
        "admin_delete.html",
        t("delete_pod_title", name=name),
        name=name,
        text=t(
            "delete_pod_text",
            name=name,
            size=_size(pod.used, visit.chrome.lang),
            email=pod.email or pod.owner,
        ),
        action=visit.url,
        back=visit.url,
    )


# -- forms ------------------------------------------------------------------------------------


async def admin_form(request: web.Request) -> web.StreamResponse:
    p: Provider = request.app[IDP]
    form = await read_form(request, p.config.max_form_bytes)
    check = p.sessions.check_form(request, form or {}) if form is not None else FormCheck.EXPIRED
    visit = await _visit(request)  # only read once the form is known to be our own
    if check is not FormCheck.TRUSTED:
        if visit is None:
            return _to_sign_in(request)
        key = "cross_site" if check is FormCheck.CROSS_SITE else "form_expired"
        return visit.message(403, visit.t("refused_title"), visit.t(key))
    if visit is None:
        return _to_sign_in(request)
    if not visit.allowed:
        return visit.refused()
    return await _act(visit, form or {})


async def _act(visit: _Visit, form: dict[str, str]) -> web.Response:
    t = visit.t
    do, name = form.get("do", ""), form.get("name", "")
    if do not in ACTIONS:
        return visit.message(400, t("error_title"), f"Unknown action {do!r}")
    if await _find(visit, name) is None:
        return visit.message(404, t("not_found_title"), t("no_such_pod", name=name))
    store, state = visit.store, visit.p.state
    try:
        if do == "quota":
            limit = parse_quota(form.get("quota", ""))
            await set_quota(store, name, limit)
            shown = t("server_default") if limit is None else _size(limit, visit.chrome.lang)
            return _see(visit.url, note="quota_note", name=name, size=shown)
        if do in ("suspend", "resume"):
            changed = await set_suspended(store, name, do == "suspend")
            key = {"suspend": "suspended_note", "resume": "resumed_note"}[do]
            return _see(visit.url, note=key if changed else "unchanged_note", name=name)
        if form.get("confirm") != "yes":
            return await _confirm_delete(visit, name)
        await delete_pod(store, state, name)
        return _see(visit.url, note="pod_deleted_note", name=name)
    except BadRequest as exc:
        return visit.message(400, t("error_title"), exc.message)
    except HostingError as exc:
        return visit.message(409, t("error_title"), str(exc))
