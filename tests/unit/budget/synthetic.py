"""Synthetic bank data for the budget tests, made by the connector's generator and mapped
to pod documents by the connector's mapping: what a pod really holds after a push."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from rdflib import Graph

from apps.budget.records import Tx, transactions_of
from apps.connector import mapping, parsers, synthetic
from apps.connector.records import Statement

CONTAINER = "https://pod.example/alice/bank/"
HOLDER = "https://pod.example/alice/profile/card#me"
PROV = mapping.Provenance(
    "https://bank.example/profile/card#me", datetime(2024, 4, 1, tzinfo=UTC), "batch-1"
)


def source_files(root: Path, customers: int = 1, months: int = 3, fmt: str = "ofx") -> list[Path]:
    synthetic.generate(root, customers, months, first="2024-01", bank_format=fmt, energy=False)
    return sorted((root / "bank").rglob("statement-*"))


def statements(files: list[Path]) -> list[Statement]:
    return [s for f in files for s in parsers.parse(f) if isinstance(s, Statement)]


def pod_documents(files: list[Path]) -> list[mapping.Document]:
    return mapping.bank_documents(statements(files), CONTAINER, HOLDER, PROV)


def pod_transactions(files: list[Path]) -> list[Tx]:
    txs: list[Tx] = []
    for doc in pod_documents(files):
        # through Turtle, as the app reads it from the pod
        graph = Graph().parse(data=doc.graph.serialize(format="turtle"), format="turtle")
        txs += transactions_of(graph)[0]
    return txs


def direct_totals(files: list[Path]) -> dict[str, tuple[Decimal, Decimal]]:
    """(income, spending) per month, summed straight from the parsed source files."""
    out: dict[str, tuple[Decimal, Decimal]] = {}
    for stmt in statements(files):
        for t in stmt.transactions:
            month = t.booking_date.strftime("%Y-%m")
            income, spending = out.get(month, (Decimal(0), Decimal(0)))
            if t.amount >= 0:
                income += t.amount
            else:
                spending -= t.amount
            out[month] = (income, spending)
    return out
