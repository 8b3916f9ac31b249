"""A typical bank month: one current account and about 300 transactions, as Turtle.

Deterministic (a seeded generator, fixed dates), so the file it writes,
``vocab/bank/examples/month.ttl``, is reproducible and a test checks it is up to date.
It is the benchmark input for validating a bank's monthly write.

    python -m vocab.bank_month            # rewrite vocab/bank/examples/month.ttl
    python -m vocab.bank_month --count 1000 > big.ttl
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from vocab.checks import french_iban

OUTPUT = Path(__file__).resolve().parent / "bank" / "examples" / "month.ttl"

POD = "https://alice.pod.example/"
BANK = "https://banque.example/id#org"
ACCOUNT = f"{POD}bank/accounts#current"
IBAN = french_iban("12548", "02998", "00012345678")
YEAR, MONTH = 2024, 3
OPENING_BALANCE = Decimal("1843.27")
GENERATED_AT = "2024-04-01T06:00:00+02:00"


@dataclass(frozen=True)
class Tx:
    day: int
    amount: Decimal
    label: str
    counterparty: str
    category: str
    kind: str
    counterparty_iban: str | None = None
    reference: str | None = None


# Fixed monthly movements: (day, amount, label, counterparty, category, type, iban).
_FIXED = [
    (
        1,
        "-820.00",
        "VIR PERMANENT LOYER MARS",
        "SCI Les Tilleuls",
        "Rent",
        "CreditTransfer",
        french_iban("30002", "00550", "0000157841Z"),
    ),
    (
        2,
        "-150.00",
        "VIR EPARGNE LIVRET A",
        "Alice Martin",
        "InternalTransfer",
        "CreditTransfer",
        french_iban("12548", "02998", "00098765432"),
    ),
    (
        4,
        "-87.40",
        "PRLV SEPA ENERGIE EXEMPLE",
        "Énergie Exemple",
        "Energy",
        "DirectDebit",
        french_iban("30004", "00819", "00010447788"),
    ),
    (
        5,
        "-312.58",
        "ECHEANCE PRET 0042-778",
        "Banque Exemple",
        "LoanRepayment",
        "DirectDebit",
        None,
    ),
    (
        6,
        "-24.99",
        "PRLV SEPA TELECOM EXEMPLE MOBILE",
        "Télécom Exemple",
        "Telecom",
        "DirectDebit",
        french_iban("10278", "06076", "00020587691"),
    ),
    (
        6,
        "-39.99",
        "PRLV SEPA TELECOM EXEMPLE FIBRE",
        "Télécom Exemple",
        "Telecom",
        "DirectDebit",
        french_iban("10278", "06076", "00020587691"),
    ),
    (
        8,
        "-42.15",
        "PRLV SEPA ASSURANCE EXEMPLE HABITATION",
        "Assurance Exemple",
        "Insurance",
        "DirectDebit",
        french_iban("18206", "00041", "60000012345"),
    ),
    (
        10,
        "-86.40",
        "PRLV SEPA NAVIGO MENSUEL",
        "Transports Exemple",
        "PublicTransport",
        "DirectDebit",
        french_iban("30003", "03620", "00020265489"),
    ),
    (
        12,
        "148.32",
        "VIR CAF ALLOCATIONS",
        "Caisse d'allocations familiales",
        "SocialBenefits",
        "CreditTransfer",
        french_iban("10071", "75000", "00001005212"),
    ),
    (
        15,
        "-135.00",
        "PRLV SEPA DGFIP IMPOT PAS",
        "Direction générale des Finances publiques",
        "Taxes",
        "DirectDebit",
        french_iban("30001", "00064", "00000040201"),
    ),
    (
        20,
        "18.90",
        "VIR CPAM REMBOURSEMENT SOINS",
        "Assurance Maladie",
        "Health",
        "CreditTransfer",
        french_iban("10071", "75000", "00001003456"),
    ),
    (
        28,
        "2650.00",
        "VIR SALAIRE MARS",
        "Exemple Industries SAS",
        "Salary",
        "CreditTransfer",
        french_iban("30004", "02837", "00010079563"),
    ),
    (31, "-2.90", "COTISATION CARTE", "Banque Exemple", "BankingFees", "BankCharge", None),
]

# Card payments drawn at random: (merchant, category, low, high, weight). Mostly small
# everyday purchases, so that 300 transactions still fit a monthly salary.
_MERCHANTS = [
    ("BOULANGERIE DU MARCHE", "Groceries", "1.10", "6", 30),
    ("CAFE DE LA GARE", "Restaurants", "1.80", "5", 25),
    ("RATP TICKETS", "PublicTransport", "2.15", "4.30", 8),
    ("MONOPRIX", "Groceries", "3", "25", 12),
    ("CARREFOUR MARKET", "Groceries", "8", "60", 6),
    ("PICARD", "Groceries", "5", "25", 2),
    ("BIOCOOP", "Groceries", "4", "30", 2),
    ("LE PETIT BISTROT", "Restaurants", "12", "30", 2),
    ("SUSHI EXPRESS", "Restaurants", "11", "25", 1),
    ("TOTAL ENERGIES", "Fuel", "35", "60", 1),
    ("PHARMACIE CENTRALE", "Health", "3", "20", 2),
    ("CINEMA LE REX", "Leisure", "7.50", "22", 1),
    ("FNAC", "Leisure", "9.99", "60", 0.5),
    ("DECATHLON", "Shopping", "9.99", "80", 0.5),
    ("AMAZON EU", "Shopping", "6.99", "30", 2),
    ("ZARA", "Shopping", "15.99", "59.99", 0.3),
    ("SNCF CONNECT", "Transport", "19", "89", 0.3),
]

_CENT = Decimal("0.01")


def _money(rng: random.Random, low: str, high: str) -> Decimal:
    cents = rng.randint(int(Decimal(low) * 100), int(Decimal(high) * 100))
    return (Decimal(cents) / 100).quantize(_CENT)


def transactions(count: int = 300, seed: int = 2024) -> list[Tx]:
    """``count`` transactions over March 2024, sorted by day (fixed ones included)."""
    rng = random.Random(seed)
    txs = [
        Tx(
            day,
            Decimal(amount).quantize(_CENT),
            label,
            who,
            category,
            kind,
            iban,
            f"E2E-{YEAR}{MONTH:02d}{day:02d}-{i:03d}" if iban else None,
        )
        for i, (day, amount, label, who, category, kind, iban) in enumerate(_FIXED)
    ]
    weights = [m[4] for m in _MERCHANTS]
    while len(txs) < count:
        day = rng.randint(1, 31)
        if rng.random() < 0.02:
            amount = Decimal(rng.choice((20, 40, 60))).quantize(_CENT)
            txs.append(
                Tx(
                    day,
                    -amount,
                    f"RETRAIT DAB {day:02d}/{MONTH:02d}",
                    "Banque Exemple",
                    "Cash",
                    "CashWithdrawal",
                )
            )
            continue
        name, category, low, high, _ = rng.choices(_MERCHANTS, weights)[0]
        amount = _money(rng, low, high)
        txs.append(
            Tx(
                day,
                -amount,
                f"CB {name} {day:02d}/{MONTH:02d}",
                name.title(),
                category,
                "CardPayment",
            )
        )
    return sorted(txs[:count], key=lambda tx: tx.day)


def _literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def generate(count: int = 300, seed: int = 2024) -> str:
    """The Turtle document: the account, then each transaction with its provenance."""
    txs = transactions(count, seed)
    balance = OPENING_BALANCE
    for tx in txs:
        balance += tx.amount
    lines = [
        "# A typical bank month, generated by vocab/bank_month.py: do not edit by hand.",
        "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .",
        "@prefix prov: <http://www.w3.org/ns/prov#> .",
        "@prefix doc: <https://w3id.org/solid-pods/vocab/doc#> .",
        "@prefix bank: <https://w3id.org/solid-pods/vocab/bank#> .",
        f"@prefix tx: <{POD}bank/{YEAR}-{MONTH:02d}/transactions#> .",
        "",
        f"<{ACCOUNT}> a bank:CurrentAccount ;",
        f'    bank:iban "{IBAN}" ;',
        '    bank:bic "BQEXFRPPXXX" ;',
        '    bank:accountName "Compte de chèques" ;',
        f"    bank:institution <{BANK}> ;",
        f"    bank:holder <{POD}profile/card#me> ;",
        '    doc:currency "EUR" ;',
        '    bank:overdraftLimit "500.00"^^xsd:decimal ;',
        f'    bank:balance "{balance}"^^xsd:decimal ;',
        f'    bank:balanceDate "{YEAR}-{MONTH:02d}-31"^^xsd:date ;',
        f"    prov:wasAttributedTo <{BANK}> ;",
        f'    prov:generatedAtTime "{GENERATED_AT}"^^xsd:dateTime .',
    ]
    running = OPENING_BALANCE
    for number, tx in enumerate(txs, start=1):
        running += tx.amount
        booked = date(YEAR, MONTH, tx.day)
        # Card payments are booked a day or two after the purchase, value dated on it.
        value = booked - timedelta(days=1) if tx.kind == "CardPayment" and tx.day > 1 else booked
        lines += [
            "",
            f"tx:t{number:04d} a bank:Transaction ;",
            f"    bank:account <{ACCOUNT}> ;",
            f'    bank:bookingDate "{booked.isoformat()}"^^xsd:date ;',
            f'    bank:valueDate "{value.isoformat()}"^^xsd:date ;',
            f'    bank:amount "{tx.amount}"^^xsd:decimal ;',
            '    doc:currency "EUR" ;',
            f"    bank:label {_literal(tx.label)} ;",
            f"    bank:counterpartyName {_literal(tx.counterparty)} ;",
        ]
        if tx.counterparty_iban:
            lines.append(f'    bank:counterpartyIban "{tx.counterparty_iban}" ;')
        if tx.reference:
            lines.append(f'    bank:reference "{tx.reference}" ;')
        lines += [
            f"    bank:category bank:{tx.category} ;",
            f"    bank:transactionType bank:{tx.kind} ;",
            f'    bank:balanceAfter "{running}"^^xsd:decimal ;',
            f"    prov:wasAttributedTo <{BANK}> ;",
            f'    prov:generatedAtTime "{GENERATED_AT}"^^xsd:dateTime .',
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, help="write this many transactions to stdout")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args(argv)
    if args.count is not None:
        sys.stdout.write(generate(args.count, args.seed))
    else:
        OUTPUT.write_text(generate(seed=args.seed), encoding="utf-8")
        print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
