"""An RDF document as rows: labels in the page's language, links to follow."""

from __future__ import annotations

from rdflib import Graph

from pod_server.ui import statements
from pod_server.ui.labels import label, local_name, vocabulary_labels
from vocab.iris import DEFAULT_BASE

DOC = "https://pod.example/alice/profile/card"


def test_rows_name_terms_for_people() -> None:
    graph = Graph().parse(
        data=f"""<{DOC}#me> a <http://xmlns.com/foaf/0.1/Person>;
            <http://xmlns.com/foaf/0.1/name> "Alice"@en;
            <http://example.org/v#knows> <https://other.example/bob#me>.""",
        format="turtle",
    )
    rows = statements.rows(graph, DOC, "fr", DEFAULT_BASE, "ce document")
    assert [(r.subject.text, r.predicate.text, r.object.text) for r in rows] == [
        ("#me", "knows", "https://other.example/bob#me"),
        ("#me", "type", "personne"),
        ("#me", "nom", "Alice"),
    ]
    assert rows[0].object.url == "https://other.example/bob#me"
    assert rows[0].subject.url == DOC + "#me"
    assert rows[2].object.url is None and rows[2].object.lang == "en"
    assert rows[2].predicate.url == "http://xmlns.com/foaf/0.1/name"


def test_our_vocabularies_label_in_both_languages() -> None:
    both = [i for i, n in vocabulary_labels(DEFAULT_BASE).items() if {"en", "fr"} <= n.keys()]
    assert both, "the vocabularies label no term in both languages"
    names = vocabulary_labels(DEFAULT_BASE)[both[0]]
    assert label(both[0], "fr", DEFAULT_BASE) == names["fr"]
    assert label(both[0], "en", DEFAULT_BASE) == names["en"]
    assert label(both[0], "de", DEFAULT_BASE) == names["en"]  # else English
    assert label("http://unknown.example/x", "en", DEFAULT_BASE) is None


def test_local_names() -> None:
    assert local_name("http://x.example/ns#term") == "term"
    assert local_name("http://x.example/a/b") == "b"
    assert local_name("urn:x") == "urn:x"


def test_the_document_itself_and_classes_by_name() -> None:
    graph = Graph().parse(
        data=f"<{DOC}> a <http://example.org/v#Card>; <http://example.org/v#next> <{DOC}>.",
        format="turtle",
    )
    rows = statements.rows(graph, DOC, "en", DEFAULT_BASE, "this document")
    assert [(r.subject.text, r.predicate.text, r.object.text) for r in rows] == [
        ("this document", "next", "this document"),
        ("this document", "type", "Card"),
    ]
