"""Content negotiation, N3 Patch and SPARQL Update through a real server."""

from __future__ import annotations

import asyncio
import json

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic

from tests.conftest import Pod

TURTLE = (
    "@prefix ex: <http://example.org/>.\n"
    '<#me> ex:name "Zoë"@fr; ex:age 42; ex:knows <#bob>.\n'
    '<#bob> ex:name _:n. _:n ex:given "Bob".\n'
)
FORMATS = {
    "text/turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/n-triples": "nt",
    "application/n-quads": "nquads",
    "text/n3": "n3",
    "application/rdf+xml": "xml",
}
N3_PREFIX = (
    "@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n@prefix ex: <http://example.org/>.\n"
)


def graph_of(text: str, media: str, base: str) -> Graph:
    return Graph().parse(data=text, format=FORMATS[media], publicID=base)


@pytest.mark.parametrize("media", sorted(FORMATS))
async def test_every_rdf_format_is_served(pod: Pod, media: str) -> None:
    await pod.put("/c.ttl", TURTLE)
    expected = graph_of(TURTLE, "text/turtle", pod.url("/c.ttl"))
    async with pod.request("GET", "/c.ttl", headers={"Accept": media}) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].split(";")[0] == media
        assert isomorphic(graph_of(await r.text(), media, pod.url("/c.ttl")), expected)


async def test_jsonld_is_compacted(pod: Pod) -> None:
    await pod.put("/c.ttl", TURTLE)
    async with pod.request("GET", "/c.ttl", headers={"Accept": "application/ld+json"}) as r:
        doc = json.loads(await r.text())
    assert "@context" in doc


async def test_q_values_are_honoured(pod: Pod) -> None:
    await pod.put("/c.ttl", TURTLE)
    accept = "text/turtle;q=0.5, application/n-triples;q=0.9, */*;q=0.1"
    async with pod.request("GET", "/c.ttl", headers={"Accept": accept}) as r:
        assert r.headers["Content-Type"].startswith("application/n-triples")


async def test_representations_have_distinct_etags(pod: Pod) -> None:
    await pod.put("/c.ttl", TURTLE)
    tags = set()
    for media in FORMATS:
        async with pod.request("HEAD", "/c.ttl", headers={"Accept": media}) as r:
            tags.add(r.headers["ETag"])
    assert len(tags) == len(FORMATS)


async def test_not_acceptable(pod: Pod) -> None:
    await pod.put("/c.ttl", TURTLE)
    async with pod.request("GET", "/c.ttl", headers={"Accept": "image/png"}) as r:
        assert r.status == 406
    await pod.put("/p.png", b"\x89PNG", "image/png")
    async with pod.request("GET", "/p.png", headers={"Accept": "text/turtle"}) as r:
        assert r.status == 406
    async with pod.request("GET", "/p.png", headers={"Accept": "image/*"}) as r:
        assert r.status == 200


async def test_jsonld_input_is_stored_as_rdf(pod: Pod) -> None:
    doc = {"@id": "#me", "http://example.org/name": "Alice"}
    assert await pod.put("/j", json.dumps(doc), "application/ld+json") == 201
    async with pod.request("GET", "/j", headers={"Accept": "text/turtle"}) as r:
        graph = graph_of(await r.text(), "text/turtle", pod.url("/j"))
    assert (URIRef(pod.url("/j#me")), URIRef("http://example.org/name"), Literal("Alice")) in graph


async def patch(pod: Pod, path: str, body: str, media: str = "text/n3") -> int:
    async with pod.request("PATCH", path, data=body, headers={"Content-Type": media}) as r:
        return r.status


async def current(pod: Pod, path: str) -> Graph:
    async with pod.request("GET", path, headers={"Accept": "text/turtle"}) as r:
        return graph_of(await r.text(), "text/turtle", pod.url(path))


async def test_n3_patch_creates_then_updates(pod: Pod) -> None:
    insert = N3_PREFIX + '_:p a solid:InsertDeletePatch; solid:inserts { <#me> ex:name "A". }.'
    assert await patch(pod, "/new/doc.ttl", insert) == 201
    update = N3_PREFIX + (
        "_:p a solid:InsertDeletePatch;\n"
        '  solid:where { ?who ex:name "A". };\n'
        '  solid:deletes { ?who ex:name "A". };\n'
        '  solid:inserts { ?who ex:name "B". }.'
    )
    assert await patch(pod, "/new/doc.ttl", update) == 204
    graph = await current(pod, "/new/doc.ttl")
    assert set(
        graph.objects(URIRef(pod.url("/new/doc.ttl#me")), URIRef("http://example.org/name"))
    ) == {Literal("B")}


async def test_n3_patch_failures(pod: Pod) -> None:
    await pod.put("/d.ttl", '<#a> <http://example.org/p> "x". <#b> <http://example.org/p> "y".')
    no_match = (
        N3_PREFIX
        + '_:p a solid:InsertDeletePatch; solid:where { ?s ex:p "z". }; solid:inserts { ?s ex:q 1. }.'
    )
    two_matches = (
        N3_PREFIX
        + "_:p a solid:InsertDeletePatch; solid:where { ?s ex:p ?o. }; solid:inserts { ?s ex:q 1. }."
    )
    absent_delete = (
        N3_PREFIX + '_:p a solid:InsertDeletePatch; solid:deletes { <#a> ex:p "nope". }.'
    )
    not_a_patch = N3_PREFIX + "<#a> ex:p 1."
    assert await patch(pod, "/d.ttl", no_match) == 409
    assert await patch(pod, "/d.ttl", two_matches) == 409
    assert await patch(pod, "/d.ttl", absent_delete) == 409
    assert await patch(pod, "/d.ttl", not_a_patch) == 422
    assert await patch(pod, "/d.ttl", "this is { not n3") == 400
    assert await patch(pod, "/d.ttl", "{}", "application/json") == 415
    graph = await current(pod, "/d.ttl")
    assert len(graph) == 2  # nothing changed


async def test_sparql_update_forms(pod: Pod) -> None:
    ex = "http://example.org/"
    create = f'INSERT DATA {{ <#me> <{ex}name> "A" . }};'
    assert await patch(pod, "/s.ttl", create, "application/sparql-update") == 201
    both = f'DELETE DATA {{ <#me> <{ex}name> "A" . }};\nINSERT DATA {{ <#me> <{ex}name> "B" . }};'
    assert await patch(pod, "/s.ttl", both, "application/sparql-update") == 204
    where = (
        f'DELETE {{ ?s <{ex}name> ?o }} INSERT {{ ?s <{ex}name> "C" }} WHERE {{ ?s <{ex}name> ?o }}'
    )
    assert await patch(pod, "/s.ttl", where, "application/sparql-update") == 204
    graph = await current(pod, "/s.ttl")
    assert list(graph.objects(URIRef(pod.url("/s.ttl#me")), URIRef(ex + "name"))) == [Literal("C")]
    assert await patch(pod, "/s.ttl", "INSERT DATA { oops", "application/sparql-update") == 400
    assert await patch(pod, "/s.ttl", "DROP ALL", "application/sparql-update") == 422


async def test_patch_of_binary_is_refused(pod: Pod) -> None:
    await pod.put("/b.bin", b"\x00", "application/octet-stream")
    insert = N3_PREFIX + "_:p a solid:InsertDeletePatch; solid:inserts { <#a> ex:p 1. }."
    assert await patch(pod, "/b.bin", insert) == 415


async def test_ten_concurrent_patches_all_apply(pod: Pod) -> None:
    await pod.put("/count.ttl", "")

    def body(i: int) -> str:
        return N3_PREFIX + f"_:p a solid:InsertDeletePatch; solid:inserts {{ <#x> ex:n {i}. }}."

    statuses = await asyncio.gather(*(patch(pod, "/count.ttl", body(i)) for i in range(10)))
    assert statuses == [204] * 10
    graph = await current(pod, "/count.ttl")
    assert len(graph) == 10


async def test_insert_only_patch_appends_to_odd_turtle(pod: Pod) -> None:
    """The append fast path must give the same graph as a parse-apply-serialise would."""
    original = "@prefix ex: <http://example.org/>.\n@base <http://elsewhere.example/>.\n<a> ex:p _:b1. _:b1 ex:q 1. # no newline"
    await pod.put("/odd.ttl", original)
    insert = N3_PREFIX + '_:p a solid:InsertDeletePatch; solid:inserts { <#s> ex:p "new". }.'
    assert await patch(pod, "/odd.ttl", insert) == 204
    graph = await current(pod, "/odd.ttl")
    expected = graph_of(original, "text/turtle", pod.url("/odd.ttl"))
    expected.add((URIRef(pod.url("/odd.ttl#s")), URIRef("http://example.org/p"), Literal("new")))
    assert isomorphic(graph, expected)
