"""Shared vocabularies for the data organisations write into pods.

Nine domains (``domains()``), each with an ontology (OWL/RDFS, English and French
labels, every class mapped to schema.org or another widely used vocabulary), a JSON-LD
context, SHACL shapes and examples. This package does not import pod_server; the server
wires it in (``register_contexts(base, rdf.register_context)``, ``validate`` on writes,
``html_page`` and the loaders for ``/vocab/...``).

The namespace base is a parameter everywhere (``base=None`` means DEFAULT_BASE); see
vocab.iris for the IRIs derived from it.
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
from vocab.validation import Report, Violation, compile_shapes, validate


def register_contexts(
    base: str | None, register: Callable[[str, Mapping[str, Any]], None]
) -> list[str]:
    """Call ``register(url, document)`` for every domain's JSON-LD context under ``base``.

    For the pod server: ``register_contexts(base, pod_server.ldp.rdf.register_context)``
    lets organisations' JSON-LD name ``<base><domain>/context.jsonld`` without any
    network access. Returns the URLs registered.
    """
    urls = []
    for name in domains():
        url = context_iri(name, base)
        register(url, context(name, base))
        urls.append(url)
    return urls


__all__ = [
    "DEFAULT_BASE",
    "Example",
    "Report",
    "UnknownDomain",
    "Violation",
    "check_base",
    "compile_shapes",
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
