"""The account's own pages beyond the identity provider's: the person's pods (with their
requests, activity and a downloadable copy), sign-ins (sign out everywhere), client
credentials (create, revoke) and deleting the account with its pods.

Routes (under the provider's ``idp/account`` path): ``GET|POST idp/account/settings`` and
``GET|POST idp/account/delete``. Every post is CSRF-checked before the session is read.

Deletion policy: the account, its WebIDs, credentials, sign-ins, tokens, remembered app
choices and every pod its WebIDs own go (``pods.hosting.delete_user``); each deleted pod's
audit log is erased with it (``log_trim`` of all its entries: only the chain's anchor, a
sequence number and hash, stays so the storage's numbering never restarts).
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from pod_server.audit.entry import Action, AuditEntry
from pod_server.consent.apps.grant import AppGrant
from pod_server.errors import PodError
from pod_server.http.keys import IDP, POLICY, STORE
from pod_server.idp.accounts import AccountError, create_credentials, revoke_credentials
from pod_server.idp.bodies import read_form
from pod_server.idp.provider import Provider
from pod_server.idp.sessions import FormCheck
from pod_server.ldp.store import ResourceStore
from pod_server.pods.hosting import HostingError, delete_user, pods_of, storage_of
from pod_server.pods.transfer import TransferError, export_pod
from pod_server.state.base import Account, LoginSession
from pod_server.ui import i18n, summaries, words
from pod_server.ui.render import Chrome, new_nonce, page, sign_in_link

log = logging.getLogger(__name__)
SETTINGS = "/settings"
DELETE = "/delete"
CHUNK = 64 * 1024
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def add_account_pages(app: web.Application, provider: Provider) -> None:
    """Register the pages (before the catch-all resource route)."""
    base = provider.paths.account
    app.router.add_get(base + SETTINGS, settings_page)
    app.router.add_post(base + SETTINGS, settings_form)
    app.router.add_get(base + DELETE, delete_page)
    app.router.add_post(base + DELETE, delete_form)


class _Visit:
    """One request to these pages: who is signed in, the chrome, the words."""

    def __init__(
        self, request: web.Request, account: Account, webids: list[str], session: LoginSession
    ) -> None:
        self.request = request
        self.session = session
        self.p: Provider = request.app[IDP]
        self.store: ResourceStore = request.app[STORE]
        self.account = account
        self.webids = webids
        lang = i18n.request_language(request)
        self.chrome = Chrome(
            request,
            lang,
            webids[0] if webids else account.email,
            self.store.url("/"),
            self.p.paths.account,
            self.p.paths.login,
            self.p.sessions.csrf_token(request),
            new_nonce(),
        )
        self.t = words.translator(lang)

    def render(self, template: str, title: str, status: int = 200, **values: Any) -> web.Response:
        response = page(self.chrome, template, title, status, t=self.t, **values)
        self.p.sessions.set_csrf(response, self.chrome.csrf)
        return response

    def message(self, status: int, title: str, text: str) -> web.Response:
        links = [{"url": self.p.paths.account + SETTINGS, "label": self.t("back_to_settings")}]
        return self.render(
            "message.html", title, status, text=text, detail=None, links=links, alert=True
        )

    async def pods(self) -> list[tuple[str, int, int | None]]:
        """The pods the account's WebIDs own: URL, bytes used, limit."""
        if self.store.multiuser:
            return await pods_of(self.store)(self.webids)
        found = []
        for webid in self.webids:
            url = await storage_of(self.store)(webid)
            root = self.store.local_path(url) if url else None
            if url and root is not None and webid in await self._owners(root):
                usage = await self.store.usage(root)
                found.append((url, usage.used, usage.limit))
        return found

    async def _owners(self, root: str) -> frozenset[str]:
        return await self.request.app[POLICY].owners_of(root)


async def _visit(request: web.Request) -> _Visit | None:
    p: Provider = request.app[IDP]
    session = await p.sessions.current(request)
    account = await p.state.get_account(session.account_id) if session else None
    if account is None:
        return None
    assert session is not None
    return _Visit(request, account, await p.state.account_webids(account.id), session)


def _to_sign_in(request: web.Request) -> web.Response:
    location = sign_in_link(request.app[IDP].paths.login, request.raw_path)
    return web.Response(status=303, headers={"Location": location, "Cache-Control": "no-store"})


def _see(url: str, **query: str) -> web.Response:
    location = url + ("?" + urlencode(query) if query else "")
    return web.Response(status=303, headers={"Location": location, "Cache-Control": "no-store"})


async def _posted(
    request: web.Request,
) -> tuple[_Visit | None, dict[str, str], web.Response | None]:
    """The form if one of our pages posted it and someone is signed in, else the answer."""
    p: Provider = request.app[IDP]
    form = await read_form(request, p.config.max_form_bytes)
    check = p.sessions.check_form(request, form or {}) if form is not None else FormCheck.EXPIRED
    if check is not FormCheck.TRUSTED:
        visit = await _visit(request)
        if visit is None:
            return None, {}, _to_sign_in(request)
        key = "cross_site" if check is FormCheck.CROSS_SITE else "form_expired"
        return None, {}, visit.message(403, visit.t("refused_title"), visit.t(key))
    visit = await _visit(request)
    if visit is None:
        return None, {}, _to_sign_in(request)
    return visit, form or {}, None


# -- the settings page ------------------------------------------------------------------------


async def settings_page(request: web.Request) -> web.StreamResponse:
    visit = await _visit(request)
    if visit is None:
        return _to_sign_in(request)
    return await _settings(visit)


async def _settings(visit: _Visit, made: dict[str, str] | None = None) -> web.Response:
    t, lang = visit.t, visit.chrome.lang
    pods = [
        {
            "url": url,
            "used": i18n.human_size(used, lang),
            "requests": url + "?ui=requests",
            "activity": url + "?ui=activity",
            "name": url.rstrip("/").rsplit("/", 1)[-1] if visit.store.multiuser else "",
        }
        for url, used, _limit in await visit.pods()
    ]
    credentials = [
        {
            "id": c.client_id,
            "label": c.label,
            "webid": c.webid,
            "created": summaries.long_date(datetime.fromtimestamp(c.created, UTC), lang),
        }
        for c in await visit.p.state.list_credentials(visit.account.id)
    ]
    sessions = [
        {
            "id": s.id_hash,
            "since": summaries.moment_text(s.auth_time),
            "this": s.id_hash == visit.session.id_hash,
        }
        for s in await visit.p.state.list_sessions(visit.account.id, visit.p.clock())
    ]
    apps = [
        {
            "client": c.client_id,
            "as": t(
                "app_as",
                webid=c.webid,
                date=summaries.long_date(datetime.fromtimestamp(c.created, UTC), lang),
            ),
        }
        for c in await visit.p.state.list_consents(visit.account.id)
    ]
    query = visit.request.query
    note = None
    if query.get("note") == "forgotten":
        note = t("app_forgotten_note", client=query.get("name", ""))
    elif query.get("note") == "revoked":
        note = t("revoked_note", id=query.get("name", ""))
    elif query.get("note") == "session_ended":
        note = t("session_ended")
    title = t("credentials_made") if made else t("settings_title")
    return visit.render(
        "account.html",
        title,
        email=visit.account.email,
        pods=pods,
        credentials=credentials,
        apps=apps,
        sessions=sessions,
        made=made,
        action=visit.p.paths.account + SETTINGS,
        delete_url=visit.p.paths.account + DELETE,
        account_page=visit.p.paths.account,
        password_page=visit.p.paths.password,
        can_delete=visit.store.multiuser,
        note=note,
    )


async def settings_form(request: web.Request) -> web.StreamResponse:
    visit, form, refused = await _posted(request)
    if visit is None:
        assert refused is not None
        return refused
    settings = visit.p.paths.account + SETTINGS
    do = form.get("do", "")
    if do == "signout_all":
        await visit.p.state.end_sessions(visit.account.id)
        response = _see(visit.p.paths.login)
        await visit.p.sessions.end(request, response)
        return response
    if do == "end_session":
        wanted = form.get("session", "")
        mine = await visit.p.state.list_sessions(visit.account.id, visit.p.clock())
        if wanted not in {s.id_hash for s in mine}:
            return visit.message(404, visit.t("not_found_title"), visit.t("not_found_text"))
        await visit.p.state.delete_session(wanted)
        if wanted == visit.session.id_hash:  # this browser: signed out here too
            response = _see(visit.p.paths.login)
            await visit.p.sessions.end(request, response)
            return response
        return _see(settings, note="session_ended")
    if do == "forget_app":
        client_id = form.get("client_id", "")
        await forget_app(visit.p, visit.account.id, visit.webids, client_id)
        return _see(settings, note="forgotten", name=client_id)
    if do == "create_credentials":
        webid = form.get("webid") or (visit.webids[0] if visit.webids else "")
        try:
            made = await create_credentials(
                visit.p.state, visit.p.issuer, visit.account.id, webid, form.get("label", "")
            )
        except AccountError as exc:
            return visit.message(400, visit.t("error_title"), str(exc))
        return await _settings(visit, made)
    if do == "revoke_credentials":
        client_id = form.get("client_id", "")
        mine = {c.client_id for c in await visit.p.state.list_credentials(visit.account.id)}
        if client_id not in mine:
            return visit.message(404, visit.t("not_found_title"), visit.t("not_found_text"))
        await revoke_credentials(visit.p.state, client_id)
        return _see(settings, note="revoked", name=client_id)
    if do == "export":
        return await _export(visit, form.get("pod", ""))
    return visit.message(400, visit.t("error_title"), f"Unknown action {do!r}")


async def forget_app(p: Provider, account_id: str, webids: list[str], client_id: str) -> None:
    """Sign the account out of one app: its remembered consent and refresh tokens go, and
    what it may do with each WebID becomes nothing now (an absent choice would mean full
    access for the access tokens it still holds), until the person signs in to it again."""
    await p.state.forget_app(account_id, client_id)
    if p.app_grants is None or not client_id:
        return
    for webid in webids:
        await p.app_grants.save(AppGrant(webid, client_id, (), False, until=time.time()))


async def _export(visit: _Visit, name: str) -> web.StreamResponse:
    """Stream an archive of one of the person's pods (made in a temporary file, checked
    whole by ``export_pod``, then sent in chunks and removed)."""
    owned = {url: url.rstrip("/").rsplit("/", 1)[-1] for url, _, _ in await visit.pods()}
    if not visit.store.multiuser or name not in owned.values():
        return visit.message(404, visit.t("not_found_title"), visit.t("not_found_text"))
    url = next(u for u, n in owned.items() if n == name)
    root = f"/{name}/"
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    filename = f"{name}-{stamp}.tar.gz"
    with tempfile.TemporaryDirectory(prefix="pod-export-") as folder:
        archive = Path(folder) / filename
        try:
            await export_pod(visit.store.backend, name, visit.store.base_url, archive)
        except (TransferError, PodError) as exc:
            return visit.message(500, visit.t("error_title"), str(exc))
        entry = AuditEntry(root, Action.EXPORT, url, 200, agent=visit.chrome.webid)
        await visit.store.backend.apply([], [entry.mutation()])
        response = web.StreamResponse(
            headers={
                "Content-Type": "application/gzip",
                "Content-Disposition": f'attachment; filename="{filename}"',
                "Content-Length": str(archive.stat().st_size),
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            }
        )
        await response.prepare(visit.request)
        with archive.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                await response.write(chunk)
        await response.write_eof()
        return response


# -- deleting the account ----------------------------------------------------------------------


async def delete_page(request: web.Request) -> web.StreamResponse:
    visit = await _visit(request)
    if visit is None:
        return _to_sign_in(request)
    return await _delete_page(visit)


async def _delete_page(visit: _Visit, error: str | None = None, status: int = 200) -> web.Response:
    t = visit.t
    if not visit.store.multiuser:
        return visit.message(409, t("delete_account"), t("single_user"))
    return visit.render(
        "account_delete.html",
        t("delete_confirm_title"),
        status,
        pods=[url for url, _, _ in await visit.pods()],
        email=visit.account.email,
        action=visit.p.paths.account + DELETE,
        back=visit.p.paths.account + SETTINGS,
        error=error,
    )


async def delete_form(request: web.Request) -> web.StreamResponse:
    visit, form, refused = await _posted(request)
    if visit is None:
        assert refused is not None
        return refused
    p, t = visit.p, visit.t
    if not visit.store.multiuser:
        return visit.message(409, t("delete_account"), t("single_user"))
    email = visit.account.email
    if await p.limiter.exceeded(p.login_per_account, email):
        return await _delete_page(visit, t("wrong_password"), 429)
    if not await p.passwords.verify(visit.account.password_hash, form.get("password", "")):
        await p.limiter.count(p.login_per_account, email)
        return await _delete_page(visit, t("wrong_password"), 401)
    if form.get("confirm") != "yes":
        return await _delete_page(visit, t("must_confirm"), 400)
    removed = await erase_account(visit.store, visit.p, visit.account.id, await visit.pods())
    visit.chrome.webid = None  # nobody is signed in any more
    response = visit.render(
        "message.html",
        t("deleted_title"),
        200,
        text=t("deleted_text", count=removed),
        detail=t("delete_log_policy"),
        links=[],
        alert=False,
    )
    await p.sessions.end(request, response)
    return response


async def erase_account(
    store: ResourceStore, p: Provider, account_id: str, pods: list[tuple[str, int, int | None]]
) -> int:
    """Delete the account and its pods (``delete_user``), then erase each pod's audit log."""
    names = [url.rstrip("/").rsplit("/", 1)[-1] for url, _, _ in pods]
    removed = 0
    if names:
        try:
            removed = await delete_user(store, p.state, names[0])
        except HostingError as exc:
            log.warning("Deleting through the pod %s: %s; deleting the account", names[0], exc)
            await p.state.delete_account(account_id)
    else:
        await p.state.delete_account(account_id)
    if await p.state.get_account(account_id) is not None:  # a pod named another owner
        await p.state.delete_account(account_id)
    for name in names:
        with contextlib.suppress(PodError):
            await store.delete_tree(f"/{name}/")  # any left (delete_user got them all)
        # Every entry (all are older than tomorrow): the log goes with the pod.
        await store.backend.log_trim(time.time() + 86_400, f"/{name}/")
    return removed
