"""OFX bank statements (1.x SGML and 2.x XML) read with ``ofxtools``.

The account is named by IBAN: ``ACCTID`` when it is one (OFX allows 22 characters: a
German IBAN fits, a French one does not), else the French RIB
(``BANKID`` + ``BRANCHID`` + ``ACCTID``) turned into an IBAN. ``FITID`` is the
transaction's stable identifier.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ofxtools.Parser import OFXTree

from apps.connector.parsers import values
from apps.connector.records import SourceError, Statement, Transaction
from vocab.checks import french_iban, iban_valid

# OFX TRNTYPE -> bank:transactionType (those with no good match are left out).
KINDS = {
    "POS": "CardPayment",
    "XFER": "CreditTransfer",
    "DIRECTDEBIT": "DirectDebit",
    "DIRECTDEP": "CreditTransfer",
    "CHECK": "Cheque",
    "ATM": "CashWithdrawal",
    "FEE": "BankCharge",
    "SRVCHG": "BankCharge",
    "PAYMENT": "DirectDebit",
    "REPEATPMT": "CreditTransfer",
}


def _line_of(text: str, needle: str) -> int | None:
    at = text.find(needle)
    return text.count("\n", 0, at) + 1 if at >= 0 else None


def _account_iban(account: Any, path: Path) -> str:
    acctid = re.sub(r"\s", "", str(account.acctid or "")).upper()
    if len(acctid) >= 15 and iban_valid(acctid):
        return acctid
    bank, branch = str(getattr(account, "bankid", "") or ""), str(account.branchid or "")
    if len(bank) == 5 and len(branch) == 5 and len(acctid) == 11:
        return french_iban(bank, branch, acctid)
    raise SourceError(path, f"account {acctid!r} is neither an IBAN nor a French RIB")


def _bad_transaction(tree: OFXTree, text: str) -> tuple[str, int | None] | None:
    """The first STMTTRN ofxtools cannot convert, and its line (found by FITID)."""
    from ofxtools.models.base import Aggregate

    for element in tree.getroot().iter("STMTTRN"):
        try:
            Aggregate.from_etree(element)
        except Exception as exc:  # ofxtools raises plain ValueError/InvalidOperation
            fitid = element.findtext("FITID") or ""
            if isinstance(exc, InvalidOperation):
                why = f"amount {element.findtext('TRNAMT')!r} is not a number"
            else:
                why = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            return f"transaction {fitid or '(no FITID)'}: {why}", (
                _line_of(text, f"<FITID>{fitid}") if fitid else None
            )
    return None


def parse_ofx(path: Path) -> Iterator[Statement]:
    raw = path.read_bytes()
    text = raw.decode("latin-1")
    tree = OFXTree()
    try:
        with path.open("rb") as handle:
            tree.parse(handle)
        ofx = tree.convert()
    except Exception as exc:  # header, SGML and value errors all mean "not a valid OFX"
        bad = _bad_transaction(tree, text) if tree.getroot() is not None else None
        if bad is not None:
            raise SourceError(path, bad[0], bad[1]) from None
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SourceError(path, f"not a valid OFX file ({reason})") from None
    statements = list(getattr(ofx, "statements", []) or [])
    if not statements:
        raise SourceError(path, "the OFX file holds no bank statement")
    for stmt in statements:
        account = stmt.account
        iban = _account_iban(account, path)
        currency = values.currency(str(stmt.curdef), path, _line_of(text, "<CURDEF>"))
        txs = []
        for tx in stmt.transactions:
            line = _line_of(text, f"<FITID>{tx.fitid}")
            if not tx.fitid:
                raise SourceError(path, "a transaction has no FITID", line)
            label = " ".join(p for p in (tx.name, tx.memo) if p) or str(tx.trntype)
            when: datetime = tx.dtposted
            txs.append(
                Transaction(
                    id=str(tx.fitid),
                    booking_date=when.date(),
                    value_date=tx.dtuser.date() if tx.dtuser else None,
                    amount=Decimal(tx.trnamt).quantize(Decimal("0.01")),
                    currency=str(tx.currency.cursym) if tx.currency else currency,
                    label=label[:500],
                    counterparty_name=str(tx.payee.name) if tx.payee else None,
                    reference=str(tx.refnum) if tx.refnum else None,
                    kind=KINDS.get(str(tx.trntype)),
                )
            )
        ledger = stmt.ledgerbal
        yield Statement(
            source=path,
            iban=iban,
            currency=currency,
            transactions=tuple(txs),
            balance=Decimal(ledger.balamt).quantize(Decimal("0.01"))
            if ledger is not None
            else None,
            balance_date=ledger.dtasof.date() if ledger is not None else None,
        )
