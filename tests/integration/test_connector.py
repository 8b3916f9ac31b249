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
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from rdflib import RDF, RDFS, Graph, Literal, URIRef

import vocab
from apps.commons.agent import OwnerAgent
from apps.commons.proposals import monthly_consumption_by_region
from apps.commons.shares import new_key
from apps.connector import parsers, synthetic
from apps.connector.config import CustomerRef, OrgConfig
from apps.connector.journal import Journal
from apps.connector.mapfile import load_mapping
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

# Each test runs a server, several accounts and whole pushes: more than the default minute
# on a loaded machine.
pytestmark = pytest.mark.timeout(300)

CUSTOMERS = ("alice", "bob", "carol", "dave")
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Deployment:
    clients: dict[str, PodClient]
    webid: dict[str, str]
    pod: dict[str, str]
    orgs: dict[str, OrgConfig]  # by domain

    @property
    def org(self) -> OrgConfig:
        return next(iter(self.orgs.values()))


def org_config(made: dict[str, str], domain: str, concurrency: int = 3) -> OrgConfig:
    """The connector settings of the bank (energy supplier, telecom operator...) signed in
    as ``made``; beyond bank and energy, with the example mapping file of its domain."""
    mapping = None
    if domain not in ("bank", "energy"):
        mapping = load_mapping(ROOT / "apps" / "connector" / "examples" / f"{domain}-map.toml")
    return OrgConfig(
        name=f"{domain.title()} Exemple",
        mapping=mapping,
        webid=made["webid"],
        issuer=made["issuer"],
        client_id=made["client_id"],
        client_secret=made["client_secret"],
        domain=domain,
        container=f"{domain}/",
        purpose=ENERGY_MANAGEMENT if domain == "energy" else DATA_RETURN,
        data=(TRANSACTIONS,) if domain == "bank" else (),
        note="Your data, every month",
        concurrency=concurrency,
    )


@asynccontextmanager
async def deployment(
    root: Path,
    storage: str,
    domain: str = "bank",
    customers: tuple[str, ...] = CUSTOMERS,
    domains: tuple[str, ...] = (),
) -> AsyncIterator[Deployment]:
    """A multi-user server: the ``customers`` signed in, each with a container per domain
    (``domain``, or each of ``domains``) whose members must pass that domain's shapes,
    and an organisation per domain (user ``org`` or ``org-<domain>``) with its connector
    settings."""
    domains = domains or (domain,)
    root.mkdir()
    settings, backend = deployed(storage, root, Settings(multiuser=True))
    async with running_pod(root, backend, settings) as server, AsyncExitStack() as stack:
        store, state = server.app[STORE], server.app[IDP].state  # type: ignore[index]
        clients, webid, pod, made = {}, {}, {}, {}
        org_users = {d: "org" if len(domains) == 1 else f"org-{d}" for d in domains}
        for name in (*customers, *org_users.values()):
            await add_user(store, state, name, f"{name}@example.org", PASSWORD)
            made[name] = await user_credentials(store, state, name, "connector")
            webid[name], pod[name] = made[name]["webid"], made[name]["pod"]

        async def prepare(name: str) -> None:
            client = await stack.enter_async_context(PodClient())
            await client.login_client_credentials(
                made[name]["issuer"], made[name]["client_id"], made[name]["client_secret"]
            )
            clients[name] = client
            for d in domains:
                await client.create_container(pod[name] + f"{d}/")
                await constrain(client, pod[name] + f"{d}/", d)

        await asyncio.gather(*(prepare(name) for name in customers))
        orgs = {d: org_config(made[user], d) for d, user in org_users.items()}
        yield Deployment(clients, webid, pod, orgs)


async def push(
    d: Deployment, journal: Path, data: Path, only: int = 4, regions: tuple[str, ...] = ()
) -> dict[str, Any]:
    """One run of the connector, as the organisation, for the first ``only`` customers
    (the n-th living in ``regions[n]``, when given, as the customer file says); results by
    customer name."""
    names = CUSTOMERS[:only]
    refs = [
        CustomerRef(f"C{n:06d}", d.webid[name], region=dict(enumerate(regions, 1)).get(n))
        for n, name in enumerate(names, 1)
    ]
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


def monthly_kwh(folder: Path) -> dict[str, Decimal]:
    """kWh per month of a customer's load curves, summed from the source files (by the
    local month of each interval's start, as the pod's readings are dated)."""
    totals: dict[str, Decimal] = {}
    for path in sorted(folder.glob("load-curve-*.csv")):
        for curve in parsers.parse(path):
            for at, kwh in curve.points:  # type: ignore[union-attr]
                totals[f"{at:%Y-%m}"] = totals.get(f"{at:%Y-%m}", Decimal(0)) + kwh
    return totals


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
            # Registered in her private type index (Append on it was asked and given).
            registered = await d.clients[name].type_registrations(for_class=str(BANK.Transaction))
            assert [(r.private, r.containers) for r in registered] == [(True, (container,))]

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
    """Load curves, and the home's region from the customer file: where the commons'
    agent, asking the pod's SPARQL endpoint, finds the group and the monthly totals."""
    data = tmp_path / "data"
    customers = synthetic.generate(data, 1, 2, "2024-01", energy=True)
    region = customers[0].region
    assert region is not None
    journal = tmp_path / "journal.jsonl"
    async with deployment(tmp_path / "pods", storage, "energy") as d:
        [asked] = (await push(d, journal, data, only=1)).values()
        assert asked.outcome is Outcome.PENDING
        await d.clients["alice"].approve(asked.consent)
        [done] = (await push(d, journal, data, only=1, regions=(region,))).values()
        assert done.outcome is Outcome.PUSHED and done.written == 8  # 4 parts a month
        assert done.records == (31 + 29) * 48  # every half hour of January and February 2024
        box = d.pod["alice"] + "energy/"
        prm = customers[0].prm
        for part, days in (("01-01", 8), ("01-25", 7), ("02-17", 8), ("02-25", 5)):
            graph = await d.clients["alice"].read_graph(f"{box}load-curve-{prm}-2024-{part}")
            assert vocab.validate(graph, "energy").conforms
            [curve] = graph.subjects(RDF.type, ENERGY.LoadCurve)
            assert len(list(graph.objects(curve, ENERGY.point))) == days * 48
            assert graph.value(curve, PROV.wasAttributedTo) == URIRef(d.org.webid)
        [again] = (await push(d, journal, data, only=1)).values()
        assert (again.outcome, again.written, again.already) == (Outcome.PUSHED, 0, 8)

        # The commons' agent on alice's pod: her region, once, and her months' totals.
        statistic = monthly_consumption_by_region(
            "https://ademe.example/studies/grid#study",
            "https://ademe.example/profile/card#me",
            "https://cnil.example/profile/card#me",
            "https://broker.example/profile/card#me",
            year=2024,
            regions=synthetic.REGIONS,
            broker_key=new_key("b").export_public(as_dict=True),
            authority_key=new_key("a").export_public(as_dict=True),
        ).statistic
        group, totals = await OwnerAgent(d.clients["alice"], d.pod["alice"]).totals(statistic)
        assert group == region
        assert totals == monthly_kwh(data / "energy" / customers[0].id)


def write_org_toml(org: OrgConfig, path: Path, concurrency: int) -> None:
    """``org`` as the TOML a data engineer writes, the secret in ``$ORG_SECRET``."""
    path.write_text(
        f'[organisation]\nwebid = "{org.webid}"\nissuer = "{org.issuer}"\n'
        f'client_id = "{org.client_id}"\nclient_secret_env = "ORG_SECRET"\n'
        f'[consent]\ncontainer = "{org.container}"\npurpose = "{org.purpose}"\n'
        f'[push]\ndomain = "{org.domain}"\nconcurrency = {concurrency}\n'
    )


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
        write_org_toml(d.org, org, concurrency=2)
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


def stable(graph: Graph) -> set[tuple[Any, Any, Any]]:
    """A document's triples but the run's own (its time, its batch's label), literals by
    value ("100" and "100.0" are the same xsd:decimal)."""
    return {
        (s, p, (o.toPython(), o.datatype) if isinstance(o, Literal) else o)
        for s, p, o in graph
        if p != PROV.generatedAtTime and not (p == RDFS.label and str(s).endswith("#batch"))
    }


async def test_mapped_exports_reach_the_pods(tmp_path: Path, storage: str) -> None:
    """A telecom operator, an insurer and a retailer push their documented CSV/JSON
    exports (synthetic: mobile usage, a contract and a claim, receipts) through their
    mapping files: what the pods hold is what the mapping made, valid, registered."""
    data = tmp_path / "data"
    made = synthetic.customers(2)
    synthetic.generate_other(data, made, 2)
    domains = synthetic.OTHER_DOMAINS
    async with deployment(
        tmp_path / "pods", storage, customers=("alice", "bob"), domains=domains
    ) as d:

        async def run(org: OrgConfig, journal: Path) -> Summary:
            refs = [
                CustomerRef(c.id, d.webid[n]) for c, n in zip(made, ("alice", "bob"), strict=True)
            ]
            log = Journal(journal, sync=False)
            try:
                async with PodClient() as client:
                    await client.login_client_credentials(
                        org.issuer, org.client_id, org.client_secret
                    )
                    return await Connector(client, org, log).run(
                        refs, data / org.domain, progress=False
                    )
            finally:
                log.close()

        for domain, org in d.orgs.items():
            journal = tmp_path / f"{domain}.jsonl"
            asked = await run(org, journal)
            assert asked.counts() == {"pending consent": 2}
            for r, name in zip(asked.results, ("alice", "bob"), strict=True):
                await d.clients[name].approve(r.consent)
            pushed = await run(org, journal)
            assert pushed.counts() == {"pushed": 2}, pushed.table()
            for customer, name in zip(made, ("alice", "bob"), strict=True):
                box = d.pod[name] + f"{domain}/"
                expected = Connector(None, org, None).documents(  # type: ignore[arg-type]
                    [
                        s
                        for f in sorted((data / domain / customer.id).iterdir())
                        for s in Connector(None, org, None).read(f)
                    ],  # type: ignore[arg-type]
                    box,
                    d.webid[name],
                )
                entries = sorted(e.url for e in await d.clients[name].list(box))
                assert entries == sorted(box + doc.name for doc in expected)
                for doc in expected:
                    graph = await d.clients[name].read_graph(box + doc.name)
                    assert vocab.validate(graph, domain).conforms
                    assert stable(graph) == stable(doc.graph)
                registered = await d.clients[name].type_registrations()
                assert {(r.for_class, r.private) for r in registered if box in r.containers} == {
                    (cls, True) for cls in org.registered_types
                }
            again = await run(org, journal)
            assert sum(r.written for r in again.results) == 0
