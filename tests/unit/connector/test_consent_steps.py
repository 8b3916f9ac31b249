"""How the connector finds or asks for a customer's consent, with a stand-in client:
what it asks, what it remembers, how long it waits, where it then writes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from apps.connector.config import CustomerRef
from apps.connector.journal import Journal
from apps.connector.push import Connector, Outcome, Result, status_of
from client import ConsentRecord, Target
from client.errors import NotFound
from tests.unit.connector.test_push import ORG

ALICE = CustomerRef("C1", "https://p/alice/profile/card#me")
BOX = "https://p/alice/bank/"


class FakeClient:
    """Answers consent reads from a list of statuses, one per read."""

    def __init__(self, statuses: list[str], granted: list[Target] | None = None) -> None:
        self.statuses, self.granted = statuses, granted
        self.asked: list[dict[str, Any]] = []
        self.reads = 0

    async def owner_storage(self, webid: str) -> str:
        return "https://p/alice/"

    async def request_access(
        self, owner: str, targets: list[str], modes: str, purpose: str, until: str, **kw: Any
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
        asked["targets"] == [BOX]
        and asked["modes"] == "Append"
        and asked["storage"] == "https://p/alice/"
    )
    assert journal.state("C1").consent == "https://p/alice/.well-known/consent/new"


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
