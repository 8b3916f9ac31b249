"""Each parser on a small hand-written file, and on broken variants of it: the error
names the file and, where the format has lines, the line."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from apps.connector import parsers
from apps.connector.records import LoadCurve, SourceError, Statement

FIXTURES = Path(__file__).parent / "fixtures"
IBAN = "FR7612548029980001234567818"
LANDLORD_IBAN = "FR3330002005500000157841Z25"


def variant(tmp_path: Path, fixture: str, old: str, new: str, name: str | None = None) -> Path:
    """A copy of a fixture with one change."""
    text = (FIXTURES / fixture).read_bytes().decode("utf-8")
    assert old in text, old
    path = tmp_path / (name or fixture)
    path.write_bytes(text.replace(old, new, 1).encode("utf-8"))
    return path


def error(path: Path) -> SourceError:
    with pytest.raises(SourceError) as caught:
        parsers.parse(path)
    assert caught.value.path == str(path)
    return caught.value


def statement(path: Path) -> Statement:
    [found] = parsers.parse(path)
    assert isinstance(found, Statement)
    return found


# -- OFX ----------------------------------------------------------------------------------
def test_ofx_statement() -> None:
    stmt = statement(FIXTURES / "statement.ofx")
    assert (stmt.iban, stmt.currency) == (IBAN, "EUR")  # the French RIB made an IBAN
    assert (stmt.balance, stmt.balance_date) == (Decimal("1523.41"), date(2024, 2, 2))
    assert [t.id for t in stmt.transactions] == ["F-0001", "F-0002", "F-0003", "F-0004"]
    card = stmt.transactions[1]
    assert card.amount == Decimal("-42.30") and card.booking_date == date(2024, 1, 12)
    assert card.value_date == date(2024, 1, 11) and card.kind == "CardPayment"
    assert card.label == "CB MONOPRIX 11/01 PARIS 11E"  # NAME and MEMO
    assert stmt.transactions[0].kind == "DirectDebit"
    assert stmt.transactions[2].kind is None  # CREDIT says nothing of the means


def test_ofx_2_xml_with_an_iban_as_account() -> None:
    stmt = statement(FIXTURES / "statement-v2.ofx")  # a German IBAN fits OFX's 22 characters
    assert stmt.iban == "DE89370400440532013000" and (stmt.balance, stmt.balance_date) == (
        Decimal("-12.50"),
        date(2024, 2, 29),
    )
    assert [(t.id, t.kind, t.amount) for t in stmt.transactions] == [
        ("V2-1", "CashWithdrawal", Decimal("-40.00")),
        ("V2-2", "BankCharge", Decimal("-8.00")),
    ]


def test_ofx_bad_amount_names_the_line(tmp_path: Path) -> None:
    path = variant(tmp_path, "statement.ofx", "<TRNAMT>-42.30", "<TRNAMT>-42,3O")
    caught = error(path)
    assert caught.line == 18 and "transaction F-0002: amount '-42,3O' is not a number" in str(
        caught
    )


def test_ofx_not_ofx(tmp_path: Path) -> None:
    path = tmp_path / "export.ofx"
    path.write_text("Date;Montant\n01/01/2024;12\n")
    assert "not a valid OFX file" in str(error(path))


def test_ofx_account_neither_iban_nor_rib(tmp_path: Path) -> None:
    path = variant(tmp_path, "statement.ofx", "<ACCTID>00012345678", "<ACCTID>12")
    assert "neither an IBAN nor a French RIB" in str(error(path))


# -- camt.053 -----------------------------------------------------------------------------
def test_camt053_statement() -> None:
    stmt = statement(FIXTURES / "statement.xml")
    assert (stmt.iban, stmt.bic, stmt.currency) == (IBAN, "BQEXFRPPXXX", "EUR")
    assert (stmt.balance, stmt.balance_date) == (Decimal("-84.61"), date(2024, 3, 31))  # CLBD
    rent, salary = stmt.transactions
    assert rent.id == "REF-0301-1" and rent.amount == Decimal("-820.00")
    assert (rent.counterparty_name, rent.counterparty_iban) == ("SCI Les Tilleuls", LANDLORD_IBAN)
    assert rent.reference == "E2E-20240301-000" and rent.kind == "CreditTransfer"
    assert rent.label == "VIR PERMANENT LOYER MARS"
    assert salary.id == "REF-0328-7" and salary.amount == Decimal("1250.00")  # NtryRef
    assert salary.counterparty_name == "Clinique du Parc"  # the debtor of a credit
    assert salary.label == "SALAIRE MARS"  # the remittance when there is no AddtlNtryInf


def test_camt053_not_well_formed(tmp_path: Path) -> None:
    path = variant(tmp_path, "statement.xml", "</Ccy>", "</Cc>")
    caught = error(path)
    assert caught.line == 9 and "not well-formed" in str(caught)


def test_camt053_bad_sign_names_the_entry_line(tmp_path: Path) -> None:
    path = variant(
        tmp_path, "statement.xml", "<CdtDbtInd>CRDT</CdtDbtInd>\n", "<CdtDbtInd>X</CdtDbtInd>\n"
    )
    caught = error(path)
    assert caught.line == 38 and "CdtDbtInd 'X'" in str(caught)


def test_camt053_bad_iban(tmp_path: Path) -> None:
    path = variant(tmp_path, "statement.xml", "4567 818", "4567 819")
    assert "not a valid IBAN" in str(error(path))


def test_camt053_other_document(tmp_path: Path) -> None:
    path = tmp_path / "pain.xml"
    path.write_text(
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"><CstmrCdtTrfInitn/></Document>'
    )
    assert "not a camt.053 document" in str(error(path))


def test_camt053_entities_are_not_expanded(tmp_path: Path) -> None:
    path = variant(
        tmp_path,
        "statement.xml",
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
    )
    path.write_text(path.read_text().replace("VIR PERMANENT LOYER MARS", "&x;"))
    stmt = statement(path)
    assert "root" not in stmt.transactions[0].label


# -- bank CSV ------------------------------------------------------------------------------
def test_bank_csv_statement() -> None:
    stmt = statement(FIXTURES / "statement.csv")
    assert stmt.iban == IBAN and [t.id for t in stmt.transactions] == ["TX-1", "TX-2", "TX-3"]
    rent, bread, fnac = stmt.transactions
    assert rent.amount == Decimal("-820.00") and rent.booking_date == date(2024, 1, 2)
    assert rent.counterparty_iban == LANDLORD_IBAN and rent.reference == "E2E-1"
    assert fnac.amount == Decimal("-1013.08")  # "-1 013,08"
    assert bread.value_date is None and bread.kind == "CardPayment"
    assert (stmt.balance, stmt.balance_date) == (Decimal("4.71"), date(2024, 1, 3))  # last row


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        (";-5,48;", ";cinq;", 3, "amount 'cinq' is not a number"),
        ("03/01/2024;;-5", "2024-13-03;;-5", 3, "booking_date '2024-13-03' is not a date"),
        (
            "TX-3;FR7612548029980001234567818",
            "TX-3;FR7612548029980001234567819",
            4,
            "not a valid IBAN",
        ),
        ("TX-2;", "TX-1;", 3, "appears twice"),
        (";CardPayment;1017", ";Virement;1017", 3, "type 'Virement'"),
        ("JANVIER;SCI", "JANVIER;SCI;extra", 2, "13 fields, header has 12"),
        ("transaction_id;iban", "id;iban", 1, "missing column(s): transaction_id"),
    ],
)
def test_bank_csv_errors(tmp_path: Path, old: str, new: str, line: int, message: str) -> None:
    caught = error(variant(tmp_path, "statement.csv", old, new))
    assert caught.line == line and message in str(caught), str(caught)


def test_bank_csv_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(
        (FIXTURES / "statement.csv").read_text().replace("FNAC", "FNAC é").encode("latin-1")
    )
    assert "not UTF-8" in str(error(path))


# -- load curve ----------------------------------------------------------------------------
def test_load_curve() -> None:
    [curve] = parsers.parse(FIXTURES / "load-curve.csv")
    assert isinstance(curve, LoadCurve) and curve.prm == "09123456789012"
    assert curve.step == timedelta(minutes=30)
    plus1 = timezone(timedelta(hours=1))
    # Horodate ends each interval; W over half an hour -> kWh; the empty value is a gap.
    assert curve.points == (
        (datetime(2024, 1, 31, 23, 0, tzinfo=plus1), Decimal("0.300")),
        (datetime(2024, 1, 31, 23, 30, tzinfo=plus1), Decimal("0.200")),
        (datetime(2024, 2, 1, 0, 30, tzinfo=plus1), Decimal("0.625")),
    )


def test_load_curve_step_from_timestamps(tmp_path: Path) -> None:
    path = variant(tmp_path, "load-curve.csv", "Comptage Brut;W;30", "Comptage Brut;Wh;")
    [curve] = parsers.parse(path)
    assert isinstance(curve, LoadCurve) and curve.step == timedelta(minutes=30)
    assert curve.points[0][1] == Decimal("0.600")  # Wh are energies already


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("T00:00:00+01:00;400", "T00:00:00;400", 5, "has no UTC offset"),
        (";400", ";-400", 5, "not a non-negative number"),
        (";1250", ";beaucoup", 7, "Valeur 'beaucoup' is not a number"),
        ("2024-02-01T00:00:00+01:00", "2024-01-31T23:00:00+01:00", 5, "not after the previous"),
        ("09123456789012", "0912345678901", 2, "PRM '0912345678901' is not 14 digits"),
        ("Brut;W;30", "Brut;W;15", 2, "step of 15 minutes"),
        ("Brut;W;", "Brut;MW;", 2, "unit 'MW'"),
        ("Horodate;Valeur", "Date;Valeur", 3, "Horodate;Valeur"),
    ],
)
def test_load_curve_errors(tmp_path: Path, old: str, new: str, line: int, message: str) -> None:
    caught = error(variant(tmp_path, "load-curve.csv", old, new))
    assert caught.line == line and message in str(caught), str(caught)


def test_sniff() -> None:
    assert parsers.sniff(FIXTURES / "load-curve.csv") == "load-curve"
    assert parsers.sniff(FIXTURES / "statement.csv") == "bank-csv"
    assert parsers.sniff(FIXTURES / "statement.xml") == "camt053"
    with pytest.raises(SourceError, match=r"unknown file type \.pdf"):
        parsers.sniff(Path("releve.pdf"))
