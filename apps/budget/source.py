"""The person's bank data: found (type index, else the declared ``bank/``) and read
through ``apps.webapp.documents`` (cached per document in the app's own folder); the
person's own categories kept in ``categories.ttl`` there."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from rdflib import Graph

from apps.budget.records import (
    Balance,
    Tx,
    balances_of,
    make_tx,
    overrides_graph,
    overrides_of,
    transactions_of,
)
from apps.webapp.documents import NoAccess, Place, Prefetch, Progress, locate, read_cached
from client import Forbidden, NotFound, PodClient, PodClientError, Unauthorized
from vocab.namespaces import BANK

CACHE_VERSION = 2
OVERRIDES = "categories.ttl"  # the person's own categories, in the app's folder
WHAT = "bank transactions"  # as the consent page names them: “Your bank transactions”
__all__ = [
    "NoAccess",
    "Place",
    "find",
    "load",
    "read_overrides",
    "register_overrides",
    "save_override",
]


@dataclass
class Loaded:
    transactions: list[Tx]
    documents: int
    from_cache: int  # documents whose transactions came from the cache
    prefetched: int = 0  # documents answered by a SPARQL query
    skipped: int = 0  # transaction nodes without date or amount
    refused: list[str] = field(default_factory=list)  # documents the app may not read
    seconds: float = 0.0
    cache_saved: bool = False
    balances: list[Balance] = field(default_factory=list)  # as the bank stated them


async def find(pod: PodClient, webid: str, bank_path: str, own_path: str) -> Place:
    return await locate(pod, webid, str(BANK.Transaction), bank_path, own_path)


def extract(graph: Graph) -> dict[str, Any]:
    """What the cache keeps of one bank document (plain JSON)."""
    txs, skipped = transactions_of(graph)
    return {
        "txs": [t.to_json() for t in txs],
        "skipped": skipped,
        "balances": [[b.account, b.day.isoformat(), str(b.amount)] for b in balances_of(graph)],
    }


async def load(pod: PodClient, place: Place, progress: Progress | None = None) -> Loaded:
    progress = progress or Progress()
    prefetch = prefetcher(pod, place, progress)
    read = await read_cached(
        pod, place, WHAT, "cache.json", CACHE_VERSION, extract, prefetch, progress
    )
    result = Loaded([], read.count, read.from_cache, read.prefetched, refused=read.refused)
    for doc in read.documents.values():
        result.transactions += [Tx.from_json(t) for t in doc["txs"]]
        result.skipped += int(doc.get("skipped", 0))
        for account, day, amount in doc["balances"]:
            result.balances.append(Balance(account, date.fromisoformat(day), Decimal(amount)))
    result.transactions.sort(key=lambda t: (t.booked, t.id))
    result.seconds, result.cache_saved = read.seconds, read.cache_saved
    return result


async def read_overrides(pod: PodClient, place: Place) -> dict[str, str]:
    try:
        return overrides_of(await pod.read_graph(place.own + OVERRIDES))
    except (NotFound, Forbidden, Unauthorized):
        return {}


async def save_override(pod: PodClient, place: Place, tx: str, category: str) -> None:
    """Record the person's category for ``tx`` in the app's own document (a read, then a
    patch with ``If-Match`` on what was read: another tab's change is not lost)."""
    url = place.own + OVERRIDES
    try:
        current = overrides_of(await pod.read_graph(url))
    except NotFound:
        current = {}
    current[tx] = category
    await pod.save_graph(url, overrides_graph(current))


async def register_overrides(pod: PodClient, webid: str, place: Place) -> bool:
    """List the person's categories in their private type index (``solid:instance``, for
    ``bank:Transaction``: the document says things about transactions), by an insert-only
    patch: Append is all the app asks for there. False when the person did not allow it
    or the profile names no private index (the categories are saved all the same)."""
    try:
        await pod.register_type(
            str(BANK.Transaction), place.own + OVERRIDES, private=True, webid=webid
        )
    except Unauthorized:
        raise
    except (Forbidden, NotFound):
        return False
    return True


QUERY_DOCUMENTS = 12  # documents per query: the pod refuses results over 16 MB


def _graphs(urls: list[str]) -> str:
    return "VALUES ?g { " + " ".join(f"<{u}>" for u in urls) + " }"


def _query(urls: list[str]) -> str:
    # One row per transaction of each of these documents (a named graph each).
    return f"""PREFIX bank: <{BANK}>
SELECT ?g ?tx ?date ?amount ?label ?counterparty ?category ?after ?account ?iban WHERE {{
  {_graphs(urls)}
  GRAPH ?g {{
    ?tx a bank:Transaction .
    OPTIONAL {{ ?tx bank:bookingDate ?date }}
    OPTIONAL {{ ?tx bank:amount ?amount }}
    OPTIONAL {{ ?tx bank:label ?label }}
    OPTIONAL {{ ?tx bank:counterpartyName ?counterparty }}
    OPTIONAL {{ ?tx bank:category ?category }}
    OPTIONAL {{ ?tx bank:balanceAfter ?after }}
    OPTIONAL {{ ?tx bank:account ?account . OPTIONAL {{ ?account bank:iban ?iban }} }}
  }}
}}"""


def _balances_query(urls: list[str]) -> str:
    return f"""PREFIX bank: <{BANK}>
SELECT ?g ?account ?iban ?balance ?day WHERE {{
  {_graphs(urls)}
  GRAPH ?g {{
    ?account bank:balance ?balance; bank:balanceDate ?day .
    OPTIONAL {{ ?account bank:iban ?iban }}
  }}
}}"""


def documents_of_rows(
    rows: list[dict[str, Any]], balance_rows: list[dict[str, Any]], wanted: set[str]
) -> dict[str, dict[str, Any]]:
    """Query rows -> what ``extract`` makes of each wanted document (the same shape), a
    transaction once however many rows its repeated values gave."""
    docs: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    for row in rows:
        url, node = str(row.get("g", "")), row.get("tx")
        if url not in wanted or node is None:
            continue
        doc = docs.setdefault(url, {"txs": [], "skipped": 0, "balances": []})
        if str(node) in seen:
            continue
        seen.add(str(node))
        tx = make_tx(node, row)
        if tx is None:
            doc["skipped"] += 1
        else:
            doc["txs"].append(tx.to_json())
    for row in balance_rows:
        url = str(row.get("g", ""))
        if url in docs:
            account = str(row.get("iban") or row.get("account"))
            day = str(row.get("day"))[:10]
            docs[url]["balances"].append([account, day, str(row.get("balance"))])
    for doc in docs.values():
        doc["txs"].sort(key=lambda t: t["id"])
        doc["balances"].sort()
    return docs


def prefetcher(pod: PodClient, place: Place, progress: Progress) -> Prefetch:
    """Many documents by queries at the pod's SPARQL endpoint (two per twelve documents:
    paged, so no answer is too large), instead of one read and one parse each. A page the
    endpoint refuses is left to the document reads."""

    async def prefetch(urls: list[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for n in range(0, len(urls), QUERY_DOCUMENTS):
            page = urls[n : n + QUERY_DOCUMENTS]
            try:
                rows = (await pod.query(_query(page), storage=place.storage)).rows
                balances = (await pod.query(_balances_query(page), storage=place.storage)).rows
            except PodClientError:
                continue
            answered = documents_of_rows(rows, balances, set(page))
            progress.done += len(answered)
            found |= answered
        return found

    return prefetch
