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
import json
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


# Metropolitan France's regions, as schema:addressRegion names them in the pods.
REGIONS = (
    "Auvergne-Rhône-Alpes",
    "Bourgogne-Franche-Comté",
    "Bretagne",
    "Centre-Val de Loire",
    "Corse",
    "Grand Est",
    "Hauts-de-France",
    "Île-de-France",
    "Normandie",
    "Nouvelle-Aquitaine",
    "Occitanie",
    "Pays de la Loire",
    "Provence-Alpes-Côte d'Azur",
)


@dataclass(frozen=True)
class Customer:
    id: str
    iban: str
    prm: str
    region: str | None = None  # where the home (its delivery point) is


def customers(count: int, seed: int = 0) -> list[Customer]:
    """``count`` customers with valid French IBANs, 14-digit delivery points and the
    region of their home."""
    rng = random.Random(f"customers-{seed}")
    made = []
    for n in range(count):
        account = f"{rng.randrange(10**11):011d}"
        iban = french_iban("12548", f"{rng.randrange(100000):05d}", account)
        prm = f"{rng.randrange(10**13, 10**14):014d}"
        cid = f"C{n + 1:06d}"
        # A generator of its own: adding the region left every other figure as it was.
        region = random.Random(f"region-{seed}-{cid}").choice(REGIONS)
        made.append(Customer(cid, iban, prm, region))
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


# -- telecom, insurance, retail: the documented CSV/JSON read through mapping files ------------
_PLANS = [
    ("Forfait 5 Go", "9.99", 5),
    ("Forfait 100 Go", "19.99", 100),
    ("Forfait 5G 200 Go", "29.99", 200),
]


def gtin13(first12: str) -> str:
    """A GTIN-13 from its first 12 digits: the check digit (weights 1, 3) appended."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return first12 + str((10 - total % 10) % 10)


_PRODUCTS = [
    (gtin13(code), name, brand, price, vat)
    for code, name, brand, price, vat in [
        ("301762042200", "Pâte à tartiner 400 g", "Nutella", "3.49", "5.5"),
        ("322885700016", "Pain de mie complet", "Harrys", "2.15", "5.5"),
        ("356007089422", "Lait demi-écrémé 1 L", "Carrefour", "1.09", "5.5"),
        ("544900000099", "Soda cola 1,5 L", "Coca-Cola", "1.89", "5.5"),
        ("360052361444", "Shampooing 250 ml", "Elseve", "4.60", "20"),
        ("324541234567", "Pommes Gala 1 kg", "", "2.99", "5.5"),
        ("308368102555", "Yaourts nature x8", "Danone", "2.35", "5.5"),
    ]
]
_STORES = [("0142", "Magasin Exemple Lyon Part-Dieu"), ("0217", "Magasin Exemple Villeurbanne")]
_GUARANTEES = [
    "Responsabilité civile",
    "Incendie et dégâts des eaux",
    "Vol et vandalisme",
    "Bris de glace",
]


def write_mobile_usage(path: Path, customer: Customer, year: int, month: int, seed: int = 0) -> int:
    """A month of a mobile line (``;``-separated, one row): the plan and the usage, as
    ``apps/connector/examples/telecom-map.toml`` documents the columns."""
    profile = random.Random(f"mobile-profile-{seed}-{customer.id}")
    rng = random.Random(f"mobile-{seed}-{customer.id}-{year}-{month}")
    plan, price, allowance = profile.choice(_PLANS)
    line = f"MOB-{profile.randrange(10**8):08d}"
    phone = f"+336{profile.randrange(10**8):08d}"
    data_mb = min(allowance * 1024, rng.uniform(0.2, 1.1) * allowance * 700)
    rows = [
        [
            "line_id",
            "phone",
            "plan",
            "monthly_price",
            "currency",
            "allowance_gb",
            "start_date",
            "month",
            "calls",
            "call_seconds",
            "sms",
            "data_mb",
            "roaming_mb",
        ],
        [
            line,
            phone,
            plan,
            price,
            "EUR",
            str(allowance),
            "2022-06-14",
            f"{year}-{month:02d}",
            str(rng.randint(10, 150)),
            str(rng.randint(600, 30000)),
            str(rng.randint(0, 300)),
            f"{data_mb:.1f}",
            f"{rng.choice([0, 0, 0, rng.uniform(10, 900)]):.1f}",
        ],
    ]
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, delimiter=";").writerows(rows)
    return 1


def write_insurance(folder: Path, customer: Customer, seed: int = 0) -> int:
    """The customer's home insurance contract (``contracts.json``) and a claim on it
    (``claims.csv``), as ``apps/connector/examples/insurance-map.toml`` documents them."""
    rng = random.Random(f"insurance-{seed}-{customer.id}")
    number = f"MRH-{rng.randrange(10**7):07d}"
    contract = {
        "contract_number": number,
        "start_date": f"20{rng.randint(15, 23)}-{rng.randint(1, 12):02d}-01",
        "annual_premium": f"{rng.uniform(180, 620):.2f}",
        "deductible": rng.choice(["150.00", "230.00", "300.00"]),
        "currency": "EUR",
        "guarantees": _GUARANTEES[: rng.randint(2, 4)],
        "dwelling": rng.choice(["Appartement", "Maison"]) + f", {rng.randint(1, 99)} rue des Lilas",
        "floor_area": str(rng.randint(25, 140)),
        "rooms": str(rng.randint(1, 6)),
        "insured_value": f"{rng.randint(20, 90) * 1000}.00",
    }
    (folder / "contracts.json").write_text(
        json.dumps({"contracts": [contract]}, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    claimed = rng.uniform(300, 2500)
    day = rng.randint(1, 20)
    claim = {
        "claim_number": f"SIN-2024-{rng.randrange(10**4):04d}",
        "contract_number": number,
        "incident_date": f"2024-01-{day:02d}",
        "declaration_date": f"2024-01-{day + 2:02d}",
        "description": rng.choice(
            ["Dégât des eaux (plafond de la cuisine)", "Vol de vélo", "Bris de vitre"]
        ),
        "status": "Settled",
        "claimed_amount": f"{claimed:.2f}",
        "settled_amount": f"{claimed * 0.85:.2f}",
        "currency": "EUR",
    }
    with (folder / "claims.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(claim))
        writer.writeheader()
        writer.writerow(claim)
    return 2


def write_receipts(path: Path, customer: Customer, year: int, month: int, seed: int = 0) -> int:
    """A month of store receipts, one row per line item (the receipt's columns repeated),
    as ``apps/connector/examples/retail-map.toml`` documents them; returns the receipts."""
    rng = random.Random(f"receipts-{seed}-{customer.id}-{year}-{month}")
    fields = [
        "ticket",
        "purchased_at",
        "store_code",
        "store_name",
        "line",
        "gtin",
        "product",
        "brand",
        "quantity",
        "unit_price",
        "line_total",
        "vat_rate",
        "ticket_total",
        "currency",
    ]
    rows = []
    count = rng.randint(2, 5)
    last = calendar.monthrange(year, month)[1]
    for n in range(count):
        code, store = rng.choice(_STORES)
        at = datetime(
            year, month, rng.randint(1, last), rng.randint(8, 20), rng.randint(0, 59), tzinfo=PARIS
        )
        ticket = f"{code}-{at:%Y%m%d}-{customer.id[-4:]}{n}"
        items = rng.sample(_PRODUCTS, rng.randint(1, 5))
        totals = [
            Decimal(price) * q
            for (_, _, _, price, _), q in zip(
                items, [rng.randint(1, 3) for _ in items], strict=True
            )
        ]
        for line, ((gtin, name, brand, price, vat), total) in enumerate(
            zip(items, totals, strict=True), 1
        ):
            rows.append(
                {
                    "ticket": ticket,
                    "purchased_at": at.isoformat(),
                    "store_code": code,
                    "store_name": store,
                    "line": str(line),
                    "gtin": gtin,
                    "product": name,
                    "brand": brand,
                    "quantity": str(int(total / Decimal(price))),
                    "unit_price": price,
                    "line_total": f"{total:.2f}",
                    "vat_rate": vat,
                    "ticket_total": f"{sum(totals):.2f}",
                    "currency": "EUR",
                }
            )
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return count


def write_gas_readings(path: Path, customer: Customer, year: int, month: int, seed: int = 0) -> int:
    """The gas meter's index read at the end of the month (m3; more used in winter), as
    ``apps/connector/examples/energy-gas-map.toml`` documents the columns."""
    profile = random.Random(f"gas-{seed}-{customer.id}")
    pce = f"{profile.randrange(10**13, 10**14):014d}"
    start = profile.uniform(1000, 9000)
    used = sum(
        profile.uniform(20, 40) * (1.8 if m in (11, 12, 1, 2, 3) else 0.6)
        for m in range(1, 1 + (year - 2000) * 12 + month)
    )
    last = calendar.monthrange(year, month)[1]
    read_at = datetime(year, month, last, 7, 30, tzinfo=PARIS)
    rows = [
        ["pce", "read_at", "index_m3", "estimated"],
        [pce, read_at.isoformat(), f"{start + used:.2f}", "false" if month % 2 else "true"],
    ]
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, delimiter=";").writerows(rows)
    return 1


OTHER_DOMAINS = ("telecom", "insurance", "retail")


def generate_other(
    out: Path, made: list[Customer], month_count: int, first: str = "2024-01", seed: int = 0
) -> None:
    """Telecom (mobile usage per month), insurance (a contract and a claim) and retail
    (receipts per month) files in ``out/<domain>/<customer id>/``."""
    for customer in made:
        folders = {d: out / d / customer.id for d in OTHER_DOMAINS}
        for folder in folders.values():
            folder.mkdir(parents=True, exist_ok=True)
        write_insurance(folders["insurance"], customer, seed)
        for year, month in months(first, month_count):
            write_mobile_usage(
                folders["telecom"] / f"mobile-{year}-{month:02d}.csv", customer, year, month, seed
            )
            write_receipts(
                folders["retail"] / f"receipts-{year}-{month:02d}.csv", customer, year, month, seed
            )


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
    others: bool = False,
    gas: bool = False,
) -> list[Customer]:
    """Files for ``count`` customers over ``month_count`` months: ``out/bank/<id>/`` (one
    statement per month in ``bank_format``), ``out/energy/<id>/`` (one load curve per
    month and, with ``gas``, a gas meter reading), with ``others`` telecom, insurance and
    retail files (``generate_other``), and ``out/customers.csv``
    (``customer_id,webid,iban,prm,region``, the WebIDs from the ``webids`` template and
    the lower-cased id, ready for ``push --customers``)."""
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
                if gas:
                    write_gas_readings(
                        energy_dir / f"gas-readings-{year}-{month:02d}.csv",
                        customer,
                        year,
                        month,
                        seed,
                    )
    if others:
        generate_other(out, made, month_count, first, seed)
    with (out / "customers.csv").open("w", newline="", encoding="utf-8") as handle:
        writer_ = csv.writer(handle)
        writer_.writerow(["customer_id", "webid", "iban", "prm", "region"])
        writer_.writerows(
            (c.id, webids.format(id=c.id.lower()), c.iban, c.prm, c.region or "") for c in made
        )
    return made
