"""Synthetic customers for tests, demos and benchmarks: bank statements (OFX, camt.053 or
the documented CSV) and half-hourly load curves, realistic and deterministic (a seed).

A month of a current account: salary (or benefits) at the end of the month, rent,
loan instalment, energy, telecom and streaming subscriptions, insurance, groceries and
restaurants by card, transport, a cash withdrawal, sometimes bank fees. A load curve:
base load, morning and evening peaks, electric heating in winter, noise.

    python -m apps.connector generate --out data/ --customers 20 --months 3
"""

from __future__ import annotations

import calendar
import csv
import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from apps.connector.records import Statement, Transaction
from vocab.checks import french_iban

PARIS = ZoneInfo("Europe/Paris")
BANK_FORMATS = ("ofx", "camt053", "csv")
# The pods a host would make with `pod-server user add c000001` on a local server.
WEBIDS = "http://127.0.0.1:3000/{id}/profile/card#me"

_LANDLORDS = ["SCI Les Tilleuls", "Foncia Gestion", "Nexity Lamy", "M. Bernard Durand"]
_EMPLOYERS = ["ACME Industries", "Mairie de Lyon", "Clinique du Parc", "Transports Martin"]
_SHOPS = [
    ("MONOPRIX", "Groceries", 8, 60),
    ("CARREFOUR CITY", "Groceries", 10, 90),
    ("BOULANGERIE DU MARCHE", "Groceries", 2, 12),
    ("LIDL", "Groceries", 15, 80),
    ("CAFE DE LA GARE", "Restaurants", 3, 15),
    ("RESTAURANT LE ZINC", "Restaurants", 18, 55),
    ("PHARMACIE CENTRALE", "Health", 5, 40),
    ("FNAC", "Shopping", 15, 120),
    ("TOTAL ENERGIES STATION", "Fuel", 30, 75),
    ("SNCF CONNECT", "PublicTransport", 15, 95),
]
_SUBSCRIPTIONS = [
    ("PRLV ORANGE MOBILE", "Orange SA", Decimal("19.99"), 5),
    ("PRLV FREE MOBILE", "Free Mobile", Decimal("15.99"), 7),
    ("PRLV NETFLIX", "Netflix International", Decimal("13.49"), 12),
    ("PRLV SPOTIFY", "Spotify AB", Decimal("10.99"), 15),
    ("PRLV EDF ELECTRICITE", "EDF", Decimal("78.00"), 10),
    ("PRLV ASSURANCE HABITATION MAIF", "MAIF", Decimal("24.30"), 8),
]


@dataclass(frozen=True)
class Customer:
    id: str
    iban: str
    prm: str


def customers(count: int, seed: int = 0) -> list[Customer]:
    """``count`` customers with valid French IBANs and 14-digit delivery points."""
    rng = random.Random(f"customers-{seed}")
    made = []
    for n in range(count):
        account = f"{rng.randrange(10**11):011d}"
        iban = french_iban("12548", f"{rng.randrange(100000):05d}", account)
        prm = f"{rng.randrange(10**13, 10**14):014d}"
        made.append(Customer(f"C{n + 1:06d}", iban, prm))
    return made


def months(first: str, count: int) -> list[tuple[int, int]]:
    """``count`` (year, month) from ``first`` (``YYYY-MM``)."""
    year, month = (int(p) for p in first.split("-"))
    out = []
    for _ in range(count):
        out.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _money(rng: random.Random, low: float, high: float) -> Decimal:
    return Decimal(f"{rng.uniform(low, high):.2f}")


def bank_month(
    customer: Customer, year: int, month: int, seed: int = 0, card_payments: int = 45
) -> tuple[list[Transaction], Decimal]:
    """A month of ``customer``'s current account, and the closing balance."""
    rng = random.Random(f"bank-{seed}-{customer.id}-{year}-{month}")
    profile = random.Random(f"profile-{seed}-{customer.id}")  # the same every month
    salary = Decimal(f"{profile.uniform(1500, 4200):.2f}")
    rent = Decimal(f"{profile.uniform(450, 1300):.0f}.00")
    landlord = profile.choice(_LANDLORDS)
    employer = profile.choice(_EMPLOYERS)
    loan = Decimal(f"{profile.uniform(120, 420):.2f}") if profile.random() < 0.4 else None
    subs = [s for s in _SUBSCRIPTIONS if profile.random() < 0.7]
    last = calendar.monthrange(year, month)[1]
    raw: list[tuple[int, Decimal, str, str | None, str | None]] = []
    raw.append((1, -rent, f"VIR PERMANENT LOYER {month:02d}/{year}", landlord, "CreditTransfer"))
    if loan is not None:
        raw.append((5, -loan, "ECHEANCE PRET IMMO", "Banque Exemple Credit", "DirectDebit"))
    for label, who, amount, day in subs:
        raw.append((day, -amount, label, who, "DirectDebit"))
    raw.append((3, Decimal("-150.00"), "VIR EPARGNE LIVRET A", None, "CreditTransfer"))
    raw.append(
        (
            rng.randint(8, 22),
            -Decimal(rng.choice([20, 40, 60, 80])),
            "RETRAIT DAB",
            None,
            "CashWithdrawal",
        )
    )
    for _ in range(card_payments):
        shop, _category, low, high = rng.choice(_SHOPS)
        day = rng.randint(1, last)
        raw.append(
            (
                day,
                -_money(rng, low, high),
                f"CB {shop} {day:02d}/{month:02d}",
                shop.title(),
                "CardPayment",
            )
        )
    if rng.random() < 0.15:
        raw.append((last, Decimal("-8.00"), "FRAIS TENUE DE COMPTE", None, "BankCharge"))
    raw.append(
        (min(last, 28), salary, f"VIR SALAIRE {employer.upper()}", employer, "CreditTransfer")
    )
    raw.sort(key=lambda r: r[0])
    balance = Decimal(f"{profile.uniform(300, 3000):.2f}") + (month + 12 * year) % 7 * 10
    txs = []
    for n, (day, amount, label, who, kind) in enumerate(raw, start=1):
        balance += amount
        txs.append(
            Transaction(
                id=f"{customer.id}-{year}{month:02d}-{n:04d}",
                booking_date=date(year, month, day),
                value_date=date(year, month, day),
                amount=amount,
                currency="EUR",
                label=label,
                counterparty_name=who,
                kind=kind,
                balance_after=balance,
            )
        )
    return txs, balance


def write_ofx(path: Path, statement: Statement) -> None:
    """An OFX 1.02 (SGML) statement, as French banks export them."""
    iban = statement.iban
    bank, branch, account = iban[4:9], iban[9:14], iban[14:25]
    first = min(t.booking_date for t in statement.transactions)
    last = max(t.booking_date for t in statement.transactions)
    kinds = {
        "CardPayment": "POS",
        "CreditTransfer": "XFER",
        "DirectDebit": "DIRECTDEBIT",
        "CashWithdrawal": "ATM",
        "BankCharge": "FEE",
        "Cheque": "CHECK",
    }
    lines = [
        "OFXHEADER:100",
        "DATA:OFXSGML",
        "VERSION:102",
        "SECURITY:NONE",
        "ENCODING:USASCII",
        "CHARSET:1252",
        "COMPRESSION:NONE",
        "OLDFILEUID:NONE",
        "NEWFILEUID:NONE",
        "",
        "<OFX>",
        "<SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS>"
        f"<DTSERVER>{last:%Y%m%d}060000<LANGUAGE>FRA</SONRS></SIGNONMSGSRSV1>",
        "<BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS>",
        f"<STMTRS><CURDEF>{statement.currency}",
        f"<BANKACCTFROM><BANKID>{bank}<BRANCHID>{branch}<ACCTID>{account}"
        "<ACCTTYPE>CHECKING</BANKACCTFROM>",
        f"<BANKTRANLIST><DTSTART>{first:%Y%m%d}<DTEND>{last:%Y%m%d}",
    ]
    for t in statement.transactions:
        name = escape(t.label[:32])
        memo = f"<MEMO>{escape(t.label[32:])}" if len(t.label) > 32 else ""
        lines.append(
            f"<STMTTRN><TRNTYPE>{kinds.get(t.kind or '', 'OTHER')}"
            f"<DTPOSTED>{t.booking_date:%Y%m%d}<TRNAMT>{t.amount}"
            f"<FITID>{t.id}<NAME>{name}{memo}</STMTTRN>"
        )
    lines += [
        "</BANKTRANLIST>",
        f"<LEDGERBAL><BALAMT>{statement.balance}<DTASOF>{statement.balance_date:%Y%m%d}</LEDGERBAL>",
        "</STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>",
        "",
    ]
    path.write_text("\r\n".join(lines), encoding="ascii", errors="replace")


def write_camt053(path: Path, statement: Statement) -> None:
    """A camt.053.001.08 statement with one account and its entries."""
    families = {
        "CardPayment": ("CCRD", "POSD"),
        "CreditTransfer": ("ICDT", "ESCT"),
        "DirectDebit": ("IDDT", "ESDD"),
        "CashWithdrawal": ("CCRD", "CWDL"),
        "BankCharge": ("ACMT", "CHRG"),
        "Cheque": ("ICHQ", "CCHQ"),
    }
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">',
        "<BkToCstmrStmt>",
        f"<GrpHdr><MsgId>{path.stem}</MsgId><CreDtTm>{statement.balance_date}T06:00:00</CreDtTm></GrpHdr>",
        f"<Stmt><Id>{path.stem}</Id>",
        f"<Acct><Id><IBAN>{statement.iban}</IBAN></Id><Ccy>{statement.currency}</Ccy>"
        "<Svcr><FinInstnId><BICFI>BQEXFRPPXXX</BICFI></FinInstnId></Svcr></Acct>",
    ]
    if statement.balance is not None:
        sign = "CRDT" if statement.balance >= 0 else "DBIT"
        out.append(
            f'<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="{statement.currency}">'
            f"{abs(statement.balance)}</Amt><CdtDbtInd>{sign}</CdtDbtInd>"
            f"<Dt><Dt>{statement.balance_date}</Dt></Dt></Bal>"
        )
    for t in statement.transactions:
        sign = "CRDT" if t.amount >= 0 else "DBIT"
        family, sub = families.get(t.kind or "", ("OTHR", "OTHR"))
        other = "Dbtr" if sign == "CRDT" else "Cdtr"
        party = (
            f"<RltdPties><{other}><Pty><Nm>{escape(t.counterparty_name)}</Nm></Pty></{other}></RltdPties>"
            if t.counterparty_name
            else ""
        )
        out.append(
            f'<Ntry><Amt Ccy="{t.currency}">{abs(t.amount)}</Amt><CdtDbtInd>{sign}</CdtDbtInd>'
            f"<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>{t.booking_date}</Dt></BookgDt>"
            f"<ValDt><Dt>{t.value_date or t.booking_date}</Dt></ValDt>"
            f"<AcctSvcrRef>{t.id}</AcctSvcrRef>"
            f"<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>{family}</Cd><SubFmlyCd>{sub}</SubFmlyCd></Fmly></Domn></BkTxCd>"
            f"<NtryDtls><TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>{party}</TxDtls></NtryDtls>"
            f"<AddtlNtryInf>{escape(t.label)}</AddtlNtryInf></Ntry>"
        )
    out += ["</Stmt>", "</BkToCstmrStmt>", "</Document>", ""]
    path.write_text("\n".join(out), encoding="utf-8")


def write_bank_csv(path: Path, statement: Statement) -> None:
    """The documented CSV (``apps.connector.parsers.bank_csv``), French decimal commas."""
    columns = [
        "transaction_id",
        "iban",
        "booking_date",
        "value_date",
        "amount",
        "currency",
        "label",
        "counterparty_name",
        "type",
        "balance_after",
    ]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(columns)
        for t in statement.transactions:
            writer.writerow(
                [
                    t.id,
                    statement.iban,
                    t.booking_date.strftime("%d/%m/%Y"),
                    (t.value_date or t.booking_date).isoformat(),
                    str(t.amount).replace(".", ","),
                    t.currency,
                    t.label,
                    t.counterparty_name or "",
                    t.kind or "",
                    str(t.balance_after).replace(".", ",") if t.balance_after is not None else "",
                ]
            )


def write_load_curve(path: Path, customer: Customer, year: int, month: int, seed: int = 0) -> int:
    """A month of half-hourly average power (W) in the operators' CSV; returns the count."""
    rng = random.Random(f"energy-{seed}-{customer.id}-{year}-{month}")
    profile = random.Random(f"home-{seed}-{customer.id}")
    base = profile.uniform(150, 450)  # W: fridge, standby, ventilation
    heating = profile.uniform(0, 2500) if profile.random() < 0.5 else 0.0
    last = calendar.monthrange(year, month)[1]
    start = datetime(year, month, 1, tzinfo=PARIS)
    end = datetime(year, month, last, tzinfo=PARIS) + timedelta(days=1)
    # Winter (January) 1.0 .. summer (July) 0.0: heating and lighting follow it.
    winter = (1 + math.cos(2 * math.pi * (month - 1) / 12)) / 2
    rows = []
    at = start.astimezone(UTC)
    while at < end.astimezone(UTC):
        local = at.astimezone(PARIS)
        hour = local.hour + local.minute / 60
        morning = 900 * math.exp(-((hour - 7.5) ** 2) / 1.5)
        evening = 1500 * math.exp(-((hour - 19.5) ** 2) / 3.0)
        night_heat = heating * winter * (0.8 if hour < 6 or hour > 22 else 0.5)
        watts = max(0.0, (base + morning + evening + night_heat) * rng.uniform(0.75, 1.25))
        at += timedelta(minutes=30)
        rows.append((at.astimezone(PARIS).isoformat(), int(watts)))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(
            [
                "Identifiant PRM",
                "Type de donnees",
                "Date de debut",
                "Date de fin",
                "Grandeur physique",
                "Grandeur metier",
                "Etape metier",
                "Unite",
                "Pas en minutes",
            ]
        )
        writer.writerow(
            [
                customer.prm,
                "Courbe de charge",
                start.strftime("%d/%m/%Y"),
                (end - timedelta(days=1)).strftime("%d/%m/%Y"),
                "Energie active",
                "Consommation",
                "Comptage Brut",
                "W",
                "30",
            ]
        )
        writer.writerow(["Horodate", "Valeur"])
        writer.writerows(rows)
    return len(rows)


def generate(
    out: Path,
    count: int,
    month_count: int = 3,
    first: str = "2024-01",
    seed: int = 0,
    bank_format: str = "ofx",
    energy: bool = True,
    card_payments: int = 45,
    webids: str = WEBIDS,
) -> list[Customer]:
    """Files for ``count`` customers over ``month_count`` months: ``out/bank/<id>/`` (one
    statement per month in ``bank_format``) and ``out/energy/<id>/`` (one load curve per
    month), plus ``out/customers.csv`` (``customer_id,webid,iban,prm``, the WebIDs from
    the ``webids`` template and the lower-cased id, ready for ``push --customers``)."""
    if bank_format not in BANK_FORMATS:
        raise ValueError(f"bank format {bank_format!r}: one of {', '.join(BANK_FORMATS)}")
    made = customers(count, seed)
    suffix = {"ofx": "ofx", "camt053": "xml", "csv": "csv"}[bank_format]
    writer = {"ofx": write_ofx, "camt053": write_camt053, "csv": write_bank_csv}[bank_format]
    for customer in made:
        bank_dir = out / "bank" / customer.id
        bank_dir.mkdir(parents=True, exist_ok=True)
        for year, month in months(first, month_count):
            txs, balance = bank_month(customer, year, month, seed, card_payments)
            last = date(year, month, calendar.monthrange(year, month)[1])
            stmt = Statement(
                Path(), customer.iban, "EUR", tuple(txs), balance=balance, balance_date=last
            )
            writer(bank_dir / f"statement-{year}-{month:02d}.{suffix}", stmt)
            if energy:
                energy_dir = out / "energy" / customer.id
                energy_dir.mkdir(parents=True, exist_ok=True)
                write_load_curve(
                    energy_dir / f"load-curve-{year}-{month:02d}.csv", customer, year, month, seed
                )
    with (out / "customers.csv").open("w", newline="", encoding="utf-8") as handle:
        writer_ = csv.writer(handle)
        writer_.writerow(["customer_id", "webid", "iban", "prm"])
        writer_.writerows((c.id, webids.format(id=c.id.lower()), c.iban, c.prm) for c in made)
    return made
