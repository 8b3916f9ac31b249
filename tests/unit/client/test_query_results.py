"""The SDK's reading of SPARQL JSON results (pure)."""

from __future__ import annotations

import json

import pytest
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import XSD

from client.errors import InvalidResponse
from client.query import parse_results


def test_rows_with_every_kind_of_term() -> None:
    body = {
        "head": {"vars": ["s", "n", "l", "b"]},
        "results": {
            "bindings": [
                {
                    "s": {"type": "uri", "value": "http://a/"},
                    "n": {"type": "literal", "value": "3", "datatype": str(XSD.integer)},
                    "l": {"type": "literal", "value": "chat", "xml:lang": "fr"},
                    "b": {"type": "bnode", "value": "x1"},
                },
                {"s": {"type": "uri", "value": "http://b/"}},
            ]
        },
    }
    found = parse_results(json.dumps(body).encode())
    assert found.variables == ["s", "n", "l", "b"]
    assert found.rows[0] == {
        "s": URIRef("http://a/"),
        "n": Literal(3),
        "l": Literal("chat", lang="fr"),
        "b": BNode("x1"),
    }
    assert found.rows[1] == {"s": URIRef("http://b/")}  # unbound: absent


def test_a_boolean() -> None:
    assert parse_results(b'{"head": {}, "boolean": false}').boolean is False


@pytest.mark.parametrize(
    "body", [b"not json", b"{}", b'{"head": {}, "results": {"bindings": [{"x": {"type": "?"}}]}}']
)
def test_not_results(body: bytes) -> None:
    with pytest.raises(InvalidResponse):
        parse_results(body)
