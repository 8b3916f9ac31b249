"""The audit log in the SDK: AS2 pages parsed, ``next`` links followed, filters sent, and
the hash chain re-checked (altered, removed, swapped entries named)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from rdflib import Graph

from client import InvalidResponse, Request, Response
from client.audit import (
    GENESIS,
    AuditEntry,
    audit_query,
    canonical_bytes,
    chain_hash,
    moment,
    parse_page,
    verify_audit,
)
from tests.unit.client.helpers import POD, TURTLE, FakeServer, client

LOG = POD + ".well-known/audit"
BANK = "https://bank.example/id#org"
ENERGY = "https://energy.example/id#org"


T0 = 1767225600.0  # 2026-01-01T00:00:00Z


def chain(n: int) -> list[AuditEntry]:
    """``n`` chained entries, oldest first, hashed as the server does."""
    entries: list[AuditEntry] = []
    prev = GENESIS
    for seq in range(1, n + 1):
        at = T0 + seq + 0.123457
        entry = AuditEntry(
            id=f"{LOG}#{seq}",
            action="Add" if seq % 3 else "Reject",
            resource=f"{POD}bank/{seq}.ttl",
            outcome=201 if seq % 3 else 403,
            agent=BANK if seq % 3 else ENERGY,
            client="https://bank.example/app" if seq == 2 else None,
            consent=f"{POD}.well-known/consent/r1" if seq % 3 else None,
            published=datetime.fromtimestamp(at, UTC),
            seq=seq,
            prev=prev,
            root="/alice/",
            at=at,
        )
        entry = dataclasses.replace(entry, hash=chain_hash(prev, seq, canonical_bytes(entry)))
        entries.append(entry)
        prev = entry.hash or ""
    return entries


def turtle_of(entries: list[AuditEntry], url: str, nxt: str | None = None) -> str:
    """A page as the server writes it: AS2 activities, newest first, in an RDF list."""
    items = sorted(entries, key=lambda e: -(e.seq or 0))
    lines = [
        "@prefix as: <https://www.w3.org/ns/activitystreams#> .",
        "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .",
        "@prefix consent: <https://w3id.org/solid-pods/vocab/consent#> .",
        f"<{url}> a as:OrderedCollectionPage ; as:partOf <{LOG}> ;",
        "  as:orderedItems ( "
        + " ".join(f"<{e.id}>" for e in items)
        + " )"
        + (f" ;\n  as:next <{nxt}> ." if nxt else " ."),
    ]
    for e in items:
        parts = [f"a as:{e.action}", f"as:object <{e.resource}>", f'as:result "{e.outcome}"']
        if e.agent:
            parts.append(f"as:actor <{e.agent}>")
        for inst in (e.consent, e.client):
            if inst:
                parts.append(f"as:instrument <{inst}>")
        if e.published:
            parts.append(f'as:published "{e.published.isoformat()}"^^xsd:dateTime')
        # As pod_server/audit/render.py (the audit branch) writes them.
        parts.append(f"consent:seq {e.seq}")
        parts.append(f'consent:prevHash "{e.prev}"^^xsd:hexBinary')
        parts.append(f'consent:hash "{e.hash}"^^xsd:hexBinary')
        parts.append(f"consent:canonical {json.dumps(canonical_bytes(e).decode())}")
        lines.append(f"<{e.id}> " + " ;\n  ".join(parts) + " .")
    return "\n".join(lines)


def page(entries: list[AuditEntry], url: str = LOG, nxt: str | None = None) -> Response:
    return Response(200, TURTLE, turtle_of(entries, url, nxt))


# -- parsing ------------------------------------------------------------------------------
def test_a_page_is_read_in_order_with_every_field() -> None:
    entries = chain(3)
    graph = Graph().parse(data=turtle_of(entries, LOG, LOG + "?before=1"), format="turtle")
    got = parse_page(graph, LOG)
    assert [e.seq for e in got.entries] == [3, 2, 1] and got.next == LOG + "?before=1"
    same = [dataclasses.replace(e, body=None, root="/alice/", at=e.at) for e in got.entries]
    assert [
        dataclasses.replace(e, at=o.at) for e, o in zip(same[::-1], entries, strict=True)
    ] == entries
    assert got.entries[0].body == canonical_bytes(entries[2])  # the exact bytes hashed
    refusal = got.entries[0]
    assert refusal.action == "Reject" and refusal.refused and refusal.agent == ENERGY
    assert got.entries[1].client == "https://bank.example/app"
    assert got.entries[1].consent == POD + ".well-known/consent/r1"
    assert refusal.to_json()["published"] == "2026-01-01T00:00:03.123457Z"


def test_an_entry_without_chain_fields_or_agent_is_still_read() -> None:
    text = f"""@prefix as: <https://www.w3.org/ns/activitystreams#> .
<{LOG}> a as:OrderedCollectionPage ; as:orderedItems ( <#e> ) .
<#e> a as:View ; as:object <{POD}x> ; as:result [ as:name "401" ] ."""
    got = parse_page(Graph().parse(data=text, format="turtle", publicID=LOG), LOG)
    (entry,) = got.entries
    assert entry.action == "View" and entry.outcome == 401 and entry.agent is None
    assert entry.seq is None and entry.hash is None and got.next is None


# -- the chain ----------------------------------------------------------------------------
def test_an_intact_chain_verifies_in_any_order() -> None:
    entries = chain(6)
    check = verify_audit(reversed(entries))
    assert check.ok and check.checked == 6 and check.first_bad is None
    assert verify_audit(entries[2:]).ok  # a newest part: its oldest entry anchors it
    assert verify_audit([]).ok


def test_an_altered_entry_is_named() -> None:
    entries = chain(5)
    entries[2] = dataclasses.replace(entries[2], outcome=200)  # a refusal made to look allowed
    check = verify_audit(entries)
    assert not check.ok and check.first_bad == 3
    assert check.problems == ["entry 3 was altered: its hash does not match its content"]


def test_a_removed_entry_is_named() -> None:
    entries = chain(5)
    del entries[1]
    check = verify_audit(entries)
    assert not check.ok and check.first_bad == 3
    assert "entries 2 to 2 are missing (before entry 3)" in check.problems
    # Removed and the rest renumbered (seq rewritten, hash recomputed): prev betrays it.
    renumbered = [entries[0]]
    for e in entries[1:]:
        moved = dataclasses.replace(e, seq=(e.seq or 0) - 1)
        renumbered.append(
            dataclasses.replace(
                moved, hash=chain_hash(moved.prev, moved.seq or 0, canonical_bytes(moved))
            )
        )
    again = verify_audit(renumbered)
    assert again.first_bad == 2 and "does not follow entry 1" in again.problems[0]


def test_two_swapped_entries_are_named() -> None:
    entries = chain(5)
    a, b = entries[1], entries[2]
    entries[1] = dataclasses.replace(b, seq=a.seq)  # contents exchanged, positions kept
    entries[2] = dataclasses.replace(a, seq=b.seq)
    check = verify_audit(entries)
    assert not check.ok and check.first_bad == 2
    assert any("entry 2 was altered" in p for p in check.problems)


def test_a_repeated_entry_and_a_log_without_chain_fields_fail() -> None:
    entries = chain(3)
    assert "entry 3 appears twice" in verify_audit([*entries, entries[2]]).problems
    bare = [dataclasses.replace(e, hash=None) for e in entries]
    check = verify_audit(bare)
    assert not check.ok and "cannot be checked" in check.problems[0]
    # A server hashing other bytes than the documented rule fails every entry.
    assert verify_audit(entries, canonical=lambda e: b"other").first_bad == 1


# -- over HTTP ----------------------------------------------------------------------------
def test_filters_become_the_query() -> None:
    now = datetime(2026, 2, 1, tzinfo=UTC)
    assert moment("7d", now) == "2026-01-25T00:00:00Z"
    assert moment(date(2026, 1, 3)) == "2026-01-03T00:00:00Z"
    assert moment("2026-01-03T10:00:00+01:00") == "2026-01-03T09:00:00Z"
    assert moment(timedelta(hours=1), now) == "2026-01-31T23:00:00Z"
    assert audit_query(BANK, POD + "bank/", "2026-01-01", None, "refused", 5000) == {
        "agent": BANK,
        "resource": POD + "bank/",
        "since": "2026-01-01T00:00:00Z",
        "outcome": "refused",
        "limit": "1000",
    }
    assert audit_query(outcome=403) == {"outcome": "403"}
    with pytest.raises(ValueError, match="outcome"):
        audit_query(outcome="bad")
    with pytest.raises(ValueError, match="limit"):
        audit_query(limit=0)
    with pytest.raises(ValueError, match="not a date"):
        audit_query(since="yesterday")


async def test_pages_are_followed_through_next_links() -> None:
    entries = chain(7)
    server = FakeServer()
    second, third = LOG + "?before=5", LOG + "?before=2"
    server.on("GET", LOG, page(entries[4:], LOG, second))
    server.on("GET", second, page(entries[1:4], second))  # next given as a Link header only
    server.routes[("GET", second)] = [
        lambda r: Response(
            200, {**TURTLE, "Link": f'<{third}>; rel="next"'}, turtle_of(entries[1:4], second)
        )
    ]
    server.on("GET", third, page(entries[:1], third))
    server.on("GET", LOG + "?limit=2", page(entries[4:], LOG + "?limit=2", second))
    async with client(server) as pod:
        got = [e async for e in pod.audit(storage=POD)]
        assert [e.seq for e in got] == [7, 6, 5, 4, 3, 2, 1]
        assert verify_audit(got).ok
        few = [e async for e in pod.audit(limit=2, storage=POD)]
        assert (await pod.verify_audit(storage=POD)).checked == 7
    assert [e.seq for e in few] == [7, 6]
    asked = [r.url for r in server.sent("GET")]
    assert asked[:3] == [LOG, second, third]
    assert asked[3] == LOG + "?limit=2" and asked[4:] == [LOG, second, third]


async def test_the_query_is_sent_and_a_loop_is_refused() -> None:
    server = FakeServer()
    queries: list[dict[str, list[str]]] = []

    def answer(request: Request) -> Response:
        queries.append(parse_qs(urlsplit(request.url).query))
        return page(chain(1), request.url, request.url)  # next = itself

    server.transport.handler = answer
    async with client(server) as pod:
        with pytest.raises(InvalidResponse, match="loop"):
            _ = [e async for e in pod.audit(agent=BANK, outcome="refused", storage=POD)]
    assert queries[0] == {"agent": [BANK], "outcome": ["refused"]}
    assert len(queries) == 1
    denied = FakeServer()
    denied.on("GET", LOG, Response(403, {"Content-Type": "text/plain"}, "only the owner"))
    async with client(denied) as pod:
        with pytest.raises(Exception, match="only the owner"):
            _ = [e async for e in pod.audit(storage=POD)]


def test_the_hashed_bytes_follow_the_servers_rule() -> None:
    """Pinned: pod_server/audit/entry.py AuditEntry.canonical and storage link_hash."""
    entry = AuditEntry(
        id=LOG + "#1",
        action="Reject",
        resource=POD + "bank/x.ttl",
        outcome=403,
        agent=ENERGY,
        seq=1,
        root="/alice/",
        at=1767225600.5,
    )
    body = (
        b'{"action":"Reject","agent":"https://energy.example/id#org","at":1767225600.5,'
        b'"client":null,"consent":null,"detail":null,"outcome":403,'
        b'"resource":"https://pod.example/alice/bank/x.ttl","root":"/alice/"}'
    )
    assert canonical_bytes(entry) == body
    expected = hashlib.sha256(bytes(32) + (1).to_bytes(8, "big") + body).hexdigest()
    assert chain_hash(None, 1, body) == chain_hash(GENESIS, 1, body) == expected
    # The server's own bytes, when a page exposes them, are used as they are.
    exposed = dataclasses.replace(entry, body=b'{"other":1}', at=None)
    assert canonical_bytes(exposed) == b'{"other":1}'
    text = f"""@prefix as: <https://www.w3.org/ns/activitystreams#> .
<{LOG}> as:orderedItems ( <#e> ) .
<#e> a as:Reject ; <https://w3id.org/solid-pods/vocab/audit#body> {json.dumps(body.decode())} ."""
    (read,) = parse_page(Graph().parse(data=text, format="turtle", publicID=LOG), LOG).entries
    assert read.body == body and canonical_bytes(read) == body


def test_the_first_entry_must_follow_the_genesis() -> None:
    entries = chain(3)
    forged = dataclasses.replace(entries[0], prev="ab" * 32)
    forged = dataclasses.replace(forged, hash=chain_hash(forged.prev, 1, canonical_bytes(forged)))
    check = verify_audit([forged])
    assert check.problems == ["entry 1 does not start the chain: its prev is not the genesis"]
