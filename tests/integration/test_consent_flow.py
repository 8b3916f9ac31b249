"""Issue 17's "done when", end to end over HTTP with the Python SDK, on files and on
PostgreSQL: a bank and an energy supplier (two organisation WebIDs with client
credentials) ask alice for access; she lets the bank append to her bank container for 90
days and refuses the supplier; the bank writes three months of transactions that pass the
bank shapes and can read nothing; the supplier's write is refused and alice's audit log
says so; alice withdraws and the bank's next write is refused; a grant that has ended is
refused before any sweeper runs; the log's chain verifies.
"""

from __future__ import annotations

import asyncio
import calendar
import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rdflib import Graph

import vocab
from client import BadRequest, Forbidden, PodClient, Target
from pod_server.http.handlers import STORE
from pod_server.idp.routes import IDP
from pod_server.pods.hosting import add_user, user_credentials
from pod_server.settings import Settings
from tests.conftest import deployed, running_pod
from vocab import bank_month

CONSENT = "https://w3id.org/solid-pods/vocab/consent#"
DATA_RETURN = CONSENT + "DataReturn"
ENERGY_MANAGEMENT = CONSENT + "EnergyManagement"
TRANSACTIONS = "https://w3id.org/solid-pods/vocab/bank#Transaction"
PASSWORD = "a long enough passphrase"


@dataclass
class World:
    """A multi-user server with alice and two organisations, each signed in."""

    alice: PodClient
    bank: PodClient
    energy: PodClient
    webid: dict[str, str]
    pod: str  # alice's storage

    async def log(self, **filters: str) -> list:  # type: ignore[type-arg]
        return [entry async for entry in self.alice.audit(**filters)]


@asynccontextmanager
async def world(root: Path, storage: str) -> AsyncIterator[World]:
    root.mkdir()
    settings, backend = deployed(storage, root, Settings(multiuser=True))
    async with running_pod(root, backend, settings) as server, AsyncExitStack() as stack:
        store, state = server.app[STORE], server.app[IDP].state  # type: ignore[index]
        clients: dict[str, PodClient] = {}
        webid: dict[str, str] = {}
        for name in ("alice", "bank", "energy"):
            await add_user(store, state, name, f"{name}@example.org", PASSWORD)
            made = await user_credentials(store, state, name, "consent flow")
            client = await stack.enter_async_context(PodClient())
            await client.login_client_credentials(
                made["issuer"], made["client_id"], made["client_secret"]
            )
            clients[name], webid[name] = client, made["webid"]
        pod = (await clients["alice"].storages())[0]
        yield World(clients["alice"], clients["bank"], clients["energy"], webid, pod)


def month_of_transactions(pod: str, bank: str, year: int, month: int) -> str:
    """vocab/bank_month's typical month moved to ``year-month``, in alice's pod, written
    by ``bank``; transaction IRIs relative to the document that holds them."""
    last = calendar.monthrange(year, month)[1]
    made_at = f"{year + month // 12}-{month % 12 + 1:02d}-01T06:00:00+02:00"
    text = bank_month.generate()
    text = text.replace(bank_month.POD, pod).replace(bank_month.BANK, bank)
    text = re.sub(r"@prefix tx: <[^>]*> \.", "@prefix tx: <#> .", text)
    text = text.replace(bank_month.GENERATED_AT, made_at)

    def day(match: re.Match[str], sep: str) -> str:
        return f"{year}{sep}{month:02d}{sep}{min(int(match[1]), last):02d}"

    text = re.sub(r"2024-03-(\d\d)", lambda m: day(m, "-"), text)
    return re.sub(r"202403(\d\d)", lambda m: day(m, ""), text)


async def constrain(owner: PodClient, container: str, domain: str) -> None:
    """Members of ``container`` must pass ``domain``'s shapes (ldp:constrainedBy)."""
    meta = (await owner.head(container)).describedby
    assert meta is not None
    shapes = vocab.shapes_iri(domain)
    body = f"<{container}> <http://www.w3.org/ns/ldp#constrainedBy> <{shapes}> ."
    await owner.put(meta, body, "text/turtle", if_match=None)


async def test_organisations_get_what_alice_allowed_and_her_log_says_so(
    tmp_path: Path, storage: str
) -> None:
    async with world(tmp_path / "pods", storage) as w:
        bank_box, energy_box = w.pod + "bank/", w.pod + "energy/"
        await w.alice.create_container(bank_box)
        await w.alice.create_container(energy_box)
        await constrain(w.alice, bank_box, "bank")

        # 1. Both organisations ask, finding alice's access-request service from her WebID.
        bank_asks = await w.bank.request_access(
            w.webid["alice"],
            [bank_box],
            "Append",
            DATA_RETURN,
            timedelta(days=365),
            data=[TRANSACTIONS],
            note="Your statements, every month",
        )
        energy_asks = await w.energy.request_access(
            w.webid["alice"], [energy_box], "Append", ENERGY_MANAGEMENT, timedelta(days=365)
        )
        pending = await w.alice.access_requests("requested")
        assert {r.url: r.recipient for r in pending} == {
            bank_asks: w.webid["bank"],
            energy_asks: w.webid["energy"],
        }
        asked = await w.alice.consent(bank_asks)
        assert asked.purposes == [DATA_RETURN] and asked.data == [TRANSACTIONS]
        assert asked.requested == [Target(bank_box, frozenset({"Append"}))]

        # 2. Alice approves the bank for 90 days (not the year it asked) and refuses the supplier.
        now = datetime.now(UTC)
        given = await w.alice.approve(bank_asks, until=timedelta(days=90))
        assert given.status == "ConsentGiven"
        assert given.granted == [Target(bank_box, frozenset({"Append"}))]
        assert given.until is not None
        assert timedelta(days=89) < given.until - now <= timedelta(days=90, minutes=5)
        refused = await w.alice.deny(energy_asks)
        assert refused.status == "ConsentRefused"
        assert (await w.bank.consent(bank_asks)).status == "ConsentGiven"  # its own record

        # 3. The bank writes three months that pass the bank shapes...
        written = []
        for month in (1, 2, 3):
            body = month_of_transactions(w.pod, w.webid["bank"], 2024, month)
            graph = Graph().parse(data=body, format="turtle", publicID=bank_box + "x")
            assert vocab.validate(graph, "bank").conforms
            written.append(
                await w.bank.post(
                    bank_box, body, "text/turtle", slug=f"transactions-2024-{month:02d}"
                )
            )
        assert len(set(written)) == 3
        # ... and a month that does not pass them is refused and stores nothing.
        broken = month_of_transactions(w.pod, w.webid["bank"], 2024, 4).replace(
            "bank:amount", "bank:amountTypo", 1
        )
        with pytest.raises(BadRequest) as shape:
            await w.bank.post(bank_box, broken, "text/turtle", slug="transactions-2024-04")
        assert shape.value.status == 422
        members = {e.url for e in await w.alice.list(bank_box)}
        assert set(written) <= members and not any("2024-04" in m for m in members)

        # 4. Append is not Read: the bank reads nothing, not even what it wrote.
        for url in (bank_box, *written, w.pod, energy_box):
            with pytest.raises(Forbidden):
                await w.bank.get(url)

        # 5. The refused supplier cannot write; alice's log has the refusal.
        with pytest.raises(Forbidden):
            await w.energy.post(energy_box, "<#m> <http://schema.org/value> 42 .", slug="meter")
        refusals = await w.log(agent=w.webid["energy"], outcome="refused")
        assert any(
            e.outcome == 403 and (e.resource or "").startswith(energy_box) for e in refusals
        ), refusals
        bank_writes = [
            e
            for e in await w.log(agent=w.webid["bank"])
            if e.outcome == 201 and e.action == "Create"
        ]
        assert len(bank_writes) == 3 and {e.consent for e in bank_writes} == {bank_asks}

        # 6. Alice withdraws: at once, the bank's next write is refused.
        await w.alice.withdraw(bank_asks)
        assert (await w.alice.consent(bank_asks)).status == "ConsentWithdrawn"
        with pytest.raises(Forbidden):
            await w.bank.post(
                bank_box,
                month_of_transactions(w.pod, w.webid["bank"], 2024, 4),
                "text/turtle",
                slug="transactions-2024-04",
            )

        # 7. A grant that has ended is refused at once, before any sweeper has run.
        short = await w.bank.request_access(
            w.webid["alice"], [bank_box], "Append", DATA_RETURN, timedelta(seconds=2)
        )
        await w.alice.approve(short)
        await w.bank.post(bank_box, "<#ping> a <http://schema.org/Thing> .", slug="ping")
        await asyncio.sleep(2.1)
        with pytest.raises(Forbidden):
            await w.bank.post(bank_box, "<#late> a <http://schema.org/Thing> .", slug="late")

        # 8. Requests, decisions, withdrawal in the log too; its hash chain verifies.
        actions = {e.action for e in await w.log()}
        assert {"Offer", "Accept", "Reject", "Undo", "Create"} <= actions, actions
        check = await w.alice.verify_audit()
        assert check.ok, check.problems
        assert check.checked >= 10
