"""Loading the vocabulary files: ontologies, shapes, JSON-LD contexts and examples.

A domain is a folder of this package holding ``ontology.ttl``, ``shapes.ttl``,
``context.jsonld`` and ``examples/``. Dependencies between domains are the ontology's
``owl:imports`` of other vocabularies of ours (the shapes files import the matching
shapes). Parsed graphs are cached per (domain, base); callers get copies.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, OWL

from vocab.iris import DEFAULT_BASE, check_base, ontology_iri, rebase, split

ROOT = Path(__file__).resolve().parent


class UnknownDomain(LookupError):
    """The name given is not one of ``domains()``."""


@cache
def domains() -> tuple[str, ...]:
    """The domain names, sorted (a tuple: cached and shared)."""
    return tuple(sorted(p.parent.name for p in ROOT.glob("*/ontology.ttl")))


def _folder(domain: str) -> Path:
    if domain not in domains():
        raise UnknownDomain(f"unknown vocabulary {domain!r}; known: {', '.join(domains())}")
    return ROOT / domain


def read_text(domain: str, name: str, base: str | None = None) -> str:
    """A file of ``domain`` (e.g. "shapes.ttl", "examples/month.ttl"), rebased."""
    path = (_folder(domain) / name).resolve()
    if _folder(domain).resolve() not in path.parents:
        raise ValueError(f"{name!r} is not a file of vocabulary {domain!r}")
    return rebase(path.read_text(encoding="utf-8"), base)


def _parse_turtle(text: str, source: str) -> Graph:
    graph = Graph()
    graph.parse(data=text, format="turtle", publicID=source)
    return graph


@cache
def _ontology(domain: str, base: str) -> Graph:
    return _parse_turtle(read_text(domain, "ontology.ttl", base), ontology_iri(domain, base))


@cache
def _shapes(domain: str, base: str) -> Graph:
    return _parse_turtle(read_text(domain, "shapes.ttl", base), ontology_iri(domain, base))


@cache
def _imports(domain: str, base: str) -> tuple[str, ...]:
    found = []
    for target in _ontology(domain, base).objects(URIRef(ontology_iri(domain, base)), OWL.imports):
        where = split(str(target), base)
        if where is not None and where[1] == "ontology":
            found.append(where[0])
    return tuple(sorted(found))


def dependencies(domain: str, base: str | None = None) -> list[str]:
    """Domains ``domain`` builds on, transitively, dependencies first, itself excluded."""
    base = check_base(base)
    order: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in path:
            raise ValueError(f"vocabulary import cycle: {' -> '.join((*path, name))}")
        for dep in _imports(name, base):
            visit(dep, (*path, name))
        if name not in order:
            order.append(name)

    visit(domain, ())
    return order[:-1]


def _copy(graphs: list[Graph]) -> Graph:
    out = Graph()
    for graph in graphs:
        out += graph
        for prefix, ns in graph.namespaces():
            out.bind(prefix, ns, override=False)
    return out


def ontology(domain: str, base: str | None = None, *, imports: bool = False) -> Graph:
    """The ontology of ``domain``, with those of its dependencies if ``imports``."""
    base = check_base(base)
    names = [*dependencies(domain, base), domain] if imports else [domain]
    return _copy([_ontology(name, base) for name in names])


def shapes(domain: str, base: str | None = None, *, imports: bool = True) -> Graph:
    """The SHACL shapes of ``domain``; by default merged with its dependencies' shapes,
    which is what validation needs (the domain's shapes extend theirs)."""
    base = check_base(base)
    names = [*dependencies(domain, base), domain] if imports else [domain]
    return _copy([_shapes(name, base) for name in names])


def shapes_files_state(domain: str, base: str) -> tuple[tuple[str, int, int], ...]:
    """(file, mtime, size) of the shapes files ``shapes(domain, base)`` reads."""
    state = []
    for name in [*dependencies(domain, base), domain]:
        path = _folder(name) / "shapes.ttl"
        info = path.stat()
        state.append((str(path), info.st_mtime_ns, info.st_size))
    return tuple(state)


def forget_parsed() -> None:
    """Drop every parsed graph, so the next call reads the files again."""
    for cached in (_ontology, _shapes, _imports, _merged_shapes, _context):
        cached.cache_clear()


def cached_shapes(domain: str, base: str) -> Graph:
    """The merged shapes graph itself, not a copy: for the validator's cache only."""
    return _merged_shapes(domain, base)


@cache
def _merged_shapes(domain: str, base: str) -> Graph:
    return shapes(domain, base)


@cache
def _context(domain: str, base: str) -> str:
    return read_text(domain, "context.jsonld", base)


def context(domain: str, base: str | None = None) -> dict[str, Any]:
    """The JSON-LD context document of ``domain`` (``{"@context": {...}}``).

    Self-contained: the terms of its dependencies come first, then its own, so an
    organisation needs one context URL per document. Term names never clash between
    domains (a test checks it), so the merge order only matters for readability.
    """
    base = check_base(base)
    merged: dict[str, Any] = {}
    for name in [*dependencies(domain, base), domain]:
        merged.update(json.loads(_context(name, base))["@context"])
    return {"@context": merged}


@dataclass(frozen=True)
class Example:
    """One example file of a domain."""

    domain: str
    name: str  # file name without extension, e.g. "account"
    path: str  # relative to the domain folder, e.g. "examples/account.ttl"
    media_type: str  # "text/turtle" or "application/ld+json"


_MEDIA_TYPES = {".ttl": "text/turtle", ".jsonld": "application/ld+json"}


def examples(domain: str) -> list[Example]:
    """The example files of ``domain``, sorted by name then Turtle first."""
    found = [
        Example(domain, path.stem, f"examples/{path.name}", _MEDIA_TYPES[path.suffix])
        for path in (_folder(domain) / "examples").iterdir()
        if path.suffix in _MEDIA_TYPES
    ]
    return sorted(found, key=lambda e: (e.name, e.media_type != "text/turtle"))


def example_graph(example: Example, base: str | None = None) -> Graph:
    """The RDF graph of an example file (JSON-LD resolved with our own contexts)."""
    text = read_text(example.domain, example.path, base)
    if example.media_type == "text/turtle":
        return _parse_turtle(text, DEFAULT_BASE)
    from vocab.jsonld import to_graph  # jsonld imports catalog: import here, not at top

    return to_graph(json.loads(text), base)


def label(domain: str, lang: str = "en", base: str | None = None) -> str:
    """The title of the vocabulary in ``lang`` (dcterms:title), or the domain name."""
    graph = _ontology(domain, check_base(base))
    for title in graph.objects(URIRef(ontology_iri(domain, base)), DCTERMS.title):
        if getattr(title, "language", None) == lang:
            return str(title)
    return domain


__all__ = [
    "Example",
    "UnknownDomain",
    "context",
    "dependencies",
    "domains",
    "example_graph",
    "examples",
    "label",
    "ontology",
    "read_text",
    "shapes",
]
