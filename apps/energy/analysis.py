"""What the energy page shows, from plain readings (no HTTP, no RDF): daily and monthly
consumption, the peak/off-peak split, an estimated cost, winter against winter."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from apps.energy.records import Reading, Tariff

ZERO = Decimal(0)
OFF_PEAK = (22, 6)  # off-peak from 22:00 to 06:00, local time of the interval's start
WINTER = (11, 12, 1, 2, 3)  # November to March


def is_off_peak(r: Reading) -> bool:
    start, end = OFF_PEAK
    return r.at.hour >= start or r.at.hour < end


def daily(readings: Iterable[Reading], month: str | None = None) -> list[tuple[str, Decimal]]:
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for r in readings:
        if month is None or r.month == month:
            totals[r.day] += r.kwh
    return sorted(totals.items())


def monthly(readings: Iterable[Reading]) -> list[tuple[str, Decimal]]:
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for r in readings:
        totals[r.month] += r.kwh
    return sorted(totals.items())


def split(readings: Iterable[Reading], month: str | None = None) -> tuple[Decimal, Decimal]:
    """(peak, off-peak) kWh, in ``month`` or over everything."""
    peak = off = ZERO
    for r in readings:
        if month is None or r.month == month:
            if is_off_peak(r):
                off += r.kwh
            else:
                peak += r.kwh
    return peak, off


def cost(peak: Decimal, off_peak: Decimal, tariff: Tariff, months: int = 1) -> Decimal:
    """Energy at the tariff's prices plus ``months`` of subscription, to the cent."""
    off_price = tariff.off_peak_price if tariff.off_peak_price is not None else tariff.price
    total = peak * tariff.price + off_peak * off_price + tariff.monthly * months
    return total.quantize(Decimal("0.01"))


def season_of(month: str) -> str | None:
    """'2023-12' and '2024-02' are in winter '2023–24'; '2024-06' in none."""
    year, m = (int(p) for p in month.split("-"))
    if m not in WINTER:
        return None
    first = year if m >= WINTER[0] else year - 1
    return f"{first}–{str(first + 1)[-2:]}"


@dataclass(frozen=True, slots=True)
class WinterRow:
    month: int  # calendar month, 11 .. 3
    last: Decimal | None
    this: Decimal | None


@dataclass(frozen=True, slots=True)
class Winters:
    this: str
    last: str
    rows: tuple[WinterRow, ...]

    @property
    def comparable(self) -> tuple[Decimal, Decimal]:
        """(last, this) over the months both winters have: a fair comparison."""
        both = [r for r in self.rows if r.last is not None and r.this is not None]
        return sum((r.last for r in both), ZERO), sum((r.this for r in both), ZERO)  # type: ignore[misc]


def winters(months: Sequence[tuple[str, Decimal]]) -> Winters | None:
    """The latest winter against the one before, month by month; None without two."""
    by_season: dict[str, dict[int, Decimal]] = defaultdict(dict)
    for month, total in months:
        season = season_of(month)
        if season is not None:
            by_season[season][int(month[5:])] = total
    seasons = sorted(by_season)
    if len(seasons) < 2:
        return None
    this, last = seasons[-1], seasons[-2]
    rows = tuple(
        WinterRow(m, by_season[last].get(m), by_season[this].get(m))
        for m in WINTER
        if m in by_season[last] or m in by_season[this]
    )
    return Winters(this, last, rows)
