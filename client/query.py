"""Asking a pod's SPARQL endpoint (``R.well-known/sparql``): what the signed-in agent may
read, answered by the server in one request instead of a crawl."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from client import rdf
from client.consent import Consent
from client.core import media_type
from client.errors import InvalidResponse

QUERY_PATH = ".well-known/sparql"
RESULTS_JSON = "application/sparql-results+json"
ACCEPT = f"{RESULTS_JSON}, text/turtle;q=0.9"


@dataclass
class QueryResult:
    """A query's answer: ``rows`` (SELECT), ``boolean`` (ASK) or ``graph`` (CONSTRUCT,
    DESCRIBE)."""

    variables: list[str] = field(default_factory=list)
    rows: list[dict[str, Node]] = field(default_factory=list)
    boolean: bool | None = None
    graph: Graph | None = None


def term(cell: dict[str, Any]) -> Node:
    """One SPARQL JSON results cell as an rdflib term."""
    kind, value = cell.get("type"), cell.get("value", "")
    if kind == "uri":
        return URIRef(value)
    if kind == "bnode":
        return BNode(value)
    if kind in ("literal", "typed-literal"):
        datatype = cell.get("datatype")
        return Literal(value, lang=cell.get("xml:lang"), datatype=datatype and URIRef(datatype))
    raise InvalidResponse(f"unknown SPARQL results term type {kind!r}")


def parse_results(body: bytes) -> QueryResult:
    """SPARQL 1.1 Query Results JSON (pure)."""
    try:
        data = json.loads(body)
        if "boolean" in data:
            return QueryResult(boolean=bool(data["boolean"]))
        variables = list(data["head"].get("vars", []))
        rows = [
            {name: term(cell) for name, cell in row.items()} for row in data["results"]["bindings"]
        ]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InvalidResponse(f"not SPARQL JSON results: {exc}") from None
    return QueryResult(variables, rows)


class Query(Consent):
    """SPARQL queries over a pod (the server answers over what you may read)."""

    async def query_url(self, storage: str | None = None) -> str:
        return await self._my_storage(storage) + QUERY_PATH

    async def query(self, sparql: str, storage: str | None = None) -> QueryResult:
        """Run ``sparql`` (SELECT, ASK, CONSTRUCT or DESCRIBE) at ``storage``'s endpoint
        (default: your own storage)."""
        url = await self.query_url(storage)
        response = await self.request(
            "POST",
            url,
            headers={"Content-Type": "application/sparql-query", "Accept": ACCEPT},
            body=sparql.encode(),
        )
        body = await response.read()
        media = media_type(response.headers.get("Content-Type", ""))
        if media == RESULTS_JSON:
            return parse_results(body)
        return QueryResult(graph=rdf.parse(body, media or "text/turtle", url))
