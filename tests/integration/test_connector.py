"""Issue 19's connector through a real server: a bank pushes three months of OFX
statements into its customers' pods. Alice and Dave approve, Bob never answers, Carol
refuses; re-runs add nothing (the journal, then the pod's 412, say so); Dave withdraws
and the next month is not pushed to him. An energy supplier pushes load curves. The
command line, killed with SIGKILL mid-push and run again, leaves every pod with exactly
its source transactions. Accounts and consent as in test_consent_flow, on both storages.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rdflib import RDF, Graph, URIRef

import vocab
from apps.connector import parsers, synthetic
from apps.connector.config import CustomerRef, OrgConfig
from apps.connector.journal import Journal
from apps.connector.mapping import BANK, ENERGY, PROV
from apps.connector.push import Connector, Outcome, Summary
from client import PodClient
from pod_server.http.handlers import STORE
from pod_server.idp.routes import IDP
from pod_server.pods.hosting import add_user, user_credentials
from pod_server.settings import Settings
from tests.conftest import deployed, running_pod
from tests.integration.test_consent_flow import (
    DATA_RETURN,
    ENERGY_MANAGEMENT,
    PASSWORD,
    TRANSACTIONS,
    constrain,
)

CUSTOMERS = ("alice", "bob", "carol", "dave")
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Deployment:
    clients: dict[str, PodClient]
    webid: dict[str, str]
    pod: dict[str, str]
    org: OrgConfig


@asynccontextmanager
async def deployment(root: Path, storage: str, domain: str = "bank") -> AsyncIterator[Deployment]:
    """A multi-user server: four customers signed in, each with a ``domain``/ container
    whose members must pass that domain's shapes, and the organisation's connector
    settings."""
    root.mkdir()
    settings, backend = deployed(storage, root, Settings(multiuser=True))
    async with running_pod(root, backend, settings) as server, AsyncExitStack() as stack:
        store, state = server.app[STORE], server.app[IDP].state  # type: ignore[index]
        clients, webid, pod, made = {}, {}, {}, {}
        for name in (*CUSTOMERS, "org"):
            await add_user(store, state, name, f"{name}@example.org", PASSWORD)
            made[name] = await user_credentials(store, state, name, "connector")
            webid[name], pod[name] = made[name]["webid"], made[name]["pod"]
            if name == "org":
                continue
            client = await stack.enter_async_context(PodClient())
            await client.login_client_credentials(
                made[name]["issuer"], made[name]["client_id"], made[name]["client_secret"]
            )
            clients[name] = client
            await client.create_container(pod[name] + f"{domain}/")
            await constrain(client, pod[name] + f"{domain}/", domain)
        made_org = made["org"]
        org = OrgConfig(
            name="Banque Exemple" if domain == "bank" else "Energie Exemple",
            webid=made_org["webid"],
            issuer=made_org["issuer"],
            client_id=made_org["client_id"],
            client_secret=made_org["client_secret"],
            domain=domain,
            container=f"{domain}/",
            purpose=DATA_RETURN if domain == "bank" else ENERGY_MANAGEMENT,
            data=(TRANSACTIONS,) if domain == "bank" else (),
            note="Your data, every month",
            concurrency=3,
        )
        yield Deployment(clients, webid, pod, org)


async def push(d: Deployment, journal: Path, data: Path, only: int = 4) -> dict[str, Any]:
    """One run of the connector, as the organisation, for the first ``only`` customers;
    results by customer name."""
    names = CUSTOMERS[:only]
    refs = [CustomerRef(f"C{n:06d}", d.webid[name]) for n, name in enumerate(names, 1)]
    log = Journal(journal, sync=False)
    try:
        async with PodClient() as client:
            await client.login_client_credentials(
                d.org.issuer, d.org.client_id, d.org.client_secret
            )
            summary: Summary = await Connector(client, d.org, log).run(
                refs, data / d.org.domain, progress=False
            )
    finally:
        log.close()
    return dict(zip(names, summary.results, strict=True))


def source_transactions(folder: Path) -> dict[str, int]:
    """Transactions per month in a customer's source files."""
    counts: dict[str, int] = {}
    for path in sorted(folder.iterdir()):
        for stmt in parsers.parse(path):
            for tx in stmt.transactions:  # type: ignore[union-attr]
                month = tx.booking_date.strftime("%Y-%m")
                counts[month] = counts.get(month, 0) + 1
    return counts


async def pod_transactions(owner: PodClient, container: str) -> dict[str, Graph]:
    members = [e.url for e in await owner.list(container) if "transactions-" in e.url]
    return {url: await owner.read_graph(url) for url in sorted(members)}


async def test_bank_connector_pushes_under_consent_idempotently(
    tmp_path: Path, storage: str
) -> None:
    data = tmp_path / "data"
    synthetic.generate(
        data, len(CUSTOMERS), 3, "2024-01", bank_format="ofx", energy=False, card_payments=20
    )
    journal = tmp_path / "journal.jsonl"
    async with deployment(tmp_path / "pods", storage) as d:
        # 1. The first run asks everyone; nobody has decided: nothing is written.
        first = await push(d, journal, data)
        assert {n: r.outcome for n, r in first.items()} == dict.fromkeys(CUSTOMERS, Outcome.PENDING)
        asked = {n: r.consent for n, r in first.items()}
        for name in CUSTOMERS:
            [pending] = await d.clients[name].access_requests("requested")
            assert pending.url == asked[name] and pending.recipient == d.org.webid
            assert pending.purposes == [DATA_RETURN]

        # 2. Alice and Dave approve, Carol refuses, Bob does not answer.
        for name in ("alice", "dave"):
            await d.clients[name].approve(asked[name])
        await d.clients["carol"].deny(asked["carol"])
        second = await push(d, journal, data)
        assert {n: r.outcome for n, r in second.items()} == {
            "alice": Outcome.PUSHED,
            "bob": Outcome.PENDING,
            "carol": Outcome.REFUSED,
            "dave": Outcome.PUSHED,
        }
        for n, name in enumerate(CUSTOMERS, 1):
            container = d.pod[name] + "bank/"
            written = await pod_transactions(d.clients[name], container)
            expected = source_transactions(data / "bank" / f"C{n:06d}")
            if name in ("bob", "carol"):
                assert written == {}
                continue
            assert second[name].written == 3 and second[name].records == sum(expected.values())
            per_month = {}
            for url, graph in written.items():
                assert vocab.validate(graph, "bank").conforms
                txs = set(graph.subjects(RDF.type, BANK.Transaction))
                per_month[url[-7:]] = len(txs)
                for tx in txs:  # provenance on every record
                    assert graph.value(tx, PROV.wasAttributedTo) == URIRef(d.org.webid)
                    assert graph.value(tx, PROV.generatedAtTime) is not None
                    source = graph.value(tx, PROV.wasDerivedFrom)
                    assert str(source).startswith("urn:sha256:")
                    assert str(
                        graph.value(source, URIRef("http://www.w3.org/2000/01/rdf-schema#label"))
                    ).endswith(".ofx")
            assert per_month == expected

        # 3. A re-run writes nothing and asks nobody again.
        third = await push(d, journal, data)
        assert all(r.written == 0 and r.records == 0 for r in third.values())
        assert third["alice"].already == 3 and third["alice"].outcome is Outcome.PUSHED
        assert {n: r.consent for n, r in third.items()} == asked
        for name in CUSTOMERS:
            assert len(await d.clients[name].access_requests()) == 1

        # 4. A crash after the pod took the writes but before the journal noted them:
        #    the pod answers 412 to each create, and still nothing is duplicated.
        kept = [
            line
            for line in journal.read_text().splitlines()
            if json.loads(line)["event"] != "pushed"
        ]
        journal.write_text("\n".join(kept) + "\n" + '{"event": "pushed", "customer"')  # torn
        fourth = await push(d, journal, data)
        assert fourth["alice"].outcome is Outcome.PUSHED
        assert (fourth["alice"].written, fourth["alice"].already) == (0, 3)
        assert len(await pod_transactions(d.clients["alice"], d.pod["alice"] + "bank/")) == 3

        # 5. Dave withdraws; a fourth month reaches Alice only.
        await d.clients["dave"].withdraw(asked["dave"])
        for n in (1, 4):
            customer = synthetic.customers(len(CUSTOMERS))[n - 1]
            txs, balance = synthetic.bank_month(customer, 2024, 4, card_payments=20)
            stmt = synthetic.Statement(
                Path(),
                customer.iban,
                "EUR",
                tuple(txs),
                balance=balance,
                balance_date=txs[-1].booking_date,
            )
            synthetic.write_ofx(data / "bank" / customer.id / "statement-2024-04.ofx", stmt)
        fifth = await push(d, journal, data)
        assert fifth["alice"].outcome is Outcome.PUSHED and fifth["alice"].written == 1
        assert fifth["dave"].outcome is Outcome.WITHDRAWN and fifth["dave"].written == 0
        assert len(await pod_transactions(d.clients["dave"], d.pod["dave"] + "bank/")) == 3


async def test_energy_connector_pushes_load_curves(tmp_path: Path, storage: str) -> None:
    data = tmp_path / "data"
    customers = synthetic.generate(data, 1, 2, "2024-01", energy=True)
    journal = tmp_path / "journal.jsonl"
    async with deployment(tmp_path / "pods", storage, "energy") as d:
        [asked] = (await push(d, journal, data, only=1)).values()
        assert asked.outcome is Outcome.PENDING
        await d.clients["alice"].approve(asked.consent)
        [done] = (await push(d, journal, data, only=1)).values()
        assert done.outcome is Outcome.PUSHED and done.written == 2
        assert done.records == (31 + 29) * 48  # every half hour of January and February 2024
        box = d.pod["alice"] + "energy/"
        prm = customers[0].prm
        for month, days in (("01", 31), ("02", 29)):
            graph = await d.clients["alice"].read_graph(f"{box}load-curve-{prm}-2024-{month}")
            assert vocab.validate(graph, "energy").conforms
            [curve] = graph.subjects(RDF.type, ENERGY.LoadCurve)
            assert len(list(graph.objects(curve, ENERGY.point))) == days * 48
            assert graph.value(curve, PROV.wasAttributedTo) == URIRef(d.org.webid)
        [again] = (await push(d, journal, data, only=1)).values()
        assert (again.outcome, again.written, again.already) == (Outcome.PUSHED, 0, 2)


async def run_cli(args: list[str], secret: str) -> asyncio.subprocess.Process:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ORG_SECRET": secret}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "apps.connector",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_killed_connector_resumes_without_duplicates(tmp_path: Path, storage: str) -> None:
    """The command line, killed (SIGKILL) in the middle of a push, then run again: every
    pod ends with exactly the transactions of its source files."""
    data = tmp_path / "data"
    synthetic.generate(data, 2, 6, "2024-01", energy=False, card_payments=20)
    async with deployment(tmp_path / "pods", storage) as d:
        org = tmp_path / "bank.toml"
        org.write_text(
            f'[organisation]\nwebid = "{d.org.webid}"\nissuer = "{d.org.issuer}"\n'
            f'client_id = "{d.org.client_id}"\nclient_secret_env = "ORG_SECRET"\n'
            f'[consent]\ncontainer = "bank/"\npurpose = "{DATA_RETURN}"\n'
            '[push]\ndomain = "bank"\nconcurrency = 2\n'
        )
        customers = tmp_path / "customers.csv"
        customers.write_text(
            f"customer_id,webid\nC000001,{d.webid['alice']}\nC000002,{d.webid['bob']}\n"
        )
        journal, report = tmp_path / "journal.jsonl", tmp_path / "report.json"
        argv = [
            "push",
            "--org",
            str(org),
            "--input",
            str(data / "bank"),
            "--quiet",
            "--customers",
            str(customers),
            "--journal",
            str(journal),
            "--report",
            str(report),
        ]
        first = await run_cli(argv, d.org.client_secret)
        out, err = await first.communicate()
        assert first.returncode == 0, err.decode()
        assert "pending consent  2" in out.decode()
        for name in ("alice", "bob"):
            [asked] = await d.clients[name].access_requests("requested")
            await d.clients[name].approve(asked.url)

        killed = await run_cli(argv, d.org.client_secret)
        while killed.returncode is None and '"pushed"' not in (
            journal.read_text() if journal.exists() else ""
        ):
            await asyncio.sleep(0.01)
        killed.send_signal(signal.SIGKILL)
        await killed.communicate()
        done_before = journal.read_text().count('"pushed"')
        assert 1 <= done_before < 12, "the connector was not stopped midway"

        last = await run_cli(argv, d.org.client_secret)
        out, err = await last.communicate()
        assert last.returncode == 0, err.decode()
        assert "pushed           2" in out.decode(), out.decode()
        outcomes = {c["customer"]: c for c in json.loads(report.read_text())["customers"]}
        assert sum(c["written"] + c["already"] for c in outcomes.values()) == 12
        for n, name in enumerate(("alice", "bob"), 1):
            written = await pod_transactions(d.clients[name], d.pod[name] + "bank/")
            per_month = {
                url[-7:]: len(set(g.subjects(RDF.type, BANK.Transaction)))
                for url, g in written.items()
            }
            assert per_month == source_transactions(data / "bank" / f"C{n:06d}")
