"""Clipping and encoding, the noise's calibration and the bound it promises (checked over
repeated releases), suppression, and the budget."""

from __future__ import annotations

import dataclasses
import random
from decimal import Decimal

import pytest

from apps.commons import contribution, mechanism, shares
from apps.commons.mechanism import BudgetExceeded
from apps.commons.study import Kind
from tests.unit.commons.conftest import Parties, make_parties


def test_clipping_and_encoding(parties: Parties) -> None:
    st = parties.study.statistic  # [0, 2000] kWh, tenths
    assert contribution.encode(Decimal("123.44"), st) == 1234
    assert contribution.encode(Decimal(5000), st) == 20000
    assert contribution.encode(Decimal(-3), st) == 0


def test_vector_touches_only_the_pods_group(parties: Parties) -> None:
    st = parties.study.statistic
    v = contribution.vector("Corse", {"2025-01": Decimal(300), "2024-12": Decimal(9)}, st)
    assert len(v) == len(st.cells()) * 2
    touched = [st.cells()[n // 2] for n in range(0, len(v), 2) if v[n]]
    assert touched == [("Corse", "2025-01")]
    assert contribution.cells_touched(v, st) == 1
    assert sum(contribution.vector("Atlantis", {"2025-01": Decimal(1)}, st)) == 0


def test_histogram_bins(parties: Parties) -> None:
    st = dataclasses.replace(parties.study.statistic, kind=Kind.HISTOGRAM, bins=4)
    v = contribution.vector("Bretagne", {"2025-01": Decimal(1999)}, st)
    assert v[:5] == [1, 0, 0, 0, 1]
    assert contribution.bin_of(Decimal(0), st) == 0


def test_scales_follow_epsilon_and_bounds(parties: Parties) -> None:
    s = mechanism.scales(parties.study)
    # 12 periods; epsilon 1 split in two: counts 12 / 0.5, values 12 * 20000 / 0.5.
    assert s.count == pytest.approx(24)
    assert s.value == pytest.approx(480_000)


def release(p: Parties, pods: list[tuple[str, dict[str, Decimal]]]) -> list[mechanism.Cell]:
    st, scales = p.study.statistic, mechanism.scales(p.study)
    size = len(st.cells()) * st.slots()
    split = [shares.split(contribution.vector(g, t, st)) for g, t in pods]
    a = mechanism.noised(shares.sum_shares((s[0] for s in split), size), st, scales)
    b = mechanism.noised(shares.sum_shares((s[1] for s in split), size), st, scales)
    return mechanism.cells(shares.combine(a, b), p.study, scales, beta=0.05)


def test_error_within_the_promised_bound_over_repeated_releases() -> None:
    p = make_parties(regions=("Bretagne",), epsilon=Decimal(1), epsilon_per_release=Decimal(1))
    rng = random.Random(7)
    pods = [
        ("Bretagne", {f"2025-{m:02d}": Decimal(rng.randint(100, 900)) for m in range(1, 13)})
        for _ in range(2000)
    ]
    exact = {
        f"2025-{m:02d}": sum(t[f"2025-{m:02d}"] for _, t in pods) / len(pods) for m in range(1, 13)
    }
    within = total = 0
    for _ in range(30):
        for cell in release(p, pods):
            assert not cell.suppressed and cell.value is not None and cell.bound is not None
            total += 1
            within += abs(cell.value - exact[cell.period]) <= cell.bound
    # beta = 0.05 per cell; the union bounds make the true miss rate far lower.
    assert within / total >= 0.95


def test_small_cells_are_suppressed() -> None:
    p = make_parties(min_contributors=100, epsilon=Decimal(10), epsilon_per_release=Decimal(10))
    pods = [("Bretagne", {"2025-01": Decimal(500)})] * 400 + [
        ("Corse", {"2025-01": Decimal(50)})
    ] * 3
    cells = {(c.group, c.period): c for c in release(p, pods)}
    assert not cells[("Bretagne", "2025-01")].suppressed
    assert cells[("Bretagne", "2025-01")].contributors == pytest.approx(400, abs=60)
    assert cells[("Corse", "2025-01")].suppressed
    assert cells[("Corse", "2025-01")].value is None
    assert cells[("Occitanie", "2025-03")].suppressed


def test_budget(parties: Parties) -> None:  # epsilon 2, 1 per release
    spent = mechanism.charge(Decimal(0), parties.study)
    spent = mechanism.charge(spent, parties.study)
    assert spent == 2
    with pytest.raises(BudgetExceeded, match="exceed"):
        mechanism.charge(spent, parties.study)


def test_noise_is_integer_and_centred() -> None:
    draws = mechanism.noise(20_000, 10.0)
    assert all(isinstance(x, int) for x in draws)
    assert abs(sum(draws) / len(draws)) < 0.5
    assert sum(abs(x) for x in draws) / len(draws) == pytest.approx(10, rel=0.1)
