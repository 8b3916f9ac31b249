"""Charts as inline SVG, from small pure functions: text in, text out, no JavaScript.

Hand-made rather than a plotting library: three simple chart kinds, and the SVG can carry
a ``<title>`` per bar/point (a tooltip and text for screen readers) and stay small.
Every value is escaped; sizes are fixed so the page lays out before anything loads.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from html import escape

WIDTH = 640
NARROW, NBSP = "\u202f", "\u00a0"
PALETTE = ("#2f6f9f", "#c0504d", "#5b9b4a", "#8064a2", "#d08a2b", "#4bacc6", "#7f7f7f")


Format = Callable[[Decimal], str]


def number(value: Decimal, places: int = 2, unit: str = "") -> str:
    """1234.5 -> '1 234.50' (a narrow space between thousands), then the unit."""
    sign = "−" if value < 0 else ""
    whole, _, cents = f"{abs(value):.{places}f}".partition(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    text = sign + NARROW.join(groups) + (f".{cents}" if cents else "")
    return text + (NBSP + unit if unit else "")


def money(value: Decimal) -> str:
    return number(value, 2, "€")


def kwh(value: Decimal) -> str:
    return number(value, 1, "kWh")


def _svg(height: int, label: str, body: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" aria-label="{escape(label)}" '
        f'class="chart">{body}</svg>'
    )


def _text(x: float, y: float, text: str, size: int = 12, anchor: str = "start") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}">'
        f"{escape(text)}</text>"
    )


def _rect(x: float, y: float, w: float, h: float, fill: str, title: str) -> str:
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{fill}">'
        f"<title>{escape(title)}</title></rect>"
    )


def _top_line(left: float, y: float, label: str) -> str:
    """A faint line at the chart's top value, labelled on the right: the scale."""
    return (
        f'<line x1="{left}" x2="{WIDTH - left}" y1="{y}" y2="{y}" '
        'stroke="#ccd3da" stroke-dasharray="2 3"/>'
    ) + _text(WIDTH - left, y - 3, label, 10, "end")


def _scale(values: Sequence[Decimal]) -> Decimal:
    top = max((abs(v) for v in values), default=Decimal(0))
    return top if top > 0 else Decimal(1)


def bars(items: Sequence[tuple[str, Decimal]], label: str, fmt: Format = money) -> str:
    """Horizontal bars, one per (name, value), values >= 0."""
    row, right = 24, 110
    left = min(max(7 * max((len(n) for n, _ in items), default=0) + 12, 90), 260)
    height = max(row * len(items) + 10, 40)
    top = _scale([v for _, v in items])
    parts = []
    for n, (name, value) in enumerate(items):
        y = 5 + n * row
        w = float(value / top) * (WIDTH - left - right)
        colour = PALETTE[n % len(PALETTE)]
        parts.append(_text(left - 6, y + 15, name, 13, "end"))
        parts.append(_rect(left, y + 3, w, row - 6, colour, f"{name}: {fmt(value)}"))
        parts.append(_text(left + w + 6, y + 15, fmt(value)))
    if not items:
        parts.append('<text x="10" y="25" font-size="13">Nothing spent.</text>')
    return _svg(height, label, "".join(parts))


def paired_columns(
    months: Sequence[tuple[str, Decimal | None, Decimal | None]],
    label: str,
    names: tuple[str, str] = ("Income", "Spending"),
    fmt: Format = money,
) -> str:
    """Two columns per month (say income and spending), with a legend; a month whose
    values are None is marked "no data" (a gap, not a zero)."""
    height, bottom, top_pad, left = 220, 30, 28, 10
    plot = height - bottom - top_pad
    scale = _scale([v for _, a, b in months for v in (a, b) if v is not None])
    slot = (WIDTH - 2 * left) / max(len(months), 1)
    bar = min(slot / 2 - 4, 28)
    key = f'<rect x="{left + 100}" y="4" width="12" height="12" fill="{PALETTE[1]}"/>'
    parts = [
        f'<rect x="{left}" y="4" width="12" height="12" fill="{PALETTE[2]}"/>',
        _text(left + 16, 15, names[0]),
        key,
        _text(left + 116, 15, names[1]),
    ]
    if months:
        parts.append(_top_line(left, top_pad, fmt(scale)))
    for n, (month, first, second) in enumerate(months):
        x = left + n * slot + slot / 2
        if first is None or second is None:
            parts.append(
                f'<text x="{x:.1f}" y="{top_pad + plot - 4:.1f}" font-size="10" '
                f'text-anchor="middle" fill="#8a949e">no data<title>{escape(month)}: '
                "no transactions</title></text>"
            )
        else:
            for value, dx, colour, what in (
                (first, -bar - 1, PALETTE[2], names[0]),
                (second, 1, PALETTE[1], names[1]),
            ):
                h = float(value / scale) * plot
                title = f"{month} {what}: {fmt(value)}"
                parts.append(_rect(x + dx, top_pad + plot - h, bar, h, colour, title))
        if len(months) <= 12 or n % max(len(months) // 12, 1) == 0:
            parts.append(_text(x, height - 10, month, 11, "middle"))
    return _svg(height, label, "".join(parts))


def columns(
    items: Sequence[tuple[str, Decimal]],
    label: str,
    fmt: Format = money,
    reference: Sequence[Decimal | None] = (),
    reference_name: str = "",
) -> str:
    """One column per (name, value), values >= 0; names shown at most 16 times. With
    ``reference`` (one value or None per column), a line over the columns to compare
    with (say the mean of homes like this one), named in a legend."""
    marked = [v for v in reference if v is not None]
    height, bottom, left = 200, 24, 10
    top_pad = 26 if marked else 16
    plot = height - bottom - top_pad
    scale = _scale([v for _, v in items] + marked)
    slot = (WIDTH - 2 * left) / max(len(items), 1)
    bar = max(min(slot - 2, 40), 1)
    every = max(-(-len(items) // 16), 1)
    parts = []
    if items:
        parts.append(_top_line(left, top_pad, fmt(scale)))
    for n, (name, value) in enumerate(items):
        x = left + n * slot + (slot - bar) / 2
        h = float(value / scale) * plot
        parts.append(_rect(x, top_pad + plot - h, bar, h, PALETTE[0], f"{name}: {fmt(value)}"))
        if n % every == 0:
            parts.append(_text(x + bar / 2, height - 8, name, 11, "middle"))
    if marked:
        points = []
        for n, ((name, _), value) in enumerate(zip(items, reference, strict=False)):
            if value is None:
                continue
            x, y = left + n * slot + slot / 2, top_pad + plot - float(value / scale) * plot
            points.append(f"{x:.1f},{y:.1f}")
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{PALETTE[4]}">'
                f"<title>{escape(f'{name}, {reference_name}: {fmt(value)}')}</title></circle>"
            )
        parts.append(
            f'<polyline points="{" ".join(points)}" fill="none" stroke="{PALETTE[4]}" '
            'stroke-width="2" stroke-dasharray="6 3"/>'
        )
        parts.append(
            f'<line x1="{left}" x2="{left + 24}" y1="10" y2="10" stroke="{PALETTE[4]}" '
            'stroke-width="2" stroke-dasharray="6 3"/>'
        )
        parts.append(_text(left + 30, 14, reference_name))
    if not items:
        parts.append('<text x="10" y="25" font-size="13">Nothing to draw.</text>')
    return _svg(height, label, "".join(parts))


def line(points: Sequence[tuple[date, Decimal]], label: str) -> str:
    """A line over time with its lowest and highest values marked on the axis."""
    height, pad, left = 200, 24, 90
    if len(points) < 2:
        return _svg(
            40, label, '<text x="10" y="25" font-size="13">Not enough balances to draw.</text>'
        )
    low = min(v for _, v in points)
    high = max(v for _, v in points)
    span = high - low if high != low else Decimal(1)
    first, last = points[0][0], points[-1][0]
    days = max((last - first).days, 1)
    plot_w, plot_h = WIDTH - left - 10, height - 2 * pad

    def xy(day: date, value: Decimal) -> str:
        x = left + (day - first).days / days * plot_w
        y = pad + plot_h - float((value - low) / span) * plot_h
        return f"{x:.1f},{y:.1f}"

    path = " ".join(xy(d, v) for d, v in points)
    zero = ""
    if low < 0 < high:
        y0 = pad + plot_h - float(-low / span) * plot_h
        zero = (
            f'<line x1="{left}" x2="{WIDTH - 10}" y1="{y0:.1f}" y2="{y0:.1f}" '
            'stroke="#999" stroke-dasharray="4 3"/>'
        )
    body = (
        _text(left - 6, pad + 4, money(high), 11, "end")
        + _text(left - 6, pad + plot_h + 4, money(low), 11, "end")
        + _text(left, height - 4, first.isoformat(), 11)
        + _text(WIDTH - 10, height - 4, last.isoformat(), 11, "end")
        + zero
        + f'<polyline points="{path}" fill="none" stroke="{PALETTE[0]}" stroke-width="2">'
        + f"<title>{escape(f'Balance from {money(points[0][1])} to {money(points[-1][1])}')}"
        + "</title></polyline>"
    )
    return _svg(height, label, body)
