"""Issue 19's end-to-end run: a bank and an energy supplier push three months for twenty
synthetic customers into twenty pods on one server, through the command line.

Two customers refuse; the others approve while the connectors wait (woken by their
inboxes). The bank's connector is killed (SIGKILL) midway and run again; a re-run adds
nothing; one customer withdraws, and the third month reaches everyone else. At the end
every pod holds exactly the records of its source files for the months it consented to
(counted per month and per pod), every document passes its domain's shapes, and each
container is registered in the customer's private type index.
"""

from __future__ import annotations

import asyncio
import json
import re
import resource
import shutil
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from rdflib import RDF

import vocab
from apps.connector import parsers, synthetic
from apps.connector.mapping import BANK, ENERGY
from apps.connector.records import LoadCurve, Statement
from client import PodClient
from tests.integration.test_connector import Deployment, deployment, run_cli, write_org_toml

COUNT, MONTHS = 20, 3
IDS = tuple(f"C{n:06d}" for n in range(1, COUNT + 1))
NAMES = {cid: cid.lower() for cid in IDS}
REFUSE = {"C000004", "C000013"}
WITHDRAWS = "C000009"
DOMAINS = ("bank", "energy")
RECORD_TYPE = {"bank": BANK.Transaction, "energy": ENERGY.LoadCurvePoint}
PER_MONTH = {"bank": 1, "energy": 4}  # documents: a statement; a load curve in 4 parts


def source_counts(folder: Path) -> dict[str, int]:
    """Records per month (``YYYY-MM``) in a customer's source files, as the connector
    groups them: transactions by booking date, load-curve points by interval start."""
    counts: dict[str, int] = {}
    for path in sorted(folder.iterdir()):
        for source in parsers.parse(path):
            if isinstance(source, Statement):
                months = [t.booking_date.strftime("%Y-%m") for t in source.transactions]
            else:
                assert isinstance(source, LoadCurve)
                months = [at.strftime("%Y-%m") for at, _ in source.points]
            for month in months:
                counts[month] = counts.get(month, 0) + 1
    return counts


async def pod_counts(
    owner: PodClient, container: str, domain: str, validate: bool
) -> dict[str, int]:
    """Records per month in the documents of ``container``, each checked against the
    domain's shapes on the way when ``validate``."""
    counts: dict[str, int] = {}
    for entry in await owner.list(container):
        graph = await owner.read_graph(entry.url)
        if validate:
            report = vocab.validate(graph, domain)
            assert report.conforms, f"{entry.url}: {report.summary()}"
        month = re.search(r"(\d{4}-\d{2})(-\d{2})?$", entry.url)
        assert month is not None, entry.url
        found = len(set(graph.subjects(RDF.type, RECORD_TYPE[domain])))
        counts[month[1]] = counts.get(month[1], 0) + found
    return counts


def argv(tmp: Path, data: Path, domain: str, wait: float = 0.0) -> list[str]:
    return [
        "push",
        "--org",
        str(tmp / f"{domain}.toml"),
        "--input",
        str(data / domain),
        "--customers",
        str(tmp / "customers.csv"),
        "--journal",
        str(tmp / f"{domain}-journal.jsonl"),
        "--report",
        str(tmp / f"{domain}-report.json"),
        "--quiet",
        "--wait",
        str(wait),
        "--poll",
        "60",
    ]


async def push_all(tmp: Path, data: Path, d: Deployment, wait: float = 0.0) -> dict[str, Any]:
    """Both connectors at once, to the end; their reports by domain."""
    procs = {
        domain: await run_cli(argv(tmp, data, domain, wait), d.orgs[domain].client_secret)
        for domain in DOMAINS
    }
    reports = {}
    for domain, proc in procs.items():
        out, err = await proc.communicate()
        assert proc.returncode == 0, (domain, out.decode(), err.decode())
        reports[domain] = json.loads((tmp / f"{domain}-report.json").read_text())
    return reports


def outcomes(report: dict[str, Any]) -> dict[str, str]:
    return {c["customer"]: c["outcome"] for c in report["customers"]}


async def decide(d: Deployment) -> None:
    """Each customer, once both organisations have asked, approves or refuses both."""

    async def one(cid: str) -> None:
        client = d.clients[NAMES[cid]]
        pending = await client.access_requests("requested")
        while len(pending) < len(DOMAINS):
            await asyncio.sleep(0.5)
            pending = await client.access_requests("requested")
        for record in pending:
            await (client.deny(record.url) if cid in REFUSE else client.approve(record.url))

    await asyncio.gather(*(one(cid) for cid in IDS))


async def check_pods(
    d: Deployment,
    data: Path,
    months: dict[str, set[str]],
    validate: bool = False,
    domains: tuple[str, ...] = DOMAINS,
) -> None:
    """Every pod holds exactly its source records for the months in ``months[cid]``
    (and, when ``validate``, every document passes its shapes)."""
    for cid in IDS:
        name = NAMES[cid]
        for domain in domains:
            container = d.pod[name] + f"{domain}/"
            found = await pod_counts(d.clients[name], container, domain, validate)
            source = source_counts(data / domain / cid)
            expected = {m: n for m, n in source.items() if m in months[cid]}
            assert found == expected, (cid, domain)


# A few minutes of CPU (printed with -s); on a machine shared with other loads, much longer.
# On files only: the connector stores nothing new on the server, and test_connector.py runs
# its pushes (consent, resume, registration, every domain) on both storages.
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("storage", ["file"])
async def test_bank_and_energy_push_three_months_to_twenty_pods(
    tmp_path: Path, storage: str
) -> None:
    started = time.monotonic()

    def step(text: str) -> None:  # shown with -s: where the time goes, and the CPU spent
        own = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # the connectors run so far
        cpu = own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
        print(f"{time.monotonic() - started:6.1f} s  {cpu:6.1f} s CPU  {text}", flush=True)

    data, held = tmp_path / "data", tmp_path / "held-back"
    synthetic.generate(data, COUNT, MONTHS, "2024-01", bank_format="camt053", card_payments=20)
    # The third month arrives later: held back until after the withdrawal.
    for path in sorted(data.glob("*/*/*2024-03*")):
        target = held / path.relative_to(data)
        target.parent.mkdir(parents=True, exist_ok=True)
        path.rename(target)

    async with deployment(
        tmp_path / "pods", storage, customers=tuple(NAMES.values()), domains=DOMAINS
    ) as d:
        for domain, org in d.orgs.items():
            write_org_toml(org, tmp_path / f"{domain}.toml", concurrency=4)
        (tmp_path / "customers.csv").write_text(
            "customer_id,webid\n" + "".join(f"{c},{d.webid[NAMES[c]]}\n" for c in IDS)
        )

        step("set up")
        # 1. Both connectors ask everyone and wait; the customers decide meanwhile. The
        #    bank's connector is killed (SIGKILL) midway through its writes.
        bank_journal = tmp_path / "bank-journal.jsonl"
        bank = await run_cli(argv(tmp_path, data, "bank", 300), d.orgs["bank"].client_secret)
        energy = await run_cli(argv(tmp_path, data, "energy", 300), d.orgs["energy"].client_secret)
        deciding = asyncio.create_task(decide(d))
        while bank.returncode is None and (
            not bank_journal.exists() or bank_journal.read_text().count('"pushed"') < 4
        ):
            await asyncio.sleep(0.05)
        bank.send_signal(signal.SIGKILL)
        await bank.communicate()
        await deciding
        written_before = bank_journal.read_text().count('"pushed"')
        accepted = COUNT - len(REFUSE)
        assert 4 <= written_before < accepted * 2, "the bank connector was not stopped midway"
        out, err = await energy.communicate()
        assert energy.returncode == 0, (out.decode(), err.decode())
        energy_report = json.loads((tmp_path / "energy-report.json").read_text())
        assert energy_report["notified"] >= 1  # decisions heard from the inbox, not polled

        step("killed and energy done")
        # 2. The bank's connector again: it finishes the job, nothing written twice.
        reports = await push_all(tmp_path, data, d)
        reports["energy"] = energy_report
        for domain in DOMAINS:
            assert outcomes(reports[domain]) == {
                cid: "refused" if cid in REFUSE else "pushed" for cid in IDS
            }
        resumed = reports["bank"]["customers"]
        # The journalled writes are skipped; what the killed run sent but had not yet
        # journalled (at most one per connection) is found in the pod (412).
        assert sum(c["written"] + c["already"] for c in resumed) == accepted * 2
        left = accepted * 2 - written_before
        assert left - 4 <= sum(c["written"] for c in resumed) <= left
        first_two = {"2024-01", "2024-02"}
        # The killed connector's pods now (the energy supplier's are counted at the end).
        await check_pods(
            d, data, {c: set() if c in REFUSE else first_two for c in IDS}, domains=("bank",)
        )
        for cid in IDS:  # each container in the customer's private type index, once
            client = d.clients[NAMES[cid]]
            registered = {
                (r.private, r.containers)
                for cls in (BANK.Transaction, ENERGY.LoadCurve)
                for r in await client.type_registrations(for_class=str(cls))
            }
            boxes = {(True, (d.pod[NAMES[cid]] + f"{x}/",)) for x in DOMAINS}
            assert registered == (set() if cid in REFUSE else boxes), cid

        step("resumed and checked")
        # 3. A re-run adds nothing.
        again = await push_all(tmp_path, data, d)
        for domain in DOMAINS:
            assert all(c["written"] == 0 and c["records"] == 0 for c in again[domain]["customers"])
            assert sum(c["already"] for c in again[domain]["customers"]) == (
                accepted * 2 * PER_MONTH[domain]
            )

        step("re-run")
        # 4. One customer withdraws both consents; the third month arrives.
        client = d.clients[NAMES[WITHDRAWS]]
        for record in await client.access_requests("given"):
            await client.withdraw(record.url)
        shutil.copytree(held, data, dirs_exist_ok=True)
        last = await push_all(tmp_path, data, d)
        for domain in DOMAINS:
            assert outcomes(last[domain]) == {
                cid: "refused" if cid in REFUSE else "withdrawn" if cid == WITHDRAWS else "pushed"
                for cid in IDS
            }
            assert sum(c["written"] for c in last[domain]["customers"]) == (
                (accepted - 1) * PER_MONTH[domain]
            )
        months = {
            cid: set()
            if cid in REFUSE
            else first_two
            if cid == WITHDRAWS
            else first_two | {"2024-03"}
            for cid in IDS
        }
        step("third month pushed")
        await check_pods(d, data, months, validate=True)  # every accepted record validates
        step("checked")
