"""A pod's contribution as integers, from its own per-period totals (pure).

The vector has ``statistic.slots()`` integers per cell, cells in ``statistic.cells()``
order: a 1 in the count slot of each cell the pod contributes to (its group, each period
it has data for), then its clipped value encoded in units of ``1/resolution`` (sum, mean)
or a 1 in the bin it falls in (histogram). Every other cell is zeros, so the vector's
length says nothing about the pod's group: only the shares of it ever leave the pod.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal

from apps.commons.study import Kind, Statistic


def clip(value: Decimal, statistic: Statistic) -> Decimal:
    return min(max(value, statistic.lower), statistic.upper)


def encode(value: Decimal, statistic: Statistic) -> int:
    """The clipped value as an integer number of ``1/resolution`` units."""
    scaled = clip(value, statistic) * statistic.resolution
    return int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def bin_of(value: Decimal, statistic: Statistic) -> int:
    width = (statistic.upper - statistic.lower) / statistic.bins
    return min(int((clip(value, statistic) - statistic.lower) / width), statistic.bins - 1)


def vector(group: str | None, totals: Mapping[str, Decimal], statistic: Statistic) -> list[int]:
    """The pod's contribution: ``group`` its coarse attribute (None or an unknown value:
    it contributes to no cell), ``totals`` its per-period sums of the measure."""
    slots = statistic.slots()
    out = [0] * (len(statistic.cells()) * slots)
    for n, (cell_group, period) in enumerate(statistic.cells()):
        if cell_group != group or period not in totals:
            continue
        base = n * slots
        out[base] = 1
        value = totals[period]
        if statistic.kind in (Kind.SUM, Kind.MEAN):
            out[base + 1] = encode(value, statistic)
        elif statistic.kind is Kind.HISTOGRAM:
            out[base + 1 + bin_of(value, statistic)] = 1
    return out


def cells_touched(values: list[int], statistic: Statistic) -> int:
    slots = statistic.slots()
    return sum(1 for n in range(0, len(values), slots) if values[n])
