# ruff: noqa: E501  (the documented formats are quoted whole)
"""The documented bank CSV: UTF-8 (a BOM is fine), ``;`` or ``,`` separated, one header
row, one transaction per row.

| column | required | example |
| --- | --- | --- |
| ``transaction_id`` | yes | ``TX-2024-000123`` (unique per account: makes the IRI) |
| ``iban`` | yes | ``FR7612548029980001234567818`` |
| ``booking_date`` | yes | ``2024-01-31`` or ``31/01/2024`` |
| ``amount`` | yes | ``-42.50`` or ``-42,50`` |
| ``currency`` | no (EUR) | ``EUR`` |
| ``label`` | yes | ``CB MONOPRIX 30/01`` |
| ``value_date``, ``counterparty_name``, ``counterparty_iban``, ``reference``, ``type``, ``balance_after`` | no | |

``type`` is a ``bank:transactionType`` name (``CardPayment``, ``DirectDebit``...).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from apps.connector.parsers import values
from apps.connector.records import SourceError, Statement, Transaction

REQUIRED = ("transaction_id", "iban", "booking_date", "amount", "label")
KINDS = ("CardPayment", "CreditTransfer", "DirectDebit", "Cheque", "CashWithdrawal", "BankCharge")


def parse_bank_csv(path: Path) -> Iterator[Statement]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(path, f"not UTF-8 text (byte {exc.start})") from None
    lines = text.splitlines()
    if not lines:
        raise SourceError(path, "the file is empty", 1)
    delimiter = ";" if lines[0].count(";") >= lines[0].count(",") else ","
    reader = csv.DictReader(lines, delimiter=delimiter)
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise SourceError(path, f"missing column(s): {', '.join(missing)}", 1)
    reader.fieldnames = header
    by_account: dict[str, list[Transaction]] = {}
    currencies: dict[str, str] = {}
    seen: set[tuple[str, str]] = set()
    for row in reader:
        line = reader.line_num
        if None in row:
            raise SourceError(
                path, f"{len(header) + len(row[None])} fields, header has {len(header)}", line
            )  # type: ignore[index]
        get = {k: (v or "").strip() for k, v in row.items()}
        if not any(get.values()):
            continue
        for column in REQUIRED:
            if not get.get(column):
                raise SourceError(path, f"empty {column}", line)
        iban = values.iban(get["iban"], path, line)
        kind = get.get("type") or None
        if kind is not None and kind not in KINDS:
            raise SourceError(path, f"type {kind!r} is not one of {', '.join(KINDS)}", line)
        tx_id = get["transaction_id"]
        if (iban, tx_id) in seen:
            raise SourceError(path, f"transaction_id {tx_id!r} appears twice", line)
        seen.add((iban, tx_id))
        cur = values.currency(get.get("currency") or "EUR", path, line)
        currencies.setdefault(iban, cur)
        by_account.setdefault(iban, []).append(
            Transaction(
                id=tx_id,
                booking_date=values.day(get["booking_date"], path, line, "booking_date"),
                value_date=(
                    values.day(get["value_date"], path, line, "value_date")
                    if get.get("value_date")
                    else None
                ),
                amount=values.amount(get["amount"], path, line),
                currency=cur,
                label=get["label"][:500],
                counterparty_name=get.get("counterparty_name") or None,
                counterparty_iban=(
                    values.iban(get["counterparty_iban"], path, line, "counterparty_iban")
                    if get.get("counterparty_iban")
                    else None
                ),
                reference=get.get("reference") or None,
                kind=kind,
                balance_after=(
                    values.amount(get["balance_after"], path, line, "balance_after")
                    if get.get("balance_after")
                    else None
                ),
            )
        )
    for iban, txs in by_account.items():
        last = max(reversed(txs), key=lambda t: t.booking_date)  # last row of the last day
        yield Statement(
            source=path,
            iban=iban,
            currency=currencies[iban],
            transactions=tuple(txs),
            balance=last.balance_after,
            balance_date=last.booking_date if last.balance_after is not None else None,
        )
