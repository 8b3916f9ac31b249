"""A Solid web app's frame: its Client ID Document, sign-in and sign-out, one visit per
browser, the start page; the app adds its own pages.

One in-memory visit per browser (a random cookie): the pending sign-in, then the
signed-in ``PodClient``. Forms carry the visit's token, so another site cannot post them.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from apps.webapp import signin
from apps.webapp.documents import NoAccess, Progress
from client import AiohttpTransport, PodClient, PodClientError, Unauthorized
from client.transport import Transport

FRAME = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Site:
    name: str
    base: str  # where the app is served, e.g. http://127.0.0.1:8600
    own_path: str  # the app's own folder in the person's storage
    needs: tuple[dict[str, Any], ...]  # interop:hasAccessNeed items
    intro: str  # one sentence on the start page
    subject: str = "data"  # what the page shows ("budget"): "Budget cannot show your budget"
    kind: str = "data"  # what it reads, plural ("bank transactions")
    folder: str = "folder"  # where it is ("bank folder")

    @property
    def client_id(self) -> str:
        return self.base + "/id"

    @property
    def redirect_uri(self) -> str:
        return self.base + "/callback"

    @property
    def cookie(self) -> str:
        return self.name.lower() + "_visit"


@dataclass
class Visit:
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    pending: signin.Pending | None = None
    pod: PodClient | None = None
    webid: str | None = None
    error: str | None = None
    place: Any = None  # where the app found the person's data (the app's own type)
    reading: asyncio.Task[Any] | None = None  # a read still going on (see ``wait_for``)
    progress: Progress = field(default_factory=Progress)


SITE = web.AppKey("site", Site)
VISITS = web.AppKey("visits", dict)
TRANSPORT = web.AppKey("transport", Transport)
TEMPLATES = web.AppKey("templates", jinja2.Environment)
Home = Callable[[web.Request, Visit], Awaitable[web.StreamResponse]]


def visit_of(request: web.Request) -> Visit | None:
    sid = request.cookies.get(request.app[SITE].cookie)
    return request.app[VISITS].get(sid) if sid else None


def signed_in(request: web.Request) -> Visit:
    """The visit of a signed-in person; else back to the start page."""
    visit = visit_of(request)
    if visit is None or visit.pod is None or visit.webid is None:
        raise web.HTTPSeeOther("/")
    return visit


def render(request: web.Request, name: str, status: int = 200, **values: Any) -> web.Response:
    site = request.app[SITE]
    page = request.app[TEMPLATES].get_template(name).render(name=site.name, site=site, **values)
    response = web.Response(text=page, content_type="text/html", status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def check_form(visit: Visit | None, form: Any) -> Visit:
    if visit is None or not secrets.compare_digest(str(form.get("token", "")), visit.token):
        raise web.HTTPForbidden(text="This form has expired: reload the page and try again.")
    return visit


MAX_VISITS = 10_000  # the oldest visit is forgotten past this (anyone can start one)
PATIENCE = 1.5  # seconds a page waits for the person's data before showing progress


async def wait_for(
    request: web.Request, visit: Visit, read: Callable[[Progress], Awaitable[Any]]
) -> tuple[Any, web.Response | None]:
    """Run ``read(progress)`` for this visit (or join the one already running); its
    result, or, when it takes longer than ``PATIENCE``, a page saying how far it is that
    reloads itself (no script needed). Errors of the read are raised here."""
    if visit.reading is None:
        visit.progress = Progress()
        visit.reading = asyncio.ensure_future(read(visit.progress))
    done, _ = await asyncio.wait({visit.reading}, timeout=PATIENCE)
    if not done:
        return None, render(request, "progress.html", visit=visit, progress=visit.progress)
    task, visit.reading = visit.reading, None
    return task.result(), None


def signed_out(visit: Visit) -> web.HTTPSeeOther:
    """The pod no longer accepts this visit's sign-in (expired, revoked): start again."""
    if visit.reading is not None:
        visit.reading.cancel()
    visit.pod, visit.place, visit.webid, visit.reading = None, None, None, None
    visit.error = "Your sign-in has ended (it expired or was revoked): sign in again."
    return web.HTTPSeeOther("/")


def refused(request: web.Request, visit: Visit, message: str, status: int = 403) -> web.Response:
    return render(request, "refused.html", status, visit=visit, message=message)


def failed(
    request: web.Request, visit: Visit, exc: Exception, doing: str = "Your pod answered"
) -> web.Response:
    """The page for what went wrong reading or writing the person's data: what the app
    may not read (403, the person's choice), an ended sign-in (back to the start), or
    what the pod answered (502)."""
    if isinstance(exc, NoAccess):
        return refused(request, visit, str(exc))
    if isinstance(exc, Unauthorized):
        raise signed_out(visit) from None
    return refused(request, visit, f"{doing}: {exc}", 502)


async def read_for_page(
    request: web.Request, visit: Visit, read: Callable[[Progress], Awaitable[Any]]
) -> tuple[Any, web.Response | None]:
    """``wait_for`` with its failures turned into pages: (result, None) when read, else
    (None, the page to show: progress, refusal)."""
    try:
        return await wait_for(request, visit, read)
    except (NoAccess, PodClientError) as exc:
        return None, failed(request, visit, exc)


def access_need(
    anchor: str, label: str, why: str, path: str, mode: str = "acl:Read", required: bool = True
) -> dict[str, Any]:
    """An access need for ``path`` of the person's storage (a folder when it ends in /),
    as the Client ID Document declares it (the consent page shows ``label`` and ``why``;
    the person may untick an optional one)."""
    necessity = "interop:AccessRequired" if required else "interop:AccessOptional"
    return {
        "@id": f"#{anchor}",
        "skos:prefLabel": label,
        "skos:definition": why,
        "interop:accessMode": mode,
        "consent:targetPath": path,
        "interop:accessNecessity": necessity,
    }


async def client_id_document(request: web.Request) -> web.Response:
    s = request.app[SITE]
    doc = signin.client_document(s.client_id, s.redirect_uri, s.name, s.own_path, list(s.needs))
    return web.json_response(doc, content_type="application/ld+json")


async def login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    visit = check_form(visit_of(request), form)
    s = request.app[SITE]
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
    visit = visit_of(request)
    if visit is None or visit.pending is None:
        raise web.HTTPSeeOther("/")
    s = request.app[SITE]
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


async def logout(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    visit = check_form(visit_of(request), form)
    if visit.reading is not None:
        visit.reading.cancel()
    visit.pod, visit.place, visit.webid, visit.reading = None, None, None, None
    raise web.HTTPSeeOther("/")


def _front(home: Home) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def front(request: web.Request) -> web.StreamResponse:
        visit = visit_of(request)
        fresh = visit is None
        visit = visit or Visit()
        if visit.pod is not None and visit.webid is not None:
            return await home(request, visit)
        response = render(request, "start.html", visit=visit, error=visit.error)
        if fresh:
            sid = secrets.token_urlsafe(24)
            response.set_cookie(request.app[SITE].cookie, sid, httponly=True, samesite="Lax")
            visits = request.app[VISITS]
            while len(visits) >= MAX_VISITS:
                del visits[next(iter(visits))]  # dicts keep insertion order: the oldest
            visits[sid] = visit
        return response

    return front


def make_site(
    site: Site, templates: Path, home: Home, transport: Transport | None = None
) -> web.Application:
    """The app with its frame's routes; ``home(request, visit)`` draws ``/`` for a
    signed-in person; the app adds its other routes to the result."""
    app = web.Application()
    app[SITE] = site
    app[VISITS] = {}
    app[TRANSPORT] = transport or AiohttpTransport()
    app[TEMPLATES] = jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [jinja2.FileSystemLoader(templates), jinja2.FileSystemLoader(FRAME)]
        ),
        autoescape=True,
    )
    app.router.add_get("/", _front(home))
    app.router.add_get("/id", client_id_document)
    app.router.add_post("/login", login)
    app.router.add_get("/callback", callback)
    app.router.add_post("/logout", logout)

    async def close(app: web.Application) -> None:
        await app[TRANSPORT].aclose()

    app.on_cleanup.append(close)
    return app
