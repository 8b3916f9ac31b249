"""The broker reaching agents over HTTP on loopback: answers, a decline (not retried), a
failing agent (retried, then left out), a malformed offer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from apps.commons import approval, study
from apps.commons.authority import Authority
from apps.commons.broker import Broker, Contribution, Offer
from apps.commons.simulate import simulated
from apps.commons.transport import agent_app, http_contributor
from tests.unit.commons.conftest import AUTHORITY, BROKER, make_parties


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def test_a_round_over_http(tmp_path: Path, session: aiohttp.ClientSession) -> None:
    p = make_parties(epsilon=Decimal(80), epsilon_per_release=Decimal(40), min_contributors=2)
    calls = 0

    async def broken(offer: Offer) -> Contribution:
        nonlocal calls
        calls += 1
        raise RuntimeError("disk full")

    agents = {
        "a": simulated(p.study, "Bretagne", {"2025-01": Decimal(300)}),
        "b": simulated(p.study, "Bretagne", {"2025-01": Decimal(500)}),
        "c": simulated(p.study, "Bretagne", {}, declines=True),
        "d": broken,
    }
    servers = {
        name: TestServer(agent_app(agent), host="127.0.0.1") for name, agent in agents.items()
    }
    for server in servers.values():
        await server.start_server()
    try:
        callers = {n: http_contributor(session, str(s.make_url("/"))) for n, s in servers.items()}
        authority = Authority(AUTHORITY, p.authority_key, p.published, tmp_path / "a.log")
        broker = Broker(BROKER, p.broker_key, authority, tmp_path / "b.journal", retries=2)
        token = approval.approve(p.study, p.signing)
        got = await broker.collect(p.study, study.turtle(p.study), token, "r1", callers)
        assert got == 2 and calls == 3  # the failing agent: asked 1 + 2 retries
        reasons = {r["pod"]: r["reason"] for r in broker.journal.of("left-out")}
        assert reasons["c"] == "declined: not opted in" and "500" in reasons["d"]

        async with session.post(servers["a"].make_url("/"), data=b"{") as response:
            assert response.status == 400
    finally:
        for server in servers.values():
            await server.close()
