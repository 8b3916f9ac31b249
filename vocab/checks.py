"""Check digits that SHACL patterns cannot verify: IBAN (ISO 7064 mod 97-10) and GTIN.

They could be written as SHACL-SPARQL constraints, but rdflib takes over a second just
to parse such a query and pyshacl parses it again for every value, so ``validate`` runs
these in Python and reports failures as ordinary SHACL results.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_IBAN = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")
_GTIN = re.compile(r"^(?:[0-9]{8}|[0-9]{12,14})$")
_DIGITS = re.compile(r"^[0-9]+$")


def _iban_number(text: str) -> int:
    # Letters count as two-digit numbers, A=10 ... Z=35.
    return int("".join(str(int(char, 36)) for char in text))


def iban_valid(value: str) -> bool:
    """Whether ``value`` is a well-formed IBAN (no spaces) with correct check digits."""
    if not _IBAN.match(value):
        return False
    return _iban_number(value[4:] + value[:4]) % 97 == 1


def iban(country: str, bban: str) -> str:
    """The IBAN for a country code and a national account number (BBAN)."""
    check = 98 - _iban_number(bban + country + "00") % 97
    return f"{country}{check:02d}{bban}"


def _rib_digits(account: str) -> str:
    # The French RIB key maps letters A-I, J-R, S-Z onto 1-9 (S starts at 2).
    table = {**{c: str(i + 1) for i, c in enumerate("ABCDEFGHI")}}
    table.update({c: str(i + 1) for i, c in enumerate("JKLMNOPQR")})
    table.update({c: str(i + 2) for i, c in enumerate("STUVWXYZ")})
    return "".join(table.get(c, c) for c in account)


def french_iban(bank: str, branch: str, account: str) -> str:
    """A French IBAN from bank code (5 digits), branch code (5) and account number (11),
    with the RIB key computed as French banks do, so the whole number is realistic."""
    if not (_DIGITS.match(bank) and _DIGITS.match(branch)) or (len(bank), len(branch)) != (5, 5):
        raise ValueError("bank and branch codes are 5 digits each")
    if len(account) != 11:
        raise ValueError("a French account number has 11 characters")
    key = 97 - (89 * int(bank) + 15 * int(branch) + 3 * int(_rib_digits(account))) % 97
    return iban("FR", f"{bank}{branch}{account}{key:02d}")


def gtin_check_digit(body: str) -> str:
    """The check digit completing ``body`` (a GTIN without its last digit)."""
    weights = (3, 1)
    total = sum(int(d) * weights[i % 2] for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def gtin_valid(value: str) -> bool:
    """Whether ``value`` is a GTIN-8, -12, -13 or -14 with a correct check digit."""
    return bool(_GTIN.match(value)) and gtin_check_digit(value[:-1]) == value[-1]


#: What ``validate`` checks, by the local name of the property in the vocabulary that
#: defines it: {domain: {property local name: (check, message)}}.
CHECKS: dict[str, dict[str, tuple[Callable[[str], bool], str]]] = {
    "bank": {
        "iban": (iban_valid, "IBAN check digits are wrong (ISO 7064 mod 97)"),
        "counterpartyIban": (iban_valid, "IBAN check digits are wrong (ISO 7064 mod 97)"),
    },
    "retail": {
        "gtin": (gtin_valid, "GTIN check digit is wrong"),
    },
}
