"""What the budget page shows, computed from plain transactions (no HTTP, no RDF).

Spending is the sum of negative amounts (shown positive), income the sum of positive ones.
Transfers between the person's own accounts (``InternalTransfer``) are neither; the
bank's other categories, savings included, are kept as the bank filed them.
"""

from __future__ import annotations

import csv
import io
import re
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from apps.budget.records import Balance, Tx

ZERO = Decimal("0.00")
NEUTRAL = frozenset({"InternalTransfer"})


@dataclass(frozen=True, slots=True)
class MonthTotals:
    month: str
    income: Decimal
    spending: Decimal  # positive

    @property
    def net(self) -> Decimal:
        return self.income - self.spending


@dataclass(frozen=True, slots=True)
class Recurring:
    key: str  # the normalised payee
    label: str  # how the bank last labelled it
    amount: Decimal  # typical (median) amount, positive for spending
    months: int  # in how many distinct months it was paid
    day: int  # typical day of the month


@dataclass(frozen=True, slots=True)
class Unusual:
    tx: Tx
    typical: Decimal  # the category's median spending per transaction


def months_of(txs: Iterable[Tx]) -> list[str]:
    return sorted({t.month for t in txs})


def missing_months(months: Sequence[str]) -> list[str]:
    """The months between the first and the last of ``months`` (YYYY-MM, sorted) that have
    no transactions: a statement the bank did not send, or one the app may not read."""
    if not months:
        return []
    year, month = (int(p) for p in months[0].split("-"))
    present, gaps = set(months), []
    while f"{year:04d}-{month:02d}" < months[-1]:
        if f"{year:04d}-{month:02d}" not in present:
            gaps.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return gaps


def monthly_totals(txs: Iterable[Tx]) -> list[MonthTotals]:
    """Income and spending per month (months without transactions are absent)."""
    income: dict[str, Decimal] = defaultdict(lambda: ZERO)
    spending: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for t in txs:
        if t.category in NEUTRAL:
            continue
        if t.amount >= 0:
            income[t.month] += t.amount
        else:
            spending[t.month] -= t.amount
    return [MonthTotals(m, income[m], spending[m]) for m in sorted(set(income) | set(spending))]


def spending_by_category(txs: Iterable[Tx], month: str | None = None) -> list[tuple[str, Decimal]]:
    """Spending per category (largest first) in ``month``, or over everything."""
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for t in txs:
        if t.amount < 0 and t.category not in NEUTRAL and (month is None or t.month == month):
            totals[t.category] -= t.amount
    return sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))


def balance_series(txs: Iterable[Tx], stated: Iterable[Balance] = ()) -> list[tuple[date, Decimal]]:
    """The sum over accounts of each account's last known balance, day by day: from
    ``bank:balanceAfter`` on transactions and the balances the bank stated (which win on
    their day); a day appears when some account's balance is known then."""
    last_of_day: dict[tuple[str, date], tuple[str, Decimal]] = {}
    for b in stated:
        last_of_day[(b.account, b.day)] = ("\uffff", b.amount)  # sorts after any tx id
    for t in txs:
        if t.balance_after is None:
            continue
        key = (t.account, t.booked)
        # within a day the bank's order is the transaction id's; keep the last
        if key not in last_of_day or last_of_day[key][0] <= t.id:
            last_of_day[key] = (t.id, t.balance_after)
    current: dict[str, Decimal] = {}
    series: list[tuple[date, Decimal]] = []
    for (account, day), (_, balance) in sorted(last_of_day.items(), key=lambda kv: kv[0][1]):
        current[account] = balance
        if series and series[-1][0] == day:
            series[-1] = (day, sum(current.values(), ZERO))
        else:
            series.append((day, sum(current.values(), ZERO)))
    return series


_NOISE = re.compile(r"\b\d{1,2}/\d{2}(/\d{2,4})?\b|\d+")


def payee_key(t: Tx) -> str:
    """Who was paid, without dates and numbers: the counterparty, else the label."""
    text = t.counterparty or t.label
    return " ".join(_NOISE.sub(" ", text.upper()).split())


def recurring(
    txs: Sequence[Tx], min_months: int = 3, tolerance: Decimal = Decimal("0.1")
) -> list[Recurring]:
    """Payments from one account to one payee in at least ``min_months`` distinct months,
    at most one a month, with amounts within ``tolerance`` of their median (subscriptions,
    rent, loans; not the grocer, paid many times a month for varying amounts)."""
    groups: dict[tuple[str, str], list[Tx]] = defaultdict(list)
    for t in txs:
        if t.amount < 0 and t.category not in NEUTRAL:
            groups[(t.account, payee_key(t))].append(t)
    found = []
    for (_, key), items in groups.items():
        months = {t.month for t in items}
        if len(months) < min_months or len(items) > len(months):
            continue
        amounts = [-t.amount for t in items]
        typical = Decimal(statistics.median(amounts)).quantize(Decimal("0.01"))
        if any(abs(a - typical) > typical * tolerance for a in amounts):
            continue
        latest = max(items, key=lambda t: t.booked)
        day = int(statistics.median(t.booked.day for t in items))
        found.append(Recurring(key, latest.label, typical, len(months), day))
    return sorted(found, key=lambda r: (-r.amount, r.key))


def unusual(
    txs: Sequence[Tx], month: str | None = None, factor: Decimal = Decimal(3), min_seen: int = 8
) -> list[Unusual]:
    """Spending at least ``factor`` times its category's median, in categories seen at least
    ``min_seen`` times (a rare category has no "usual"); recurring payments excluded."""
    by_category: dict[str, list[Decimal]] = defaultdict(list)
    for t in txs:
        if t.amount < 0 and t.category not in NEUTRAL:
            by_category[t.category].append(-t.amount)
    regular = {r.key for r in recurring(txs)}
    typical = {  # computed once per category: this runs over tens of thousands
        c: Decimal(statistics.median(seen)).quantize(Decimal("0.01"))
        for c, seen in by_category.items()
        if len(seen) >= min_seen
    }
    found = []
    for t in txs:
        if t.amount >= 0 or (month is not None and t.month != month) or t.category not in typical:
            continue
        if -t.amount >= typical[t.category] * factor and payee_key(t) not in regular:
            found.append(Unusual(t, typical[t.category]))
    return sorted(found, key=lambda u: (u.tx.amount, u.tx.id))


CSV_COLUMNS = ("date", "account", "amount", "category", "label", "counterparty", "id")


def month_csv(txs: Iterable[Tx], month: str) -> str:
    """A month's transactions as CSV (RFC 4180, comma, dot decimals), oldest first."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for t in sorted((t for t in txs if t.month == month), key=lambda t: (t.booked, t.id)):
        writer.writerow(
            (
                t.booked.isoformat(),
                t.account,
                f"{t.amount:.2f}",
                t.category,
                t.label,
                t.counterparty,
                t.id,
            )
        )
    return out.getvalue()
