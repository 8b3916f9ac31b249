"""The HTML page of each vocabulary: complete, well formed, accessible, static."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from rdflib import URIRef
from rdflib.namespace import OWL, RDF

import vocab

VOID = {"meta", "link", "br", "img", "input", "hr", "wbr"}


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.ids: set[str] = set()
        self.tags: set[str] = set()
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for name, value in attrs:
            if name == "id" and value is not None:
                if value in self.ids:
                    self.errors.append(f"duplicate id {value}")
                self.ids.add(value)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(f"unbalanced </{tag}>")


@pytest.mark.parametrize("domain", list(vocab.domains()))
def test_html_page(domain: str) -> None:
    base = "https://pod.example/vocab/"
    page = vocab.html_page(domain, base)
    checker = _Checker()
    checker.feed(page)
    assert not checker.errors and not checker.stack
    assert page.startswith("<!DOCTYPE html>") and '<html lang="en">' in page
    assert {"header", "nav", "main", "footer", "h1", "h2", "article"} <= checker.tags
    assert "script" not in checker.tags
    assert 'lang="fr"' in page
    ns = vocab.namespace(domain, base)
    graph = vocab.ontology(domain, base)
    for kind in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty):
        for term in graph.subjects(RDF.type, kind):
            if isinstance(term, URIRef) and str(term).startswith(ns):
                # The term IRI's fragment lands on its description.
                assert str(term)[len(ns) :] in checker.ids
    assert vocab.shapes_iri(domain, base) in page and vocab.context_iri(domain, base) in page
    assert "examples/" in page
