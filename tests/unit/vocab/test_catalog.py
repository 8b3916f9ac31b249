"""Loaders, the configurable base, dependencies and contexts."""

from __future__ import annotations

import json

import pytest
from rdflib import URIRef
from rdflib.compare import isomorphic

import vocab
from vocab.iris import DEFAULT_BASE

from .helpers import example

EXPECTED = [
    "bank",
    "commons",
    "consent",
    "contact",
    "doc",
    "energy",
    "health",
    "insurance",
    "retail",
    "telecom",
]
OTHER_BASE = "https://pod.example/vocab/"


def test_domains() -> None:
    assert list(vocab.domains()) == EXPECTED


def test_unknown_domain_is_a_clear_error() -> None:
    with pytest.raises(vocab.UnknownDomain, match="unknown vocabulary 'banking'"):
        vocab.ontology("banking")


@pytest.mark.parametrize("bad", ["http://x/vocab", "ftp://x/", "/vocab/", "https://x/a b/", ""])
def test_bad_base_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="vocabulary base"):
        vocab.ontology("bank", bad)


@pytest.mark.parametrize("domain", EXPECTED)
def test_base_is_rewritten_everywhere(domain: str) -> None:
    for graph in (vocab.ontology(domain, OTHER_BASE), vocab.shapes(domain, OTHER_BASE)):
        iris = {str(t) for triple in graph for t in triple if isinstance(t, URIRef)}
        assert not any(i.startswith(DEFAULT_BASE) for i in iris)
        assert any(i.startswith(OTHER_BASE + domain) for i in iris)
    assert DEFAULT_BASE not in json.dumps(vocab.context(domain, OTHER_BASE))
    assert DEFAULT_BASE not in vocab.html_page(domain, OTHER_BASE)


def test_loaders_return_copies() -> None:
    graph = vocab.ontology("bank")
    size = len(graph)
    graph.remove((None, None, None))
    assert len(vocab.ontology("bank")) == size


def test_dependencies() -> None:
    assert vocab.dependencies("consent") == []
    assert vocab.dependencies("bank") == ["consent", "doc"]
    assert vocab.dependencies("retail") == ["consent", "contact", "doc"]


def test_shapes_include_imports_unless_asked_not_to() -> None:
    own = vocab.shapes("bank", imports=False)
    merged = vocab.shapes("bank")
    assert len(merged) > len(own)
    assert len(vocab.ontology("bank", imports=True)) > len(vocab.ontology("bank"))


def test_iris_and_split() -> None:
    assert vocab.namespace("bank", OTHER_BASE) == OTHER_BASE + "bank#"
    assert vocab.ontology_iri("bank") == DEFAULT_BASE + "bank"
    assert vocab.shapes_iri("bank") == DEFAULT_BASE + "bank/shapes"
    assert vocab.context_iri("bank") == DEFAULT_BASE + "bank/context.jsonld"
    assert vocab.split(OTHER_BASE + "bank/shapes#TransactionShape", OTHER_BASE) == (
        "bank",
        "shapes",
    )
    assert vocab.split(OTHER_BASE + "bank#Account", OTHER_BASE) == ("bank", "ontology")
    assert vocab.split(OTHER_BASE + "bank/context.jsonld", OTHER_BASE) == ("bank", "context")
    assert vocab.split("https://elsewhere.example/bank", OTHER_BASE) is None
    assert vocab.split(OTHER_BASE + "bank/other", OTHER_BASE) is None


def test_merged_contexts_never_redefine_a_term() -> None:
    """A domain's context is merged with its dependencies'; a term defined twice
    differently would silently change meaning depending on the merge order."""
    seen: dict[str, tuple[str, object]] = {}
    for domain in EXPECTED:
        own = json.loads(vocab.read_text(domain, "context.jsonld"))["@context"]
        for name, definition in own.items():
            if name in seen and seen[name][1] != definition:
                pytest.fail(f"{name!r} defined by {seen[name][0]} and differently by {domain}")
            seen[name] = (domain, definition)


def test_register_contexts_calls_the_hook() -> None:
    calls: dict[str, object] = {}
    urls = vocab.register_contexts(OTHER_BASE, lambda url, doc: calls.__setitem__(url, doc))
    assert urls == [OTHER_BASE + f"{d}/context.jsonld" for d in EXPECTED]
    assert calls[OTHER_BASE + "bank/context.jsonld"] == vocab.context("bank", OTHER_BASE)


def test_a_served_copy_of_a_context_has_the_canonical_terms() -> None:
    calls: dict[str, object] = {}
    urls = vocab.register_contexts(
        None, lambda url, doc: calls.__setitem__(url, doc), served_at=OTHER_BASE
    )
    assert len(urls) == 2 * len(EXPECTED)
    canonical = vocab.context("bank")
    assert calls[DEFAULT_BASE + "bank/context.jsonld"] == canonical
    assert calls[OTHER_BASE + "bank/context.jsonld"] == canonical
    assert OTHER_BASE not in json.dumps(calls[OTHER_BASE + "bank/context.jsonld"])


def test_a_page_served_elsewhere_links_the_copies_and_keeps_the_terms() -> None:
    page = vocab.html_page("bank", served_at=OTHER_BASE)
    assert f'href="{OTHER_BASE}bank/shapes"' in page
    assert f'href="{OTHER_BASE}bank/context.jsonld"' in page
    assert f'href="{DEFAULT_BASE}bank/shapes"' in page
    # Terms are shown with their canonical IRIs; links go to the copies, which resolve.
    assert f"<code>{DEFAULT_BASE}bank#</code>" in page
    assert f'href="{OTHER_BASE}bank#' in page and f'href="{DEFAULT_BASE}bank#' not in page


def test_registered_contexts_work_with_the_pod_server_parser() -> None:
    """The wiring the lead does: the server's own JSON-LD parser then reads our examples."""
    from pod_server.ldp import rdf

    vocab.register_contexts(None, rdf.register_context)
    text = vocab.read_text("bank", "examples/accounts.jsonld").encode()
    parsed = rdf.parse(text, rdf.JSON_LD, "https://alice.pod.example/bank/accounts")
    assert isomorphic(parsed, example("bank", "accounts"))
