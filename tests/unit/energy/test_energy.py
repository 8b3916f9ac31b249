"""The energy app's computations against synthetic load curves (no HTTP)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from rdflib import Graph

from apps.energy import analysis, records
from apps.energy.records import EXAMPLE_TARIFF, Reading, Tariff
from apps.energy.source import extract
from apps.energy.web import dashboard, needs
from apps.webapp import signin
from pod_server.access.modes import Mode
from pod_server.consent.apps.needs import parse_needs
from tests.unit.energy.synthetic import direct_monthly, documents, pod_readings, source_files

PARIS_WINTER = timezone(timedelta(hours=1))


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return source_files(tmp_path_factory.mktemp("src"), months=14)  # 2023-11 .. 2024-12


@pytest.fixture(scope="module")
def readings(files: list[Path]) -> list[Reading]:
    return pod_readings(files)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2024, 1, day, hour, minute, tzinfo=PARIS_WINTER)


# The hour repeated when summer time ends (last Sunday of October): two intervals with the
# same local time, two points in the pod (the connector names points in UTC).
DST_FALL_BACK = "2024-10"


def test_monthly_totals_equal_the_source_files(files: list[Path], readings: list[Reading]) -> None:
    got, expected = dict(analysis.monthly(readings)), direct_monthly(files)
    assert got == expected and len(got) == 14


def test_the_month_summer_time_ends_equals_the_source_too(
    files: list[Path], readings: list[Reading]
) -> None:
    assert dict(analysis.monthly(readings))[DST_FALL_BACK] == direct_monthly(files)[DST_FALL_BACK]


def test_days_add_up_to_the_month_and_split_adds_up(readings: list[Reading]) -> None:
    for month, total in analysis.monthly(readings):
        days = analysis.daily(readings, month)
        assert sum(v for _, v in days) == total
        assert all(d.startswith(month) for d, _ in days)
        peak, off = analysis.split(readings, month)
        assert peak + off == total and off > 0 and peak > off


def test_off_peak_is_22_to_6_local_time() -> None:
    rs = [Reading("m", at(1, h, 30), Decimal(1)) for h in (21, 22, 5, 6)]
    assert [analysis.is_off_peak(r) for r in rs] == [False, True, True, False]
    assert analysis.split(rs) == (Decimal(2), Decimal(2))


def test_cost_uses_both_prices_and_the_subscription() -> None:
    tariff = Tariff("t", Decimal("0.30"), Decimal("0.20"), Decimal("10"))
    assert analysis.cost(Decimal(100), Decimal(50), tariff, months=2) == Decimal("60.00")
    flat = Tariff("flat", Decimal("0.25"), None, Decimal("0"))
    assert analysis.cost(Decimal(100), Decimal(100), flat) == Decimal("50.00")


def test_winters_compare_the_same_months(readings: list[Reading]) -> None:
    months = analysis.monthly(readings)
    assert analysis.season_of("2023-12") == analysis.season_of("2024-02") == "2023–24"
    assert analysis.season_of("2024-06") is None
    w = analysis.winters(months)
    assert w is not None and (w.last, w.this) == ("2023–24", "2024–25")
    by_month = {r.month: r for r in w.rows}
    assert by_month[12].last is not None and by_month[12].this is not None
    assert by_month[1].this is None  # January 2025 is not in the data
    total = dict(months)
    assert w.comparable == (
        total["2023-11"] + total["2023-12"],
        total["2024-11"] + total["2024-12"],
    )
    assert analysis.winters(months[:5]) is None


def test_bad_points_are_skipped_and_counted() -> None:
    doc = """@prefix energy: <https://w3id.org/solid-pods/vocab/energy#> .
    <#m> energy:deliveryPoint "09123456789012" .
    <#c> a energy:LoadCurve; energy:meter <#m>; energy:point <#p1>, <#p2>, <#p3> .
    <#p1> energy:at "2024-01-01T00:00:00+01:00"; energy:consumption "0.25" .
    <#p2> energy:at "2024-01-01T00:30:00"; energy:consumption "0.25" .
    <#p3> energy:at "2024-01-01T01:00:00+01:00" ."""
    graph = Graph().parse(data=doc, format="turtle", publicID="https://p/energy/d")
    found, skipped = records.readings_of(graph)
    assert skipped == 2 and [(r.meter, r.kwh) for r in found] == [("09123456789012", Decimal("0.25"))]  # fmt: skip


def test_a_contracts_tariff_is_read_and_survives_the_cache() -> None:
    doc = """@prefix energy: <https://w3id.org/solid-pods/vocab/energy#> .
    <#t> a energy:Tariff; energy:tariffName "Base"; energy:pricePerKWh 0.2516;
        energy:monthlySubscription 12.44 ."""
    graph = Graph().parse(data=doc, format="turtle", publicID="https://p/energy/c")
    tariff = records.tariff_of(graph)
    assert tariff == Tariff("Base", Decimal("0.2516"), None, Decimal("12.44"))
    assert Tariff.from_json(extract(graph)["tariff"]) == tariff
    assert records.tariff_of(Graph()) is None


def test_the_page_figures(files: list[Path], readings: list[Reading]) -> None:
    values = dashboard(readings, "2024-01", EXAMPLE_TARIFF)
    assert values["month"] == "2024-01"
    assert values["month_total"] == direct_monthly(files)["2024-01"]
    assert values["all_total"] == sum(v for _, v in analysis.monthly(readings))
    assert values["daily_chart"].count("<rect") == 31
    assert dashboard(readings, "1999-01", EXAMPLE_TARIFF)["month"] == "2024-12"
    assert dashboard([], None, EXAMPLE_TARIFF)["month"] is None
    assert len(documents(files)) == 14 * 4  # the connector writes a month in 4 parts


def test_our_idp_reads_the_client_id_document_as_meant() -> None:
    doc = signin.client_document("http://a/id", "http://a/callback", "Energy", "apps/energy/", needs("energy/"))  # fmt: skip
    (need,) = parse_needs(doc).needs
    assert (need.target_path, need.modes, need.required) == ("energy/", Mode.READ, True)
