"""Bank transactions read from RDF through the bank vocabulary, as plain values.

Only ``vocab`` terms are used: a ``bank:Transaction`` with ``bank:bookingDate``,
``bank:amount`` and ``bank:account`` (whose ``bank:iban`` names the account); label,
counterparty, category and ``bank:balanceAfter`` when present. A node missing a date or an
amount is skipped and counted, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from rdflib import RDF, Graph, URIRef

from vocab.namespaces import BANK

UNCATEGORISED = "Uncategorised"


@dataclass(frozen=True, slots=True)
class Tx:
    """One booked transaction (amount negative for spending)."""

    id: str  # the transaction's IRI in the pod
    account: str  # IBAN when given, else the account's IRI
    booked: date
    amount: Decimal
    label: str = ""
    counterparty: str = ""
    category: str = UNCATEGORISED  # a bank:Categories local name
    balance_after: Decimal | None = None

    @property
    def month(self) -> str:
        return f"{self.booked.year:04d}-{self.booked.month:02d}"  # strftime is 5x slower

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "account": self.account,
            "booked": self.booked.isoformat(),
            "amount": str(self.amount),
            "label": self.label,
            "counterparty": self.counterparty,
            "category": self.category,
            "balance_after": None if self.balance_after is None else str(self.balance_after),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Tx:
        after = data.get("balance_after")
        return cls(
            id=str(data["id"]),
            account=str(data["account"]),
            booked=date.fromisoformat(data["booked"]),
            amount=Decimal(data["amount"]),
            label=str(data.get("label") or ""),
            counterparty=str(data.get("counterparty") or ""),
            category=str(data.get("category") or UNCATEGORISED),
            balance_after=None if after is None else Decimal(after),
        )


@dataclass(frozen=True, slots=True)
class Balance:
    """An account's balance on a day, as the bank stated it (``bank:balance``)."""

    account: str
    day: date
    amount: Decimal


def balances_of(graph: Graph) -> list[Balance]:
    """Stated balances of the accounts described in ``graph`` (those with a date)."""
    found = []
    for node, amount in graph.subject_objects(BANK.balance):
        day, value = graph.value(node, BANK.balanceDate), _decimal(amount)
        if day is None or value is None:
            continue
        try:
            when = date.fromisoformat(str(day)[:10])
        except ValueError:
            continue
        found.append(Balance(str(graph.value(node, BANK.iban) or node), when, value))
    return sorted(found, key=lambda b: (b.day, b.account))


def category_label(name: str) -> str:
    """How a person reads a category's local name: 'PublicTransport' -> 'Public transport'."""
    words = re.findall(r"[A-Z][a-z]*|[a-z]+|\d+", name) or [name]
    return " ".join([words[0], *(w.lower() for w in words[1:])])


def local_name(iri: str) -> str:
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def make_tx(node: Any, values: Mapping[str, Any]) -> Tx | None:
    """A transaction from the values of its properties (``date``, ``amount``, ``label``,
    ``counterparty``, ``category``, ``after``, ``iban``, ``account``), from a graph or a
    query row alike; None without a usable date or amount."""
    booked, amount = values.get("date"), _decimal(values.get("amount"))
    try:
        day = date.fromisoformat(str(booked)[:10]) if booked is not None else None
    except ValueError:
        day = None
    if day is None or amount is None:
        return None
    category = values.get("category")
    return Tx(
        id=str(node),
        account=str(values.get("iban") or values.get("account") or ""),
        booked=day,
        amount=amount,
        label=str(values.get("label") or ""),
        counterparty=str(values.get("counterparty") or ""),
        category=local_name(str(category)) if category is not None else UNCATEGORISED,
        balance_after=_decimal(values.get("after")),
    )


def transactions_of(graph: Graph) -> tuple[list[Tx], int]:
    """The transactions in ``graph`` and how many ``bank:Transaction`` nodes were skipped
    for lacking a usable date or amount."""
    found: list[Tx] = []
    skipped = 0
    for node in sorted(set(graph.subjects(RDF.type, BANK.Transaction)), key=str):
        account = graph.value(node, BANK.account)
        values = {
            "date": graph.value(node, BANK.bookingDate),
            "amount": graph.value(node, BANK.amount),
            "label": graph.value(node, BANK.label),
            "counterparty": graph.value(node, BANK.counterpartyName),
            "category": graph.value(node, BANK.category),
            "after": graph.value(node, BANK.balanceAfter),
            "account": account,
            "iban": graph.value(account, BANK.iban) if account is not None else None,
        }
        tx = make_tx(node, values)
        if tx is None:
            skipped += 1
        else:
            found.append(tx)
    return found, skipped


def overrides_of(graph: Graph) -> dict[str, str]:
    """Re-categorisations kept in the app's own document: ``<tx> bank:category bank:X``."""
    return {
        str(s): local_name(str(o))
        for s, o in graph.subject_objects(BANK.category)
        if isinstance(o, URIRef)
    }


def overrides_graph(overrides: dict[str, str]) -> Graph:
    graph = Graph()
    graph.bind("bank", BANK)
    for tx, category in sorted(overrides.items()):
        graph.add((URIRef(tx), BANK.category, BANK[category]))
    return graph


def apply_overrides(txs: list[Tx], overrides: dict[str, str]) -> list[Tx]:
    """The person's categories win over the bank's, on copies (the bank's stay as read)."""
    return [replace(t, category=overrides[t.id]) if t.id in overrides else t for t in txs]


# bank:Categories members an app may pick when re-categorising (checked against the vocab
# in tests/unit/apps/test_budget_records.py).
CATEGORIES = (
    "Income", "Salary", "SocialBenefits", "Housing", "Rent", "Energy", "Food", "Groceries",
    "Restaurants", "Transport", "Fuel", "PublicTransport", "Health", "Leisure", "Shopping",
    "Subscriptions", "Telecom", "Insurance", "Taxes", "BankingFees", "LoanRepayment",
    "Savings", "Cash", "InternalTransfer", "Uncategorised",
)  # fmt: skip
