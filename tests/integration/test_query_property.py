"""Property (issue 22's "done when"), through a real server on files and PostgreSQL: random
trees of containers and documents under random ACLs (own and inherited rules for bob, the
public and any signed-in agent); for alice (the owner), bob and an anonymous caller, a
whole-dataset CONSTRUCT answers exactly the union of the documents that caller can GET."""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Coroutine, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib import Graph

from client import PodClient
from tests.integration.test_query import World, ask, world

T = TypeVar("T")
ACL = "http://www.w3.org/ns/auth/acl#"
WHO = {
    "bob": None,  # acl:agent bob (his WebID is known once the server runs)
    "public": "acl:agentClass <http://xmlns.com/foaf/0.1/Agent>",
    "signed-in": f"acl:agentClass <{ACL}AuthenticatedAgent>",
}


class Live:
    """The query tests' world (alice, bob, anonymous) on an event loop of its own, so that
    Hypothesis's synchronous examples can drive it."""

    def __init__(self, root: Path, storage: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.stack = AsyncExitStack()
        self.world: World = self.run(self.stack.enter_async_context(world(root, storage)))
        self.count = itertools.count()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 120) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        try:
            self.run(self.stack.aclose())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()


@pytest.fixture(scope="module", params=["file", "postgres"])
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    server = Live(tmp_path_factory.mktemp("query-property") / "pods", request.param)
    try:
        yield server
    finally:
        server.close()


rules = st.lists(
    st.tuples(st.sampled_from(sorted(WHO)), st.booleans(), st.booleans()),  # who, accessTo, default
    max_size=3,
)
trees = st.fixed_dictionaries(
    {
        # Container i's parent: the example's root (0) or an earlier container.
        "containers": st.lists(st.integers(0, 3), max_size=3),
        # Each document's container (indexes past the last container mean the root).
        "documents": st.lists(st.integers(0, 3), min_size=1, max_size=5),
        # ACLs: the root always has one; containers and documents may.
        "root_acl": rules,
        "acls": st.lists(st.one_of(st.none(), rules), min_size=8, max_size=8),
    }
)


def acl_body(
    target: str, container: bool, chosen: list[tuple[str, bool, bool]], alice: str, bob: str
) -> str:
    lines = [
        f"@prefix acl: <{ACL}> .",
        f"<#owner> a acl:Authorization; acl:agent <{alice}>; acl:accessTo <{target}>;"
        + (f" acl:default <{target}>;" if container else "")
        + " acl:mode acl:Read, acl:Write, acl:Control .",
    ]
    for n, (who, access_to, default) in enumerate(chosen):
        if not access_to and not (default and container):
            continue
        subject = WHO[who] or f"acl:agent <{bob}>"
        lines.append(
            f"<#r{n}> a acl:Authorization; {subject};"
            + (f" acl:accessTo <{target}>;" if access_to else "")
            + (f" acl:default <{target}>;" if default and container else "")
            + " acl:mode acl:Read ."
        )
    return "\n".join(lines) + "\n"


async def build(w: World, prefix: str, tree: dict[str, Any]) -> list[str]:
    """The tree's containers, documents and ACLs; returns the documents' URLs."""
    containers = [prefix]
    await w.alice.create_container(prefix)
    for i, parent in enumerate(tree["containers"]):
        url = f"{containers[min(parent, len(containers) - 1)]}c{i}/"
        await w.alice.create_container(url)
        containers.append(url)
    documents = []
    for i, where in enumerate(tree["documents"]):
        url = f"{containers[min(where, len(containers) - 1)]}d{i}"
        await w.alice.put(url, f'<#s{i}> <http://ex/v> "{prefix} {i}"; <http://ex/n> {i} .\n')
        documents.append(url)
    alice, bob = w.webid["alice"], w.webid["bob"]
    await w.alice.put(
        prefix + ".acl", acl_body(prefix, True, tree["root_acl"], alice, bob), if_match=None
    )
    for url, chosen in zip([*containers[1:], *documents], tree["acls"], strict=False):
        if chosen is not None:
            await w.alice.put(
                url + ".acl", acl_body(url, url.endswith("/"), chosen, alice, bob), if_match=None
            )
    return documents


async def gettable(
    client: PodClient | aiohttp.ClientSession, urls: list[str]
) -> set[tuple[str, ...]]:
    """The triples of every document ``client`` may GET."""
    union = Graph()
    for url in urls:
        if isinstance(client, PodClient):
            response = await client.request(
                "GET", url, headers={"Accept": "text/turtle"}, ok=(401, 403)
            )
            status, text = response.status, (await response.read()).decode()
        else:
            async with client.get(url, headers={"Accept": "text/turtle"}) as r:
                status, text = r.status, await r.text()
        if status == 200:
            union.parse(data=text, format="turtle", publicID=url)
    return {tuple(map(str, t)) for t in union}


async def queried(
    client: PodClient | aiohttp.ClientSession, endpoint: str, prefix: str
) -> set[tuple[str, ...]]:
    query = (
        "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o }"
        f' FILTER(STRSTARTS(STR(?g), "{prefix}")) }}'
    )
    status, _, body = await ask(client, endpoint, query, accept="application/n-triples")
    assert status == 200, body
    return {tuple(map(str, t)) for t in Graph().parse(data=body, format="nt")}


@settings(max_examples=12, deadline=None)
@given(tree=trees)
def test_a_query_answers_exactly_what_the_caller_can_get(live: Live, tree: dict[str, Any]) -> None:
    w = live.world
    prefix = f"{w.pod}ex{next(live.count)}/"

    async def check() -> None:
        documents = await build(w, prefix, tree)
        for client in (w.alice, w.bob, w.anonymous):
            expected = await gettable(client, documents)
            assert await queried(client, w.endpoint, prefix) == expected

    live.run(check())
