"""The budget app's first and second visit for a pod holding years of transactions.

    python bench/budget_bench.py [--months 36] [--card-payments 45] [--accounts 1]

A pod server (multi-user, files) runs in its own process (``connector_bench``'s); one
person's ``bank/`` is filled with the connector's documents for synthetic statements
(one document per account and month). Then what the budget page does, timed:
read the data (``apps.budget.source.load``: listing, cache, documents) and compute the
page's figures and charts (``apps.budget.web.dashboard``), on a first visit (no cache in
the app's folder) and a second (cache written by the first). Signed in with the person's
client credentials, so the reads are the app's without the browser. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))


async def bench(args: argparse.Namespace) -> int:
    from connector_bench import start_server

    from apps.budget import source
    from apps.budget.records import apply_overrides
    from apps.budget.web import dashboard
    from apps.connector import mapping, parsers, synthetic
    from client import PodClient

    work = Path(tempfile.mkdtemp(prefix="bench-budget-"))
    synthetic.generate(
        work / "data", args.accounts, args.months, "2023-01", bank_format="camt053",
        energy=False, card_payments=args.card_payments,
    )  # fmt: skip
    proc, made = await asyncio.to_thread(start_server, work, 1, "")
    try:
        c = made["c00000"]
        pod = PodClient()
        await pod.login_client_credentials(c["issuer"], c["client_id"], c["client_secret"])
        container, webid = c["pod"] + "bank/", pod.webid
        assert webid is not None
        files = sorted((work / "data" / "bank").rglob("*.xml"))
        statements = [s for f in files for s in parsers.parse(f)]
        prov = mapping.Provenance(made["bank"]["webid"], datetime.now(UTC), "bench")
        docs = mapping.bank_documents(statements, container, webid, prov)  # type: ignore[arg-type]
        gate = asyncio.Semaphore(8)

        async def put(doc: mapping.Document) -> None:
            async with gate:
                await pod.put(container + doc.name, doc.graph.serialize(format="turtle"))

        await asyncio.gather(*(put(d) for d in docs))
        records = sum(d.records for d in docs)
        print(f"{len(docs)} documents, {records} transactions in {container}")
        print("| visit | read s | cached docs | by query | page figures s | total s |")
        print("| --- | --- | --- | --- | --- | --- |")
        place = await source.find(pod, webid, "bank/", "apps/budget/")
        for visit in ("first", "second"):
            started = time.monotonic()
            loaded = await source.load(pod, place)
            overrides = await source.read_overrides(pod, place)
            read = time.monotonic() - started
            txs = apply_overrides(loaded.transactions, overrides)
            dashboard(txs, None, overrides, loaded.balances)
            total = time.monotonic() - started
            assert len(loaded.transactions) == records, (len(loaded.transactions), records)
            cached = f"{loaded.from_cache}/{loaded.documents}"
            figures = f"{total - read:.2f} | {total:.2f}"
            print(f"| {visit} | {read:.2f} | {cached} | {loaded.prefetched} | {figures} |")
        await pod.aclose()
    finally:
        proc.terminate()
        proc.wait(10)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--card-payments", type=int, default=45, help="card payments a month")
    parser.add_argument("--accounts", type=int, default=1)
    return asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
