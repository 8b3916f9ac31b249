"""The activity page (``R?ui=activity``): the storage's audit log as a timeline in plain
words, filtered by agent, resource, outcome and dates, newest first, paged.

The filters are the audit service's own query (``audit.query.parse_query``, as
``GET R.well-known/audit`` reads it), after two conveniences of a form: a resource may be
written relative to the pod (``bank/``), and an end date counts the whole of that day.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, timedelta
from urllib.parse import urlencode

from aiohttp import web

from pod_server.audit.entry import AuditEntry
from pod_server.audit.query import PARAMETERS, parse_query
from pod_server.ui import summaries
from pod_server.ui.owner import PageRequest, display_names, remote_names, translate

log = logging.getLogger(__name__)
PAGE_SIZE = 50
FILTERS = ("agent", "resource", "outcome", "since", "until")


def log_params(form: Mapping[str, str], root_url: str) -> dict[str, str]:
    """The audit query a filter form asks for (empty fields dropped); pure."""
    params = {k: form[k].strip() for k in PARAMETERS if form.get(k, "").strip()}
    params.pop("limit", None)
    resource = params.get("resource")
    if resource is not None and not resource.startswith(("http://", "https://")):
        params["resource"] = root_url + resource.lstrip("/")
    until = params.get("until")
    if until is not None and _is_date(until):
        params["until"] = (date.fromisoformat(until) + timedelta(days=1)).isoformat()
    return params


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def page_link(root_url: str, form: Mapping[str, str], **changes: str | None) -> str:
    """This page with ``changes`` to its filters (None drops one)."""
    query = {"ui": "activity", **{k: form[k] for k in FILTERS if form.get(k)}}
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    return root_url + "?" + urlencode(query)


async def page(r: PageRequest, root: str) -> web.Response:
    t = translate(r)
    root_url = r.store.url(root)
    form = dict(r.request.query)
    query = parse_query({**log_params(form, root_url), "limit": str(PAGE_SIZE)})
    rows = await r.store.backend.log_page(root, replace(query, limit=PAGE_SIZE + 1))
    older = None
    if len(rows) > PAGE_SIZE:
        rows = rows[:PAGE_SIZE]
        older = page_link(root_url, form, before=str(rows[-1].seq))
    entries = []
    for row in rows:
        try:
            entries.append(AuditEntry.parse(row.body))
        except ValueError:  # not one of ours: `pod-server audit verify` names it
            log.warning("Audit entry %s of %s is not readable; not shown", row.seq, root)
    agent = form.get("agent") or None
    names = await display_names(
        r.store,
        r.policy,
        [e.agent for e in entries if e.agent] + ([agent] if agent else []),
        remote_names(r),
    )
    lines = [
        {
            "when": summaries.moment_text(e.at),
            "text": summaries.activity_line(e, root_url, t, names),
            "allowed": summaries.allowed(e.outcome),
            "agent_link": page_link(root_url, {}, agent=e.agent) if e.agent and not agent else None,
            "agent_name": summaries.who(e.agent, names, t),
        }
        for e in entries
    ]
    title = t("activity_of", who=summaries.who(agent, names, t)) if agent else t("activity_title")
    return r.render(
        "activity.html",
        title,
        t=t,
        lines=lines,
        form=form,
        older=older,
        newest=page_link(root_url, form, before=None) if form.get("before") else None,
        clear=page_link(root_url, {}),
        requests_link=root_url + "?ui=requests",
    )
