"""What the parsers read, before any RDF: bank statements and electricity load curves.

Plain values (``Decimal`` amounts, ``date``/``datetime``), each with the source's own
identifier so the IRIs made from it are stable across re-runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path


class SourceError(ValueError):
    """A source file that cannot be read as its format: names the file and, when known,
    the line."""

    def __init__(self, path: Path | str, message: str, line: int | None = None) -> None:
        self.path, self.line, self.reason = str(path), line, message
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Transaction:
    """One booked movement of an account; ``id`` is the source's own (FITID,
    AcctSvcrRef, a CSV column), unique within the account."""

    id: str
    booking_date: date
    amount: Decimal
    currency: str
    label: str
    value_date: date | None = None
    counterparty_name: str | None = None
    counterparty_iban: str | None = None
    reference: str | None = None
    kind: str | None = None  # a bank:transactionType local name, e.g. "CardPayment"
    balance_after: Decimal | None = None


@dataclass(frozen=True)
class Statement:
    """An account's transactions from one source file, with its closing balance."""

    source: Path
    iban: str
    currency: str
    transactions: tuple[Transaction, ...]
    bic: str | None = None
    account_name: str | None = None
    balance: Decimal | None = None
    balance_date: date | None = None


@dataclass(frozen=True)
class LoadCurve:
    """Consumption of one delivery point (PRM), one value per interval; ``points`` are
    (interval start, kWh)."""

    source: Path
    prm: str
    step: timedelta
    points: tuple[tuple[datetime, Decimal], ...] = field(default=())

    @property
    def start(self) -> datetime:
        return self.points[0][0]

    @property
    def end(self) -> datetime:
        return self.points[-1][0] + self.step


Source = Statement | LoadCurve
