"""The push engine's decisions that need no server: retries, the create-only write, the
summary."""

from __future__ import annotations

from pathlib import Path

import pytest

from apps.connector.config import OrgConfig
from apps.connector.journal import Journal
from apps.connector.pacing import Pacer
from apps.connector.push import Connector, Outcome, Result, Summary, customer_files, retry_delay
from client import PodClient
from client.transport import MockTransport, Request, Response

ORG = OrgConfig(
    name="Bank",
    webid="https://p/bank/profile/card#me",
    issuer="https://p/",
    client_id="id",
    client_secret="secret",
    domain="bank",
    container="bank/",
    purpose="https://w3id.org/solid-pods/vocab/consent#DataReturn",
)


def test_retry_delay() -> None:
    assert retry_delay("7", 0) == 7.0
    assert retry_delay("Wed, 21 Oct 2015 07:28:10 GMT", 0, now=1445412480.0) == 10.0
    assert retry_delay(None, 0) == 0.5 and retry_delay("soon", 3) == 4.0
    assert retry_delay(None, 20) == 30.0  # capped


async def send_with(
    answers: list[Response], tmp_path: Path
) -> tuple[int, Result, list[float], list[Request]]:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    transport = MockTransport(lambda request: answers.pop(0))
    result = Result("C1")
    journal = Journal(tmp_path / "j.jsonl", sync=False)
    try:
        async with PodClient(transport=transport) as client:
            connector = Connector(client, ORG, journal, sleep=sleep, max_retries=2)
            status = await connector._send("https://p/alice/bank/x", b"patch", result)
    finally:
        journal.close()
    return status, result, slept, transport.requests


async def test_create_only_patch_retries_429_and_503_honouring_retry_after(tmp_path: Path) -> None:
    status, result, slept, sent = await send_with(
        [Response(429, {"Retry-After": "3"}), Response(503), Response(201)], tmp_path
    )
    assert status == 201 and result.retries == 2 and slept == [3.0, 1.0]
    assert all(r.method == "PATCH" and r.headers["If-None-Match"] == "*" for r in sent)
    assert sent[0].headers["Content-Type"] == "text/n3"


async def test_already_there_is_412_not_an_error(tmp_path: Path) -> None:
    status, result, slept, _ = await send_with([Response(412)], tmp_path)
    assert status == 412 and result.retries == 0 and slept == []


async def test_gives_up_after_the_last_retry(tmp_path: Path) -> None:
    from client.errors import PodClientError

    with pytest.raises(PodClientError, match="still 503 after 2 retries"):
        await send_with([Response(503), Response(503), Response(503)], tmp_path)


def test_summary_counts_and_table() -> None:
    summary = Summary(
        [
            Result("C1", Outcome.PUSHED, written=3, records=150),
            Result("C2", Outcome.PENDING),
            Result("C3", Outcome.REFUSED),
            Result("C4", Outcome.PUSHED, already=3, retries=1),
            Result("C5", Outcome.INVALID, detail="transactions-2024-01: bank:amount missing"),
        ],
        seconds=2.0,
    )
    assert summary.counts() == {"pushed": 2, "pending consent": 1, "refused": 1, "invalid": 1}
    table = summary.table()
    assert (
        "5 customers in 2.0 s (2.5/s): 3 resources, 150 records written, 3 already there, 1 retries"
        in table
    )
    assert "  C5: invalid - transactions-2024-01: bank:amount missing" in table
    assert "C1" not in table and summary.to_json()["customers"][1]["outcome"] == "pending consent"


def test_customer_files(tmp_path: Path) -> None:
    (tmp_path / "C1").mkdir()
    for name in ("b.ofx", "a.xml", ".hidden"):
        (tmp_path / "C1" / name).write_text("")
    assert [p.name for p in customer_files(tmp_path, "C1")] == ["a.xml", "b.ofx"]
    assert customer_files(tmp_path, "C2") == []


async def test_writes_to_one_server_are_paced_others_are_not() -> None:
    now = [0.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(round(seconds, 6))
        now[0] += seconds

    pacer = Pacer(4.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        await pacer.wait("https://pods.example/alice/bank/x")
    await pacer.wait("https://other.example/bob/bank/x")  # another server: no wait
    assert slept == [0.25, 0.25]
    with pytest.raises(ValueError, match="positive"):
        Pacer(0)
