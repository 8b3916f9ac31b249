"""The Access Grants ``query`` filter (``GET …/query?type=…&status=…``), as pure functions.

Filters follow the client's ``CredentialFilter``: ``type``, ``status`` (per type),
``fromAgent`` (who made the credential: the requester of a request, the owner of a grant
or denial), ``toAgent`` (who it is for), ``resource``, ``purpose``, ``issuedWithin`` /
``revokedWithin`` (P1D, P7D, P1M, P3M), ``pageSize`` and ``page`` (an opaque cursor: here,
the offset). Results are newest first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from pod_server.consent.grants import credentials as vc
from pod_server.consent.model import ConsentRecord, Status
from pod_server.errors import BadRequest

DURATIONS = {
    "P1D": timedelta(days=1),
    "P7D": timedelta(days=7),
    "P1M": timedelta(days=31),
    "P3M": timedelta(days=92),
}
STATUSES = {
    vc.REQUEST: {"Pending", "Denied", "Granted", "Canceled", "Expired"},
    vc.GRANT: {"Active", "Revoked", "Expired"},
    vc.DENIAL: set(),
}
DEFAULT_PAGE, MAX_PAGE = 20, 100
FIELDS = (
    "type",
    "status",
    "fromAgent",
    "toAgent",
    "resource",
    "purpose",
    "issuedWithin",
    "revokedWithin",
)


@dataclass(frozen=True, slots=True)
class Filter:
    type: str | None = None
    status: str | None = None
    from_agent: str | None = None
    to_agent: str | None = None
    resource: str | None = None
    purpose: str | None = None
    issued_within: timedelta | None = None
    revoked_within: timedelta | None = None
    page_size: int = DEFAULT_PAGE
    offset: int = 0


@dataclass(frozen=True, slots=True)
class Item:
    """One credential a record has: which record, which kind, when it was issued."""

    record: ConsentRecord
    kind: str
    issued: datetime


def parse_filter(params: Mapping[str, str]) -> Filter:
    kind = params.get("type")
    if kind is not None and kind not in vc.KINDS:
        raise BadRequest(f"type must be one of {', '.join(vc.KINDS)}")
    status = params.get("status")
    allowed = set().union(*STATUSES.values()) if kind is None else STATUSES[kind]
    if status is not None and status not in allowed:
        raise BadRequest(f"status {status!r} does not apply to {kind or 'any type'}")
    return Filter(
        type=kind,
        status=status,
        from_agent=params.get("fromAgent"),
        to_agent=params.get("toAgent"),
        resource=params.get("resource"),
        purpose=params.get("purpose"),
        issued_within=_duration(params, "issuedWithin"),
        revoked_within=_duration(params, "revokedWithin"),
        page_size=_number(params, "pageSize", DEFAULT_PAGE, 1, MAX_PAGE),
        offset=_number(params, "page", 0, 0, 10**9),
    )


def items(records: Iterable[ConsentRecord]) -> list[Item]:
    """Every credential of ``records``, newest first."""
    found: list[Item] = []
    for record in records:
        for kind in vc.credential_kinds(record):
            at = record.events[0].at if kind == vc.REQUEST else _decided(record)
            found.append(Item(record, kind, at))
    return sorted(found, key=lambda i: (i.issued, i.record.id, i.kind), reverse=True)


def matches(item: Item, wanted: Filter, now: datetime) -> bool:
    record, kind = item.record, item.kind
    maker, receiver = (
        (record.recipient, record.subject)
        if kind == vc.REQUEST
        else (record.subject, record.recipient)
    )
    targets = record.requested if kind != vc.GRANT else record.granted
    checks = (
        wanted.type in (None, kind),
        wanted.status is None or status_of(item, now) == wanted.status,
        wanted.from_agent in (None, maker),
        wanted.to_agent in (None, receiver),
        wanted.resource is None or wanted.resource in {t.url for t in targets},
        wanted.purpose is None or wanted.purpose in record.purposes,
        wanted.issued_within is None or item.issued >= now - wanted.issued_within,
        wanted.revoked_within is None or _revoked_since(record, now - wanted.revoked_within),
    )
    return all(checks)


def status_of(item: Item, now: datetime) -> str | None:
    """The client's status name of one credential (None: a denial has none)."""
    record, statuses = item.record, [e.status for e in item.record.events]
    if item.kind == vc.GRANT:
        if record.status is Status.WITHDRAWN:
            return "Revoked"
        return "Active" if record.active(now) else "Expired"
    if item.kind == vc.DENIAL:
        return None
    if Status.GIVEN in statuses:
        return "Granted"
    if Status.REFUSED in statuses:
        return "Denied"
    if Status.WITHDRAWN in statuses:
        return "Canceled"
    ended = record.requested_until is not None and record.requested_until <= now
    return "Expired" if ended else "Pending"


def page_links(base: str, params: Mapping[str, str], wanted: Filter, total: int) -> list[str]:
    """``Link`` values (first, prev, next, last) for the page ``wanted`` asks."""
    size = wanted.page_size
    last = max(0, (total - 1) // size * size)
    keep = [(k, params[k]) for k in FIELDS if k in params] + [("pageSize", str(size))]
    pages = {"first": 0, "last": last}
    if wanted.offset > 0:
        pages["prev"] = max(0, wanted.offset - size)
    if wanted.offset + size < total:
        pages["next"] = wanted.offset + size
    return [
        f'<{base}?{urlencode([*keep, ("page", str(n))])}>; rel="{rel}"' for rel, n in pages.items()
    ]


def _decided(record: ConsentRecord) -> datetime:
    return next(e.at for e in record.events if e.status in (Status.GIVEN, Status.REFUSED))


def _revoked_since(record: ConsentRecord, since: datetime) -> bool:
    return any(e.status is Status.WITHDRAWN and e.at >= since for e in record.events)


def _duration(params: Mapping[str, str], name: str) -> timedelta | None:
    value = params.get(name)
    if value is None:
        return None
    if value not in DURATIONS:
        raise BadRequest(f"{name} must be one of {', '.join(DURATIONS)}")
    return DURATIONS[value]


def _number(params: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    value = params.get(name)
    if value is None:
        return default
    if not value.isdigit() or not low <= int(value) <= high:
        raise BadRequest(f"{name} must be a whole number from {low} to {high}")
    return int(value)
