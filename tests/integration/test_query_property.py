"""Property (issue 22's "done when"), through a real server on files and PostgreSQL: random
trees of containers and documents under random ACLs (own and inherited rules for bob, the
public and any signed-in agent); for alice (the owner), bob and an anonymous caller, a
whole-dataset CONSTRUCT answers exactly the union of the documents that caller can GET."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
from collections import Counter
from collections.abc import Coroutine, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib import XSD, Dataset, Graph, Literal, URIRef

from client import PodClient
from tests.integration.test_query import World, ask, world

T = TypeVar("T")
ACL = "http://www.w3.org/ns/auth/acl#"
VCARD = "http://www.w3.org/2006/vcard/ns#"
WHO = {
    "bob": None,  # acl:agent bob (his WebID is known once the server runs)
    "public": "acl:agentClass <http://xmlns.com/foaf/0.1/Agent>",
    "signed-in": f"acl:agentClass <{ACL}AuthenticatedAgent>",
    "group": None,  # acl:agentGroup: the example's group, bob a member or not
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
        "bob_in_group": st.booleans(),
    }
)


def acl_body(
    target: str,
    container: bool,
    chosen: list[tuple[str, bool, bool]],
    alice: str,
    bob: str,
    group: str,
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
        subject = WHO[who] or (
            f"acl:agentGroup <{group}>" if who == "group" else f"acl:agent <{bob}>"
        )
        lines.append(
            f"<#r{n}> a acl:Authorization; {subject};"
            + (f" acl:accessTo <{target}>;" if access_to else "")
            + (f" acl:default <{target}>;" if default and container else "")
            + " acl:mode acl:Read ."
        )
    return "\n".join(lines) + "\n"


async def build(
    w: World, prefix: str, tree: dict[str, Any], bodies: list[str] | None = None
) -> list[str]:
    """The tree's containers, documents (``bodies`` or one small default each), its group
    (outside ``prefix``, so it is in no example's dataset filter) and ACLs; returns the
    documents' URLs."""
    containers = [prefix]
    await w.alice.create_container(prefix)
    for i, parent in enumerate(tree["containers"]):
        url = f"{containers[min(parent, len(containers) - 1)]}c{i}/"
        await w.alice.create_container(url)
        containers.append(url)
    documents = []
    for i, where in enumerate(tree["documents"]):
        url = f"{containers[min(where, len(containers) - 1)]}d{i}"
        body = (
            bodies[i] if bodies else f'<#s{i}> <http://ex/v> "{prefix} {i}"; <http://ex/n> {i} .\n'
        )
        await w.alice.put(url, body)
        documents.append(url)
    alice, bob = w.webid["alice"], w.webid["bob"]
    group = prefix.rstrip("/") + "-group"
    members = f" <{VCARD}hasMember> <{bob}>" if tree["bob_in_group"] else ""
    await w.alice.put(group, f"<#it> a <{VCARD}Group>{';' if members else ''}{members} .\n")
    group += "#it"
    await w.alice.put(
        prefix + ".acl", acl_body(prefix, True, tree["root_acl"], alice, bob, group), if_match=None
    )
    for url, chosen in zip([*containers[1:], *documents], tree["acls"], strict=False):
        if chosen is not None:
            await w.alice.put(
                url + ".acl",
                acl_body(url, url.endswith("/"), chosen, alice, bob, group),
                if_match=None,
            )
    return documents


async def readable_graphs(
    client: PodClient | aiohttp.ClientSession, urls: list[str]
) -> dict[str, Graph]:
    """Each document ``client`` may GET, as it answers it."""
    graphs = {}
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
            graphs[url] = Graph().parse(data=text, format="turtle", publicID=url)
    return graphs


async def gettable(
    client: PodClient | aiohttp.ClientSession, urls: list[str]
) -> set[tuple[str, ...]]:
    """The triples of every document ``client`` may GET."""
    graphs = await readable_graphs(client, urls)
    return {tuple(map(str, t)) for graph in graphs.values() for t in graph}


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


# Random basic graph patterns over a small shared vocabulary, so that documents join.
NODES = 3
PREDICATES = 2
LITERALS = ['"x"', '"x"@en', "7"]
VARIABLES = ["?a", "?b", "?c"]
documents_triples = st.lists(
    st.lists(
        st.tuples(
            st.integers(0, NODES - 1),
            st.integers(0, PREDICATES - 1),
            st.integers(0, NODES + len(LITERALS) - 1),
        ),
        min_size=1,
        max_size=4,
    ),
    min_size=5,
    max_size=5,
)
# A position: a variable (str) or the index of a term of the example's vocabulary (int).
position = st.one_of(st.sampled_from(VARIABLES), st.integers(0, 99))
bgps = st.fixed_dictionaries(
    {
        "patterns": st.lists(st.tuples(position, position, position), min_size=1, max_size=3),
        "graph": st.booleans(),  # GRAPH ?g { ... } (else the default graph, the union)
    }
)


def node(prefix: str, i: int) -> str:
    return f"<{prefix}n{i % NODES}>"


def obj(prefix: str, i: int) -> str:
    i %= NODES + len(LITERALS)
    return node(prefix, i) if i < NODES else LITERALS[i - NODES]


def body(prefix: str, triples: list[tuple[int, int, int]]) -> str:
    return "".join(f"{node(prefix, s)} <{prefix}p{p}> {obj(prefix, o)} .\n" for s, p, o in triples)


def where(prefix: str, bgp: dict[str, Any]) -> str:
    """The query's pattern; under GRAPH ?g kept to the example's documents (others' stay
    in the pod), which the expected side needs no filter for but does not mind."""
    triples = " ".join(
        " ".join(
            t if isinstance(t, str) else term(prefix, t)
            for t, term in zip(
                pattern, (node, lambda x, i: f"<{x}p{i % PREDICATES}>", obj), strict=True
            )
        )
        + " ."
        for pattern in bgp["patterns"]
    )
    if not bgp["graph"]:
        return f"{{ {triples} }}"
    return f'{{ GRAPH ?g {{ {triples} }} FILTER(STRSTARTS(STR(?g), "{prefix}")) }}'


Solution = frozenset[tuple[str, tuple[str, ...]]]


def cell(term: dict[str, str]) -> tuple[str, ...]:
    """A SPARQL JSON results term, as ``expected_cell`` spells an rdflib term."""
    if term["type"] == "uri":
        return ("uri", term["value"])
    datatype = term.get("datatype", "")
    plain = datatype in ("", "http://www.w3.org/2001/XMLSchema#string")
    return ("literal", term["value"], "" if plain else datatype, term.get("xml:lang", ""))


def expected_cell(term: Any) -> tuple[str, ...]:
    if isinstance(term, Literal):
        plain = term.datatype in (None, XSD.string)
        return ("literal", str(term), "" if plain else str(term.datatype), term.language or "")
    assert isinstance(term, URIRef), term  # the documents hold no blank nodes
    return ("uri", str(term))


def expected_solutions(graphs: dict[str, Graph], query: str, named: bool) -> Counter[Solution]:
    """rdflib's answer over the readable documents: each a named graph (GRAPH ?g) or their
    merge (the default graph)."""
    if named:
        dataset = Dataset()
        for url, graph in graphs.items():
            target = dataset.graph(URIRef(url))
            for t in graph:
                target.add(t)
        result = dataset.query(query)
    else:
        merged = Graph()
        for graph in graphs.values():
            for t in graph:
                merged.add(t)
        result = merged.query(query)
    return Counter(
        frozenset((str(v), expected_cell(row[v])) for v in result.vars or [] if row[v] is not None)
        for row in result
    )


async def solutions(
    client: PodClient | aiohttp.ClientSession, endpoint: str, query: str
) -> Counter[Solution]:
    status, _, text = await ask(client, endpoint, query)
    assert status == 200, text
    return Counter(
        frozenset((name, cell(term)) for name, term in row.items())
        for row in json.loads(text)["results"]["bindings"]
    )


# Bounded by default (both backends, about a second an example); the long profile runs more.
@settings(
    max_examples=max(24, settings.default.max_examples // 40),
    deadline=None,
)
@given(tree=trees, contents=documents_triples, queries=st.lists(bgps, min_size=1, max_size=3))
def test_a_random_bgp_answers_what_the_getable_documents_answer(
    live: Live, tree: dict[str, Any], contents: list[Any], queries: list[dict[str, Any]]
) -> None:
    w = live.world
    prefix = f"{w.pod}bgp{next(live.count)}/"
    bodies = [body(prefix, triples) for triples in contents]

    async def check() -> None:
        documents = await build(w, prefix, tree, bodies)
        for client in (w.alice, w.bob, w.anonymous):
            graphs = await readable_graphs(client, documents)
            for bgp in queries:
                pattern = where(prefix, bgp)
                # The default graph: narrowed to the example's documents with FROM (readable
                # or not: FROM never widens); GRAPH ?g: the caller's whole dataset, filtered.
                scope = "" if bgp["graph"] else "".join(f"FROM <{d}> " for d in documents)
                expected = expected_solutions(graphs, f"SELECT * WHERE {pattern}", bgp["graph"])
                got = await solutions(client, w.endpoint, f"SELECT * {scope}WHERE {pattern}")
                assert got == expected, (pattern, sorted(graphs))

    live.run(check())
