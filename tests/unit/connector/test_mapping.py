"""Records -> documents: one per account (meter) and month, stable names and IRIs,
provenance on every record, valid against the vocabulary shapes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from rdflib import RDF, BNode, Graph, Literal, URIRef

from apps.connector import mapping, parsers, synthetic
from apps.connector.mapping import BANK, ENERGY, PROV, Provenance
from apps.connector.records import LoadCurve, Statement

FIXTURES = Path(__file__).parent / "fixtures"
POD = "https://pod.example/alice/"
BANK_ORG = "https://pod.example/bank/profile/card#me"
PROV_ = Provenance(BANK_ORG, datetime(2024, 4, 1, 6, tzinfo=UTC), "batch-1")


def statements(*names: str) -> list[Statement]:
    return [s for n in names for s in parsers.parse(FIXTURES / n) if isinstance(s, Statement)]


def bank_docs(*names: str) -> list[mapping.Document]:
    return mapping.bank_documents(statements(*names), POD + "bank/", POD + "profile/card#me", PROV_)


def test_one_document_per_account_and_month_with_stable_names() -> None:
    docs = bank_docs("statement.ofx", "statement.xml")
    iban = "FR7612548029980001234567818"
    assert [(d.name, d.records) for d in docs] == [
        (f"transactions-{iban}-2024-01", 3),
        (f"transactions-{iban}-2024-02", 1),
        (f"transactions-{iban}-2024-03", 2),
    ]
    again = bank_docs("statement.ofx", "statement.xml")
    assert [set(d.graph) for d in docs] == [set(d.graph) for d in again]  # same run, same triples
    url = POD + "bank/" + docs[0].name
    subjects = set(docs[0].graph.subjects(RDF.type, BANK.Transaction))
    assert subjects == {URIRef(f"{url}#t-F-000{n}") for n in (1, 2, 3)}


def test_every_record_has_provenance_and_documents_validate() -> None:
    for doc in bank_docs("statement.ofx", "statement.xml", "statement.csv"):
        assert mapping.validate(doc, "bank") is None
        graph = doc.graph
        records = [s for s, t in graph.subject_objects(RDF.type) if t.startswith(str(BANK))]
        assert records
        for node in records:
            assert graph.value(node, PROV.wasAttributedTo) == URIRef(BANK_ORG)
            assert graph.value(node, PROV.generatedAtTime) == Literal(
                "2024-04-01T06:00:00+00:00", datatype=mapping.XSD.dateTime
            )
            source = graph.value(node, PROV.wasDerivedFrom)
            assert str(source).startswith("urn:sha256:")
            assert graph.value(node, PROV.wasGeneratedBy) is not None
        assert not any(isinstance(t, BNode) for triple in graph for t in triple)


def test_overlapping_statements_write_each_transaction_once(tmp_path: Path) -> None:
    copy = tmp_path / "again.csv"
    copy.write_bytes((FIXTURES / "statement.csv").read_bytes())
    [doc] = mapping.bank_documents(
        statements("statement.csv") + list(parsers.parse(copy)),  # type: ignore[arg-type]
        POD + "bank/",
        POD + "profile/card#me",
        PROV_,
    )
    assert doc.records == 3


def test_categories_from_rules() -> None:
    rules = mapping.check_rules({"fnac": "Shopping", "loyer": "Rent"})
    [doc] = mapping.bank_documents(
        statements("statement.csv"), POD + "bank/", POD + "me", PROV_, rules
    )
    found = {
        str(doc.graph.value(t, BANK.label)): doc.graph.value(t, BANK.category)
        for t in doc.graph.subjects(RDF.type, BANK.Transaction)
    }
    assert found == {
        "VIR PERMANENT LOYER JANVIER": BANK.Rent,
        "CB BOULANGERIE DU MARCHE 03/01": BANK.Uncategorised,
        "CB FNAC 03/01": BANK.Shopping,
    }


def test_unknown_category_is_refused() -> None:
    try:
        mapping.check_rules({"X": "Sweets"})
    except ValueError as exc:
        assert "Sweets" in str(exc)
    else:
        raise AssertionError("an unknown category was accepted")


def test_an_invalid_document_is_reported() -> None:
    [doc] = bank_docs("statement.csv")
    account = next(doc.graph.subjects(RDF.type, BANK.CurrentAccount))
    doc.graph.remove((account, mapping.DOC.currency, None))
    problems = mapping.validate(doc, "bank")
    assert problems is not None and "currency" in problems


def test_load_curves_split_by_part_of_month_and_validate() -> None:
    curves = [c for c in parsers.parse(FIXTURES / "load-curve.csv") if isinstance(c, LoadCurve)]
    docs = mapping.load_curve_documents(curves, POD + "energy/", PROV_)
    assert [(d.name, d.records) for d in docs] == [
        ("load-curve-09123456789012-2024-01-25", 2),
        ("load-curve-09123456789012-2024-02-01", 1),
    ]
    for doc in docs:
        assert mapping.validate(doc, "energy") is None
    february = docs[1].graph
    curve = next(february.subjects(RDF.type, ENERGY.LoadCurve))
    assert str(february.value(curve, ENERGY.start)) == "2024-02-01T00:30:00+01:00"
    assert str(february.value(curve, ENERGY.end)) == "2024-02-01T01:00:00+01:00"
    [point] = february.objects(curve, ENERGY.point)
    assert str(february.value(point, ENERGY.consumption)) == "0.625"


def test_the_homes_region_is_written_with_the_meter_and_validates() -> None:
    """What statistics by region group the home by: the meter's address, its region only."""
    curves = [c for c in parsers.parse(FIXTURES / "load-curve.csv") if isinstance(c, LoadCurve)]
    docs = mapping.load_curve_documents(curves, POD + "energy/", PROV_, region="Bretagne")
    for doc in docs:
        assert mapping.validate(doc, "energy") is None
        graph = doc.graph
        [meter] = graph.subjects(RDF.type, ENERGY.ElectricityMeter)
        address = graph.value(meter, mapping.SCHEMA.address)
        assert address == URIRef(POD + "energy/" + doc.name + "#address")  # no blank node
        assert (address, RDF.type, mapping.SCHEMA.PostalAddress) in graph
        assert list(graph.objects(None, mapping.SCHEMA.addressRegion)) == [Literal("Bretagne")]
        assert len(list(graph.predicate_objects(address))) == 2  # nothing finer than that
    plain = mapping.load_curve_documents(curves, POD + "energy/", PROV_)
    assert all(not list(d.graph.objects(None, mapping.SCHEMA.address)) for d in plain)
    # an empty region is not written (the shapes would refuse it)
    empty = mapping.load_curve_documents(curves, POD + "energy/", PROV_, region="")
    assert all(not list(d.graph.objects(None, mapping.SCHEMA.address)) for d in empty)


def test_n3_insert_is_an_insert_only_patch_of_the_graph() -> None:
    [doc] = bank_docs("statement.csv")
    patch = Graph().parse(data=mapping.n3_insert(doc.graph), format="n3")
    solid = "http://www.w3.org/ns/solid/terms#"
    [node] = patch.subjects(RDF.type, URIRef(solid + "InsertDeletePatch"))
    inserted = patch.value(node, URIRef(solid + "inserts"))
    assert set(inserted) == set(doc.graph)  # type: ignore[arg-type]
    assert patch.value(node, URIRef(solid + "deletes")) is None


def test_a_rule_matches_whole_words_only() -> None:
    """ "CAF" (the family allowance office) is not the start of "CAFE"."""
    rules = mapping.DEFAULT_RULES
    assert mapping.category("CB CAFE DE LA GARE 03/01", rules) == "Restaurants"
    assert mapping.category("VIR CAF ALLOCATIONS", rules) == "SocialBenefits"
    assert mapping.category("PRLV FREE MOBILE", rules) == "Telecom"  # several words
    assert mapping.category("CB TOTALENERGIES", rules) == "Uncategorised"


def test_a_month_of_half_hours_makes_four_documents(tmp_path: Path) -> None:
    [customer] = synthetic.customers(1)
    synthetic.write_load_curve(tmp_path / "c.csv", customer, 2024, 2)
    docs = mapping.load_curve_documents(
        [c for c in parsers.parse(tmp_path / "c.csv") if isinstance(c, LoadCurve)],
        POD + "energy/",
        PROV_,
    )
    assert [(d.name[-10:], d.period, d.records) for d in docs] == [
        ("2024-02-01", "2024-02", 8 * 48),
        ("2024-02-09", "2024-02", 8 * 48),
        ("2024-02-17", "2024-02", 8 * 48),
        ("2024-02-25", "2024-02", 5 * 48),
    ]
