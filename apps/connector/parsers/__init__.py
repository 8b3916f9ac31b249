"""Parsers of the formats organisations hold, into :mod:`apps.connector.records`.

``parse(path)`` picks the parser from the file's name and first bytes; every parser
raises :class:`~apps.connector.records.SourceError` naming the file (and line) on
malformed input.
"""

from __future__ import annotations

from pathlib import Path

from apps.connector.parsers.bank_csv import parse_bank_csv
from apps.connector.parsers.camt053 import parse_camt053
from apps.connector.parsers.load_curve import parse_load_curve
from apps.connector.parsers.ofx import parse_ofx
from apps.connector.records import Source, SourceError

FORMATS = ("ofx", "camt053", "bank-csv", "load-curve")


def sniff(path: Path) -> str:
    """The format of ``path``: by extension, then (for .csv) by its header."""
    suffix = path.suffix.lower()
    if suffix in (".ofx", ".qfx"):
        return "ofx"
    if suffix == ".xml":
        return "camt053"
    if suffix == ".csv":
        with path.open("rb") as handle:
            head = handle.read(512).decode("utf-8-sig", errors="replace").lower()
        return "load-curve" if "identifiant prm" in head else "bank-csv"
    raise SourceError(path, f"unknown file type {suffix or '(none)'}: use .ofx, .xml, .csv")


def parse(path: Path, fmt: str | None = None) -> list[Source]:
    """Every statement or load curve in ``path``."""
    fmt = fmt or sniff(path)
    if fmt == "ofx":
        return list(parse_ofx(path))
    if fmt == "camt053":
        return list(parse_camt053(path))
    if fmt == "bank-csv":
        return list(parse_bank_csv(path))
    if fmt == "load-curve":
        return [parse_load_curve(path)]
    raise SourceError(path, f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")


__all__ = ["FORMATS", "parse", "sniff"]
