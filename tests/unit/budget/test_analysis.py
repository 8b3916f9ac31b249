"""The budget's computations against synthetic bank data (no HTTP)."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from apps.budget import analysis
from apps.budget.records import Balance, Tx
from apps.connector import synthetic
from tests.unit.budget.synthetic import direct_totals, pod_transactions, source_files


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return source_files(tmp_path_factory.mktemp("src"), customers=2, months=4)


@pytest.fixture(scope="module")
def txs(files: list[Path]) -> list[Tx]:
    return pod_transactions(files)


def tx(
    n: int, day: date, amount: str, label: str = "X", category: str = "Groceries", **kw: object
) -> Tx:
    return Tx(f"https://p/bank/d#t-{n:04d}", kw.pop("account", "FR1"), day, Decimal(amount), label, str(kw.pop("counterparty", "")), category, kw.pop("balance_after", None))  # type: ignore[arg-type]  # fmt: skip


def test_monthly_totals_equal_the_source_files(files: list[Path], txs: list[Tx]) -> None:
    expected = direct_totals(files)
    got = {m.month: (m.income, m.spending) for m in analysis.monthly_totals(txs)}
    assert got == expected
    assert len(got) == 4 and all(spending > 0 for _, spending in got.values())


def test_totals_equal_the_generator_for_one_customer(tmp_path: Path) -> None:
    files = source_files(tmp_path, customers=1, months=2)
    customer = synthetic.customers(1)[0]
    for (year, month), totals in zip(synthetic.months("2024-01", 2), analysis.monthly_totals(pod_transactions(files)), strict=True):  # fmt: skip
        made, _ = synthetic.bank_month(customer, year, month)
        assert totals.income == sum(t.amount for t in made if t.amount > 0)
        assert totals.spending == -sum(t.amount for t in made if t.amount < 0)


def test_categories_add_up_to_the_months_spending(txs: list[Tx]) -> None:
    for totals in analysis.monthly_totals(txs):
        by_category = analysis.spending_by_category(txs, totals.month)
        assert sum(v for _, v in by_category) == totals.spending
        assert [v for _, v in by_category] == sorted((v for _, v in by_category), reverse=True)
    assert {c for c, _ in analysis.spending_by_category(txs)} >= {"Rent", "Groceries", "Savings"}


def test_recurring_finds_rent_and_subscriptions_not_the_grocer(txs: list[Tx]) -> None:
    found = {r.key: r for r in analysis.recurring(txs)}
    assert any("LOYER" in r.label for r in found.values())
    assert all("MONOPRIX" not in k and "CARREFOUR" not in k for k in found)
    rent = next(r for r in found.values() if "LOYER" in r.label)
    assert rent.months == 4 and rent.day == 1


def test_recurring_needs_three_months_and_steady_amounts() -> None:
    steady = [tx(m, date(2024, m, 5), "-13.49", "PRLV NETFLIX", "Subscriptions") for m in (1, 2, 3)]
    assert [r.amount for r in analysis.recurring(steady)] == [Decimal("13.49")]
    assert analysis.recurring(steady[:2]) == []
    jumpy = [*steady[:2], tx(3, date(2024, 3, 5), "-40.00", "PRLV NETFLIX", "Subscriptions")]
    assert analysis.recurring(jumpy) == []


def test_unusual_flags_a_large_payment_in_a_usual_category() -> None:
    usual = [tx(n, date(2024, 1, n), "-20.00", f"CB SHOP{n}") for n in range(1, 11)]
    big = tx(99, date(2024, 2, 3), "-250.00", "CB BIG SHOP")
    found = analysis.unusual([*usual, big], "2024-02")
    assert [u.tx.id for u in found] == [big.id] and found[0].typical == Decimal("20.00")
    assert analysis.unusual([*usual, big], "2024-01") == []
    assert analysis.unusual([*usual[:5], big]) == []  # too few to know what is usual


def test_balance_over_time_sums_two_accounts_last_of_each_day() -> None:
    a1 = tx(1, date(2024, 1, 1), "-10", account="A", balance_after=Decimal("90"))
    a2 = tx(2, date(2024, 1, 1), "-10", account="A", balance_after=Decimal("80"))
    b1 = tx(3, date(2024, 1, 2), "5", account="B", balance_after=Decimal("505"))
    assert analysis.balance_series([b1, a2, a1]) == [
        (date(2024, 1, 1), Decimal("80")),
        (date(2024, 1, 2), Decimal("585")),
    ]


def test_internal_transfers_are_neither_income_nor_spending() -> None:
    moved = [tx(1, date(2024, 1, 1), "-100", category="InternalTransfer"), tx(2, date(2024, 1, 1), "100", category="InternalTransfer")]  # fmt: skip
    assert analysis.monthly_totals(moved) == []


def test_month_csv_holds_exactly_the_months_transactions(txs: list[Tx]) -> None:
    month = analysis.months_of(txs)[1]
    rows = list(csv.DictReader(io.StringIO(analysis.month_csv(txs, month))))
    expected = [t for t in txs if t.month == month]
    assert len(rows) == len(expected)
    assert sum(Decimal(r["amount"]) for r in rows) == sum(t.amount for t in expected)
    assert all(r["date"].startswith(month) for r in rows)
    assert analysis.month_csv(txs, "1999-01").count("\r\n") == 1  # the header only


def test_stated_balances_draw_the_line_when_transactions_carry_none() -> None:
    stated = [Balance("A", date(2024, 1, 31), Decimal("100")), Balance("B", date(2024, 2, 29), Decimal("7"))]  # fmt: skip
    assert analysis.balance_series([], stated) == [
        (date(2024, 1, 31), Decimal("100")),
        (date(2024, 2, 29), Decimal("107")),
    ]


def test_a_missing_month_is_a_gap_not_a_zero(txs: list[Tx]) -> None:
    from apps.budget.web import dashboard

    without = [t for t in txs if t.month != "2024-02"]  # the bank sent no February
    assert analysis.missing_months(analysis.months_of(without)) == ["2024-02"]
    assert "2024-02" not in [m.month for m in analysis.monthly_totals(without)]
    values = dashboard(without, None, {}, [])
    assert values["missing"] == ["2024-02"] and "2024-02" not in values["months"]
    assert "no data" in values["months_chart"] and values["months_chart"].count("<rect") == 2 + 2 * 3  # fmt: skip
    assert dashboard(txs, None, {}, [])["missing"] == []
    assert analysis.missing_months(["2023-11", "2024-02"]) == ["2023-12", "2024-01"]
    assert analysis.missing_months([]) == []
