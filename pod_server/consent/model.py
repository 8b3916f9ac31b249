"""Consent records and their transitions, as pure functions over frozen values.

A record is created from an :class:`AccessRequest` (status ``ConsentRequested``) and then
moves once: approved (``ConsentGiven``, whole or in part) or denied (``ConsentRefused``);
a given consent ends withdrawn (``ConsentWithdrawn``) or expired (``ConsentExpired``).
Each transition appends a dated :class:`Event` and returns a new record; an impossible
one raises ``Conflict`` (wrong status) or ``BadRequest`` (a grant wider than the request).
Status names are the DPV 2.x consent status instances (https://w3id.org/dpv#).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from pod_server.access.modes import NO_MODES, Mode
from pod_server.errors import BadRequest, Conflict
from pod_server.ldp import paths

MODE_NAMES = {
    Mode.READ: "Read",
    Mode.WRITE: "Write",
    Mode.APPEND: "Append",
    Mode.CONTROL: "Control",
}


class Status(enum.StrEnum):
    REQUESTED = "ConsentRequested"
    GIVEN = "ConsentGiven"
    REFUSED = "ConsentRefused"
    WITHDRAWN = "ConsentWithdrawn"
    EXPIRED = "ConsentExpired"


@dataclass(frozen=True, slots=True)
class Target:
    """A resource and the modes on it; a container URL (ending in ``/``) covers what is below."""

    url: str
    modes: Mode

    def covers(self, other: Target) -> bool:
        """Whether granting ``other`` stays within this (requested) target."""
        inside = other.url == self.url or (
            self.url.endswith("/") and other.url.startswith(self.url)
        )
        # Granting Append where Write was asked is narrower; the reverse is wider.
        return inside and self.modes.covers(other.modes)

    def describe(self) -> str:
        return f"{mode_names(self.modes)} on {self.url}"


def mode_names(modes: Mode) -> str:
    return ", ".join(name for mode, name in MODE_NAMES.items() if mode in modes) or "no mode"


@dataclass(frozen=True, slots=True)
class Event:
    """One dated status change and the WebID (or server) that indicated it."""

    status: Status
    at: datetime
    by: str


@dataclass(frozen=True, slots=True)
class Credential:
    """A Verifiable Credential issued for the record (Access Grants), and its status entry."""

    id: str
    status: str | None = None


@dataclass(frozen=True, slots=True)
class AccessRequest:
    """What a requester asks the person for."""

    recipient: str  # the requester's WebID (data controller and recipient)
    targets: tuple[Target, ...]
    purposes: tuple[str, ...]  # purpose IRIs (DPV or vocab/consent)
    data: tuple[str, ...]  # personal data category IRIs
    until: datetime | None  # None: no end asked
    client: str | None = None  # client_id of the app that will act, if one is named
    note: str | None = None  # free text shown to the person


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    """One request and the decisions about it; stored at ``url`` in storage ``root``."""

    id: str
    url: str
    root: str
    subject: str  # the person (data subject): an owner of the storage
    recipient: str
    client: str | None
    purposes: tuple[str, ...]
    data: tuple[str, ...]
    requested: tuple[Target, ...]
    granted: tuple[Target, ...]
    until: datetime | None  # what applies: asked while requested, granted once given
    events: tuple[Event, ...]
    rules: tuple[str, ...]  # IRIs of the WAC authorizations the grant created
    credential: Credential | None = None
    requested_until: datetime | None = None  # what was asked, kept after a shorter grant
    note: str | None = None

    @property
    def status(self) -> Status:
        return self.events[-1].status

    def active(self, now: datetime) -> bool:
        """Whether the grant gives access at ``now`` (given, and not past its end)."""
        return self.status is Status.GIVEN and (self.until is None or now < self.until)

    def due(self, now: datetime) -> bool:
        """Whether the grant is past its end but not yet recorded as expired."""
        return self.status is Status.GIVEN and self.until is not None and now >= self.until


def new_record(
    id: str, url: str, root: str, subject: str, request: AccessRequest, at: datetime
) -> ConsentRecord:
    """The record of a fresh request, indicated by its recipient at ``at``."""
    targets = _checked_targets(request.targets, "request")
    if request.until is not None and request.until <= at:
        raise BadRequest(f"The requested end {request.until.isoformat()} is already past")
    return ConsentRecord(
        id=id,
        url=url,
        root=root,
        subject=subject,
        recipient=request.recipient,
        client=request.client,
        # Sorted: a record read back from RDF (an unordered set) compares equal.
        purposes=tuple(sorted(set(request.purposes))),
        data=tuple(sorted(set(request.data))),
        requested=targets,
        granted=(),
        until=request.until,
        events=(Event(Status.REQUESTED, at, request.recipient),),
        rules=(),
        requested_until=request.until,
        note=request.note,
    )


def approve(
    record: ConsentRecord,
    by: str,
    at: datetime,
    granted: Iterable[Target] | None = None,
    until: datetime | None = None,
) -> ConsentRecord:
    """Give consent to all that was asked, or (``granted``, ``until``) to part of it.

    Part means fewer targets, targets below a requested container, fewer modes, or an
    earlier end; anything wider is refused (400) naming what is too wide.
    """
    _require(record, Status.REQUESTED, "approved")
    targets = record.requested if granted is None else _checked_targets(granted, "grant")
    for target in targets:
        if not any(asked.covers(target) for asked in record.requested):
            raise BadRequest(
                f"Cannot grant {target.describe()}: the request asked for "
                + "; ".join(asked.describe() for asked in record.requested)
            )
    end = record.requested_until if until is None else until
    if record.requested_until is not None and end is not None and end > record.requested_until:
        raise BadRequest(
            f"Cannot grant until {end.isoformat()}: the request asked until "
            f"{record.requested_until.isoformat()}"
        )
    if end is not None and end <= at:
        raise BadRequest(f"Cannot grant until {end.isoformat()}: that is already past")
    return replace(
        record,
        granted=targets,
        until=end,
        rules=tuple(sorted(rule_iri(record.id, n, t.url) for n, t in enumerate(targets))),
        events=(*record.events, Event(Status.GIVEN, at, by)),
    )


def deny(record: ConsentRecord, by: str, at: datetime) -> ConsentRecord:
    _require(record, Status.REQUESTED, "denied")
    return replace(record, events=(*record.events, Event(Status.REFUSED, at, by)))


def withdraw(record: ConsentRecord, by: str, at: datetime) -> ConsentRecord:
    """End a given consent now (its rules go with it); a pending request is denied instead."""
    _require(record, Status.GIVEN, "withdrawn")
    return replace(record, events=(*record.events, Event(Status.WITHDRAWN, at, by)))


def cancel(record: ConsentRecord, by: str, at: datetime) -> ConsentRecord:
    """The requester takes back a pending request (it never gave access: no rules to end)."""
    _require(record, Status.REQUESTED, "cancelled")
    if by != record.recipient:
        raise Conflict(f"Only the requester {record.recipient} can cancel consent {record.id}")
    return replace(record, events=(*record.events, Event(Status.WITHDRAWN, at, by)))


def expire(record: ConsentRecord, by: str, at: datetime) -> ConsentRecord:
    """Record that a given consent reached its end (``by``: the server acting for the storage)."""
    _require(record, Status.GIVEN, "expired")
    if not record.due(at):
        end = "no end" if record.until is None else f"its end {record.until.isoformat()}"
        raise Conflict(f"Consent {record.id} has {end}, not reached at {at.isoformat()}")
    return replace(record, events=(*record.events, Event(Status.EXPIRED, at, by)))


def rule_iri(record_id: str, n: int, target_url: str) -> str:
    """The authorization a grant adds for its ``n``-th target, in the target's own ACL."""
    return f"{acl_url(target_url)}#consent-{record_id}-{n}"


def acl_url(target_url: str) -> str:
    return target_url + paths.ACL_SUFFIX


def _require(record: ConsentRecord, status: Status, verb: str) -> None:
    if record.status is not status:
        raise Conflict(
            f"Consent {record.id} is {record.status.value}; only a "
            f"{status.value} consent can be {verb}"
        )


def _checked_targets(targets: Iterable[Target], what: str) -> tuple[Target, ...]:
    checked = tuple(targets)
    if not checked:
        raise BadRequest(f"A {what} needs at least one target (to give nothing, deny)")
    seen: set[str] = set()
    for target in checked:
        if target.modes == NO_MODES:
            raise BadRequest(f"A {what} for {target.url} names no access mode")
        if Mode.CONTROL in target.modes:
            # Control would let the recipient rewrite the ACLs, and so outlive the consent.
            raise BadRequest(f"Control cannot be part of a consent ({target.url})")
        if target.url in seen:
            raise BadRequest(f"{target.url} is named twice; list each target once")
        seen.add(target.url)
    return checked
