"""Documents (RDF sources and non-RDF resources) through a real server."""

from __future__ import annotations

import asyncio

from rdflib import Graph, Literal, URIRef

from tests.conftest import Pod

TURTLE = '@prefix ex: <http://example.org/>.\n<#me> ex:name "Alice"; ex:knows <#bob>.\n'
LDP = "http://www.w3.org/ns/ldp#"


async def test_put_then_get_returns_the_turtle_verbatim(pod: Pod) -> None:
    assert await pod.put("/notes/a.ttl", TURTLE) == 201
    async with pod.request("GET", "/notes/a.ttl", headers={"Accept": "text/turtle"}) as r:
        assert r.status == 200
        assert await r.text() == TURTLE
        assert r.headers["Content-Type"].startswith("text/turtle")
        assert r.headers["ETag"].startswith('"')
        assert "Last-Modified" in r.headers
        assert int(r.headers["Content-Length"]) == len(TURTLE.encode())
        assert f'<{LDP}Resource>; rel="type"' in r.headers["Link"]
        assert f'<{LDP}RDFSource>; rel="type"' in r.headers["Link"]
        assert f'<{pod.url("/notes/a.ttl.acl")}>; rel="acl"' in r.headers["Link"]
        assert f'<{pod.url("/notes/a.ttl.meta")}>; rel="describedby"' in r.headers["Link"]
        assert "storageDescription" in r.headers["Link"]
        assert "PATCH" in r.headers["Allow"] and "POST" not in r.headers["Allow"]
        assert r.headers["Accept-Patch"] == "text/n3, application/sparql-update"
        assert "Accept" in r.headers["Vary"]


async def test_put_replaces_and_changes_etag(pod: Pod) -> None:
    assert await pod.put("/a.ttl", TURTLE) == 201
    async with pod.request("HEAD", "/a.ttl") as r:
        first = r.headers["ETag"]
    async with pod.request(
        "PUT", "/a.ttl", data="<#x> <#y> <#z>.", headers={"Content-Type": "text/turtle"}
    ) as r:
        assert r.status == 204
        assert r.headers["ETag"] != first
    async with pod.request("GET", "/a.ttl") as r:
        assert await r.text() == "<#x> <#y> <#z>."


async def test_head_has_headers_and_no_body(pod: Pod) -> None:
    await pod.put("/h.ttl", TURTLE)
    async with pod.request("HEAD", "/h.ttl") as r:
        assert r.status == 200
        assert int(r.headers["Content-Length"]) == len(TURTLE)
        assert await r.read() == b""


async def test_binary_is_stored_byte_for_byte(pod: Pod) -> None:
    data = bytes(range(256)) * 1000
    assert await pod.put("/files/blob.bin", data, "application/octet-stream") == 201
    async with pod.request("GET", "/files/blob.bin") as r:
        assert r.status == 200
        assert r.headers["Content-Type"] == "application/octet-stream"
        assert await r.read() == data
        assert f'<{LDP}NonRDFSource>; rel="type"' in r.headers["Link"]


async def test_media_type_parameters_are_kept(pod: Pod) -> None:
    await pod.put("/t.txt", "héllo", "text/plain; charset=utf-8")
    async with pod.request("GET", "/t.txt") as r:
        assert r.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert await r.text() == "héllo"


async def test_range_requests(pod: Pod) -> None:
    data = b"0123456789" * 10
    await pod.put("/r.bin", data, "application/octet-stream")
    for header, status, expected in (
        ("bytes=0-9", 206, data[:10]),
        ("bytes=95-", 206, data[95:]),
        ("bytes=-5", 206, data[-5:]),
        ("bytes=90-200", 206, data[90:]),
    ):
        async with pod.request("GET", "/r.bin", headers={"Range": header}) as r:
            assert r.status == status, header
            assert await r.read() == expected
            assert r.headers["Content-Range"].endswith("/100")
    async with pod.request("GET", "/r.bin", headers={"Range": "bytes=500-"}) as r:
        assert r.status == 416
        assert r.headers["Content-Range"] == "bytes */100"


async def test_large_binary_streams_through(pod: Pod) -> None:
    chunk = b"x" * 65536
    total = 64

    async def body():  # type: ignore[no-untyped-def]
        for _ in range(total):
            yield chunk

    async with pod.request(
        "PUT", "/big.bin", data=body(), headers={"Content-Type": "application/octet-stream"}
    ) as r:
        assert r.status == 201
    size = 0
    async with pod.request("GET", "/big.bin") as r:
        async for piece in r.content.iter_chunked(65536):
            assert set(piece) == {ord("x")}
            size += len(piece)
    assert size == len(chunk) * total


async def test_delete_document(pod: Pod) -> None:
    await pod.put("/d.ttl", TURTLE)
    async with pod.request("DELETE", "/d.ttl") as r:
        assert r.status == 204
    async with pod.request("GET", "/d.ttl") as r:
        assert r.status == 404
    async with pod.request("DELETE", "/d.ttl") as r:
        assert r.status == 404


async def test_delete_takes_auxiliary_resources_along(pod: Pod) -> None:
    await pod.put("/d.ttl", TURTLE)
    await pod.put("/d.ttl.meta", "<> <http://example.org/p> 1.")
    async with pod.request("DELETE", "/d.ttl") as r:
        assert r.status == 204
    await pod.put("/d.ttl", TURTLE)
    async with pod.request("GET", "/d.ttl.meta") as r:  # the old description went too
        assert r.status == 200  # a resource without one has an empty description
        assert "example.org" not in await r.text()


async def test_describedby_resource_is_writable_rdf(pod: Pod) -> None:
    await pod.put("/m.ttl", TURTLE)
    assert await pod.put("/m.ttl.meta", '<m.ttl> <http://purl.org/dc/terms/title> "M".') == 201
    async with pod.request("GET", "/m.ttl.meta") as r:
        graph = Graph().parse(data=await r.text(), format="turtle", publicID=pod.url("/m.ttl.meta"))
    assert (URIRef(pod.url("/m.ttl")), None, Literal("M")) in graph
    assert await pod.put("/m.ttl.meta", b"\x00\x01", "application/octet-stream") == 415


async def test_missing_resource_is_404_with_headers(pod: Pod) -> None:
    async with pod.request("GET", "/nothing/here.ttl") as r:
        assert r.status == 404
        assert "Allow" in r.headers and "Link" in r.headers


async def test_options_describes_the_resource(pod: Pod) -> None:
    await pod.put("/o.ttl", TURTLE)
    async with pod.request("OPTIONS", "/o.ttl") as r:
        assert r.status == 204
        assert "GET" in r.headers["Allow"]
        assert r.headers["Accept-Patch"]
    async with pod.request("OPTIONS", "/") as r:
        assert "POST" in r.headers["Allow"] and "DELETE" not in r.headers["Allow"]
        assert r.headers["Accept-Post"] == "*/*"


async def test_unknown_method_is_405_with_allow(pod: Pod) -> None:
    async with pod.request("COPY", "/x.ttl") as r:
        assert r.status == 405
        assert "GET" in r.headers["Allow"]


async def test_concurrent_creates_with_if_none_match_succeed_once(pod: Pod) -> None:
    async def create(i: int) -> int:
        return await pod.put("/once.ttl", f"<#a> <#b> {i}.", **{"If-None-Match": "*"})

    statuses = await asyncio.gather(*(create(i) for i in range(10)))
    assert sorted(statuses) == [201] + [412] * 9


async def test_concurrent_puts_leave_one_whole_version(pod: Pod) -> None:
    bodies = [f"<#a> <#b> {i}." * 50 for i in range(10)]
    await asyncio.gather(*(pod.put("/race.ttl", b) for b in bodies))
    async with pod.request("GET", "/race.ttl") as r:
        assert await r.text() in bodies
