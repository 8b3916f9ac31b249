"""Shared helpers for the vocabulary tests."""

from __future__ import annotations

from functools import cache

from rdflib import Graph, URIRef

import vocab
from vocab.iris import namespace


def term(domain: str, local: str) -> URIRef:
    return URIRef(namespace(domain) + local)


@cache
def _example(domain: str, name: str, media_type: str) -> Graph:
    for example in vocab.examples(domain):
        if example.name == name and example.media_type == media_type:
            return vocab.example_graph(example)
    raise LookupError(f"no example {domain}/{name} ({media_type})")


def example(domain: str, name: str, media_type: str = "text/turtle") -> Graph:
    """A fresh copy of an example graph (tests mutate it)."""
    copy = Graph()
    copy += _example(domain, name, media_type)
    return copy


ALL_EXAMPLES = [(e.domain, e) for d in vocab.domains() for e in vocab.examples(d)]
