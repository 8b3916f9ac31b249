"""No single request can stall the server: pathological bodies against a running server
(its own process, as deployed) while another client keeps reading a small resource."""

from __future__ import annotations

import asyncio
import io
import os
import statistics
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from pod_server.settings import Settings
from pod_server.storage.file import FileBackend
from tests.conftest import free_socket, running_pod

pytestmark = pytest.mark.timeout(120)

WORK_TIMEOUT = 8  # seconds; generous, so a loaded CI machine still parses the large graph
MAX_SOLUTIONS = 1_000  # the N3 matcher may examine 20 candidate triples per solution
DEPTH = 100_000
SOLID = "@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n"
SPARQL = "application/sparql-update"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[str]:
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    env = {
        **os.environ,
        "POD_ROOT": str(tmp_path / "data"),
        "POD_PORT": str(port),
        "POD_OPEN": "1",
        "POD_WORK_TIMEOUT": str(WORK_TIMEOUT),
        "POD_MAX_SOLUTIONS": str(MAX_SOLUTIONS),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "pod_server", "serve", "--host", "127.0.0.1", env=env
    )
    base = f"http://127.0.0.1:{port}/"
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(400):
                assert proc.returncode is None, "server exited early"
                try:
                    async with session.get(base) as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
        yield base
    finally:
        proc.terminate()
        await proc.wait()


def _doc(triples: int) -> bytes:
    return "".join(f'<#s{i}> <#p{i % 5}> "v{i}" .\n' for i in range(triples)).encode()


def _ntriples(base: str, triples: int) -> bytes:
    return "".join(
        f'<{base}big#s{i}> <http://ex.org/p{i % 7}> "value {i}" .\n' for i in range(triples)
    ).encode()


def _deep_rdfxml(depth: int) -> bytes:
    node = "<rdf:Description><e:p>"  # node and property elements alternate ("striping")
    end = "</e:p></rdf:Description>"
    return (
        f'<rdf:RDF xmlns:rdf="{RDF_NS}" xmlns:e="http://ex.org/">'
        + node * depth
        + end * depth
        + "</rdf:RDF>"
    ).encode()


def _n3_patch(where: str) -> bytes:
    return (
        f"{SOLID}<#patch> a solid:InsertDeletePatch;"
        f" solid:where {{ {where} }}; solid:inserts {{ <#x> <#y> 1 }}."
    ).encode()


# (name, method, path, content type, body, expected status, words in the message)
def _pathological(base: str) -> list[tuple[str, str, str, str, bytes, int, str]]:
    four = "?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l"
    return [
        (
            "sparql-solutions",
            "PATCH",
            "doc.ttl",
            SPARQL,
            f"DELETE {{}} INSERT {{}} WHERE {{ {four} }}".encode(),
            422,
            "more than 1000 solutions",
        ),
        (
            "sparql-time",
            "PATCH",
            "doc.ttl",
            SPARQL,
            f'INSERT {{ <#x> <#y> 1 }} WHERE {{ {four} FILTER(STR(?a) = "none") }}'.encode(),
            422,
            "processing limit",
        ),
        # Five patterns of ten matches each, then one that never matches (subject ==
        # object) and, having the most free terms, is tried last: 10^5 dead ends.
        (
            "n3-where",
            "PATCH",
            "doc.ttl",
            "text/n3",
            _n3_patch(" ".join(f"?a{i} <#p{i}> ?b{i} ." for i in range(5)) + " ?x ?y ?x ."),
            422,
            "too expensive",
        ),
        (
            "n3-where-long",
            "PATCH",
            "doc.ttl",
            "text/n3",
            _n3_patch(" ".join(f"?a{i} <#p{i % 5}> ?b{i} ." for i in range(3000))),
            422,
            "limit is 100",
        ),
        (
            "jsonld-deep",
            "PUT",
            "deep.jsonld",
            "application/ld+json",
            ('{"http://ex.org/p":' * DEPTH + "1" + "}" * DEPTH).encode(),
            400,
            "nested too deeply",
        ),
        (
            "jsonld-deep-arrays",
            "PUT",
            "deep2.jsonld",
            "application/ld+json",
            ("[" * DEPTH + "]" * DEPTH).encode(),
            400,
            "nested too deeply",
        ),
        (
            "turtle-brackets",
            "PUT",
            "deep.ttl",
            "text/turtle",
            ("<#a> <#b> " + "[ <#p> " * DEPTH + "1" + " ]" * DEPTH + " .").encode(),
            400,
            "nested too deeply",
        ),
        (
            "turtle-lists",
            "PUT",
            "lists.ttl",
            "text/turtle",
            ("<#a> <#b> " + "( " * DEPTH + ")" * DEPTH + " .").encode(),
            400,
            "nested too deeply",
        ),
        (
            "rdfxml-deep",
            "PUT",
            "deep.rdf",
            "application/rdf+xml",
            _deep_rdfxml(DEPTH // 10),
            400,
            "nested too deeply",
        ),
        (
            "sparql-deep",
            "PATCH",
            "doc.ttl",
            SPARQL,
            ("INSERT { <#x> <#y> 1 } WHERE " + "{ " * DEPTH + "}" * DEPTH).encode(),
            400,
            "nested too deeply",
        ),
    ]


async def test_pathological_bodies_do_not_stall_readers(server: str) -> None:
    base = server
    latencies: list[float] = []
    stop = asyncio.Event()
    async with aiohttp.ClientSession() as session:

        async def send(method: str, path: str, ctype: str, body: bytes) -> tuple[int, str]:
            headers = {"Content-Type": ctype}
            data = io.BytesIO(body)  # aiohttp warns about large raw bytes
            async with session.request(method, base + path, data=data, headers=headers) as r:
                return r.status, await r.text()

        assert (await send("PUT", "small.ttl", "text/turtle", b"<#a> <#b> 1 ."))[0] == 201
        assert (await send("PUT", "doc.ttl", "text/turtle", _doc(50)))[0] == 201
        async with session.get(base + "doc.ttl") as r:
            before = (r.headers["ETag"], await r.read())

        async def reader() -> None:
            async with aiohttp.ClientSession() as own:  # its own connection, like a client
                while not stop.is_set():
                    started = time.perf_counter()
                    async with own.get(base + "small.ttl") as r:
                        assert r.status == 200
                        await r.read()
                    latencies.append(time.perf_counter() - started)
                    await asyncio.sleep(0.005)

        reading = asyncio.create_task(reader())
        try:
            await asyncio.sleep(0.3)
            warm = len(latencies)
            outcomes = {}
            for name, method, path, ctype, body, status, words in _pathological(base):
                started = time.perf_counter()
                got, message = await send(method, path, ctype, body)
                outcomes[name] = (
                    got,
                    message.strip()[:120],
                    round(time.perf_counter() - started, 1),
                )
                assert got == status, outcomes
                assert words in message, outcomes
            # A large graph within the limits is accepted meanwhile.
            big = _ntriples(base, 4_000)
            assert len(big) > 64 * 1024
            assert (await send("PUT", "big.nt", "application/n-triples", big))[0] == 201
            await asyncio.sleep(0.3)
        finally:
            stop.set()
            await reading

        measured = sorted(latencies[warm:])
        assert len(measured) > 100, outcomes
        p99 = measured[int(len(measured) * 0.99)]
        summary = f"p50 {statistics.median(measured) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms"
        print(summary, len(measured), "reads;", outcomes)  # shown with -s
        assert p99 < 0.25, (summary, outcomes)

        # Normal service afterwards, and nothing stored for the refused requests.
        async with session.get(base + "doc.ttl") as r:
            assert (r.headers["ETag"], await r.read()) == before
        for _, method, path, *_ in _pathological(base):
            if method == "PUT":
                async with session.get(base + path) as r:
                    assert r.status == 404, path
        async with session.get(base + "big.nt", headers={"Accept": "text/turtle"}) as r:
            assert r.status == 200
            assert b"value 3999" in await r.read()
        status, _ = await send("PATCH", "doc.ttl", SPARQL, b"INSERT DATA { <#new> <#p> 1 }")
        assert status in (200, 204, 205)


async def test_patch_growing_a_document_past_the_rdf_size_limit_is_413(tmp_path: Path) -> None:
    settings = Settings(open=True, max_rdf_size=4_000)
    async with running_pod(tmp_path, FileBackend(tmp_path), settings) as pod:
        assert await pod.put("doc.ttl", _doc(20)) == 201
        async with pod.request("GET", "doc.ttl") as r:
            before = await r.read()
        note = "n" * 120  # per subject: 20 of them add about 2.6 KB
        grow = f'INSERT {{ ?s <#note> "{note}" . }} WHERE {{ ?s ?p ?o }}'.encode()
        headers = {"Content-Type": SPARQL}
        async with pod.request("PATCH", "doc.ttl", data=grow, headers=headers) as r:
            assert r.status == 204
        async with pod.request(
            "PATCH", "doc.ttl", data=grow.replace(b"#note", b"#more"), headers=headers
        ) as r:
            assert r.status == 413
            assert "4000-byte limit" in await r.text()
        async with pod.request("GET", "doc.ttl") as r:
            after = await r.read()
        assert before != after and b"#more" not in after
