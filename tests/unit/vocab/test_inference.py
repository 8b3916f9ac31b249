"""owlrl materialises the mappings: generic queries find domain instances."""

from __future__ import annotations

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import OWL, PROV, RDF

import vocab

from .helpers import example, term

SCHEMA = "http://schema.org/"


def _instances(graph: Graph, cls: str) -> set[URIRef]:
    rows = graph.query(f"SELECT ?x WHERE {{ ?x a <{cls}> }}")
    return {row[0] for row in rows}  # type: ignore[index]


def test_generic_invoice_query_finds_sector_invoices_and_receipts() -> None:
    data = example("energy", "electricity") + example("telecom", "mobile")
    data += example("retail", "receipt")
    closure = vocab.infer(data, ["energy", "telecom", "retail"])
    found = _instances(closure, SCHEMA + "Invoice")
    assert found == {
        URIRef("https://alice.pod.example/energy/electricity/invoices#2024-02"),
        URIRef("https://alice.pod.example/telecom/mobile/invoices#2024-03"),
        URIRef("https://alice.pod.example/retail/receipts/2024-03-09#receipt"),
    }
    assert _instances(closure, SCHEMA + "Invoice") <= _instances(
        closure, SCHEMA + "DigitalDocument"
    )


def test_bank_classes_and_properties_generalise() -> None:
    closure = vocab.infer(example("bank", "accounts") + example("bank", "statement"), ["bank"])
    assert URIRef("https://alice.pod.example/bank/accounts#current") in _instances(
        closure, SCHEMA + "BankAccount"
    )
    assert URIRef("https://alice.pod.example/bank/accounts#livret-a") in _instances(
        closure, SCHEMA + "DepositAccount"
    )
    assert len(_instances(closure, SCHEMA + "MoneyTransfer")) == 3  # 2 transactions, 1 order
    statement = URIRef("https://alice.pod.example/bank/statements/2024-03#statement")
    assert statement in _instances(closure, SCHEMA + "DigitalDocument")
    # Super-properties too: bank:amount values are schema:amount values.
    amounts = set(closure.objects(None, URIRef(SCHEMA + "amount")))
    assert set(example("bank", "accounts").objects(None, term("bank", "amount"))) <= amounts


def test_every_record_is_a_prov_entity() -> None:
    data = example("health", "reimbursements") + example("insurance", "home")
    closure = vocab.infer(data, ["health", "insurance"])
    attributed = set(data.subjects(PROV.wasAttributedTo, None))
    assert attributed <= _instances(closure, str(PROV.Entity))


def test_saref_and_sosa_alignment() -> None:
    closure = vocab.infer(
        example("energy", "gas") + example("telecom", "mobile"), ["energy", "telecom"]
    )
    assert URIRef("https://alice.pod.example/energy/gas#meter") in _instances(
        closure, "https://saref.etsi.org/core/Meter"
    )
    assert len(_instances(closure, "https://saref.etsi.org/core/Measurement")) == 5  # 1 + 4
    assert _instances(closure, "http://www.w3.org/ns/sosa/Observation")


def test_equivalences_are_used_with_rdfs_semantics() -> None:
    data = Graph()
    thing = URIRef("https://ex.example/thing")
    data.add((thing, RDF.type, term("bank", "Loan")))
    data.add((term("bank", "Loan"), OWL.equivalentClass, URIRef("https://ex.example/Credit")))
    closure = vocab.infer(data, ["bank"])
    assert (thing, RDF.type, URIRef("https://ex.example/Credit")) in closure


def test_owlrl_semantics_and_input_untouched() -> None:
    data = example("bank", "loan")
    before = len(data)
    closure = vocab.infer(data, ["bank"], semantics="owlrl")
    assert len(data) == before
    assert URIRef("https://alice.pod.example/bank/loans#car") in _instances(
        closure, SCHEMA + "LoanOrCredit"
    )
    with pytest.raises(ValueError):
        vocab.infer(data, ["bank"], semantics="owl-full")  # type: ignore[arg-type]
