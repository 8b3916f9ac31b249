"""Graphs, minimal patches, JSON-LD contexts, downloads — against scripted answers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, URIRef

from client import IncompleteTransfer, InvalidResponse, PreconditionFailed, Request, Response
from client.rdf import has_bnode, n3_patch
from tests.unit.client.helpers import POD, TURTLE, FakeServer, client

DOC = POD + "doc.ttl"
NAME = URIRef("http://schema.org/name")


def test_n3_patch_is_valid_n3_with_only_the_change() -> None:
    me = URIRef(DOC + "#me")
    body = n3_patch([(me, NAME, Literal('say "hi"\n'))], [(me, NAME, Literal("B", lang="en"))])
    graph = Graph()
    graph.parse(data=body, format="n3")  # parses as N3 (formulas and all)
    text = body.decode()
    assert "solid:InsertDeletePatch" in text and "solid:deletes" in text
    assert 'say "hi"' in text.replace('\\"', '"') and '"B"@en' in text
    assert "solid:deletes" not in n3_patch([], [(me, NAME, Literal("x"))]).decode()
    assert has_bnode([(BNode(), NAME, Literal("x"))]) and not has_bnode([(me, NAME, me)])


async def test_save_graph_sends_the_difference_with_if_match() -> None:
    server = FakeServer()
    server.on(
        "GET",
        DOC,
        Response(
            200,
            {**TURTLE, "ETag": '"v1"'},
            '<#me> <http://schema.org/name> "A"; <http://schema.org/age> 3.',
        ),
    )
    server.on("PATCH", DOC, Response(205, {"ETag": '"v2"'}), Response(412, {}, "changed"))
    async with client(server) as pod:
        graph = await pod.read_graph(DOC)
        graph.set((URIRef(DOC + "#me"), NAME, Literal("B")))
        await pod.save_graph(DOC, graph)
        (patch,) = server.sent("PATCH")
        assert patch.headers["If-Match"] == '"v1"' and patch.headers["Content-Type"] == "text/n3"
        text = patch.body.decode()  # type: ignore[union-attr]
        assert '"A"' in text and '"B"' in text and "age" not in text
        assert await pod.save_graph(DOC, graph) is None  # nothing new
        graph.add((URIRef(DOC + "#me"), NAME, Literal("C")))
        with pytest.raises(PreconditionFailed) as caught:
            await pod.save_graph(DOC, graph)
        assert server.sent("PATCH")[-1].headers["If-Match"] == '"v2"'  # the saved version
        assert "read it again" in str(caught.value)


async def test_save_graph_with_blank_nodes_puts_and_new_documents_are_created_only() -> None:
    server = FakeServer()
    server.on(
        "GET",
        DOC,
        Response(
            200,
            {**TURTLE, "ETag": '"v1"'},
            '<#me> <http://schema.org/knows> [ <http://schema.org/name> "X" ].',
        ),
    )
    server.on("PUT", DOC, Response(204, {"ETag": '"v2"'}))
    server.on("PUT", POD + "new.ttl", Response(201, {"ETag": '"n1"'}))
    async with client(server) as pod:
        graph = await pod.read_graph(DOC)
        node = next(o for o in graph.objects() if isinstance(o, BNode))
        graph.set((node, NAME, Literal("Y")))
        await pod.save_graph(DOC, graph)
        (put,) = server.sent("PUT")
        assert put.headers["If-Match"] == '"v1"' and put.headers["Content-Type"] == "text/turtle"
        fresh = Graph()
        fresh.add((URIRef(POD + "new.ttl#a"), NAME, Literal("a")))
        await pod.save_graph(POD + "new.ttl", fresh)
        made = server.sent("PUT")[-1]
        assert made.headers["If-None-Match"] == "*" and "If-Match" not in made.headers


async def test_invalid_rdf_from_the_server() -> None:
    server = FakeServer()
    server.on("GET", DOC, Response(200, TURTLE, "<#a> <#b> ."))
    server.on("GET", POD + "x.json", Response(200, {"Content-Type": "application/ld+json"}, "{"))
    server.on("GET", POD + "file", Response(200, {"Content-Type": "image/png"}, b"\x89PNG"))
    async with client(server) as pod:
        with pytest.raises(InvalidResponse, match="not valid"):
            await pod.read_graph(DOC)
        with pytest.raises(InvalidResponse, match="not JSON"):
            await pod.read_graph(POD + "x.json")
        with pytest.raises(InvalidResponse, match="is not RDF"):
            await pod.read_graph(POD + "file")


async def test_jsonld_remote_contexts_are_fetched_by_the_client() -> None:
    ctx_url = "https://vocab.example/ctx.jsonld"
    server = FakeServer()
    server.on(
        "GET",
        ctx_url,
        Response(
            200,
            {"Content-Type": "application/ld+json"},
            json.dumps({"@context": {"name": "http://schema.org/name"}}),
        ),
    )
    server.on("PUT", DOC, Response(201))
    server.on(
        "GET",
        DOC,
        Response(
            200,
            {"Content-Type": "application/ld+json"},
            json.dumps({"@context": ctx_url, "@id": "#me", "name": "A"}),
        ),
    )
    async with client(server) as pod:
        await pod.write_jsonld(DOC, {"@context": ctx_url, "@id": "#me", "name": "A"})
        body = server.sent("PUT")[0].body.decode()  # type: ignore[union-attr]
        graph = Graph().parse(data=body, format="turtle", publicID=DOC)
        assert set(graph) == {(URIRef(DOC + "#me"), NAME, Literal("A"))}
        assert set(await pod.read_graph(DOC)) == set(graph)  # JSON-LD answers too
        compact = await pod.read_jsonld(DOC, ctx_url)
        assert compact["name"] == "A" and compact["@context"] == ctx_url


async def test_downloads_are_whole_or_not_at_all(tmp_path: Path) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"x" * 10
        raise IncompleteTransfer("the response body stopped part way")

    server = FakeServer()
    server.on("GET", POD + "ok", Response(200, {"Content-Length": "5", "ETag": '"e"'}, b"hello"))
    server.on("GET", POD + "short", Response(200, {"Content-Length": "100"}, b"x" * 10))
    server.on("GET", POD + "cut", lambda r: Response(200, {}, broken()))
    async with client(server) as pod:
        got = await pod.download(POD + "ok", tmp_path / "ok")
        assert got.size == 5 and (tmp_path / "ok").read_bytes() == b"hello"
        assert got.sha256 == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        with pytest.raises(IncompleteTransfer, match="received 10 of 100") as caught:
            await pod.download(POD + "short", tmp_path / "short")
        assert caught.value.done == 10 and caught.value.total == 100
        with pytest.raises(IncompleteTransfer):
            await pod.download(POD + "cut", tmp_path / "cut")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok"]  # no partial files


async def test_uploads_stream_with_a_length_and_progress(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(b"y" * 600_000)
    seen: list[int] = []
    captured: list[Request] = []

    def keep(request: Request) -> Response:
        captured.append(request)
        return Response(201)

    server = FakeServer()
    server.on("PUT", POD + "big.bin", keep)
    server.on("PUT", POD + "notes.ttl", keep)
    async with client(server) as pod:
        await pod.upload(POD + "big.bin", big, progress=seen.append)
        await pod.upload(POD + "notes.ttl", b"<#a> <#b> <#c>.")
    assert captured[0].body == big.read_bytes() and len(seen) == 3 and sum(seen) == 600_000
    assert captured[0].headers["Content-Length"] == "600000"
    assert captured[0].headers["Content-Type"] == "application/octet-stream"
    assert captured[1].headers["Content-Type"] == "text/turtle"
