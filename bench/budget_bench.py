"""The budget app's first and second visit for a pod holding years of transactions, on our
pod server and on the peer (the Community Solid Server 7.2) in the same run.

    python bench/budget_bench.py [--months 36] [--card-payments 45] [--accounts 1]
                                 [--repeat 3] [--servers ours,ours-read,peer]

Each server runs in its own process on loopback: ours multi-user on files
(``connector_bench``'s), the peer with accounts on files (``conformance/peer``'s config,
an account made through its API). One person's ``bank/`` is filled with the connector's
documents for synthetic statements (one document per account and month). Then what the
budget page does before it is drawn, timed: find the data and read it
(``apps.budget.source``: listing, cache, SPARQL or documents, the person's categories)
and compute the page's figures and charts (``apps.budget.web.dashboard``); a first visit
has no cache in the app's folder, a second has the one the first wrote. Signed in with
the person's client credentials, so the reads are the app's without the browser. Each
round starts from no cache (it is deleted); the best of ``--repeat`` rounds is kept.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

CSS_BIN = ROOT / "bench/.peer/node_modules/@solid/community-server/bin/server.js"


@dataclass
class Visit:
    read: float  # seconds to find and read the data
    total: float  # with the page's figures
    cached: str  # documents from the cache / listed
    by_query: int  # documents answered by SPARQL


@dataclass
class Pod:
    name: str
    issuer: str
    client_id: str
    client_secret: str
    stop: object


def start_ours(work: Path) -> Pod:
    from connector_bench import start_server

    proc, made = start_server(work, 1, "")
    c = made["c00000"]
    return Pod("ours", c["issuer"], c["client_id"], c["client_secret"], proc)


def start_peer(work: Path) -> Pod | None:
    """CSS with accounts (as the conformance suite starts it), one account with a pod."""
    from bench.servers import free_port
    from conformance.peer.provision import provision

    if not CSS_BIN.is_file():
        print("peer not installed (bench/peer/install.sh): ours only", file=sys.stderr)
        return None
    port = free_port()
    base = f"http://localhost:{port}/"  # CSS takes http WebIDs on localhost only
    log = (work / "css.log").open("wb")
    argv = ["node", "--require", str(ROOT / "bench/peer/loopback.js"), str(CSS_BIN)]
    argv += ["-c", str(ROOT / "conformance/peer/css-accounts.json"), "-f", str(work / "css")]
    argv += ["-p", str(port), "-b", base, "-l", "warn"]
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(base, timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the peer did not start: see {work / 'css.log'}") from None
            time.sleep(0.3)
    c = asyncio.run(provision(base, "bench"))
    return Pod("peer (CSS 7.2)", c["issuer"], c["client_id"], c["client_secret"], proc)


async def measure(pod_info: Pod, data: Path, repeat: int) -> tuple[int, int, list[Visit]]:
    from apps.budget import source
    from apps.connector import mapping, parsers
    from client import PodClient

    async with PodClient() as pod:
        await pod.login_client_credentials(
            pod_info.issuer, pod_info.client_id, pod_info.client_secret
        )
        webid = pod.webid
        assert webid is not None
        storage = (await pod.storages(webid))[0]
        container = storage + "bank/"
        statements = [s for f in sorted(data.rglob("*.xml")) for s in parsers.parse(f)]
        prov = mapping.Provenance("https://bank.example/profile/card#me", datetime.now(UTC), "b")
        docs = mapping.bank_documents(statements, container, webid, prov)  # type: ignore[arg-type]
        gate = asyncio.Semaphore(8)

        async def put(doc: mapping.Document) -> None:
            async with gate:
                await pod.put(container + doc.name, doc.graph.serialize(format="turtle"))

        await asyncio.gather(*(put(d) for d in docs))
        records = sum(d.records for d in docs)
        best: list[Visit] = []
        done = attempts = 0
        while done < repeat and attempts < 2 * repeat:
            attempts += 1
            try:
                round_ = await one_round(pod, webid, records)
            except source.NoAccess as exc:
                # Seen under load on the peer: a transient refusal while the storage is
                # discovered makes the client settle on the server's root (reported).
                print(f"{pod_info.name}: round left out: {exc}", file=sys.stderr)
                continue
            done += 1
            if not best or round_[0].total < best[0].total:
                best[:1] = round_[:1]
            if len(best) < 2 or round_[1].total < best[1].total:
                best[1:] = round_[1:]
        if done < repeat:
            raise SystemExit(f"{pod_info.name}: only {done} of {repeat} rounds finished")
    return len(docs), records, best


async def one_round(pod: object, webid: str, records: int) -> list[Visit]:
    """A first visit (the app's cache deleted) and a second, each as a new sign-in does
    it: find the data, read it, compute the page's figures."""
    from apps.budget import source
    from apps.budget.records import apply_overrides
    from apps.budget.web import dashboard
    from client import NotFound, PodClient

    assert isinstance(pod, PodClient)
    place = await source.find(pod, webid, "bank/", "apps/budget/")
    with contextlib.suppress(NotFound):  # each round starts without the cache
        await pod.delete(place.own + "cache.json")
    visits: list[Visit] = []
    for _visit in ("first", "second"):
        started = time.monotonic()
        place = await source.find(pod, webid, "bank/", "apps/budget/")
        loaded = await source.load(pod, place)
        overrides = await source.read_overrides(pod, place)
        read = time.monotonic() - started
        txs = apply_overrides(loaded.transactions, overrides)
        dashboard(txs, None, overrides, loaded.balances)
        total = time.monotonic() - started
        assert len(loaded.transactions) == records, (len(loaded.transactions), records)
        cached = f"{loaded.from_cache}/{loaded.documents}"
        visits.append(Visit(read, total, cached, loaded.prefetched))
    return visits


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--card-payments", type=int, default=45, help="card payments a month")
    parser.add_argument("--accounts", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the best is kept")
    parser.add_argument(
        "--servers",
        default="ours,ours-read,peer",
        help="which, comma-separated: ours (SPARQL on a first visit), ours-read (no query), peer",
    )
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    from apps.connector import synthetic

    work = Path(tempfile.mkdtemp(prefix="bench-budget-"))
    synthetic.generate(
        work / "data", args.accounts, args.months, "2023-01", bank_format="camt053",
        energy=False, card_payments=args.card_payments,
    )  # fmt: skip
    results = []
    from apps.webapp import documents

    chosen = {"ours": start_ours, "ours-read": start_ours, "peer": start_peer}
    usual = documents.PREFETCH_MIN
    for name in (n.strip() for n in args.servers.split(",")):
        (work / name).mkdir()
        pod = chosen[name](work / name)
        if pod is None:
            continue
        # ours-read: no SPARQL query, every document read and parsed (as on the peer)
        documents.PREFETCH_MIN = 10**9 if name == "ours-read" else usual
        try:
            docs, records, (first, second) = asyncio.run(
                measure(pod, work / "data" / "bank", args.repeat)
            )
        finally:
            pod.stop.terminate()  # type: ignore[attr-defined]
            pod.stop.wait(10)  # type: ignore[attr-defined]
        label = "ours, documents read (no query)" if name == "ours-read" else pod.name
        results.append((label, docs, records, first, second))
    print(f"best of {args.repeat}; {args.months} months, {args.accounts} account(s)")
    print(
        "| server | documents | transactions | first visit s (read) | by query "
        "| second visit s (read) | cached |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, docs, records, first, second in results:
        print(
            f"| {name} | {docs} | {records:,} | {first.total:.2f} ({first.read:.2f}) | "
            f"{first.by_query} | {second.total:.2f} ({second.read:.2f}) | {second.cached} |"
        )
    if args.json:
        rows = [
            {"server": n, "documents": d, "transactions": r, "first": f.__dict__}
            | {"second": s.__dict__}
            for n, d, r, f, s in results
        ]
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
