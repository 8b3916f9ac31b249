"""RDF helpers: formats, parsing answers, N3 Patch bodies, JSON-LD through pyld."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from pyld import jsonld
from rdflib import BNode, Graph
from rdflib.term import Node

from client.errors import InvalidResponse

FORMATS = {
    "text/turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/n-triples": "nt",
    "application/n-quads": "nquads",
    "text/n3": "n3",
    "application/rdf+xml": "xml",
}
RDF_ACCEPT = (
    "text/turtle, application/ld+json;q=0.9, application/n-triples;q=0.8, application/rdf+xml;q=0.5"
)
SHORT_NAMES = {
    "turtle": "text/turtle",
    "ttl": "text/turtle",
    "jsonld": "application/ld+json",
    "json-ld": "application/ld+json",
    "ntriples": "application/n-triples",
    "nt": "application/n-triples",
    "nquads": "application/n-quads",
    "n3": "text/n3",
    "rdfxml": "application/rdf+xml",
}
EXTENSIONS = {
    ".ttl": "text/turtle",
    ".jsonld": "application/ld+json",
    ".nt": "application/n-triples",
    ".nq": "application/n-quads",
    ".n3": "text/n3",
    ".rdf": "application/rdf+xml",
    ".acl": "text/turtle",
    ".meta": "text/turtle",
}
Triple = tuple[Node, Node, Node]


def is_rdf(content_type: str) -> bool:
    return content_type in FORMATS


def parse(data: bytes, content_type: str, base: str) -> Graph:
    """A graph from a body in any RDF format the client knows; :class:`InvalidResponse`
    when it is not valid."""
    fmt = FORMATS.get(content_type)
    if fmt is None:
        raise InvalidResponse(f"{content_type or 'no media type'} is not RDF", url=base)
    graph = Graph()
    if not data.strip():
        return graph
    try:
        if fmt == "json-ld":
            graph = jsonld_to_graph(json.loads(data), base, {})
        else:
            graph.parse(data=data, format=fmt, publicID=base)
    except Exception as exc:  # rdflib raises many kinds for bad input
        raise InvalidResponse(
            f"the server sent {content_type} that is not valid: {str(exc)[:300]}", url=base
        ) from exc
    return graph


def serialize(graph: Graph, content_type: str, base: str | None = None) -> bytes:
    if content_type == "application/ld+json":
        return json.dumps(graph_to_jsonld(graph), indent=2).encode()
    fmt = FORMATS.get(content_type)
    if fmt is None:
        raise ValueError(f"{content_type} is not an RDF format")
    kwargs = {"base": base} if base and fmt in ("turtle", "n3") else {}
    out = graph.serialize(format=fmt, encoding="utf-8", **kwargs)
    return out if isinstance(out, bytes) else str(out).encode()


def has_bnode(triples: Iterable[Triple]) -> bool:
    return any(isinstance(term, BNode) for triple in triples for term in triple)


def n3_patch(deletes: Iterable[Triple], inserts: Iterable[Triple]) -> bytes:
    """A Solid N3 Patch (``solid:InsertDeletePatch``) deleting and inserting ground triples."""

    def formula(triples: Iterable[Triple]) -> str:
        lines = [f"    {s.n3()} {p.n3()} {o.n3()} ." for s, p, o in sorted(triples)]
        return "{\n" + "\n".join(lines) + "\n  }"

    deletes, inserts = list(deletes), list(inserts)
    parts = []
    if deletes:
        parts.append(f"solid:deletes {formula(deletes)}")
    if inserts:
        parts.append(f"solid:inserts {formula(inserts)}")
    body = ";\n  ".join(parts)
    return (
        "@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n"
        f"_:patch a solid:InsertDeletePatch;\n  {body}.\n"
    ).encode()


# -- JSON-LD ------------------------------------------------------------------------------
Fetch = Callable[[str], Awaitable[Any]]


def _context_urls(value: Any) -> list[str]:
    """Remote context URLs anywhere in a JSON-LD document or context."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "@context":
                items = item if isinstance(item, list) else [item]
                found += [c for c in items if isinstance(c, str)]
                found += [u for c in items if isinstance(c, dict) for u in _context_urls(c)]
            else:
                found += _context_urls(item)
    elif isinstance(value, list):
        for item in value:
            found += _context_urls(item)
    return found


async def prefetch_contexts(doc: Any, fetch: Fetch, limit: int = 20) -> dict[str, Any]:
    """Fetch (asynchronously, through the client) every remote context ``doc`` names, and
    the contexts those name, so pyld's synchronous expansion never touches the network."""
    cache: dict[str, Any] = {}
    todo = _context_urls(doc)
    while todo:
        url = todo.pop()
        if url in cache:
            continue
        if len(cache) >= limit:
            raise InvalidResponse(f"more than {limit} remote JSON-LD contexts", url=url)
        cache[url] = await fetch(url)
        todo += _context_urls(cache[url])
    return cache


def _loader(cache: dict[str, Any]) -> Callable[..., dict[str, Any]]:
    def load(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
        if url not in cache:
            raise jsonld.JsonLdError(
                f"context {url} was not fetched", "jsonld.LoadDocumentError", code="loading"
            )
        return {"contextUrl": None, "documentUrl": url, "document": cache[url]}

    return load


def jsonld_to_graph(doc: Any, base: str, contexts: dict[str, Any]) -> Graph:
    options = {"base": base, "format": "application/n-quads", "documentLoader": _loader(contexts)}
    nquads = jsonld.to_rdf(doc, options)
    graph = Graph()
    if nquads.strip():
        # Named graphs are folded into one: a Solid resource is one graph.
        from rdflib import Dataset

        data = Dataset()
        data.parse(data=nquads, format="nquads")
        for s, p, o, _g in data.quads():
            graph.add((s, p, o))
    return graph


def graph_to_jsonld(
    graph: Graph, context: Any = None, contexts: dict[str, Any] | None = None
) -> Any:
    nquads = graph.serialize(format="nt", encoding="utf-8").decode()
    expanded = jsonld.from_rdf(nquads, {"format": "application/n-quads", "useNativeTypes": True})
    if context is None:
        return expanded
    options = {"documentLoader": _loader(contexts or {})}
    return jsonld.compact(expanded, context, options)


__all__ = [
    "EXTENSIONS",
    "FORMATS",
    "RDF_ACCEPT",
    "SHORT_NAMES",
    "graph_to_jsonld",
    "has_bnode",
    "is_rdf",
    "jsonld_to_graph",
    "n3_patch",
    "parse",
    "prefetch_contexts",
    "serialize",
]
