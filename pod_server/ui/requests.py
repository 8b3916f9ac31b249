"""The requests and grants page (``R?ui=requests``) and its decision form (``R?ui=decide``).

The form is the wire's urlencoded decision (``consent.wire.decisions``: ``decision``, one
``access=MODE URL`` per ticked box, ``until``) plus the record's ``id`` and the CSRF token,
and it calls the consent service exactly as ``POST R.well-known/consent/<id>`` does.
One difference, for people: approving with nothing ticked is refused (the wire reads an
absent ``access`` as "all that was asked", a page must not).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlencode

from aiohttp import web

from pod_server.consent.model import ConsentRecord, Status
from pod_server.consent.wire.adapter import as_targets
from pod_server.consent.wire.decisions import FORM, Decision, parse_decision
from pod_server.consent.wire.requests import Scope, invalid
from pod_server.errors import BadRequest
from pod_server.http.keys import CONSENT
from pod_server.ui import summaries
from pod_server.ui.owner import PageRequest, display_names, remote_names, translate

ID_FIELD = "id"
_RECORD_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
PAST_SHOWN = 20
NOTES = {"approved": "approved_note", "denied": "denied_note", "withdrawn": "withdrawn_note"}


def page_url(root_url: str, **query: str) -> str:
    return root_url + "?" + urlencode({"ui": "requests", **query})


def activity_url(root_url: str, agent: str | None = None) -> str:
    query = {"ui": "activity", **({"agent": agent} if agent else {})}
    return root_url + "?" + urlencode(query)


def sort_out(
    records: list[ConsentRecord], now: datetime
) -> tuple[list[ConsentRecord], list[ConsentRecord], list[ConsentRecord]]:
    """Pending (oldest first), active grants (ending soonest first), the rest (newest first)."""
    pending = [r for r in records if r.status is Status.REQUESTED]
    active = [r for r in records if r.active(now)]
    active.sort(key=lambda r: (r.until is None, r.until or now))
    rest = [r for r in records if r not in pending and r not in active]
    rest.sort(key=lambda r: r.events[-1].at, reverse=True)
    return pending, active, rest[:PAST_SHOWN]


async def page(r: PageRequest, root: str) -> web.Response:
    t = translate(r)
    lang = r.chrome.lang
    root_url = r.store.url(root)
    records = await r.request.app[CONSENT].records(root)
    recipients = [x.recipient for x in records]
    names = await display_names(r.store, r.policy, recipients, remote_names(r))
    vocab_base = r.store.shapes.vocab_base

    def view(record: ConsentRecord) -> dict[str, object]:
        seen = summaries.request_view(record, root_url, t, lang, vocab_base, names)
        return {"v": seen, "activity": activity_url(root_url, record.recipient)}

    pending, active, past = sort_out(records, datetime.now(UTC))
    note_key = NOTES.get(r.request.query.get("note", ""))
    note = t(note_key, who=r.request.query.get("name", "")) if note_key else None
    title = t("requests_title")
    return r.render(
        "requests.html",
        title,
        t=t,
        pending=[view(x) for x in pending],
        active=[view(x) for x in active],
        past=[view(x) for x in past],
        action=page_url(root_url).replace("ui=requests", "ui=decide"),
        activity_link=activity_url(root_url),
        note=note,
    )


async def decide(r: PageRequest, root: str, body: bytes) -> web.Response:
    """Approve (all or the ticked part, maybe ending earlier), deny or withdraw one record."""
    t = translate(r)
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        raise BadRequest("The form is not UTF-8") from None
    record_id = (fields.get(ID_FIELD) or [""])[0]
    if not _RECORD_ID.match(record_id):
        raise invalid(ID_FIELD, "names no consent record")
    scope = Scope(r.store.layout, root, datetime.now(UTC))
    # Only the decision's own fields go to the wire's parser (the token and id are ours).
    own = {k: v for k, v in fields.items() if k in ("decision", "access", "until")}
    decided = parse_decision(urlencode(own, doseq=True).encode(), FORM, scope)
    service = r.request.app[CONSENT]
    by = r.agent.webid or ""
    if decided.decision is Decision.APPROVE:
        if decided.targets is None:
            raise invalid("access", t("nothing_ticked"))
        record = await service.approve(
            root, record_id, by, as_targets(decided.targets), decided.until
        )
        note = "approved"
    elif decided.decision is Decision.DENY:
        record = await service.deny(root, record_id, by)
        note = "denied"
    else:
        record = await service.withdraw(root, record_id, by)
        note = "withdrawn"
    names = await display_names(r.store, r.policy, [record.recipient], remote_names(r))
    who = names.get(record.recipient, record.recipient)
    location = page_url(r.store.url(root), note=note, name=who)
    return web.Response(status=303, headers={"Location": location, "Cache-Control": "no-store"})
