"""SPARQL over exactly what the caller may read (issue 22), through a real server on files
and PostgreSQL: alice (the owner) sees everything, bob only the container alice shared
with him (whatever the query's shape), anonymous callers only public documents; a write
shows in the next query; bad queries are 400, heavy ones 422/503 without stalling others.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import aiohttp

from client import PodClient
from pod_server.http.handlers import STORE
from pod_server.idp.routes import IDP
from pod_server.pods.hosting import add_user, user_credentials
from pod_server.settings import Settings
from tests.conftest import deployed, running_pod

PASSWORD = "a long enough passphrase"
EX = "https://example.org/ns#"
JSON = "application/sparql-results+json"


@dataclass
class World:
    alice: PodClient
    bob: PodClient
    anonymous: aiohttp.ClientSession
    pod: str  # alice's storage
    endpoint: str
    webid: dict[str, str]
    settings: Settings | None = None  # the deployment's (its storage, for the CLI)


@asynccontextmanager
async def world(root: Path, storage: str, **settings: object) -> AsyncIterator[World]:
    root.mkdir()
    chosen, backend = deployed(storage, root, Settings(multiuser=True, **settings))  # type: ignore[arg-type]
    async with running_pod(root, backend, chosen) as server, AsyncExitStack() as stack:
        store, state = server.app[STORE], server.app[IDP].state  # type: ignore[index]
        clients: dict[str, PodClient] = {}
        webid: dict[str, str] = {}
        for name in ("alice", "bob"):
            await add_user(store, state, name, f"{name}@example.org", PASSWORD)
            made = await user_credentials(store, state, name, "query tests")
            client = await stack.enter_async_context(PodClient())
            await client.login_client_credentials(
                made["issuer"], made["client_id"], made["client_secret"]
            )
            clients[name], webid[name] = client, made["webid"]
        pod = (await clients["alice"].storages())[0]
        yield World(
            clients["alice"],
            clients["bob"],
            server.session,
            pod,
            pod + ".well-known/sparql",
            webid,
            chosen,
        )


def doc(subject: str, amount: int, category: str) -> str:
    return (
        f"@prefix ex: <{EX}> .\n"
        f"<#{subject}> a ex:Payment; ex:amount {amount}; ex:category ex:{category} .\n"
    )


async def fill(w: World) -> None:
    """shared/ (bob may read), private/ (alice only), public/ (everyone)."""
    for box in ("shared/", "private/", "public/"):
        await w.alice.create_container(w.pod + box)
    await w.alice.put(w.pod + "shared/jan", doc("p1", 10, "Energy"))
    await w.alice.put(w.pod + "shared/feb", doc("p2", 20, "Energy"))
    await w.alice.put(w.pod + "private/secret", doc("p3", 99, "Energy"))
    await w.alice.put(w.pod + "public/card", doc("p4", 1, "Food"))
    await w.alice.grant(w.pod + "shared/", w.webid["bob"], "Read")
    await w.alice.grant(w.pod + "public/", "public", "Read")


async def ask(
    client: PodClient | aiohttp.ClientSession,
    endpoint: str,
    query: str,
    accept: str = JSON,
    method: str = "GET",
) -> tuple[int, str, str]:
    """(status, content type, body) of one query."""
    headers = {"Accept": accept}
    if method == "GET":
        url, body = f"{endpoint}?query={quote(query)}", None
    else:
        url, body = endpoint, query.encode()
        headers["Content-Type"] = "application/sparql-query"
    if isinstance(client, PodClient):
        response = await client.request(
            method, url, headers=headers, body=body, ok=(400, 401, 403, 406, 415, 422, 503)
        )
        return (
            response.status,
            response.headers.get("Content-Type", ""),
            (await response.read()).decode(),
        )
    async with client.request(method, url, headers=headers, data=body) as r:
        return r.status, r.headers.get("Content-Type", ""), await r.text()


async def rows(
    client: PodClient | aiohttp.ClientSession, endpoint: str, query: str
) -> list[dict[str, str]]:
    status, _, body = await ask(client, endpoint, query)
    assert status == 200, body
    return [
        {name: cell["value"] for name, cell in row.items()}
        for row in json.loads(body)["results"]["bindings"]
    ]


def names(found: list[dict[str, str]], key: str) -> set[str]:
    """The last segment of each ``key`` value, of the test's containers (a new pod also
    holds its profile and type indexes)."""
    ours = ("/shared/", "/private/", "/public/", "#")
    return {
        row[key].rsplit("#", 1)[-1].rsplit("/", 1)[-1]
        for row in found
        if key in row and any(part in row[key] for part in ours)
    }


ALL = "SELECT ?s WHERE { ?s a <https://example.org/ns#Payment> }"


async def test_each_caller_sees_exactly_what_it_may_read(tmp_path: Path, storage: str) -> None:
    async with world(tmp_path / "pods", storage) as w:
        await fill(w)
        assert names(await rows(w.alice, w.endpoint, ALL), "s") == {"p1", "p2", "p3", "p4"}
        assert names(await rows(w.bob, w.endpoint, ALL), "s") == {"p1", "p2", "p4"}
        assert names(await rows(w.anonymous, w.endpoint, ALL), "s") == {"p4"}

        # GRAPH ?g names only readable documents, even with a FROM NAMED asking for more.
        graphs = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
        assert names(await rows(w.bob, w.endpoint, graphs), "g") == {"jan", "feb", "card"}
        narrowed = (
            f"SELECT ?g FROM NAMED <{w.pod}private/secret> FROM NAMED <{w.pod}shared/jan>"
            " WHERE { GRAPH ?g { ?s ?p ?o } }"
        )
        assert names(await rows(w.bob, w.endpoint, narrowed), "g") == {"jan"}
        assert names(await rows(w.alice, w.endpoint, narrowed), "g") == {"jan", "secret"}
        from_private = f"SELECT ?s FROM <{w.pod}private/secret> WHERE {{ ?s ?p ?o }}"
        assert await rows(w.bob, w.endpoint, from_private) == []

        # OPTIONAL, FILTER EXISTS and aggregates see no triple of an unreadable document.
        optional = f"PREFIX ex: <{EX}> SELECT ?s ?a WHERE {{ ?s a ex:Payment OPTIONAL {{ ?s ex:amount ?a }} }}"
        assert {r["a"] for r in await rows(w.bob, w.endpoint, optional)} == {"10", "20", "1"}
        exists = f"PREFIX ex: <{EX}> ASK {{ FILTER EXISTS {{ ?s ex:amount 99 }} }}"
        status, _, body = await ask(w.bob, w.endpoint, exists)
        assert status == 200 and json.loads(body)["boolean"] is False
        status, _, body = await ask(w.alice, w.endpoint, exists)
        assert json.loads(body)["boolean"] is True
        total = f"PREFIX ex: <{EX}> SELECT (COUNT(*) AS ?n) (SUM(?a) AS ?sum) WHERE {{ ?s ex:amount ?a }}"
        assert await rows(w.bob, w.endpoint, total) == [{"n": "3", "sum": "31"}]
        assert await rows(w.alice, w.endpoint, total) == [{"n": "4", "sum": "130"}]

        # A whole-dataset CONSTRUCT is the union of what bob can GET, nothing more.
        status, media, body = await ask(
            w.bob, w.endpoint, "CONSTRUCT WHERE { ?s ?p ?o }", accept="application/n-triples"
        )
        assert status == 200 and media.startswith("application/n-triples")
        assert "/shared/jan#p1>" in body and "/public/card#p4>" in body
        assert "/private/" not in body and '"99"' not in body


async def test_results_by_content_negotiation_and_post_forms(tmp_path: Path, storage: str) -> None:
    async with world(tmp_path / "pods", storage) as w:
        await fill(w)
        query = f"PREFIX ex: <{EX}> SELECT ?a WHERE {{ ?s ex:amount ?a }} ORDER BY ?a"
        status, media, body = await ask(w.alice, w.endpoint, query, "text/csv", "POST")
        assert status == 200 and media.startswith("text/csv")
        assert [r["a"] for r in csv.DictReader(io.StringIO(body))] == ["1", "10", "20", "99"]
        status, media, body = await ask(w.alice, w.endpoint, query, "text/tab-separated-values")
        assert media.startswith("text/tab-separated-values") and body.splitlines()[0] == "?a"
        status, media, body = await ask(
            w.alice, w.endpoint, query, "application/sparql-results+xml"
        )
        assert media.startswith("application/sparql-results+xml") and "<sparql" in body
        status, media, body = await ask(
            w.alice, w.endpoint, "CONSTRUCT WHERE { ?s ?p ?o }", "application/ld+json"
        )
        assert status == 200 and media.startswith("application/ld+json")
        assert isinstance(json.loads(body), list)
        status, _, _ = await ask(w.alice, w.endpoint, query, "image/png")
        assert status == 406
        async with w.anonymous.post(
            w.endpoint,
            data={"query": "ASK { ?s ?p ?o }"},
            headers={"Accept": JSON},
        ) as r:
            assert r.status == 200 and (await r.json())["boolean"] is True
        # The storage description names the endpoint.
        async with w.anonymous.get(w.pod + ".well-known/solid") as r:
            assert w.endpoint in await r.text()


async def test_a_write_shows_in_the_next_query(tmp_path: Path, storage: str) -> None:
    async with world(tmp_path / "pods", storage) as w:
        await fill(w)
        assert len(await rows(w.bob, w.endpoint, ALL)) == 3
        await w.alice.put(w.pod + "shared/mar", doc("p5", 30, "Energy"))
        assert names(await rows(w.bob, w.endpoint, ALL), "s") == {"p1", "p2", "p4", "p5"}
        await w.alice.put(w.pod + "shared/jan", doc("p1b", 11, "Energy"), if_match=None)
        assert names(await rows(w.bob, w.endpoint, ALL), "s") == {"p1b", "p2", "p4", "p5"}
        await w.alice.delete(w.pod + "shared/feb")
        assert names(await rows(w.bob, w.endpoint, ALL), "s") == {"p1b", "p4", "p5"}
        await w.alice.revoke(w.pod + "shared/", w.webid["bob"])
        assert names(await rows(w.bob, w.endpoint, ALL), "s") == {"p4"}


async def test_bad_queries_are_refused_with_a_reason(tmp_path: Path, storage: str) -> None:
    async with world(tmp_path / "pods", storage) as w:
        await fill(w)
        for query in (
            "SELEC * WHERE { ?s ?p ?o }",
            "SELECT * WHERE { SERVICE <http://127.0.0.1:1/sparql> { ?s ?p ?o } }",
            "INSERT DATA { <a> <b> <c> }",
            "SELECT * WHERE " + "{" * 500 + "}" * 500,
        ):
            status, _, body = await ask(w.alice, w.endpoint, query)
            assert status == 400, (query, body)
            assert body.strip()
        async with w.anonymous.get(w.endpoint) as r:
            assert r.status == 400
        async with w.anonymous.put(w.endpoint, data=b"x") as r:
            assert r.status == 405


CROSS = (
    "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?a { ?s1 ?p1 ?o1 } GRAPH ?b { ?s2 ?p2 ?o2 }"
    " GRAPH ?c { ?s3 ?p3 ?o3 } GRAPH ?d { ?s4 ?p4 ?o4 } GRAPH ?e { ?s5 ?p5 ?o5 } }"
)


async def test_a_heavy_query_is_stopped_without_stalling_a_reader(
    tmp_path: Path, storage: str
) -> None:
    async with world(tmp_path / "pods", storage, work_timeout=3, heavy_jobs=1) as w:
        await fill(w)
        big = "".join(f"<#s{i}> <{EX}v> {i} .\n" for i in range(300))
        await w.alice.put(w.pod + "private/big", big)
        started = time.monotonic()
        heavy = asyncio.create_task(ask(w.alice, w.endpoint, CROSS))
        await asyncio.sleep(0.5)
        read_at = time.monotonic()
        resource = await w.alice.get(w.pod + "shared/jan")  # a concurrent reader
        assert "p1" in resource.text()
        assert time.monotonic() - read_at < 1  # while the query runs on for seconds
        status, _, body = await heavy
        assert status in (422, 503), body
        assert 3 <= time.monotonic() - started < 8  # stopped at the limit, not at its end
        # The engine was stopped and replaced: the next query is answered.
        assert len(await rows(w.alice, w.endpoint, ALL)) == 4


async def test_each_query_is_audited_like_a_read_of_the_endpoint(
    tmp_path: Path, storage: str
) -> None:
    async with world(tmp_path / "pods", storage) as w:
        await fill(w)
        await rows(w.bob, w.endpoint, ALL)
        status, _, _ = await ask(w.bob, w.endpoint, ALL, method="POST")
        assert status == 200
        assert (await ask(w.bob, w.endpoint, "SELEC"))[0] == 400
        await rows(w.alice, w.endpoint, ALL)  # the owner's own queries are not logged
        entries = [
            e
            async for e in w.alice.audit(resource=w.endpoint)  # type: ignore[attr-defined]
        ]
        assert [(e.action, e.outcome, e.agent) for e in reversed(entries)] == [
            ("View", 200, w.webid["bob"]),
            ("View", 200, w.webid["bob"]),
            ("View", 400, w.webid["bob"]),
        ]


async def test_the_sdk_asks_and_reads_rows_booleans_and_graphs(
    tmp_path: Path, storage: str
) -> None:
    async with world(tmp_path / "pods", storage) as w:
        await fill(w)
        total = f"PREFIX ex: <{EX}> SELECT (SUM(?a) AS ?sum) WHERE {{ ?s ex:amount ?a }}"
        found = await w.bob.query(total, storage=w.pod)
        assert found.variables == ["sum"] and [r["sum"].toPython() for r in found.rows] == [31]
        assert (await w.alice.query("ASK { ?s ?p 99 }")).boolean is True  # her own storage
        graph = (await w.bob.query("CONSTRUCT WHERE { ?s ?p ?o }", storage=w.pod)).graph
        assert graph is not None and len(graph) > 0
        assert not any("/private/" in str(s) for s in graph.subjects())


async def test_two_servers_of_one_deployment_answer_every_acknowledged_write(
    tmp_path: Path, storage: str
) -> None:
    settings_a, backend_a = deployed(storage, tmp_path, Settings(open=True))
    settings_b, backend_b = deployed(storage, tmp_path, Settings(open=True))
    async with (
        running_pod(tmp_path, backend_a, settings_a) as a,
        running_pod(tmp_path, backend_b, settings_b) as b,
    ):
        count = "SELECT (COUNT(*) AS ?n) WHERE { ?s <https://example.org/ns#v> ?v }"
        for n in range(1, 4):  # a write through one, the query through the other (both ways)
            writer, reader = (a, b) if n % 2 else (b, a)
            assert await writer.put(f"/d{n}.ttl", f"<#x> <{EX}v> {n} .") == 201
            assert await rows(reader.session, reader.url(".well-known/sparql"), count) == [
                {"n": str(n)}
            ]
        assert await a.put("/d1.ttl", f"<#x> <{EX}v> 1, 11 .") == 204
        assert await rows(b.session, b.url(".well-known/sparql"), count) == [{"n": "4"}]
