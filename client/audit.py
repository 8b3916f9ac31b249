"""The audit log of a pod, as its owner reads it: Activity Streams 2.0 entries under
``R.well-known/audit``, newest first, paged with ``next`` links; and re-verifying its
hash chain on the client.

Each entry names what was done (its AS2 type: ``View``, ``Create``, ``Add``, ``Reject``...),
by whom (``actor``), on what (``object``), with which consent record and client
(``instrument``), the HTTP status (``result``) and when (``published``), plus the chain
fields the server exposes so a client can re-check it: ``consent:seq``,
``consent:prevHash``, ``consent:hash`` (hex) and ``consent:canonical`` (the exact bytes
hashed), read by local name so another namespace would do too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from rdflib import RDF, Graph, Literal, URIRef
from rdflib.term import Node

from client import rdf
from client.consent import (
    CONSENT_PATH,
    WELL_KNOWN,
    Consent,
    _datetime,
    _local,
    _members,
    _values,
)
from client.core import normalize_url
from client.errors import InvalidResponse

AS = "https://www.w3.org/ns/activitystreams#"
AUDIT_PATH = WELL_KNOWN + "audit"
MAX_PAGE = 1000
OUTCOMES = ("allowed", "refused")


@dataclass(frozen=True)
class AuditEntry:
    """One access or decision as the log records it."""

    id: str
    action: str  # the AS2 activity type: View, Create, Update, Add, Delete, Offer, Accept...
    resource: str | None = None
    outcome: int | None = None  # the HTTP status
    agent: str | None = None  # WebID; None: anonymous
    client: str | None = None
    consent: str | None = None
    published: datetime | None = None
    detail: str | None = None
    seq: int | None = None
    prev: str | None = None  # the previous entry's hash, hex
    hash: str | None = None  # hex
    root: str | None = None  # the storage root's path ("/alice/"), part of what is hashed
    at: float | None = None  # the exact time hashed, when the server exposes it
    body: bytes | None = None  # the exact bytes hashed, when the server exposes them

    @property
    def refused(self) -> bool:
        return self.outcome is not None and self.outcome >= 400

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "id": self.id,
            "action": self.action,
            "agent": self.agent,
            "client": self.client,
            "resource": self.resource,
            "outcome": self.outcome,
            "consent": self.consent,
            "published": stamp(self.published),
            "detail": self.detail,
            "prev": self.prev,
            "hash": self.hash,
            "root": self.root,
            "at": self.at,
        }


@dataclass
class AuditPage:
    entries: list[AuditEntry]
    next: str | None = None


# -- parsing (pure) -----------------------------------------------------------------------
def _int(value: Node | None) -> int | None:
    if isinstance(value, Literal):
        text = str(value).strip()
        if text.isdigit():
            return int(text)
    return None


def _text(graph: Graph, node: Node, *names: str) -> str | None:
    for value in _values(graph, node, *names):
        if isinstance(value, Literal):
            return str(value)
    return None


def _outcome(graph: Graph, node: Node) -> int | None:
    for value in _values(graph, node, "result", "outcome", "status", "statusCode"):
        found = _int(value)
        if found is None and (value, None, None) in graph:  # a result node: its status
            found = next(
                (
                    _int(v)
                    for v in _values(graph, value, "statusCode", "status", "value", "name")
                    if _int(v) is not None
                ),
                None,
            )
        if found is not None:
            return found
    return None


def parse_entry(graph: Graph, node: Node, root: str | None = None) -> AuditEntry:
    """An :class:`AuditEntry` from the triples about ``node`` (``root``: the path of the
    storage root whose log it is, when the entry does not say)."""
    kinds = sorted(_local(t) for t in graph.objects(node, RDF.type))
    action = next((k for k in kinds if k not in ("Activity", "Object")), kinds[0] if kinds else "")
    instruments = [str(v) for v in _values(graph, node, "instrument") if isinstance(v, URIRef)]
    consent = next((u for u in instruments if "/" + CONSENT_PATH in u), None)
    consent = _iri_of(graph, node, "consent") or consent
    client = _iri_of(graph, node, "client", "clientId") or next(
        (u for u in instruments if u != consent), None
    )
    published = next(iter(_values(graph, node, "published")), None)
    return AuditEntry(
        id=str(node),
        action=action,
        resource=_iri_of(graph, node, "object"),
        outcome=_outcome(graph, node),
        agent=_iri_of(graph, node, "actor", "agent"),
        client=client,
        consent=consent,
        published=_datetime(published),
        detail=_text(graph, node, "summary", "content", "detail"),
        seq=next((_int(v) for v in _values(graph, node, "seq", "sequence")), None),
        prev=_hex(_text(graph, node, "prevHash", "prev", "previous", "previousHash")),
        hash=_hex(_text(graph, node, "hash", "digest")),
        root=_text(graph, node, "root") or root,
        at=_float(next(iter(_values(graph, node, "at", "timestamp")), None)),
        body=_body(_text(graph, node, "body", "canonical")),
    )


def _hex(text: str | None) -> str | None:
    return text.strip().lower() if text is not None else None


def _float(value: Node | None) -> float | None:
    if isinstance(value, Literal):
        try:
            return float(str(value))
        except ValueError:
            return None
    return None


def _body(text: str | None) -> bytes | None:
    return text.encode() if text is not None else None


def _iri_of(graph: Graph, node: Node, *names: str) -> str | None:
    for value in _values(graph, node, *names):
        if isinstance(value, URIRef):
            return str(value)
    return None


def parse_page(graph: Graph, url: str, root: str | None = None) -> AuditPage:
    """The entries of an ``OrderedCollectionPage`` (in the server's order, newest first)
    and its ``next`` page."""
    page: Node = URIRef(url)
    pages = [
        s
        for s, t in graph.subject_objects(RDF.type)
        if _local(t) in ("OrderedCollectionPage", "CollectionPage", "OrderedCollection")
    ]
    if (page, None, None) not in graph and pages:
        page = sorted(pages, key=str)[0]
    nodes: list[Node] = []
    for value in _values(graph, page, "orderedItems", "items"):
        nodes += _members(graph, value)
    seen: set[Node] = set()
    ordered = [n for n in nodes if not (n in seen or seen.add(n))]  # type: ignore[func-returns-value]
    entries = [parse_entry(graph, n, root) for n in ordered]
    if entries and all(e.seq is not None for e in entries) and not _is_list(graph, page):
        entries.sort(key=lambda e: -(e.seq or 0))  # unordered as:items: newest first by seq
    nxt = _iri_of(graph, page, "next")
    return AuditPage(entries, nxt)


def _is_list(graph: Graph, page: Node) -> bool:
    return any((v, RDF.first, None) in graph for v in _values(graph, page, "orderedItems"))


# -- the hash chain -----------------------------------------------------------------------
def stamp(when: datetime | None) -> str | None:
    """A time for people and JSON: UTC, microseconds, ``Z``."""
    if when is None:
        return None
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


GENESIS = "00" * 32  # the "previous hash" of a log's first entry


def canonical_bytes(entry: AuditEntry) -> bytes:
    """The bytes an entry's hash covers.

    MUST MATCH THE SERVER: ``AuditEntry.canonical`` in ``pod_server/audit/entry.py`` (every
    field of the server's entry as a JSON object, the AS2 type as ``action``, ``at`` in
    POSIX seconds, sorted keys, no spaces, UTF-8)::

        {"action":"Add","agent":"https://bank.example/id#org","at":1767225600.123456,
         "client":null,"consent":null,"detail":null,"outcome":201,
         "resource":"https://pod.example/alice/bank/x.ttl","root":"/alice/"}

    The server's own bytes are used when the page exposes them (``body``); else they are
    rebuilt, which is exact only when the page gives ``at`` (a date-time loses digits).
    """
    if entry.body is not None:
        return entry.body
    at = (
        entry.at
        if entry.at is not None
        else (entry.published.timestamp() if entry.published else None)
    )
    doc = {
        "action": entry.action,
        "agent": entry.agent,
        "at": at,
        "client": entry.client,
        "consent": entry.consent,
        "detail": entry.detail,
        "outcome": entry.outcome,
        "resource": entry.resource,
        "root": entry.root,
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain_hash(prev: str | None, seq: int, canonical: bytes) -> str:
    """One link, as ``link_hash`` in ``pod_server/storage/base.py`` makes it (MUST MATCH):
    ``sha256(prev's 32 bytes || seq as 8 bytes big-endian || canonical)``, in hex; ``prev``
    is the previous entry's hash in hex (:data:`GENESIS` for the first)."""
    try:
        before = bytes.fromhex(prev or GENESIS)
    except ValueError:
        before = (prev or "").encode()  # not hex: cannot match, and is reported so
    return hashlib.sha256(before + seq.to_bytes(8, "big") + canonical).hexdigest()


@dataclass
class Verification:
    """What re-checking a run of entries found: ``ok``, how many were checked, and each
    problem naming the entry (by ``seq``)."""

    checked: int = 0
    problems: list[str] = field(default_factory=list)
    first_bad: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def _bad(self, seq: int | None, text: str) -> None:
        self.problems.append(text)
        if seq is not None and (self.first_bad is None or seq < self.first_bad):
            self.first_bad = seq

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "problems": self.problems,
            "first_bad": self.first_bad,
        }


def verify_audit(
    entries: Iterable[AuditEntry],
    canonical: Callable[[AuditEntry], bytes] = canonical_bytes,
) -> Verification:
    """Re-check a run of consecutive entries (any order; a whole log, or its newest part):
    each hash against its content (an altered entry), each ``prev`` against the hash of the
    entry before it and the ``seq`` numbers for gaps or repeats (removed or reordered
    entries). The oldest entry's own ``prev`` is taken on trust (it anchors the run, as a
    retention trim leaves it) unless it is entry 1, which must follow the genesis. Newest
    entries removed from the end cannot be seen from the entries alone: the server's
    ``pod-server audit verify`` also checks the log's head and signed checkpoints."""
    result = Verification()
    items = list(entries)
    unchained = [e for e in items if e.seq is None or e.hash is None]
    if unchained:
        result._bad(
            None, f"{len(unchained)} entries carry no seq/hash: the chain cannot be checked"
        )
        return result
    items.sort(key=lambda e: e.seq)  # type: ignore[arg-type, return-value]
    before: AuditEntry | None = None
    for entry in items:
        result.checked += 1
        seq = entry.seq
        assert seq is not None
        if chain_hash(entry.prev, seq, canonical(entry)) != entry.hash:
            result._bad(seq, f"entry {seq} was altered: its hash does not match its content")
        if seq == 1 and (entry.prev or GENESIS) != GENESIS:
            result._bad(seq, "entry 1 does not start the chain: its prev is not the genesis")
        if before is not None:
            assert before.seq is not None
            if seq == before.seq:
                result._bad(seq, f"entry {seq} appears twice")
            elif seq != before.seq + 1:
                result._bad(
                    seq, f"entries {before.seq + 1} to {seq - 1} are missing (before entry {seq})"
                )
            elif entry.prev != before.hash:
                result._bad(
                    seq,
                    f"entry {seq} does not follow entry {before.seq}: its prev is not that "
                    "entry's hash (removed, inserted or reordered)",
                )
        before = entry
    return result


# -- the SDK ------------------------------------------------------------------------------
def audit_query(
    agent: str | None = None,
    resource: str | None = None,
    since: Moment | None = None,
    until: Moment | None = None,
    outcome: str | int | None = None,
    limit: int | None = None,
) -> dict[str, str]:
    """The query string of the audit service for these filters (pure)."""
    query: dict[str, str] = {}
    if agent:
        query["agent"] = agent
    if resource:
        query["resource"] = normalize_url(resource)
    if since is not None:
        query["since"] = moment(since)
    if until is not None:
        query["until"] = moment(until)
    if outcome is not None:
        text = str(outcome).strip().lower()
        if text not in OUTCOMES and not (text.isdigit() and len(text) == 3):
            raise ValueError(f"outcome must be allowed, refused or an HTTP status, not {outcome!r}")
        query["outcome"] = text
    if limit is not None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        query["limit"] = str(min(limit, MAX_PAGE))
    return query


Moment = datetime | date | timedelta | str


def moment(value: Moment, now: datetime | None = None) -> str:
    """A point in time for a filter, as ISO-8601 UTC: a datetime (naive = UTC), a date (its
    start), a timedelta or ``7d``/``12h`` (that long ago), or an ISO string."""
    now = now or datetime.now(UTC)
    if isinstance(value, str):
        text = value.strip()
        if text[:-1].isdigit() and text[-1:] in ("d", "h"):
            n = int(text[:-1])
            value = timedelta(days=n) if text.endswith("d") else timedelta(hours=n)
        else:
            try:
                value = (
                    date.fromisoformat(text)
                    if len(text) == 10
                    else datetime.fromisoformat(text.replace("Z", "+00:00"))
                )
            except ValueError:
                raise ValueError(
                    f"{value!r} is not a date (2026-01-31), a date and time, or 7d/12h"
                ) from None
    if isinstance(value, timedelta):
        value = now - value
    if not isinstance(value, datetime):
        value = datetime.combine(value, datetime.min.time(), UTC)
    stamp = value if value.tzinfo else value.replace(tzinfo=UTC)
    return stamp.astimezone(UTC).isoformat().replace("+00:00", "Z")


class Audit(Consent):
    """Reading a pod's audit log (its owner only)."""

    async def audit_url(self, storage: str | None = None) -> str:
        return await self._my_storage(storage) + AUDIT_PATH

    async def audit_page(self, url: str, root: str | None = None) -> AuditPage:
        """One page of a log (``root``: the path of its storage root, for entries that do
        not name it)."""
        res = await self.get(url, accept="text/turtle")
        graph = rdf.parse(res.body, res.content_type or "text/turtle", res.url)
        page = parse_page(graph, res.url, root)
        if page.next is None:
            page.next = next(iter(res.links.get("next", [])), None)
        return page

    async def audit(
        self,
        agent: str | None = None,
        resource: str | None = None,
        since: Moment | None = None,
        until: Moment | None = None,
        outcome: str | int | None = None,
        limit: int | None = None,
        *,
        storage: str | None = None,
    ) -> AsyncIterator[AuditEntry]:
        """The log's entries, newest first, following ``next`` pages; at most ``limit``."""
        query = audit_query(agent, resource, since, until, outcome, limit)
        url: str | None = await self.audit_url(storage)
        root = urlsplit(url or "").path.removesuffix(AUDIT_PATH)
        if query:
            url = f"{url}?{urlencode(query)}"
        seen: set[str] = set()
        given = 0
        while url is not None and normalize_url(url) not in seen:
            seen.add(normalize_url(url))
            page = await self.audit_page(url, root)
            for entry in page.entries:
                if limit is not None and given >= limit:
                    return
                given += 1
                yield entry
            url = page.next
        if url is not None:
            raise InvalidResponse("the audit log's next links loop", url=url)

    async def verify_audit(self, *, storage: str | None = None) -> Verification:
        """Read the whole log and re-check its chain."""
        return verify_audit([e async for e in self.audit(storage=storage)])


__all__ = [
    "GENESIS",
    "Audit",
    "AuditEntry",
    "AuditPage",
    "Verification",
    "audit_query",
    "canonical_bytes",
    "chain_hash",
    "moment",
    "parse_entry",
    "parse_page",
    "stamp",
    "verify_audit",
]
