"""JSON-LD with our contexts: local only, and generated files kept up to date."""

from __future__ import annotations

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import XSD

from vocab import bank_month
from vocab.jsonld import RemoteContextRefused, to_graph


def test_remote_contexts_are_refused() -> None:
    with pytest.raises(RemoteContextRefused):
        to_graph({"@context": "https://schema.org/", "name": "x"})


def test_plain_json_with_the_bank_context() -> None:
    graph = to_graph(
        {
            "@context": "https://w3id.org/solid-pods/vocab/bank/context.jsonld",
            "id": "https://alice.pod.example/bank/t#1",
            "type": "Transaction",
            "amount": -42.5,
            "category": "Groceries",
        }
    )
    subject = URIRef("https://alice.pod.example/bank/t#1")
    bank = "https://w3id.org/solid-pods/vocab/bank#"
    # A JSON number becomes "-4.25E1"^^xsd:decimal in JSON-LD; rdflib normalises it.
    assert graph.value(subject, URIRef(bank + "amount")) == Literal("-42.5", datatype=XSD.decimal)
    assert graph.value(subject, URIRef(bank + "category")) == URIRef(bank + "Groceries")


def test_bank_month_file_is_up_to_date() -> None:
    assert bank_month.OUTPUT.read_text(encoding="utf-8") == bank_month.generate()


def test_bank_month_sizes() -> None:
    assert bank_month.generate(20).count("a bank:Transaction") == 20
    assert bank_month.generate(1000).count("a bank:Transaction") == 1000
