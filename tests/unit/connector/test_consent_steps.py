"""How the connector finds or asks for a customer's consent, with a stand-in client:
what it asks, what it remembers, how long it waits, where it then writes."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rdflib import Graph, URIRef

from apps.connector.config import CustomerRef
from apps.connector.decisions import AS_OBJECT, InboxWatch
from apps.connector.journal import Journal
from apps.connector.push import Connector, Outcome, Result, status_of
from client import ConsentRecord, Target
from client.discovery import Profile
from client.errors import NotFound, PodClientError
from tests.unit.connector.test_push import ORG

ALICE = CustomerRef("C1", "https://p/alice/profile/card#me")
BOX = "https://p/alice/bank/"
INDEX = "https://p/alice/settings/privateTypeIndex.ttl"


class FakeClient:
    """Answers consent reads from a list of statuses, one per read."""

    def __init__(self, statuses: list[str], granted: list[Target] | None = None) -> None:
        self.statuses, self.granted = statuses, granted
        self.asked: list[dict[str, Any]] = []
        self.reads = 0

    async def owner_storage(self, webid: str) -> str:
        return "https://p/alice/"

    async def profile(self, webid: str) -> Profile:
        return Profile(webid, storages=["https://p/alice/"], private_type_index=INDEX)

    async def request_access(
        self, owner: str, targets: list[Any], modes: str, purpose: str, until: str, **kw: Any
    ) -> str:
        self.asked.append(
            {"owner": owner, "targets": targets, "modes": modes, "purpose": purpose, **kw}
        )
        return "https://p/alice/.well-known/consent/new"

    async def consent(self, url: str) -> ConsentRecord:
        if url.endswith("/gone"):
            raise NotFound("no such record", url=url)
        self.reads += 1
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        granted = self.granted if self.granted is not None else [Target(BOX, frozenset({"Append"}))]
        return ConsentRecord(
            url=url, current=status, granted=granted if status == "ConsentGiven" else []
        )


async def decide(
    tmp_path: Path, client: FakeClient, wait: float = 0.0, known: str | None = None
) -> tuple[str | None, Result, Journal]:
    journal = Journal(tmp_path / "j.jsonl", sync=False)
    if known:
        journal.consent_asked("C1", known, BOX)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    connector = Connector(client, ORG, journal, wait=wait, poll=0.0, sleep=sleep)  # type: ignore[arg-type]
    result = Result("C1")
    try:
        return await connector.consent(ALICE, result), result, journal
    finally:
        journal.close()


async def test_first_run_asks_once_and_reports_pending(tmp_path: Path) -> None:
    client = FakeClient(["ConsentRequested"])
    container, result, journal = await decide(tmp_path, client)
    assert container is None and result.outcome is Outcome.PENDING
    [asked] = client.asked
    assert (
        asked["targets"] == [(BOX, "Append"), (INDEX, "Append")]
        and asked["storage"] == "https://p/alice/"
    )
    assert journal.state("C1").consent == "https://p/alice/.well-known/consent/new"
    assert journal.state("C1").index == INDEX


async def test_no_type_index_asked_when_the_organisation_says_none(tmp_path: Path) -> None:
    client = FakeClient(["ConsentRequested"])
    journal = Journal(tmp_path / "j.jsonl", sync=False)
    org = replace(ORG, type_index="none")
    known = replace(ALICE, storage="https://p/alice/")
    await Connector(client, org, journal).consent(known, Result("C1"))  # type: ignore[arg-type]
    journal.close()
    assert client.asked[0]["targets"] == [(BOX, "Append")] and journal.state("C1").index is None


async def test_known_consent_is_read_not_asked_again(tmp_path: Path) -> None:
    client = FakeClient(["ConsentGiven"])
    container, result, _ = await decide(
        tmp_path, client, known="https://p/alice/.well-known/consent/old"
    )
    assert container == BOX and client.asked == [] and result.consent.endswith("/old")  # type: ignore[union-attr]


async def test_waits_for_the_decision(tmp_path: Path) -> None:
    client = FakeClient(["ConsentRequested", "ConsentRequested", "ConsentGiven"])
    container, _, _ = await decide(tmp_path, client, wait=30.0)
    assert container == BOX and client.reads == 3


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("ConsentRefused", Outcome.REFUSED),
        ("ConsentWithdrawn", Outcome.WITHDRAWN),
        ("ConsentExpired", Outcome.EXPIRED),
    ],
)
async def test_no_write_without_consent(tmp_path: Path, status: str, outcome: Outcome) -> None:
    container, result, _ = await decide(
        tmp_path, FakeClient([status]), known="https://p/alice/.well-known/consent/old"
    )
    assert container is None and result.outcome is outcome


async def test_a_narrowed_grant_is_written_where_granted(tmp_path: Path) -> None:
    inner = Target(BOX + "2024/", frozenset({"Append"}))
    container, _, _ = await decide(
        tmp_path,
        FakeClient(["ConsentGiven"], [inner]),
        known="https://p/alice/.well-known/consent/old",
    )
    assert container == BOX + "2024/"
    read_only = Target(BOX, frozenset({"Read"}))
    container, result, _ = await decide(
        tmp_path,
        FakeClient(["ConsentGiven"], [read_only]),
        known="https://p/alice/.well-known/consent/old",
    )
    assert container is None and result.outcome is Outcome.REFUSED


async def test_a_lost_record_is_asked_again(tmp_path: Path) -> None:
    client = FakeClient(["ConsentRequested"])
    container, result, journal = await decide(
        tmp_path, client, known="https://p/alice/.well-known/consent/gone"
    )
    assert container is None and result.outcome is Outcome.PENDING and len(client.asked) == 1
    assert journal.state("C1").consent == "https://p/alice/.well-known/consent/new"


async def test_a_given_consent_past_its_end_is_expired(tmp_path: Path) -> None:
    client = FakeClient(["ConsentGiven"])
    record = await client.consent("https://p/alice/.well-known/consent/old")
    past = datetime.now(UTC) - timedelta(minutes=1)
    assert status_of(replace(record, until=past)) == "ConsentExpired"
    assert status_of(replace(record, until=past + timedelta(days=1))) == "ConsentGiven"


class Registering(FakeClient):
    def __init__(self, granted: list[Target]) -> None:
        super().__init__(["ConsentGiven"], granted)
        self.registered: list[tuple[str, str, str | None]] = []

    async def register_type(self, cls: str, location: str, *, index: str | None = None) -> None:
        self.registered.append((cls, location, index))


async def test_the_container_is_registered_once_in_the_granted_type_index(tmp_path: Path) -> None:
    granted = [Target(BOX, frozenset({"Append"})), Target(INDEX, frozenset({"Append"}))]
    client = Registering(granted)
    journal = Journal(tmp_path / "j.jsonl", sync=False)
    journal.consent_asked("C1", "https://p/alice/.well-known/consent/old", BOX, INDEX)
    connector = Connector(client, ORG, journal)  # type: ignore[arg-type]
    record = await client.consent("https://p/alice/.well-known/consent/old")
    for _ in range(2):
        await connector.register(ALICE, record, BOX, Result("C1"))
    journal.close()
    assert client.registered == [(t, BOX, INDEX) for t in ORG.registered_types]
    again = Journal(tmp_path / "j.jsonl", sync=False)  # a re-run remembers it
    await Connector(client, ORG, again).register(ALICE, record, BOX, Result("C1"))  # type: ignore[arg-type]
    again.close()
    assert len(client.registered) == len(ORG.registered_types) == 1


async def test_no_registration_when_the_index_was_not_granted(tmp_path: Path) -> None:
    client = Registering([Target(BOX, frozenset({"Append"}))])
    journal = Journal(tmp_path / "j.jsonl", sync=False)
    journal.consent_asked("C1", "https://p/alice/.well-known/consent/old", BOX, INDEX)
    record = await client.consent("https://p/alice/.well-known/consent/old")
    result = Result("C1")
    await Connector(client, ORG, journal).register(ALICE, record, BOX, result)  # type: ignore[arg-type]
    journal.close()
    assert client.registered == [] and "not registered" in result.detail


class Announcing(FakeClient):
    """An inbox that announces the decision on ``record`` once a waiter is there."""

    def __init__(self, record: str) -> None:
        super().__init__(["ConsentRequested", "ConsentGiven"])
        self.record = record

    async def subscribe(self, topic: str, ready: asyncio.Event | None = None):  # type: ignore[no-untyped-def]
        assert ready is not None
        ready.set()
        await asyncio.sleep(0.05)
        yield {"type": "Update", "object": topic}  # the inbox itself: ignored
        yield {"type": "Add", "object": topic + "note-1", "target": topic}
        await asyncio.Event().wait()

    async def read_graph(self, url: str) -> Graph:
        graph = Graph()
        graph.add((URIRef(url), AS_OBJECT, URIRef(self.record)))
        return graph


async def test_a_notification_wakes_the_waiter_before_the_next_poll(tmp_path: Path) -> None:
    record = "https://p/alice/.well-known/consent/old"
    client = Announcing(record)
    journal = Journal(tmp_path / "j.jsonl", sync=False)
    journal.consent_asked("C1", record, BOX)
    connector = Connector(client, ORG, journal, wait=600.0, poll=300.0)  # type: ignore[arg-type]
    connector.watch = InboxWatch(client, "https://p/org/inbox/")  # type: ignore[arg-type]
    connector.watch.start()
    try:
        container = await asyncio.wait_for(connector.consent(ALICE, Result("C1")), 10)
    finally:
        await connector.watch.close()
        journal.close()
    assert container == BOX and connector.watch.woken == 1 and client.reads == 2


async def test_without_notifications_waiting_is_polling() -> None:
    class Silent(FakeClient):
        async def subscribe(self, topic: str, ready: asyncio.Event | None = None):  # type: ignore[no-untyped-def]
            raise PodClientError("the server offers no WebSocketChannel2023", url=topic)
            yield {}

    watch = InboxWatch(Silent([]), "https://p/org/inbox/", retry=60)  # type: ignore[arg-type]
    watch.start()
    try:
        assert await watch.wait("https://p/alice/.well-known/consent/x", 0.1) is False
        assert not watch.connected.is_set()
    finally:
        await watch.close()
