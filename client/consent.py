"""Consent: asking for access to someone's pod, and deciding on what was asked.

Requester side: :meth:`Consent.request_access` finds the owner's storage from their WebID,
the access-request service from the storage description, and POSTs the request (JSON).
Owner side: the records under ``R.well-known/consent/`` (DPV consent records written by
the server) are listed, read, approved (whole or in part), denied or withdrawn.

The record parser reads DPV terms (``dpv:hasConsentStatus`` events, ``dpv:hasRecipient``,
``dpv:hasPurpose``...) and, for the targets and modes, the pod's own ``consent:`` terms by
their local names (``requested``/``granted`` nodes holding a target URL and modes), so it
tolerates small naming choices on the server and missing optional parts.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urljoin

from rdflib import RDF, BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from client import rdf
from client.access import parse_modes
from client.containers import CONTAINS
from client.core import media_type, normalize_url, parse_links
from client.errors import Forbidden, InvalidResponse, NotFound, PodClientError, Unauthorized
from client.notifications import STORAGE_DESCRIPTION, Notifications

DPV = "https://w3id.org/dpv#"
CONSENT = "https://w3id.org/solid-pods/vocab/consent#"
LWS = "https://www.w3.org/ns/lws#"
ACCESS_REQUEST_SERVICE = CONSENT + "accessRequestService"
WELL_KNOWN = ".well-known/"
CONSENT_PATH = WELL_KNOWN + "consent/"
ACCESS_REQUESTS_PATH = WELL_KNOWN + "access-requests"
STATUSES = (
    "ConsentRequested",
    "ConsentGiven",
    "ConsentRefused",
    "ConsentWithdrawn",
    "ConsentExpired",
)
_STATUS_WORDS = {
    "requested": "ConsentRequested",
    "pending": "ConsentRequested",
    "given": "ConsentGiven",
    "granted": "ConsentGiven",
    "approved": "ConsentGiven",
    "refused": "ConsentRefused",
    "denied": "ConsentRefused",
    "withdrawn": "ConsentWithdrawn",
    "expired": "ConsentExpired",
}
Until = datetime | date | timedelta | str


# -- values -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """A resource (a container covers what is below it) and the access modes on it."""

    url: str
    modes: frozenset[str]

    def to_json(self) -> dict[str, Any]:
        order = ("Read", "Append", "Write", "Control")
        return {"url": self.url, "modes": [m for m in order if m in self.modes]}


@dataclass(frozen=True)
class ConsentEvent:
    """One dated status of a record: requested, given, refused, withdrawn, expired."""

    status: str
    at: datetime | None = None
    by: str | None = None


@dataclass
class ConsentRecord:
    """A consent record as the owner's pod holds it."""

    url: str
    subject: str | None = None
    recipient: str | None = None
    client: str | None = None
    purposes: list[str] = field(default_factory=list)
    data: list[str] = field(default_factory=list)
    requested: list[Target] = field(default_factory=list)
    granted: list[Target] = field(default_factory=list)
    until: datetime | None = None
    events: list[ConsentEvent] = field(default_factory=list)
    note: str | None = None
    requested_until: datetime | None = None  # what the requester asked for
    current: str | None = None  # the status the record states, when it states one

    @property
    def id(self) -> str:
        return self.url.rstrip("/").rsplit("/", 1)[-1]

    @property
    def status(self) -> str | None:
        """``ConsentRequested``, ``ConsentGiven``...: the status the record states, else
        its latest event's; None when there is none."""
        if self.current is not None:
            return self.current
        return self.events[-1].status if self.events else None

    @property
    def requested_at(self) -> datetime | None:
        return next((e.at for e in self.events if e.status == "ConsentRequested"), None)

    def to_json(self) -> dict[str, Any]:
        def when(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "id": self.id,
            "url": self.url,
            "status": self.status,
            "subject": self.subject,
            "recipient": self.recipient,
            "client": self.client,
            "purposes": self.purposes,
            "data": self.data,
            "requested": [t.to_json() for t in self.requested],
            "granted": [t.to_json() for t in self.granted],
            "until": when(self.until),
            "requested_until": when(self.requested_until),
            "note": self.note,
            "events": [{"status": e.status, "at": when(e.at), "by": e.by} for e in self.events],
        }


def status_name(value: str) -> str:
    """``given``, ``approved``, ``ConsentGiven`` or ``dpv:ConsentGiven`` -> ``ConsentGiven``."""
    name = value.strip().rsplit("#", 1)[-1].split(":")[-1]
    for known in STATUSES:
        if name.lower() == known.lower():
            return known
    if name.lower() in _STATUS_WORDS:
        return _STATUS_WORDS[name.lower()]
    words = ", ".join(sorted({"requested", "given", "refused", "withdrawn", "expired"}))
    raise ValueError(f"unknown consent status {value!r} (use {words})")


def iso_until(until: Until, now: datetime | None = None) -> str:
    """An ISO-8601 end time: a datetime (naive = UTC), a date (the end of that day, UTC),
    a timedelta from ``now``, or a string: ISO date/datetime or ``90d``/``12h``."""
    now = now or datetime.now(UTC)
    if isinstance(until, str):
        text = until.strip()
        if text[:-1].isdigit() and text[-1:] in ("d", "h"):
            n = int(text[:-1])
            until = timedelta(days=n) if text.endswith("d") else timedelta(hours=n)
        else:
            try:
                until = (
                    date.fromisoformat(text)
                    if len(text) == 10
                    else datetime.fromisoformat(text.replace("Z", "+00:00"))
                )
            except ValueError:
                raise ValueError(
                    f"{until!r} is not a date (2027-03-31), a date and time, or 90d/12h"
                ) from None
    if isinstance(until, timedelta):
        until = now + until
    if isinstance(until, datetime):
        stamp = until if until.tzinfo else until.replace(tzinfo=UTC)
    else:
        stamp = datetime.combine(until, datetime.max.time().replace(microsecond=0), UTC)
    return stamp.astimezone(UTC).isoformat().replace("+00:00", "Z")


def targets_of(
    targets: Iterable[str | Target | tuple[str, Any]] | str, modes: Any = None
) -> list[Target]:
    """Targets from URLs (with ``modes`` for all), ``(url, modes)`` pairs or :class:`Target`."""
    if isinstance(targets, str):
        targets = [targets]
    found: list[Target] = []
    for item in targets:
        if isinstance(item, Target):
            found.append(Target(normalize_url(item.url), item.modes))
        elif isinstance(item, tuple):
            found.append(Target(normalize_url(item[0]), parse_modes(item[1])))
        else:
            if modes is None:
                raise ValueError(f"no access mode given for {item}")
            found.append(Target(normalize_url(item), parse_modes(modes)))
    if not found:
        raise ValueError("no target given")
    return found


# -- request and decision bodies (pure) ----------------------------------------------------
LWS_CONTEXT = "https://www.w3.org/ns/lws/v1"
# WAC modes as the LWS access profile's actions (read = GET/HEAD, create = POST into a
# container, modify = PUT/PATCH); Control has no LWS action.
LWS_ACTIONS = {"Read": "read", "Append": "create", "Write": "modify"}


def request_body(
    requester: str,
    storage: str,
    targets: Sequence[Target],
    purposes: Sequence[str],
    until: str,
    data: Sequence[str] = (),
    note: str | None = None,
) -> dict[str, Any]:
    """An access request as the W3C LWS "Access Requests and Grants" draft writes it (the
    JSON the pod's access-request service reads): one ``AccessPolicy`` per set of modes,
    purposes and the end date as ODRL constraints; ``dataCategory`` (DPV personal data
    categories) and ``description`` carry the rest."""
    if not purposes:
        raise ValueError("an access request needs a purpose")
    groups: dict[tuple[str, ...], list[str]] = {}
    for target in targets:
        if "Control" in target.modes:
            raise ValueError(f"Control cannot be requested ({target.url})")
        actions = tuple(sorted(LWS_ACTIONS[m] for m in target.modes))
        if not actions:
            raise ValueError(f"no access mode given for {target.url}")
        groups.setdefault(actions, []).append(target.url)
    constraints = [
        {"leftOperand": "purpose", "operator": "isAnyOf", "rightOperand": list(purposes)},
        {"leftOperand": "dateTime", "operator": "lteq", "rightOperand": until},
    ]
    body: dict[str, Any] = {
        "@context": [LWS_CONTEXT],
        "type": ["AccessRequest"],
        "storage": storage,
        "access": [
            {
                "type": ["AccessPolicy"],
                "action": list(actions),
                "assignee": requester,
                "target": {"type": "StorageResource", "value": urls},
                "constraint": constraints,
            }
            for actions, urls in groups.items()
        ],
    }
    if data:
        body["dataCategory"] = list(data)
    if note:
        body["description"] = note
    return body


def decision_body(
    decision: str, targets: Sequence[Target] | None = None, until: str | None = None
) -> dict[str, Any]:
    """The JSON an owner POSTs to ``consent/<id>``: approve (optionally narrowed), deny,
    withdraw."""
    if decision not in ("approve", "deny", "withdraw"):
        raise ValueError(f"unknown decision {decision!r}")
    body: dict[str, Any] = {"decision": decision}
    if targets is not None:
        body["targets"] = [t.to_json() for t in targets]
    if until is not None:
        body["until"] = until
    return body


def narrowed(record: ConsentRecord, urls: Sequence[str] | None, modes: Any) -> list[Target] | None:
    """What an approval grants when the owner narrows it: ``urls`` (default: all requested)
    each with ``modes`` (default: the modes requested for it). None: grant as requested."""
    if urls is None and modes is None:
        return None
    wanted = parse_modes(modes) if modes is not None else None
    asked = {t.url: t.modes for t in record.requested}
    chosen = [normalize_url(u) for u in urls] if urls is not None else list(asked)
    found = []
    for url in chosen:
        covering = asked.get(url)
        if covering is None:  # a resource below a requested container
            covering = next(
                (m for u, m in asked.items() if u.endswith("/") and url.startswith(u)), None
            )
        if wanted is None and covering is None:
            raise ValueError(f"{url} was not requested: say which modes to grant on it")
        found.append(Target(url, wanted if wanted is not None else covering))  # type: ignore[arg-type]
    return found


# -- reading RDF (pure) -------------------------------------------------------------------
def _local(term: Node) -> str:
    text = str(term)
    for sep in ("#", "/", ":"):
        if sep in text:
            text = text.rsplit(sep, 1)[-1]
    return text


def _values(graph: Graph, node: Node, *names: str) -> list[Node]:
    """Objects of ``node`` under any predicate whose local name is one of ``names``
    (case-insensitive), in a stable order."""
    wanted = {n.lower() for n in names}
    found = [o for p, o in graph.predicate_objects(node) if _local(p).lower() in wanted]
    return sorted(set(found), key=str)


def _iri(graph: Graph, node: Node, *names: str) -> str | None:
    for value in _values(graph, node, *names):
        if isinstance(value, URIRef):
            return str(value)
    return None


def _members(graph: Graph, node: Node) -> list[Node]:
    """The items of an RDF list (none for ``rdf:nil``), or the node itself."""
    if node == RDF.nil:
        return []
    if (node, RDF.first, None) in graph:
        return list(Collection(graph, node))
    return [node]


def _datetime(value: Node | None) -> datetime | None:
    if not isinstance(value, Literal):
        return None
    parsed = value.toPython()
    if isinstance(parsed, datetime):
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if isinstance(parsed, date):
        return datetime.combine(parsed, datetime.min.time(), UTC)
    try:
        made = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return made if made.tzinfo else made.replace(tzinfo=UTC)


def _first_time(graph: Graph, node: Node, depth: int = 2) -> datetime | None:
    """The first date-time found on ``node`` or on the nodes it points to (``depth`` hops),
    for a ``dpv:hasDuration`` whose end may be written in several ways."""
    for _p, value in sorted(graph.predicate_objects(node), key=lambda po: str(po[0])):
        stamp = _datetime(value)
        if stamp is not None:
            return stamp
    if depth:
        for _p, value in sorted(graph.predicate_objects(node), key=lambda po: str(po[0])):
            if isinstance(value, BNode | URIRef) and value != node and (value, None, None) in graph:
                stamp = _first_time(graph, value, depth - 1)
                if stamp is not None:
                    return stamp
    return None


def _event(graph: Graph, node: Node) -> ConsentEvent | None:
    if isinstance(node, URIRef) and _local(node) in STATUSES and (node, None, None) not in graph:
        return ConsentEvent(_local(node))  # a bare status, no event details
    kinds = [_local(t) for t in graph.objects(node, RDF.type)]
    kinds += [_local(v) for v in _values(graph, node, "hasStatus", "status", "hasConsentStatus")]
    status = next((k for k in kinds if k in STATUSES), None)
    if status is None:
        return None
    at = next(
        (
            _datetime(v)
            for v in _values(graph, node, "isIndicatedAtTime", "atTime", "at", "created")
            if _datetime(v)
        ),
        None,
    )
    return ConsentEvent(status, at, _iri(graph, node, "isIndicatedBy", "by", "actor"))


def _target(graph: Graph, node: Node) -> Target | None:
    url = _iri(graph, node, "target", "url", "accessTo", "resource", "hasTarget")
    if url is None and isinstance(node, URIRef):
        url = str(node)
    names: list[str] = []
    for value in _values(graph, node, "mode", "modes", "accessMode", "hasMode"):
        names += (
            str(value).replace(",", " ").split() if isinstance(value, Literal) else [str(value)]
        )
    if url is None:
        return None
    try:
        modes = parse_modes(names) if names else frozenset()
    except ValueError:
        modes = frozenset()
    return Target(url, modes)


def _targets(graph: Graph, record: Node, *names: str) -> list[Target]:
    found: dict[str, set[str]] = {}
    for value in _values(graph, record, *names):
        for node in _members(graph, value):
            target = _target(graph, node)
            if target is not None:
                found.setdefault(target.url, set()).update(target.modes)
    return [Target(url, frozenset(modes)) for url, modes in sorted(found.items())]


def parse_record(graph: Graph, url: str) -> ConsentRecord:
    """A :class:`ConsentRecord` from the RDF of ``url``. The record node is ``url`` itself,
    else the one typed ``dpv:ConsentRecord`` (or any ``*Consent*`` class); optional parts
    that are missing are left empty."""
    node: Node = URIRef(url)
    if (node, None, None) not in graph:
        typed = [
            s
            for s, t in graph.subject_objects(RDF.type)
            if _local(t) in ("ConsentRecord", "Consent")
        ]
        if not typed:
            raise InvalidResponse("no consent record in this document", url=url)
        node = sorted(typed, key=str)[0]
    # Dated events from the status history (a list), else from dpv:hasConsentStatus; a
    # bare current status there (dpv:ConsentGiven) outranks the history's last event.
    events: list[ConsentEvent] = []
    current: str | None = None
    for value in _values(graph, node, "statusHistory", "history", "hasConsentStatus", "status"):
        for item in _members(graph, value):
            event = _event(graph, item)
            if event is None:
                continue
            if event.at is None and event.by is None and isinstance(item, URIRef):
                current = event.status
            else:
                events.append(event)
    if not events and current is not None:
        events.append(ConsentEvent(current))
    if events and all(e.at is not None for e in events):
        events.sort(key=lambda e: e.at)  # type: ignore[arg-type, return-value]
    until = None
    for value in _values(graph, node, "hasDuration", "until", "expiresAt", "hasExpiry"):
        until = _datetime(value) or _first_time(graph, value)
        if until is not None:
            break
    note = next((str(v) for v in _values(graph, node, "note", "comment", "description")), None)
    return ConsentRecord(
        url=url,
        subject=_iri(graph, node, "hasDataSubject", "dataSubject"),
        recipient=_iri(graph, node, "hasRecipient", "hasDataController", "controller"),
        client=_iri(graph, node, "client", "hasClient", "clientId"),
        purposes=[str(v) for v in _values(graph, node, "hasPurpose", "purpose")],
        data=[str(v) for v in _values(graph, node, "hasPersonalData", "personalData")],
        requested=_targets(graph, node, "requestedAccess", "requested", "requestedTarget"),
        granted=_targets(graph, node, "grantedAccess", "granted", "grantedTarget"),
        until=until,
        events=events,
        note=note,
        requested_until=next(
            (t for v in _values(graph, node, "requestedUntil") if (t := _datetime(v))), None
        ),
        current=current,
    )


def access_request_service(graph: Graph, root: str) -> str | None:
    """The access-request service a storage description names: our ``consent:`` predicate,
    or an LWS ``service`` node typed ``AccessRequestService`` with a ``serviceEndpoint``."""
    for subject in (URIRef(root), None):
        for value in graph.objects(subject, URIRef(ACCESS_REQUEST_SERVICE)):
            if isinstance(value, URIRef):
                return str(value)
    for node in sorted(set(graph.subjects()), key=str):
        kinds = {_local(t) for t in graph.objects(node, RDF.type)}
        kinds |= {str(v) for v in _values(graph, node, "type") if isinstance(v, Literal)}
        if "AccessRequestService" in kinds:
            found = _iri(graph, node, "serviceEndpoint", "endpoint")
            if found:
                return found
            if isinstance(node, URIRef):
                return str(node)
    for p, value in graph.predicate_objects(URIRef(root)):
        if _local(p) == "accessRequestService" and isinstance(value, URIRef):
            return str(value)
    return None


def _service_in_json(doc: Any) -> str | None:
    """The same from a plain JSON storage description (LWS ``service`` objects)."""
    services = doc.get("service", []) if isinstance(doc, dict) else []
    for item in services if isinstance(services, list) else [services]:
        if not isinstance(item, dict):
            continue
        kinds = item.get("type", [])
        kinds = [kinds] if isinstance(kinds, str) else kinds
        if any(str(k).endswith("AccessRequestService") for k in kinds):
            endpoint = item.get("serviceEndpoint") or item.get("id")
            if isinstance(endpoint, str):
                return endpoint
    return None


# -- the SDK ------------------------------------------------------------------------------
class Consent(Notifications):
    """Access requests (as a requester) and consent decisions (as a pod's owner)."""

    async def owner_storage(self, webid: str) -> str:
        """The first storage a WebID's profile names (``pim:storage``/``solid:storage``)."""
        storages = await self.storages(webid)
        if not storages:
            raise NotFound("the profile names no storage", url=webid)
        return storages[0]

    async def access_request_service_of(self, storage: str) -> str:
        """The storage's access-request service, from its storage description; the
        conventional ``R.well-known/access-requests`` when the description names none."""
        root = normalize_url(storage)
        root = root if root.endswith("/") else root + "/"
        described = root + WELL_KNOWN + "solid"
        try:
            # A requester usually may not read the root: its Link headers may still name
            # the (public) description, else the conventional place is used.
            head = await self.request("HEAD", root, ok=(401, 403))
            await head.aclose()
            links = parse_links(head.headers.getall("Link", []), root)
            described = next(iter(links.get(STORAGE_DESCRIPTION, [])), described)
            res = await self.get(described, accept="text/turtle, application/ld+json;q=0.5")
        except (NotFound, Forbidden, Unauthorized):
            return root + ACCESS_REQUESTS_PATH
        found: str | None = None
        if res.content_type in ("application/json", "application/ld+json"):
            try:
                found = _service_in_json(json.loads(res.body))
            except ValueError:
                found = None
        if found is None and rdf.is_rdf(res.content_type):
            try:
                found = access_request_service(
                    rdf.parse(res.body, res.content_type, described), root
                )
            except InvalidResponse:
                found = None
        return normalize_url(found) if found else root + ACCESS_REQUESTS_PATH

    async def request_access(
        self,
        owner_webid: str,
        targets: Iterable[str | Target | tuple[str, Any]] | str,
        modes: Any = None,
        purpose: str | Sequence[str] = (),
        until: Until = "90d",
        data: Sequence[str] = (),
        note: str | None = None,
        *,
        storage: str | None = None,
    ) -> str:
        """Ask ``owner_webid`` for ``modes`` on ``targets`` for ``purpose`` (one IRI or
        several) until ``until``, as the signed-in agent; returns the URL of the consent
        record the owner's pod made (pending until the owner decides). ``storage`` (the
        owner's storage root) skips the profile lookup. Sent as LWS JSON."""
        if self.webid is None:
            raise PodClientError(
                "nobody is signed in: a request is made as a signed-in agent",
                hint="Sign in first (pod login).",
            )
        wanted = targets_of(targets, modes)
        purposes = [purpose] if isinstance(purpose, str) else list(purpose)
        until_text = iso_until(until)
        root = normalize_url(storage or await self.owner_storage(owner_webid))
        root = root if root.endswith("/") else root + "/"
        body = request_body(self.webid, root, wanted, purposes, until_text, data, note)
        service = await self.access_request_service_of(root)
        response = await self.request(
            "POST",
            service,
            headers={"Content-Type": "application/json", "Accept": "text/turtle"},
            body=json.dumps(body).encode(),
        )
        await response.aclose()
        location = response.headers.get("Location")
        if not location:
            raise InvalidResponse(
                "the access-request service answered without a Location", url=service
            )
        return normalize_url(urljoin(service, location))

    # -- owner side ------------------------------------------------------------------------
    async def _my_storage(self, storage: str | None) -> str:
        if storage:
            root = normalize_url(storage)
            return root if root.endswith("/") else root + "/"
        if self.webid is None:
            raise PodClientError(
                "nobody is signed in: sign in as the pod's owner, or name the storage",
                hint="pod login, or --storage URL",
            )
        return await self.owner_storage(self.webid)

    async def consent_url(self, id_or_url: str, storage: str | None = None) -> str:
        """The URL of a consent record from its id (in your storage) or its URL."""
        if "://" in id_or_url:
            return normalize_url(id_or_url)
        if not id_or_url or "/" in id_or_url:
            raise ValueError(f"{id_or_url!r} is not a consent record id")
        return await self._my_storage(storage) + CONSENT_PATH + id_or_url

    async def consent(self, id_or_url: str, *, storage: str | None = None) -> ConsentRecord:
        """One consent record."""
        url = await self.consent_url(id_or_url, storage)
        res = await self.get(url, accept="text/turtle")
        return parse_record(rdf.parse(res.body, res.content_type or "text/turtle", url), url)

    async def access_requests(
        self, status: str | None = None, *, storage: str | None = None
    ) -> list[ConsentRecord]:
        """The consent records of your storage (``status``: only those whose latest status
        is it, e.g. ``requested``), oldest request first."""
        wanted = status_name(status) if status else None
        container = await self._my_storage(storage) + CONSENT_PATH
        try:
            res = await self.get(container, accept="text/turtle")
        except NotFound:
            return []
        graph = rdf.parse(res.body, res.content_type or "text/turtle", container)
        urls = sorted(
            str(m)
            for m in graph.objects(URIRef(container), CONTAINS)
            if not str(m).endswith((".acl", ".meta", "/"))
        )
        gate = asyncio.Semaphore(8)

        async def one(url: str) -> ConsentRecord | None:
            async with gate:
                try:
                    return await self.consent(url)
                except (NotFound, InvalidResponse):  # gone meanwhile, or not a record
                    return None

        records = [r for r in await asyncio.gather(*(one(u) for u in urls)) if r is not None]
        if wanted:
            records = [r for r in records if r.status == wanted]
        far = datetime.max.replace(tzinfo=UTC)
        return sorted(records, key=lambda r: (r.requested_at or far, r.url))

    async def _decide(
        self, id_or_url: str, body: dict[str, Any], storage: str | None
    ) -> ConsentRecord:
        url = await self.consent_url(id_or_url, storage)
        response = await self.request(
            "POST",
            url,
            headers={"Content-Type": "application/json", "Accept": "text/turtle"},
            body=json.dumps(body).encode(),
        )
        raw = await response.read()
        ctype = media_type(response.headers.get("Content-Type")) if raw.strip() else ""
        if raw.strip() and rdf.is_rdf(ctype):
            return parse_record(rdf.parse(raw, ctype, url), url)
        return await self.consent(url)

    async def approve(
        self,
        id_or_url: str,
        targets: Sequence[str] | None = None,
        modes: Any = None,
        until: Until | None = None,
        *,
        storage: str | None = None,
    ) -> ConsentRecord:
        """Approve a request as asked, or narrowed: fewer ``targets`` (URLs), fewer
        ``modes``, an earlier ``until``. Returns the record as the server now holds it."""
        granted = None
        if targets is not None or modes is not None:
            record = await self.consent(id_or_url, storage=storage)
            granted = narrowed(record, targets, modes)
        body = decision_body("approve", granted, iso_until(until) if until is not None else None)
        return await self._decide(id_or_url, body, storage)

    async def deny(self, id_or_url: str, *, storage: str | None = None) -> ConsentRecord:
        """Refuse a request."""
        return await self._decide(id_or_url, decision_body("deny"), storage)

    async def withdraw(self, id_or_url: str, *, storage: str | None = None) -> None:
        """Withdraw a consent (the owner, or the recipient giving it up): its access
        rules go at once. ``DELETE`` on the record, as both may do."""
        url = await self.consent_url(id_or_url, storage)
        await self.delete(url)


__all__ = [
    "Consent",
    "ConsentEvent",
    "ConsentRecord",
    "Target",
    "access_request_service",
    "decision_body",
    "iso_until",
    "narrowed",
    "parse_record",
    "request_body",
    "status_name",
    "targets_of",
]
