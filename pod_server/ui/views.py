"""The pod browser's pages and forms: thin handlers over the resource store and the
access policy, as the API's handlers are (no write or read bypasses either).

``page`` answers the GETs ``negotiation.wants_page`` picks; ``form`` answers the pages'
own form posts (``POST <url>?ui=upload|mkdir|delete``), each checked against cross-site
forgery before the session cookie is even read.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

from aiohttp import BodyPartReader, web

from pod_server.access.modes import Mode
from pod_server.access.policy import Access, AccessPolicy
from pod_server.audit.hook import RequestAudit
from pod_server.auth import Agent
from pod_server.errors import BadRequest, Forbidden, NotFound, PodError, Suspended, Unauthorized
from pod_server.http.keys import IDP
from pod_server.http.negotiation import essence
from pod_server.idp.bodies import read_body, read_form
from pod_server.idp.provider import Provider
from pod_server.idp.sessions import CSRF_FIELD, FormCheck
from pod_server.ldp import conneg, paging, paths, rdf
from pod_server.ldp.conditions import Conditions
from pod_server.ldp.media_types import JSON_LD, OCTET_STREAM, TURTLE
from pod_server.ldp.store import Body, ResourceStore
from pod_server.ldp.vocabulary import LDP_BASIC_CONTAINER
from pod_server.ldp.writing import LogFor
from pod_server.storage.base import CHUNK_SIZE, Meta
from pod_server.ui import (
    emptying,
    i18n,
    listing,
    owner_pages,
    profile,
    rename,
    sharing,
    statements,
    stop_sharing,
)
from pod_server.ui.render import PAGE_KEY, Chrome, new_nonce, page
from pod_server.ui.viewer import viewer


class Pages:
    """The pages as the HTTP handlers reach them (``http.keys.PAGES``, set by create_app)."""

    @staticmethod
    def is_form(method: str, query: Mapping[str, str]) -> bool:
        return is_form(method, query)

    @staticmethod
    async def viewer(request: web.Request) -> Agent:
        """The person a page's own link to the data comes from (see
        ``http.negotiation.raw_for_pages``); the response is then kept out of caches."""
        request[PAGE_KEY] = True
        return await viewer(request, request.app[IDP])

    @staticmethod
    async def page(
        request: web.Request,
        store: ResourceStore,
        policy: AccessPolicy,
        path: str,
        audit: RequestAudit | None = None,
    ) -> web.StreamResponse:
        return await page_for(request, store, policy, path, audit)

    @staticmethod
    async def form(
        request: web.Request,
        store: ResourceStore,
        policy: AccessPolicy,
        path: str,
        audit: RequestAudit | None = None,
    ) -> web.StreamResponse:
        return await form_for(request, store, policy, path, audit)


ACTION = "ui"
FORM_ACTIONS = frozenset(
    {"upload", "mkdir", "delete", *sharing.FORMS, *owner_pages.FORM_ACTIONS}
    | {rename.FORM, stop_sharing.FORM}
)
PREVIEW_BYTES = 64 * 1024
CSV_ROWS = 200
NOTES = {
    "uploaded": "uploaded",
    "created": "created",
    "deleted": "deleted",
    "renamed": "renamed",
    "renamed_kept": "renamed_kept",
}


def is_form(method: str, query: Mapping[str, str]) -> bool:
    return method == "POST" and query.get(ACTION) in FORM_ACTIONS


@dataclass
class _Request:
    """One page or form request: the components, who is looking, the page chrome."""

    request: web.Request
    store: ResourceStore
    policy: AccessPolicy
    provider: Provider
    path: str
    agent: Agent
    chrome: Chrome
    # The request's audit (None: not logged, as for an owner's own pages); the pages judge
    # access themselves, so they tell it who was looking and what that relied on.
    audit: RequestAudit | None = None

    @property
    def t(self) -> i18n.Translate:
        return self.chrome.t

    async def authorize(self, origin: str | None, method: str, path: str) -> Access:
        """Access control's verdict for the person looking, as the API would give it."""
        if self.audit is not None:
            self.audit.agent = self.agent
        try:
            access = await self.policy.authorize(self.agent, origin, method, path)
        except (Unauthorized, Forbidden) as exc:
            if self.audit is not None:  # the page shows the refusal: log it now
                await self.audit.failed(exc.status)
            raise
        if self.audit is not None:
            await self.audit.decide(access.is_owner, access.consents)
        return access

    def log(self) -> LogFor | None:
        """What commits a write's audit entry with the write (see ``store.put``)."""
        return None if self.audit is None else self.audit.log_for()

    def wrote(self) -> None:
        """A write committed its entry: the redirect that follows is not another one."""
        if self.audit is not None and self.audit.active:
            self.audit.logged = True

    def render(self, template: str, title: str, status: int = 200, **values: Any) -> web.Response:
        crumbs = listing.breadcrumbs(
            self.store.base_url, self.store.storage_root_of(self.path), self.path
        )
        values.setdefault("crumbs", crumbs)
        values.setdefault("sharing_url", None)
        response = page(self.chrome, template, title, status, **values)
        self.provider.sessions.set_csrf(response, self.chrome.csrf)
        return response

    def message(
        self, status: int, title: str, text: str, links: list[dict[str, str]] | None = None
    ) -> web.Response:
        return self.render(
            "message.html", title, status, text=text, detail=None, links=links or [], alert=True
        )

    def refused(self, exc: PodError) -> web.Response:
        """401/403 as a page saying why, with a sign-in link that comes back here."""
        t = self.t
        sign_in = {"url": self.chrome.values()["sign_in_url"], "label": t("sign_in")}
        if isinstance(exc, Unauthorized):
            return self.message(401, t("refused_title"), t("unauthorized_text"), [sign_in])
        webid = self.agent.webid or ""
        other = {"url": sign_in["url"], "label": t("sign_in_other")}
        return self.message(403, t("refused_title"), t("forbidden_text", webid=webid), [other])

    def failed(self, exc: PodError) -> web.Response:
        if isinstance(exc, Suspended):  # signing in as someone else would not help
            return self.message(403, self.t("suspended_title"), self.t("suspended_text"))
        if isinstance(exc, Unauthorized | Forbidden):
            return self.refused(exc)
        if exc.status == 404:
            return self.message(404, self.t("not_found_title"), self.t("not_found_text"))
        return self.message(exc.status, self.t("error_title"), exc.message)


async def _start(
    request: web.Request,
    store: ResourceStore,
    policy: AccessPolicy,
    path: str,
    agent: Agent,
    audit: RequestAudit | None = None,
) -> _Request:
    provider = request.app[IDP]
    lang = i18n.request_language(request)
    root = store.storage_root_of(path) or "/"
    chrome = Chrome(
        request,
        lang,
        agent.webid,
        store.url(root),
        provider.paths.account,
        provider.paths.login,
        provider.sessions.csrf_token(request),
        new_nonce(),
    )
    return _Request(request, store, policy, provider, path, agent, chrome, audit)


# -- pages ------------------------------------------------------------------------------------


async def page_for(
    request: web.Request,
    store: ResourceStore,
    policy: AccessPolicy,
    path: str,
    audit: RequestAudit | None = None,
) -> web.StreamResponse:
    """The page of the resource at ``path`` for the person the session names."""
    agent = await viewer(request, request.app[IDP])
    r = await _start(request, store, policy, path, agent, audit)
    if request.query.get(ACTION) in owner_pages.PAGE_ACTIONS:  # requests, activity
        return await owner_pages.page(r, request.query[ACTION])
    try:
        if request.query.get(ACTION) == "delete":
            return await _confirm_delete(r)
        if request.query.get(ACTION) == sharing.PAGE:
            return await sharing.page(r)
        access = await r.authorize(None, "GET", path)
        meta = access.target
        if meta is None and await _undescribed(store, path):
            return await _document(r, access)  # an empty description, as the API answers
        if meta is None:
            raise NotFound()
        if meta.is_container:
            return await _container(r, meta, access)
        if rdf.is_rdf(meta.content_type):
            return await _document(r, access)
        return await _file(r, meta, access)
    except PodError as exc:
        return r.failed(exc)


def _raw_links(r: _Request) -> list[dict[str, str]]:
    url = r.store.url(r.path)
    return [
        {"url": url + "?format=turtle", "type": TURTLE, "label": r.t("raw_turtle")},
        {"url": url + "?format=jsonld", "type": JSON_LD, "label": r.t("raw_jsonld")},
    ]


def _delete_url(r: _Request, access: Access) -> str | None:
    if Mode.WRITE not in access.user or r.store.is_storage_root(r.path):
        return None
    return r.store.url(r.path) + "?ui=delete"


def _sharing_url(r: _Request, access: Access) -> str | None:
    """The link to the sharing page, for whoever may see and change who has access."""
    return r.store.url(r.path) + "?ui=sharing" if Mode.CONTROL in access.user else None


def _rename(r: _Request, access: Access) -> dict[str, Any]:
    """The rename form of a document's or folder's page (whoever may delete it may try;
    the form's handler checks the rest), and the note of a rename just done."""
    can = _delete_url(r, access) is not None and paths.aux_subject(r.path) is None
    return {
        "rename_url": r.store.url(r.path) + "?ui=rename" if can else None,
        "rename_name": unquote(paths.name(r.path)),
        "note": _note(r),
    }


def _note(r: _Request) -> str | None:
    key = NOTES.get(r.request.query.get("note", ""))
    if key is None:
        return None
    count = r.request.query.get("n", "")
    return r.t(key, count=count if count.isdigit() else "?", name=r.request.query.get("name", ""))


async def _container(r: _Request, meta: Meta, access: Access) -> web.Response:
    query = r.request.query
    sort = listing.requested_sort(query)
    after = query.get("after")
    if after is not None:  # the store's keyset paging; checked as the API checks it
        paging.requested_page({"page-size": str(listing.PAGE_SIZE), "after": after})
        metas = await r.store.members(r.path, r.path + after, listing.PAGE_SIZE + 1)
    else:
        metas = await r.store.members(r.path, None, listing.WHOLE_UP_TO + 1)
    paged = after is not None or len(metas) > listing.WHOLE_UP_TO
    next_link = first_link = None
    if paged:
        window = metas[: listing.PAGE_SIZE]
        if len(metas) > listing.PAGE_SIZE:
            last = window[-1].path
            following = paths.name(last) + ("/" if last.endswith("/") else "")
            next_link = listing.page_link(query, after=following, start=None)
        if after is not None:
            first_link = listing.page_link(query, after=None, start=None)
        rows = listing.sort_entries([listing.entry(m) for m in window], sort)
        total = len(rows)
    else:
        ordered = listing.sort_entries([listing.entry(m) for m in metas], sort)
        offset = listing.requested_offset(query)
        rows, following_at = listing.window(ordered, offset, listing.PAGE_SIZE)
        total = len(ordered)
        if following_at is not None:
            next_link = listing.page_link(query, start=following_at)
        if offset:
            first_link = listing.page_link(query, start=None)
    name = _display_name(r)
    return r.render(
        "container.html",
        r.t("container", name=name),
        heading=r.t("container", name=name),
        usage=await _usage(r),
        paged=paged,
        rows=[_row(r, e) for e in rows],
        total=total,
        columns=_columns(r, sort),
        next_link=next_link,
        first_link=first_link,
        can_add=bool(access.user & (Mode.APPEND | Mode.WRITE)),
        can_delete=Mode.WRITE in access.user,
        raw_links=_raw_links(r),
        delete_url=_delete_url(r, access),
        sharing_url=_sharing_url(r, access),
        kind_word=r.t("folder").lower(),
        **_rename(r, access),
    )


def _display_name(r: _Request) -> str:
    if r.store.is_storage_root(r.path):
        return r.store.url(r.path)
    return unquote(paths.name(r.path))


def _columns(r: _Request, sort: listing.Sort) -> list[dict[str, Any]]:
    found = []
    for column in listing.COLUMNS:
        sorted_as = None
        if column == sort.column:
            sorted_as = "descending" if sort.descending else "ascending"
        found.append(
            {
                "label": r.t(column),
                "link": listing.sort_link(r.request.query, column, sort),
                "sorted": sorted_as,
                "classes": "opt" if column in ("type", "modified") else "",
            }
        )
    return found


def _row(r: _Request, e: listing.Entry) -> dict[str, Any]:
    return {
        "url": r.store.url(e.path),
        "name": e.name,
        "is_container": e.is_container,
        "kind_text": r.t("folder") if e.is_container else e.kind,
        "size_text": "" if e.size is None else i18n.human_size(e.size, r.chrome.lang),
        "modified_text": "" if e.is_container else listing.iso_date(e.modified),
    }


async def _usage(r: _Request) -> dict[str, Any] | None:
    """The storage used against its quota, for whoever controls the storage."""
    root = r.store.storage_root_of(r.path)
    if root is None or r.path != root:
        return None
    if Mode.CONTROL not in await r.policy.modes(r.agent, None, root):
        return None
    usage = await r.store.usage(root)
    limit = usage.limit if usage.limit is not None else r.store.limits.quota
    lang = r.chrome.lang
    return {
        "used": usage.used,
        "limit": limit,
        "used_text": i18n.human_size(usage.used, lang),
        "limit_text": i18n.human_size(limit, lang) if limit else "",
    }


async def _undescribed(store: ResourceStore, path: str) -> bool:
    aux = paths.aux_subject(path)
    return aux is not None and aux[0] == paths.META_SUFFIX and await store.meta(aux[1]) is not None


async def _document(r: _Request, access: Access) -> web.Response:
    _, graph = await r.store.graph_of(r.path)
    url = r.store.url(r.path)
    vocab_base = r.store.shapes.vocab_base
    name = unquote(paths.name(r.path))
    card = profile.card(graph, url)
    if card is not None:
        return _profile(r, access, card, graph)
    return r.render(
        "document.html",
        r.t("document", name=name),
        statements=statements.rows(graph, url, r.chrome.lang, vocab_base, r.t("this_document")),
        raw_links=_raw_links(r),
        delete_url=_delete_url(r, access),
        sharing_url=_sharing_url(r, access),
        kind_word="document",
        **_rename(r, access),
    )


def _profile(r: _Request, access: Access, card: profile.Card, graph: Any) -> web.Response:
    """A WebID profile as a card (its statements still listed below, folded)."""
    name = card.name or card.webid
    url = r.store.url(r.path)
    photo = card.photo
    local_photo = photo if photo and profile.same_origin(photo, url) else None
    return r.render(
        "profile.html",
        r.t("profile", name=name),
        card=card,
        name=name,
        # Only images of this server: the pages load nothing from other sites (CSP).
        photo_src=local_photo + "?format=raw" if local_photo else None,
        photo_link=photo if photo and not local_photo else None,
        statements=statements.rows(
            graph, url, r.chrome.lang, r.store.shapes.vocab_base, r.t("this_document")
        ),
        raw_links=_raw_links(r),
        delete_url=None,
        sharing_url=_sharing_url(r, access),
        kind_word="document",
    )


def preview_kind(content_type: str) -> str | None:
    """How a file of this type is previewed on its page (None: not at all)."""
    media = essence(content_type)
    if media.startswith("image/"):
        return "image"
    if media == "application/pdf":
        return "pdf"
    if media == "text/csv":
        return "csv"
    if media.startswith("text/") or media in ("application/json", "application/xml"):
        return "text"
    return None


def csv_rows(text: str, limit: int = CSV_ROWS) -> list[list[str]]:
    found: list[list[str]] = []
    for row in csv.reader(io.StringIO(text)):
        if len(found) >= limit:
            break
        found.append(row)
    return found


async def _file(r: _Request, meta: Meta, access: Access) -> web.Response:
    kind = preview_kind(meta.content_type)
    text, truncated, rows = "", False, []
    if kind in ("text", "csv"):
        data = await _head_of(r.store, r.path, meta)
        truncated = meta.size > len(data)
        text = data.decode("utf-8", errors="replace")
        if kind == "csv":
            rows = csv_rows(text)
    name = unquote(paths.name(r.path))
    lang = r.chrome.lang
    return r.render(
        "file.html",
        r.t("file", name=name),
        name=name,
        kind=essence(meta.content_type),
        size_text=i18n.human_size(meta.size, lang),
        modified_text=listing.iso_date(meta.modified),
        preview=kind,
        text=text,
        csv_rows=rows,
        truncated=truncated,
        raw_url=r.store.url(r.path) + "?format=raw",
        raw_links=[],
        delete_url=_delete_url(r, access),
        sharing_url=_sharing_url(r, access),
        kind_word=r.t("file", name="").strip().lower(),
        **_rename(r, access),
    )


async def _head_of(store: ResourceStore, path: str, meta: Meta) -> bytes:
    rep = await store.get(path, "*/*", Conditions(), "GET", known=meta)
    try:
        if rep.data is not None:
            return rep.data[:PREVIEW_BYTES]
        if rep.stored is None:
            return b""
        parts = [chunk async for chunk in rep.stored.iter_range(0, min(PREVIEW_BYTES, rep.length))]
        return b"".join(parts)
    finally:
        if rep.stored is not None:
            rep.stored.close()


async def _confirm_delete(r: _Request) -> web.Response:
    r.store.check_deletable(r.path)
    await r.authorize(None, "DELETE", r.path)
    if (full := await emptying.not_empty(r)) is not None:
        return full
    name = unquote(paths.name(r.path)) or r.store.url(r.path)
    parent = paths.parent(r.path) or "/"
    return r.render(
        "delete.html",
        r.t("confirm_delete", name=name),
        url=r.store.url(r.path),
        is_container=paths.is_container(r.path),
        back_url=r.store.url(r.path) if not paths.is_container(r.path) else r.store.url(parent),
    )


# -- forms ------------------------------------------------------------------------------------


async def form_for(
    request: web.Request,
    store: ResourceStore,
    policy: AccessPolicy,
    path: str,
    audit: RequestAudit | None = None,
) -> web.StreamResponse:
    """One of the pages' forms, posted to ``path?ui=ACTION``."""
    provider = request.app[IDP]
    action = request.query[ACTION]
    fields: dict[str, str] | None = None
    reader: web.multipart.MultipartReader | None = None
    raw = b""
    if action == "upload" and request.content_type == "multipart/form-data":
        reader = await request.multipart()
        token = await _first_field(reader, CSRF_FIELD)
        check = provider.sessions.check_form(request, {CSRF_FIELD: token})
    elif action in owner_pages.FORM_ACTIONS:  # fields given more than once (checkboxes)
        raw = await read_body(request, provider.config.max_form_bytes) or b""
        token = next(
            (v for k, v in parse_qsl(raw.decode("utf-8", "replace")) if k == CSRF_FIELD), ""
        )
        check = provider.sessions.check_form(request, {CSRF_FIELD: token})
    else:
        fields = await read_form(request, provider.config.max_form_bytes) or {}
        check = provider.sessions.check_form(request, fields)
    # Only a form of our own pages may act as the person its session names.
    agent = await viewer(request, provider) if check is FormCheck.TRUSTED else Agent()
    r = await _start(request, store, policy, path, agent, audit)
    if check is not FormCheck.TRUSTED:
        key = "cross_site" if check is FormCheck.CROSS_SITE else "form_expired"
        return r.message(403, r.t("refused_title"), r.t(key))
    origin = provider.sessions.origin
    if action in owner_pages.FORM_ACTIONS:
        return await owner_pages.form(r, action, raw)
    try:
        if action == "upload":
            if reader is None:
                raise BadRequest(r.t("no_files"))
            return await _upload(r, reader, origin)
        if action == "mkdir":
            return await _mkdir(r, (fields or {}).get("name", ""), origin)
        if action in sharing.FORMS:
            return await sharing.form(r, action, fields or {}, origin)
        if action == rename.FORM:
            return await rename.form(r, fields or {}, origin)
        if action == stop_sharing.FORM:
            return await stop_sharing.form(r, origin)
        return await _delete(r, origin)
    except PodError as exc:
        return r.failed(exc)


async def _first_field(reader: web.multipart.MultipartReader, name: str) -> str:
    """The value of the form's first part if it is ``name`` (pages put the token first)."""
    part = await reader.next()
    if not isinstance(part, BodyPartReader) or part.name != name:
        return ""
    data = b""
    while len(data) <= 256 and (chunk := await part.read_chunk(256)):
        data += chunk  # a token is short: never read a huge part whole
    return data[:256].decode("utf-8", errors="replace")


def _see(url: str, **note: str | int) -> web.Response:
    """303 to a page, with a note of what was done (``NOTES``)."""
    query = "?" + urlencode({k: str(v) for k, v in note.items()}) if note else ""
    return web.Response(status=303, headers={"Location": url + query, "Cache-Control": "no-store"})


async def _chunks(part: BodyPartReader) -> AsyncIterator[bytes]:
    while chunk := await part.read_chunk(CHUNK_SIZE):
        yield chunk


async def _upload(r: _Request, reader: web.multipart.MultipartReader, origin: str) -> web.Response:
    if not paths.is_container(r.path):
        raise BadRequest("Files are uploaded into a folder")
    await r.authorize(origin, "POST", r.path)
    count = 0
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or part.name != "files" or not part.filename:
            if isinstance(part, BodyPartReader):
                await part.release()
            continue
        header = part.headers.get("Content-Type", OCTET_STREAM)
        media, _ = conneg.parse_content_type(header)
        body = Body(media, _chunks(part), None, header)
        await r.store.post(r.path, body, part.filename, (), r.log())
        r.wrote()
        count += 1
    if count == 0:
        raise BadRequest(r.t("no_files"))
    return _see(r.store.url(r.path), note="uploaded", n=count)


async def _empty() -> AsyncIterator[bytes]:
    return
    yield b""  # an async generator that yields nothing


async def _mkdir(r: _Request, name: str, origin: str) -> web.Response:
    name = name.strip()
    if not name or "/" in name or name in (".", ".."):
        raise BadRequest(r.t("bad_name"))
    if not paths.is_container(r.path):
        raise BadRequest("Folders are created inside a folder")
    await r.authorize(origin, "POST", r.path)
    body = Body(TURTLE, _empty(), 0, TURTLE)
    result = await r.store.post(r.path, body, name, (LDP_BASIC_CONTAINER,), r.log())
    r.wrote()
    return _see(r.store.url(result.meta.path), note="created", name=name)


async def _delete(r: _Request, origin: str) -> web.Response:
    r.store.check_deletable(r.path)
    await r.authorize(origin, "DELETE", r.path)
    if (full := await emptying.not_empty(r)) is not None:
        return full
    await r.store.delete(r.path, Conditions(), r.log())
    r.wrote()
    name = unquote(paths.name(r.path))
    return _see(r.store.url(paths.parent(r.path) or "/"), note="deleted", name=name)
