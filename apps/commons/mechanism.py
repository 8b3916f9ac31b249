"""The privacy mechanism of a release (pure): discrete Laplace noise from OpenDP on each
aggregator's integer share sums, calibrated to the study's epsilon and clipping bounds,
the error bound it promises, suppression of small cells, and the budget ledger.

Neighbouring datasets differ by one pod (added or removed). A pod touches one cell per
period, so over a release the counts change by at most ``periods`` (L1) and the value
slots by at most ``periods * upper`` (sum, mean) or ``periods`` (histogram). The release's
epsilon is split evenly between counts and values. Each aggregator adds noise at the full
scale to its own share sum, so the release stays epsilon-DP as long as one of them is
honest; the combined noise is the sum of two draws (the bound below accounts for it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

import opendp.prelude as dp

from apps.commons.shares import PRIME, centered
from apps.commons.study import Kind, Statistic, Study

dp.enable_features("contrib")
MECHANISM = "discrete Laplace (OpenDP make_laplace on integers), added by each aggregator"


class BudgetExceeded(ValueError):
    """A release that would spend more than the study's privacy budget."""


@dataclass(frozen=True, slots=True)
class Scales:
    count: float  # discrete Laplace scale of count slots
    value: float  # ... of value (or bin) slots
    epsilon: Decimal  # what one release spends


def sensitivities(statistic: Statistic) -> tuple[int, int]:
    periods = len(statistic.periods)
    valued = statistic.kind in (Kind.SUM, Kind.MEAN)
    value = periods * statistic.encoded_upper() if valued else periods
    return periods, value


def scales(study: Study) -> Scales:
    count_l1, value_l1 = sensitivities(study.statistic)
    has_values = study.statistic.kind is not Kind.COUNT
    part = study.epsilon_per_release / 2 if has_values else study.epsilon_per_release
    count = float(count_l1) / float(part)
    value = float(value_l1) / float(part) if has_values else 0.0
    # OpenDP's own privacy map confirms the calibration (its maps round up: <= part + tiny).
    for l1, scale in ((count_l1, count), (value_l1, value)):
        if scale:
            spent = _measurement(scale).map(l1)
            assert spent <= float(part) * (1 + 1e-9), (spent, part)
    return Scales(count, value, study.epsilon_per_release)


@cache
def _measurement(scale: float) -> dp.Measurement:
    domain = dp.vector_domain(dp.atom_domain(T=int))
    return dp.m.make_laplace(domain, dp.l1_distance(T=int), scale=scale)


def noise(size: int, scale: float) -> list[int]:
    if scale == 0:
        return [0] * size
    return list(_measurement(scale)([0] * size))


def noised(share_sum: list[int], statistic: Statistic, s: Scales) -> list[int]:
    """One aggregator's share sum with its noise added (mod PRIME)."""
    slots = statistic.slots()
    counts = noise(len(share_sum) // slots, s.count)
    values = noise(len(share_sum) - len(counts), s.value)
    out, v = [], 0
    for n, total in enumerate(share_sum):
        if n % slots == 0:
            extra = counts[n // slots]
        else:
            extra, v = values[v], v + 1
        out.append((total + extra) % PRIME)
    return out


def tail(scale: float, beta: float) -> float:
    """t with P(|X1 + X2| >= t) <= beta for two independent discrete Laplace(scale) draws
    (P(|X| >= k) <= 2 exp(-k/scale), union bound on |X1|, |X2| >= t/2)."""
    return 2 * scale * math.log(4 / beta)


@dataclass(frozen=True, slots=True)
class Cell:
    group: str
    period: str
    contributors: int  # noisy count (what is published)
    value: Decimal | None  # sum or mean (measure units); None for count
    bins: tuple[int, ...] = ()
    bound: Decimal | None = None  # |error| <= bound with probability 1 - beta
    suppressed: bool = False


def cells(combined: list[int], study: Study, s: Scales, beta: float = 0.05) -> list[Cell]:
    """The released cells from the combined noisy sums; fewer noisy contributors than the
    minimum: suppressed (the decision uses only the noisy count, which is private)."""
    st, slots, out = study.statistic, study.statistic.slots(), []
    t_count = tail(s.count, beta / 2)
    t_value = tail(s.value, beta / 2) / st.resolution if s.value else 0.0
    for n, (group, period) in enumerate(st.cells()):
        chunk = [centered(x) for x in combined[n * slots : (n + 1) * slots]]
        count = chunk[0]
        if count < study.min_contributors:
            out.append(Cell(group, period, count, None, suppressed=True))
            continue
        total = Decimal(chunk[1]) / st.resolution if len(chunk) > 1 else None
        if st.kind is Kind.MEAN and total is not None:
            mean = total / count
            bound = (t_value + float(st.upper) * t_count) / count
            out.append(Cell(group, period, count, mean, bound=Decimal(repr(round(bound, 6)))))
        elif st.kind is Kind.SUM:
            out.append(Cell(group, period, count, total, bound=Decimal(repr(round(t_value, 6)))))
        elif st.kind is Kind.HISTOGRAM:
            out.append(Cell(group, period, count, None, bins=tuple(chunk[1:])))
        else:
            out.append(Cell(group, period, count, None, bound=Decimal(repr(round(t_count, 6)))))
    return out


def charge(spent: Decimal, study: Study) -> Decimal:
    """The budget spent after one more release; BudgetExceeded if it would overspend."""
    after = spent + study.epsilon_per_release
    if after > study.epsilon:
        raise BudgetExceeded(
            f"study {study.iri}: a release of epsilon {study.epsilon_per_release} after "
            f"{spent} spent would exceed its budget of {study.epsilon}"
        )
    return after
