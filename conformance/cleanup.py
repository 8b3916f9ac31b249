"""Deleting the run's scratch tree, best effort."""

from __future__ import annotations

from conformance.context import Agent
from conformance.rdf import LDP, URIRef, parse


async def delete_tree(agent: Agent, url: str, depth: int = 0) -> None:
    if depth > 8:  # the suite never nests deeper; a loop would be a server bug
        return
    if url.endswith("/"):
        listing = await agent.get(url, Accept="text/turtle")
        if listing.ok:
            try:
                graph = parse(listing.body, "text/turtle", url)
            except Exception:
                graph = None
            members = (
                sorted(str(m) for m in graph.objects(URIRef(url), LDP.contains)) if graph else []
            )
            for member in members:
                if member.startswith(url):
                    await delete_tree(agent, member, depth + 1)
    await agent.delete(url)
