"""Reading amounts, dates and IBANs as French and ISO exports write them."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from apps.connector.records import SourceError
from vocab.checks import iban_valid

_SPACES = re.compile(r"[\s\u00a0\u202f]")


def amount(text: str, path: Path, line: int | None, what: str = "amount") -> Decimal:
    """``-1 234,56``, ``-1234.56`` or ``+12`` as a Decimal with two places."""
    cleaned = _SPACES.sub("", text or "")
    if cleaned.count(",") == 1 and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise SourceError(path, f"{what} {text!r} is not a number", line) from None
    if not value.is_finite():
        raise SourceError(path, f"{what} {text!r} is not a number", line)
    return value.quantize(Decimal("0.01"))


def day(text: str, path: Path, line: int | None, what: str = "date") -> date:
    """An ISO date (``2024-01-31``), ``31/01/2024`` or ``20240131``."""
    text = (text or "").strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%Y%m%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise SourceError(path, f"{what} {text!r} is not a date (YYYY-MM-DD or DD/MM/YYYY)", line)


def iban(text: str, path: Path, line: int | None, what: str = "IBAN") -> str:
    """An IBAN without spaces, its check digits verified."""
    value = _SPACES.sub("", text or "").upper()
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}", value) or not iban_valid(value):
        raise SourceError(path, f"{what} {text!r} is not a valid IBAN", line)
    return value


def currency(text: str, path: Path, line: int | None) -> str:
    value = (text or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", value):
        raise SourceError(path, f"currency {text!r} is not an ISO 4217 code", line)
    return value
