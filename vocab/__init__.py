"""Shared vocabularies for the data organisations write into pods.

Nine domains (``domains()``), each with an ontology (OWL/RDFS, English and French
labels, every class mapped to schema.org or another widely used vocabulary), a JSON-LD
context, SHACL shapes and examples. This package does not import pod_server; the server
wires it in (``register_contexts(None, rdf.register_context, served_at=...)``,
``validate`` on writes, ``html_page`` and the loaders for ``/vocab/...``).

The terms are the canonical IRIs under DEFAULT_BASE (https://w3id.org/solid-pods/vocab/),
the same on every server, which only publishes copies of the documents elsewhere. The
``base=`` parameter of the loaders exists for a fork that renames the vocabularies into a
namespace of its own: its terms are then different terms (see vocab.iris).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from vocab.catalog import (
    Example,
    UnknownDomain,
    context,
    dependencies,
    domains,
    example_graph,
    examples,
    ontology,
    read_text,
    shapes,
)
from vocab.html import html_page
from vocab.inference import infer
from vocab.iris import (
    DEFAULT_BASE,
    check_base,
    context_iri,
    namespace,
    ontology_iri,
    shapes_iri,
    split,
)
from vocab.validation import Report, Violation, compile_shapes, conforms_fast, validate


def register_contexts(
    base: str | None,
    register: Callable[[str, Mapping[str, Any]], None],
    *,
    served_at: str | None = None,
) -> list[str]:
    """Call ``register(url, document)`` for every domain's JSON-LD context under ``base``,
    and under ``served_at`` (where a server publishes copies) with the same document.

    For the pod server: ``register_contexts(None, rdf.register_context, served_at=...)``
    lets organisations' JSON-LD name ``https://w3id.org/solid-pods/vocab/bank/context.jsonld``
    or the server's own copy, without any network access, and both give the same
    canonical terms. Returns the URLs registered.
    """
    urls = []
    base = check_base(base)
    for name in domains():
        document = context(name, base)
        for url in {context_iri(name, base), context_iri(name, served_at or base)}:
            register(url, document)
            urls.append(url)
    return sorted(urls)


__all__ = [
    "DEFAULT_BASE",
    "Example",
    "Report",
    "UnknownDomain",
    "Violation",
    "check_base",
    "compile_shapes",
    "conforms_fast",
    "context",
    "context_iri",
    "dependencies",
    "domains",
    "example_graph",
    "examples",
    "html_page",
    "infer",
    "namespace",
    "ontology",
    "ontology_iri",
    "read_text",
    "register_contexts",
    "shapes",
    "shapes_iri",
    "split",
    "validate",
]
