"""Reading transactions through the bank vocabulary; the person's categories; where the
data is; the Client ID Document as our IdP reads it; the charts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from rdflib import Dataset, Graph, URIRef

from apps.budget import records, source
from apps.budget.records import Tx
from apps.budget.web import needs
from apps.webapp import charts, signin
from apps.webapp.documents import choose_container
from client.discovery import TypeRegistration
from pod_server.access.modes import Mode
from pod_server.consent.apps.needs import parse_needs
from tests.unit.budget.synthetic import CONTAINER, pod_documents, source_files
from vocab.namespaces import BANK

DOC = """
@prefix bank: <https://w3id.org/solid-pods/vocab/bank#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<#account> bank:iban "FR7612548000010000000000123" .
<#t-1> a bank:Transaction; bank:account <#account>; bank:bookingDate "2024-01-03"^^xsd:date;
    bank:amount "-12.50"^^xsd:decimal; bank:label "CB LIDL"; bank:category bank:Groceries;
    bank:balanceAfter "100.00"^^xsd:decimal .
<#t-2> a bank:Transaction; bank:account <#account>; bank:label "no amount";
    bank:bookingDate "2024-01-04"^^xsd:date .
<#t-3> a bank:Transaction; bank:amount "1.00"; bank:bookingDate "not a date" .
"""


def test_transactions_are_read_through_the_vocabulary_and_bad_ones_skipped() -> None:
    graph = Graph().parse(data=DOC, format="turtle", publicID="https://p/bank/d")
    txs, skipped = records.transactions_of(graph)
    assert skipped == 2
    (t,) = txs
    assert (t.id, t.account, t.booked, t.amount) == ("https://p/bank/d#t-1", "FR7612548000010000000000123", date(2024, 1, 3), Decimal("-12.50"))  # fmt: skip
    assert (t.label, t.category, t.balance_after) == ("CB LIDL", "Groceries", Decimal("100.00"))
    assert Tx.from_json(t.to_json()) == t


def test_the_persons_categories_win_on_copies() -> None:
    t = Tx("https://p/bank/d#t-1", "A", date(2024, 1, 1), Decimal("-5"), category="Groceries")
    graph = Graph().parse(data=records.overrides_graph({t.id: "Leisure"}).serialize(format="turtle"), format="turtle")  # fmt: skip
    overrides = records.overrides_of(graph)
    assert overrides == {t.id: "Leisure"}
    assert records.apply_overrides([t], overrides)[0].category == "Leisure"
    assert t.category == "Groceries"


def test_every_category_offered_is_in_the_bank_vocabulary() -> None:
    assert all(BANK[c] for c in records.CATEGORIES)
    assert len(set(records.CATEGORIES)) == len(records.CATEGORIES)


def test_the_type_index_wins_else_the_declared_container() -> None:
    storage = "https://p/alice/"
    reg = TypeRegistration("i#r", "i", str(BANK.Transaction), (), (storage + "money/",))
    elsewhere = TypeRegistration("i#s", "i", str(BANK.Transaction), (), ("https://x/bank/",))
    assert choose_container([elsewhere, reg], storage, "bank/") == (storage + "money/", True)  # fmt: skip
    assert choose_container([elsewhere], storage, "bank/") == (storage + "bank/", False)


def test_our_idp_reads_the_client_id_document_as_meant() -> None:
    doc = signin.client_document("http://a/id", "http://a/callback", "Budget", "apps/budget/", needs("bank/"))  # fmt: skip
    parsed = parse_needs(doc)
    assert parsed.own_container == "apps/budget/"
    bank, index = parsed.needs
    assert (bank.target_path, bank.modes, bank.required) == ("bank/", Mode.READ, True)
    assert bank.label == "Your bank transactions"
    # only adding to the private type index, and only if the person agrees
    assert (index.target_path, index.modes, index.required) == (
        "settings/privateTypeIndex.ttl",
        Mode.APPEND,
        False,
    )


def test_charts_are_escaped_svg_with_a_title_per_value() -> None:
    svg = charts.bars([("<b>", Decimal("12.5")), ("Rent", Decimal("800"))], "x")
    assert svg.startswith("<svg") and "<b>" not in svg and "&lt;b&gt;" in svg
    assert svg.count("<title>") == 2
    assert "800.00" in svg
    assert charts.money(Decimal("-1234567.5")) == "−1\u202f234\u202f567.50\u00a0€"
    months = charts.paired_columns([("2024-01", Decimal(3), Decimal(2))], "y")
    assert months.count("<rect") == 4  # two legend keys, two columns
    assert "Not enough" in charts.line([(date(2024, 1, 1), Decimal(1))], "z")
    assert "<polyline" in charts.line([(date(2024, 1, 1), Decimal(1)), (date(2024, 1, 9), Decimal(-3))], "z")  # fmt: skip


def test_one_query_gives_what_reading_each_document_gives(tmp_path: Path) -> None:
    """The SPARQL path (prefetch) and the per-document path agree, document by document:
    the query is run by rdflib over the documents as named graphs, as the pod would."""
    docs = pod_documents(source_files(tmp_path, customers=2, months=2, fmt="camt053"))
    dataset = Dataset()
    for doc in docs:
        named = dataset.graph(URIRef(CONTAINER + doc.name))
        for triple in doc.graph:
            named.add(triple)

    def rows(query: str) -> list[dict[str, Any]]:
        result = dataset.query(query)
        return [{str(k): v for k, v in row.asdict().items()} for row in result]

    wanted = [CONTAINER + d.name for d in docs[1:]]  # one left out: not asked for
    got = source.documents_of_rows(rows(source._query(wanted)), rows(source._balances_query(wanted)), set(wanted))  # fmt: skip
    assert set(got) == set(wanted)
    for doc in docs[1:]:
        expected = source.extract(doc.graph)
        expected["txs"].sort(key=lambda t: t["id"])
        expected["balances"].sort()
        assert got[CONTAINER + doc.name] == expected


def test_categories_read_as_words_on_the_page() -> None:
    assert records.category_label("PublicTransport") == "Public transport"
    assert records.category_label("InternalTransfer") == "Internal transfer"
    assert records.category_label("Rent") == "Rent"
    labels = [records.category_label(c) for c in records.CATEGORIES]
    assert len(set(labels)) == len(labels)  # still one label per category
