"""A round over simulated pods: the release matches the exact mean within its bound; slow,
failing and declining agents are left out; a restarted broker resumes the round; the
budget, an altered study and the authority's own ledger refuse; journals verify."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from decimal import Decimal
from pathlib import Path

import pytest
from rdflib import URIRef

from apps.commons import approval, cube, mechanism, page, study
from apps.commons.authority import Authority
from apps.commons.broker import Broker, Contribution, Offer
from apps.commons.cube import QB
from apps.commons.journal import JournalError, verify
from apps.commons.mechanism import BudgetExceeded
from apps.commons.simulate import simulated
from apps.commons.study import CM, StudyError
from tests.unit.commons.conftest import AUTHORITY, BROKER, Parties, make_parties


def make(p: Parties, tmp: Path, **options: float) -> Broker:
    authority = Authority(AUTHORITY, p.authority_key, p.published, tmp / "authority.log")
    return Broker(BROKER, p.broker_key, authority, tmp / "broker.journal", **options)  # type: ignore[arg-type]


def population(p: Parties, n: int) -> dict[str, object]:
    return {
        f"pod-{i}": simulated(
            p.study, "Bretagne", {f"2025-{m:02d}": Decimal(100 + i) for m in range(1, 13)}
        )
        for i in range(n)
    }


async def test_round_and_release(tmp_path: Path) -> None:
    # 41 pods: a large epsilon keeps the noise below the cells (scales 0.6 and 1,200).
    parties = make_parties(epsilon=Decimal(80), epsilon_per_release=Decimal(40))
    token = approval.approve(parties.study, parties.signing)
    turtle = study.turtle(parties.study)
    broker = make(parties, tmp_path, parallel=4)
    agents = population(parties, 40)

    async def slow(offer: Offer) -> Contribution:
        await asyncio.sleep(5)
        raise AssertionError("never answers in time")

    calls = 0

    async def flaky(offer: Offer) -> Contribution:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("reset")
        return await agents["pod-0"](offer)  # type: ignore[operator]

    agents["slow"] = slow
    agents["flaky"] = flaky
    agents["out"] = simulated(parties.study, "Bretagne", {}, declines=True)
    broker.timeout, broker.beta = 0.5, 0.001
    got = await broker.collect(parties.study, turtle, token, "r1", agents)  # type: ignore[arg-type]
    assert got == 41 and calls == 2
    left = {r["pod"]: r["reason"] for r in broker.journal.of("left-out")}
    assert left.keys() == {"slow", "out"} and left["out"].startswith("declined")

    released = broker.release(parties.study, token, "r1")
    cell = next(c for c in released.cells if (c.group, c.period) == ("Bretagne", "2025-01"))
    exact = Decimal(sum(100 + i for i in range(40)) + 100) / 41
    assert cell.bound is not None and cell.value is not None
    assert abs(cell.value - exact) <= cell.bound
    # Empty cells: suppressed unless their noise alone passed the minimum (DP's price).
    t = mechanism.tail(mechanism.scales(parties.study).count, 0.001)
    assert all(c.suppressed or c.contributors <= t for c in released.cells if c.group != "Bretagne")

    graph = cube.cube(released, "https://broker.example/results/grid-2025/r1/")
    observations = list(graph.subjects(URIRef(str(QB.dataSet)), None))
    assert len(observations) == len(parties.study.statistic.cells())
    activity = URIRef("https://broker.example/results/grid-2025/r1/release")
    assert str(graph.value(activity, CM.approval)) == token
    assert graph.value(activity, CM.epsilonSpent).toPython() == Decimal(40)

    html = page.page(released, "https://broker.example/results/grid-2025/r1/dataset")
    heads, cells = len(parties.study.statistic.groups), len(parties.study.statistic.cells())
    assert html.count("<tr") == heads + cells
    assert html.count("suppressed (too few") == sum(c.suppressed for c in released.cells)
    assert "Bretagne" in html and "probability 99.9%" in html and "<script" not in html

    # Budget 80, 40 per release: a second passes, a third is refused and logged by both.
    broker.release(parties.study, token, "r1")
    with pytest.raises(BudgetExceeded):
        broker.release(parties.study, token, "r1")
    assert broker.journal.of("refused")
    with pytest.raises(BudgetExceeded):
        broker.authority.aggregate(parties.study, token, "r1", {})
    assert broker.authority.journal.of("refused")
    assert verify(tmp_path / "broker.journal") > 40
    assert verify(tmp_path / "authority.log") >= 3


async def test_a_restarted_broker_resumes_the_round(parties: Parties, tmp_path: Path) -> None:
    token = approval.approve(parties.study, parties.signing)
    turtle = study.turtle(parties.study)
    agents = population(parties, 30)
    asked: list[str] = []
    stalled = True  # while the first broker runs, pods 10 and above do not answer

    def counting(name: str) -> object:
        async def agent(offer: Offer) -> Contribution:
            asked.append(name)
            if stalled and int(name.split("-")[1]) >= 10:
                await asyncio.sleep(60)
            return await agents[name](offer)  # type: ignore[operator]

        return agent

    first = make(parties, tmp_path, parallel=30, deadline=2.0)
    await first.collect(parties.study, turtle, token, "r1", {n: counting(n) for n in agents})  # type: ignore[misc]
    assert len(first.received("r1")) == 10  # the others missed the deadline
    asked.clear()
    stalled = False
    again = make(parties, tmp_path, parallel=30)  # a new process reading the journal
    assert len(again.received("r1")) == 10
    got = await again.collect(parties.study, turtle, token, "r1", {n: counting(n) for n in agents})  # type: ignore[misc]
    assert got == 30 and sorted(asked) == sorted(n for n in agents if int(n[4:]) >= 10)
    released = again.release(parties.study, token, "r1")
    assert released.contributions == 30


async def test_a_broker_stopped_mid_round_writes_nothing_more(
    parties: Parties, tmp_path: Path
) -> None:
    """Cancelling the round (a broker shutting down) cancels every call in flight: nothing
    is journalled after it, and a new broker asks only the pods it has no answer from."""
    token = approval.approve(parties.study, parties.signing)
    turtle = study.turtle(parties.study)
    agents = population(parties, 20)
    asked: list[str] = []

    def slow_after(name: str, n: int) -> object:
        async def agent(offer: Offer) -> Contribution:
            asked.append(name)
            await asyncio.sleep(0 if n < 5 else 0.5)
            return await agents[name](offer)  # type: ignore[operator]

        return agent

    wrapped = {name: slow_after(name, n) for n, name in enumerate(agents)}
    first = make(parties, tmp_path, parallel=20)
    running = asyncio.create_task(first.collect(parties.study, turtle, token, "r1", wrapped))  # type: ignore[arg-type]
    while len(first.received("r1")) < 5:
        await asyncio.sleep(0.01)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    lines = (tmp_path / "broker.journal").read_text().count("\n")
    await asyncio.sleep(0.7)  # the cancelled calls would have answered by now
    assert (tmp_path / "broker.journal").read_text().count("\n") == lines
    asked.clear()
    again = make(parties, tmp_path, parallel=20)
    assert await again.collect(parties.study, turtle, token, "r1", wrapped) == 20  # type: ignore[arg-type]
    assert sorted(asked) == sorted(list(agents)[5:])


async def test_an_altered_study_is_refused(parties: Parties, tmp_path: Path) -> None:
    token = approval.approve(parties.study, parties.signing)
    wider = dataclasses.replace(parties.study, epsilon=Decimal(100))
    broker = make(parties, tmp_path)
    with pytest.raises(StudyError):
        await broker.collect(wider, study.turtle(wider), token, "r1", population(parties, 2))  # type: ignore[arg-type]
    with pytest.raises(StudyError):
        broker.release(wider, token, "r1")
    assert broker.journal.of("refused")


def test_a_tampered_journal_fails_verification(tmp_path: Path, parties: Parties) -> None:
    broker = make(parties, tmp_path)
    for n in range(3):
        broker.journal.append("note", n=n)
    path = tmp_path / "broker.journal"
    lines = path.read_text().splitlines()
    record = json.loads(lines[1])
    record["n"] = 7
    lines[1] = json.dumps(record, sort_keys=True, separators=(",", ":"))
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(JournalError, match=":3: the chain is broken"):
        verify(path)
