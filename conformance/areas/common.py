"""Bodies and small helpers shared by the areas."""

from __future__ import annotations

from conformance.context import Agent, Context
from conformance.http import Reply
from conformance.rdf import EX, Graph, Literal, URIRef, graph_of
from conformance.registry import expect, expect_status

DOC = '@prefix ex: <http://example.org/conformance#>.\n<#it> ex:value "one"; ex:count 1.\n'
OTHER_DOC = '@prefix ex: <http://example.org/conformance#>.\n<#it> ex:value "two".\n'
JSONLD_DOC = '{"@id": "#it", "http://example.org/conformance#value": "from json-ld"}'
NOTHING_AGENT = "https://nobody.invalid/profile/card#me"  # a WebID no one holds


def it(url: str) -> URIRef:
    return URIRef(url + "#it")


def has_value(graph: Graph, url: str, value: str) -> bool:
    return (it(url), EX.value, Literal(value)) in graph


async def read_graph(agent: Agent, url: str, accept: str = "text/turtle") -> Graph:
    reply = expect_status(await agent.get(url, Accept=accept), 200)
    return graph_of(reply)


async def expect_value(ctx: Context, url: str, value: str, present: bool = True) -> None:
    graph = await read_graph(ctx.writer, url)
    state = "still has" if not present else "lacks"
    expect(has_value(graph, url, value) == present, f"{url} {state} ex:value {value!r}")


def created(reply: Reply) -> Reply:
    """A successful creation: 201, or 200/204 which some servers send for PUT."""
    return expect_status(reply, 200, 201, 204)


async def describe(ctx: Context, subject: str, meta: str, title: str) -> None:
    """Write a dcterms:title into ``subject``'s description resource ``meta``: PUT, or N3 Patch
    where the server only lets descriptions be patched (checked separately)."""
    triple = f'<{subject}> <http://purl.org/dc/terms/title> "{title}".'
    reply = await ctx.writer.put(meta, triple)
    if reply.status == 405:
        body = (
            "@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n"
            f"_:p a solid:InsertDeletePatch; solid:inserts {{ {triple[:-1]} }}."
        )
        reply = await ctx.writer.patch(meta, body)
    expect_status(reply, 200, 201, 204, 205)
