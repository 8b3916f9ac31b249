# ruff: noqa: E501  (the documented formats are quoted whole)
"""The load curve (courbe de charge) CSV that French distribution operators give their
customers: ``;``-separated, a two-row header block naming the delivery point, then the
values.

::

    Identifiant PRM;Type de donnees;Date de debut;Date de fin;Grandeur physique;Grandeur metier;Etape metier;Unite;Pas en minutes
    09123456789012;Courbe de charge;01/03/2024;31/03/2024;Energie active;Consommation;Comptage Brut;W;30
    Horodate;Valeur
    2024-03-01T00:30:00+01:00;512
    ...

``Horodate`` is the END of each interval (ISO-8601 with its offset); ``Valeur`` is the
average power over it in the unit the header names (``W``, as the operators give it;
``Wh`` and ``kWh`` are read as energies). The step comes from ``Pas en minutes`` (or a
``Pas`` column such as ``PT30M``), else from the first two timestamps. Values become
kWh per interval, points dated at the interval's start.
"""

from __future__ import annotations

import csv
import re
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from apps.connector.records import LoadCurve, SourceError

UNITS = ("W", "kW", "Wh", "kWh")
STEPS = (10, 30, 60)  # minutes the energy shapes accept (PT10M, PT30M, PT1H)


def _minutes(text: str, path: Path, line: int) -> int:
    text = text.strip().upper()
    found = re.fullmatch(r"PT(\d+)M|(\d+)", text) or re.fullmatch(r"PT1H", text)
    if found is None:
        raise SourceError(path, f"step {text!r} is neither minutes nor PTnM", line)
    minutes = 60 if text == "PT1H" else int(found.group(1) or found.group(2))
    if minutes not in STEPS:
        raise SourceError(path, f"step of {minutes} minutes (use 10, 30 or 60)", line)
    return minutes


def _kwh(value: Decimal, unit: str, step: timedelta) -> Decimal:
    hours = Decimal(int(step.total_seconds())) / Decimal(3600)
    energy = {
        "W": value * hours / 1000,
        "kW": value * hours,
        "Wh": value / 1000,
        "kWh": value,
    }[unit]
    return energy.quantize(Decimal("0.001"))


def parse_load_curve(path: Path) -> LoadCurve:
    try:
        rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines(), delimiter=";"))
    except UnicodeDecodeError as exc:
        raise SourceError(path, f"not UTF-8 text (byte {exc.start})") from None
    if len(rows) < 3 or not rows[0] or rows[0][0].strip().lower() != "identifiant prm":
        raise SourceError(path, "not a load curve: the first cell must be 'Identifiant PRM'", 1)
    head = {k.strip().lower(): v.strip() for k, v in zip(rows[0], rows[1], strict=False)}
    prm = head.get("identifiant prm", "")
    if not re.fullmatch(r"[0-9]{14}", prm):
        raise SourceError(path, f"PRM {prm!r} is not 14 digits", 2)
    unit = next((u for u in UNITS if u.lower() == head.get("unite", "W").lower()), None)
    if unit is None:
        raise SourceError(path, f"unit {head.get('unite')!r} is not one of {UNITS}", 2)
    step_min = _minutes(head["pas en minutes"], path, 2) if head.get("pas en minutes") else None
    columns = [c.strip().lower() for c in rows[2]]
    if columns[:2] != ["horodate", "valeur"]:
        raise SourceError(path, "line 3 must be the column header 'Horodate;Valeur'", 3)
    raw: list[tuple[int, datetime, Decimal]] = []
    for number, row in enumerate(rows[3:], start=4):
        if not row or not "".join(row).strip():
            continue
        if len(row) < 2:
            raise SourceError(path, "expected 'Horodate;Valeur'", number)
        try:
            at = datetime.fromisoformat(row[0].strip())
        except ValueError:
            raise SourceError(
                path, f"Horodate {row[0]!r} is not an ISO date-time", number
            ) from None
        if at.tzinfo is None:
            raise SourceError(path, f"Horodate {row[0]!r} has no UTC offset", number)
        if not row[1].strip():
            continue  # the operators leave a gap empty when the meter did not report
        try:
            value = Decimal(row[1].strip().replace(",", "."))
        except InvalidOperation:
            raise SourceError(path, f"Valeur {row[1]!r} is not a number", number) from None
        if not value.is_finite() or value < 0:
            raise SourceError(path, f"Valeur {row[1]!r} is not a non-negative number", number)
        if step_min is None and "pas" in columns and len(row) > columns.index("pas"):
            step_min = _minutes(row[columns.index("pas")], path, number)
        if raw and at <= raw[-1][1]:
            raise SourceError(path, f"Horodate {row[0]} is not after the previous one", number)
        raw.append((number, at, value))
    if not raw:
        raise SourceError(path, "the load curve has no values", len(rows))
    if step_min is None:
        if len(raw) < 2:
            raise SourceError(path, "one value and no 'Pas en minutes': the step is unknown", 2)
        step_min = _minutes(
            str(int((raw[1][1] - raw[0][1]).total_seconds() // 60)), path, raw[1][0]
        )
    step = timedelta(minutes=step_min)
    points = tuple((at - step, _kwh(value, unit, step)) for _, at, value in raw)
    return LoadCurve(path, prm, step, points)
