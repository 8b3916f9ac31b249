"""Synthetic files: deterministic, readable by the parsers in every format, realistic."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from apps.connector import parsers, synthetic
from apps.connector.config import load_customers
from apps.connector.records import LoadCurve, Statement
from vocab.checks import iban_valid


def test_same_seed_same_files(tmp_path: Path) -> None:
    synthetic.generate(tmp_path / "a", 2, 1, seed=7)
    synthetic.generate(tmp_path / "b", 2, 1, seed=7)
    synthetic.generate(tmp_path / "c", 2, 1, seed=8)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.*"))
    assert len(files) == 5  # 2 statements, 2 load curves, customers.csv
    assert all(
        (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files
    )
    assert (tmp_path / "a" / files[0]).read_bytes() != (tmp_path / "c" / files[0]).read_bytes()


@pytest.mark.parametrize("fmt", synthetic.BANK_FORMATS)
def test_every_bank_format_reads_back_the_same_month(tmp_path: Path, fmt: str) -> None:
    [customer] = synthetic.generate(tmp_path, 1, 2, "2024-01", bank_format=fmt, energy=False)
    txs, balance = synthetic.bank_month(customer, 2024, 2)
    suffix = {"ofx": "ofx", "camt053": "xml", "csv": "csv"}[fmt]
    [stmt] = parsers.parse(tmp_path / "bank" / customer.id / f"statement-2024-02.{suffix}")
    assert isinstance(stmt, Statement) and stmt.iban == customer.iban and iban_valid(stmt.iban)
    assert [(t.id, t.booking_date, t.amount) for t in stmt.transactions] == [
        (t.id, t.booking_date, t.amount) for t in txs
    ]
    assert stmt.balance == balance


def test_a_bank_month_looks_like_one() -> None:
    [customer] = synthetic.customers(1)
    txs, _ = synthetic.bank_month(customer, 2024, 3)
    labels = [t.label for t in txs]
    assert any(lb.startswith("VIR SALAIRE") for lb in labels)
    assert any("LOYER" in lb for lb in labels)
    income = sum(t.amount for t in txs if t.amount > 0)
    assert Decimal("1500") <= income <= Decimal("4200")
    assert 40 <= len(txs) <= 70 and len({t.id for t in txs}) == len(txs)
    assert [t.booking_date for t in txs] == sorted(t.booking_date for t in txs)


def test_load_curves_follow_the_seasons(tmp_path: Path) -> None:
    customers = synthetic.customers(6)
    totals = {}
    for month in (1, 7):
        total = Decimal(0)
        for customer in customers:
            path = tmp_path / f"{customer.id}-{month}.csv"
            count = synthetic.write_load_curve(path, customer, 2024, month)
            [curve] = parsers.parse(path)
            assert isinstance(curve, LoadCurve) and curve.prm == customer.prm
            assert count == len(curve.points) == 31 * 48
            total += sum(kwh for _, kwh in curve.points)
        totals[month] = total / len(customers)
    assert totals[1] > totals[7]  # heating in winter
    assert Decimal(100) < totals[7] < Decimal(1500)  # kWh in a month, a plausible home


def test_customers_live_in_regions_written_to_the_customer_file(tmp_path: Path) -> None:
    made = synthetic.generate(tmp_path, 40, 1, energy=False)
    assert {c.region for c in made} <= set(synthetic.REGIONS)
    assert len({c.region for c in made}) > 5  # spread over the regions
    listed = load_customers(tmp_path / "customers.csv")
    assert [(c.id, c.region) for c in listed] == [(c.id, c.region) for c in made]
    # the region has a generator of its own: the figures made before it did not move
    assert [(c.iban, c.prm) for c in made[:2]] == [
        ("FR7612548921650825801286192", "40382861378523"),
        ("FR7612548575499516941023486", "97380917312103"),
    ]
