"""ISO 20022 ``camt.053`` bank-to-customer statements (any ``camt.053.001.xx`` version).

Read with lxml (line numbers for errors; no entity expansion, no network), by local
names so every schema version reads alike. The entry's ``AcctSvcrRef`` (else its
``NtryRef``, else the transaction's ``EndToEndId``) is its stable identifier.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from lxml import etree

from apps.connector.parsers import values
from apps.connector.records import SourceError, Statement, Transaction

# Bank transaction codes (domain/family) -> bank:transactionType.
FAMILIES = {
    "ICDT": "CreditTransfer",
    "RCDT": "CreditTransfer",
    "IDDT": "DirectDebit",
    "RDDT": "DirectDebit",
    "CCRD": "CardPayment",
    "MCRD": "CardPayment",
    "ICHQ": "Cheque",
    "RCHQ": "Cheque",
    "CWDL": "CashWithdrawal",
    "CHRG": "BankCharge",
}


def _find(node: etree._Element, path: str) -> etree._Element | None:
    """The first element at a ``/``-separated path of local names."""
    query = "/".join(f"*[local-name()='{step}']" for step in path.split("/"))
    found = node.xpath(query)
    return found[0] if found else None  # type: ignore[index, return-value]


def _text(node: etree._Element, path: str) -> str | None:
    found = _find(node, path)
    return found.text.strip() if found is not None and found.text else None


def _all(node: etree._Element, name: str) -> list[etree._Element]:
    return node.xpath(f"*[local-name()='{name}']")  # type: ignore[return-value]


def parse_camt053(path: Path) -> Iterator[Statement]:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.parse(str(path), parser).getroot()
    except etree.XMLSyntaxError as exc:
        raise SourceError(path, f"not well-formed XML: {exc.msg}", exc.lineno) from None
    if etree.QName(root).localname != "Document" or _find(root, "BkToCstmrStmt") is None:
        raise SourceError(path, "not a camt.053 document (no Document/BkToCstmrStmt)", 1)
    statements = _all(_find(root, "BkToCstmrStmt"), "Stmt")  # type: ignore[arg-type]
    if not statements:
        raise SourceError(path, "the camt.053 document holds no Stmt", root.sourceline)
    for stmt in statements:
        yield _statement(path, stmt)


def _statement(path: Path, stmt: etree._Element) -> Statement:
    line = stmt.sourceline
    iban_text = _text(stmt, "Acct/Id/IBAN")
    if iban_text is None:
        raise SourceError(path, "the statement's account has no IBAN (Acct/Id/IBAN)", line)
    iban = values.iban(iban_text, path, line)
    ccy = _text(stmt, "Acct/Ccy")
    bic = _text(stmt, "Acct/Svcr/FinInstnId/BICFI") or _text(stmt, "Acct/Svcr/FinInstnId/BIC")
    balance = balance_date = None
    for bal in _all(stmt, "Bal"):
        if _text(bal, "Tp/CdOrPrtry/Cd") in ("CLBD", "CLAV") and balance is None:
            amt = _find(bal, "Amt")
            if amt is None:
                raise SourceError(path, "a balance has no Amt", bal.sourceline)
            balance = values.amount(amt.text or "", path, amt.sourceline, "balance")
            if _text(bal, "CdtDbtInd") == "DBIT":
                balance = -balance
            ccy = ccy or amt.get("Ccy")
            when = _text(bal, "Dt/Dt") or (_text(bal, "Dt/DtTm") or "")[:10]
            balance_date = values.day(when, path, bal.sourceline, "balance date")
    txs = [_entry(path, entry, ccy) for entry in _all(stmt, "Ntry")]
    currency = values.currency(ccy or (txs[0].currency if txs else ""), path, line)
    return Statement(path, iban, currency, tuple(txs), bic, None, balance, balance_date)


def _entry(path: Path, entry: etree._Element, account_ccy: str | None) -> Transaction:
    line = entry.sourceline
    amt = _find(entry, "Amt")
    if amt is None or not (amt.text or "").strip():
        raise SourceError(path, "an entry (Ntry) has no Amt", line)
    amount = values.amount(amt.text or "", path, amt.sourceline)
    sign = _text(entry, "CdtDbtInd")
    if sign not in ("CRDT", "DBIT"):
        raise SourceError(path, f"CdtDbtInd {sign!r} is neither CRDT nor DBIT", line)
    if sign == "DBIT":
        amount = -amount
    booked = _text(entry, "BookgDt/Dt") or (_text(entry, "BookgDt/DtTm") or "")[:10]
    if not booked:
        raise SourceError(path, "an entry has no booking date (BookgDt)", line)
    valued = _text(entry, "ValDt/Dt") or (_text(entry, "ValDt/DtTm") or "")[:10]
    details = _find(entry, "NtryDtls/TxDtls")
    e2e = _text(details, "Refs/EndToEndId") if details is not None else None
    ident = _text(entry, "AcctSvcrRef") or _text(entry, "NtryRef") or e2e
    if not ident or ident == "NOTPROVIDED":
        raise SourceError(path, "an entry has no identifier (AcctSvcrRef or NtryRef)", line)
    party = iban = None
    if details is not None:
        # The other party: the creditor of a debit, the debtor of a credit.
        other = "Cdtr" if sign == "DBIT" else "Dbtr"
        party = _text(details, f"RltdPties/{other}/Nm") or _text(
            details, f"RltdPties/{other}/Pty/Nm"
        )
        found = _text(details, f"RltdPties/{other}Acct/Id/IBAN")
        iban = values.iban(found, path, line, "counterparty IBAN") if found else None
    info = _text(entry, "AddtlNtryInf")
    remittance = _text(details, "RmtInf/Ustrd") if details is not None else None
    label = info or remittance or party or "(no label)"
    family = _text(entry, "BkTxCd/Domn/Fmly/Cd")
    return Transaction(
        id=ident,
        booking_date=values.day(booked, path, line, "booking date"),
        value_date=values.day(valued, path, line, "value date") if valued else None,
        amount=amount,
        currency=values.currency(amt.get("Ccy") or account_ccy or "", path, amt.sourceline),
        label=label[:500],
        counterparty_name=party,
        counterparty_iban=iban,
        reference=e2e if e2e and e2e != "NOTPROVIDED" else None,
        kind=FAMILIES.get(family or ""),
    )
