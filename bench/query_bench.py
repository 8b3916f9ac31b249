"""Ask the pod vs crawl it: "spending per category per month" over bank statements.

    python bench/query_bench.py [--months 36] [--rounds 30] [--storage postgresql://...]

Starts our server (open access, loopback, a fresh root), writes ``--months`` monthly
statements of about 300 transactions each (vocab/bank_month.py's typical month moved to
each month), then answers two questions both ways and checks the answers agree:

* the SPARQL endpoint (``R.well-known/sparql``): one request, the server walks the pod,
  checks access on every document and runs the query in its engine process;
* a client that crawls: lists the containers, GETs every statement (8 at a time), parses
  it with rdflib and sums in Python, as apps do today.

Prints p50/p95 of each (after one cold query, which loads the engine), and the time to
write the statements (the index costs writes nothing: the engine loads documents when a
query first needs them, so write throughput with and without it is the same code path).
"""

from __future__ import annotations

import argparse
import asyncio
import calendar
import json
import re
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

import aiohttp
from rdflib import Graph, Namespace
from rdflib.namespace import RDF

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for vocab/

from servers import start_ours, wait_ready

from vocab import bank_month

T = TypeVar("T")
BANK = Namespace("https://w3id.org/solid-pods/vocab/bank#")
JSON = "application/sparql-results+json"
PER_CATEGORY_MONTH = """PREFIX bank: <https://w3id.org/solid-pods/vocab/bank#>
SELECT ?month ?category (SUM(?amount) AS ?spent) WHERE {
  ?t a bank:Transaction ; bank:bookingDate ?day ; bank:amount ?amount ; bank:category ?category .
  FILTER(?amount < 0)
  BIND(SUBSTR(STR(?day), 1, 7) AS ?month)
} GROUP BY ?month ?category"""
ENERGY_THIS_YEAR = """PREFIX bank: <https://w3id.org/solid-pods/vocab/bank#>
SELECT (SUM(?amount) AS ?spent) WHERE {
  ?t a bank:Transaction ; bank:bookingDate ?day ; bank:amount ?amount ;
     bank:category bank:Energy .
  FILTER(?amount < 0 && STRSTARTS(STR(?day), "%YEAR%"))
}"""


def month_document(pod: str, year: int, month: int) -> str:
    """The typical month moved to ``year-month`` in ``pod`` (as the consent flow test)."""
    last = calendar.monthrange(year, month)[1]
    text = bank_month.generate(seed=year * 100 + month).replace(bank_month.POD, pod)
    text = re.sub(r"@prefix tx: <[^>]*> \.", "@prefix tx: <#> .", text)

    def day(match: re.Match[str], sep: str) -> str:
        return f"{year}{sep}{month:02d}{sep}{min(int(match[1]), last):02d}"

    text = re.sub(r"2024-03-(\d\d)", lambda m: day(m, "-"), text)
    return re.sub(r"202403(\d\d)", lambda m: day(m, ""), text)


def months(count: int, last_year: int) -> list[tuple[int, int]]:
    first = last_year - (count - 1) // 12
    return [(first + i // 12, i % 12 + 1) for i in range(count)]


async def write(session: aiohttp.ClientSession, pod: str, count: int, year: int) -> float:
    started = time.perf_counter()
    for y, m in months(count, year):
        url = f"{pod}bank/{y}/{m:02d}"
        body = month_document(pod, y, m)
        async with session.put(url, data=body, headers={"Content-Type": "text/turtle"}) as r:
            assert r.status in (201, 204), (r.status, await r.text())
    return time.perf_counter() - started


async def query(session: aiohttp.ClientSession, endpoint: str, text: str) -> list[dict[str, str]]:
    async with session.get(f"{endpoint}?query={quote(text)}", headers={"Accept": JSON}) as r:
        assert r.status == 200, await r.text()
        body = json.loads(await r.read())
    return [{k: v["value"] for k, v in row.items()} for row in body["results"]["bindings"]]


async def crawl(session: aiohttp.ClientSession, pod: str) -> list[Graph]:
    """Every statement under ``pod``bank/, as a crawling client gets them."""

    async def members(container: str) -> list[str]:
        async with session.get(container, headers={"Accept": "text/turtle"}) as r:
            graph = Graph().parse(data=await r.text(), format="turtle", publicID=container)
        ldp = Namespace("http://www.w3.org/ns/ldp#")
        return sorted(str(o) for o in graph.objects(None, ldp.contains))

    gate = asyncio.Semaphore(8)

    async def fetch(url: str) -> Graph:
        async with gate, session.get(url, headers={"Accept": "text/turtle"}) as r:
            text = await r.text()
        return Graph().parse(data=text, format="turtle", publicID=url)

    documents: list[str] = []
    pending = [pod + "bank/"]
    while pending:
        for member in await members(pending.pop()):
            (pending if member.endswith("/") else documents).append(member)
    return list(await asyncio.gather(*(fetch(u) for u in documents)))


def per_category_month(graphs: list[Graph]) -> dict[tuple[str, str], Decimal]:
    spent: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for graph in graphs:
        for t in graph.subjects(RDF.type, BANK.Transaction):
            amount = Decimal(str(graph.value(t, BANK.amount)))
            if amount < 0:
                month = str(graph.value(t, BANK.bookingDate))[:7]
                spent[(month, str(graph.value(t, BANK.category)))] += amount
    return dict(spent)


def answered(found: list[dict[str, str]]) -> dict[tuple[str, str], Decimal]:
    return {(r["month"], r["category"]): Decimal(r["spent"]) for r in found}


async def timed(rounds: int, step: Callable[[], Awaitable[T]]) -> tuple[T, list[float]]:
    """The last result of ``rounds`` calls of ``step`` and each call's milliseconds."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        result = await step()
        times.append((time.perf_counter() - started) * 1000)
    return result, times


def summary(name: str, times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"{name:<34} p50 {statistics.median(ordered):8.1f} ms   p95 {p95:8.1f} ms"


async def bench(base: str, count: int, rounds: int, year: int) -> None:
    pod, endpoint = base, base + ".well-known/sparql"
    async with aiohttp.ClientSession() as session:
        seconds = await write(session, pod, count, year)
        print(f"wrote {count} statements in {seconds:.2f} s ({count / seconds:.1f} PUT/s)")
        started = time.perf_counter()
        cold = await query(session, endpoint, PER_CATEGORY_MONTH)
        cold_ms = 1000 * (time.perf_counter() - started)
        print(f"{'query, cold (engine loads the pod)':<34} {cold_ms:8.1f} ms")
        found, asked = await timed(rounds, lambda: query(session, endpoint, PER_CATEGORY_MONTH))
        graphs, crawled = await timed(max(3, rounds // 10), lambda: crawl(session, pod))
        expected = per_category_month(graphs)
        assert answered(found) == answered(cold) == expected, "the two answers differ"
        energy = ENERGY_THIS_YEAR.replace("%YEAR%", str(year))
        _, energy_times = await timed(rounds, lambda: query(session, endpoint, energy))
        transactions = sum(len(set(g.subjects(RDF.type, BANK.Transaction))) for g in graphs)
        sums = len(expected)
        print(f"{transactions} transactions in {count} documents; {sums} (month, category) sums")
        print(summary("spending per category per month", asked))
        print(summary("energy this year", energy_times))
        print(summary("crawl + rdflib + sum (client)", crawled))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--year", type=int, default=2026)
    parser.add_argument("--storage", default="", help="a postgresql:// URL (default: files)")
    args = parser.parse_args()
    server = start_ours(storage=args.storage)
    try:
        wait_ready(server)
        asyncio.run(bench(server.base_url, args.months, args.rounds, args.year))
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
