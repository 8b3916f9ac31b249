"""Conditional requests, CORS, the storage description, and bad input."""

from __future__ import annotations

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from tests.conftest import Pod

PAST = "Mon, 01 Jan 2001 00:00:00 GMT"
FUTURE = "Fri, 01 Jan 2100 00:00:00 GMT"


async def etag_of(pod: Pod, path: str) -> str:
    async with pod.request("HEAD", path) as r:
        return r.headers["ETag"]


async def test_if_match(pod: Pod) -> None:
    await pod.put("/c.ttl", "<#a> <#b> 1.")
    tag = await etag_of(pod, "/c.ttl")
    assert await pod.put("/c.ttl", "<#a> <#b> 2.", **{"If-Match": '"stale"'}) == 412
    assert await pod.put("/c.ttl", "<#a> <#b> 2.", **{"If-Match": tag}) == 204
    assert await pod.put("/c.ttl", "<#a> <#b> 3.", **{"If-Match": tag}) == 412
    assert await pod.put("/new.ttl", "<#a> <#b> 3.", **{"If-Match": "*"}) == 412


async def test_if_none_match_star_creates_only(pod: Pod) -> None:
    assert await pod.put("/c.ttl", "<#a> <#b> 1.", **{"If-None-Match": "*"}) == 201
    assert await pod.put("/c.ttl", "<#a> <#b> 2.", **{"If-None-Match": "*"}) == 412


async def test_get_if_none_match_gives_304(pod: Pod) -> None:
    await pod.put("/c.ttl", "<#a> <#b> 1.")
    tag = await etag_of(pod, "/c.ttl")
    async with pod.request("GET", "/c.ttl", headers={"If-None-Match": tag}) as r:
        assert r.status == 304
        assert r.headers["ETag"] == tag
    async with pod.request("GET", "/c.ttl", headers={"If-None-Match": '"other"'}) as r:
        assert r.status == 200
    # A cached Turtle copy does not validate the JSON-LD representation.
    async with pod.request(
        "GET", "/c.ttl", headers={"If-None-Match": tag, "Accept": "application/ld+json"}
    ) as r:
        assert r.status == 200


async def test_modified_since_dates(pod: Pod) -> None:
    await pod.put("/c.ttl", "<#a> <#b> 1.")
    async with pod.request("GET", "/c.ttl", headers={"If-Modified-Since": FUTURE}) as r:
        assert r.status == 304
    async with pod.request("GET", "/c.ttl", headers={"If-Modified-Since": PAST}) as r:
        assert r.status == 200
    async with pod.request("GET", "/c.ttl", headers={"If-Modified-Since": "garbage"}) as r:
        assert r.status == 200
    assert await pod.put("/c.ttl", "<#a> <#b> 2.", **{"If-Unmodified-Since": PAST}) == 412
    assert await pod.put("/c.ttl", "<#a> <#b> 2.", **{"If-Unmodified-Since": FUTURE}) == 204


async def test_delete_if_match(pod: Pod) -> None:
    await pod.put("/c.ttl", "<#a> <#b> 1.")
    async with pod.request("DELETE", "/c.ttl", headers={"If-Match": '"nope"'}) as r:
        assert r.status == 412
    async with pod.request("GET", "/c.ttl") as r:
        assert r.status == 200


async def test_cors_on_normal_and_error_responses(pod: Pod) -> None:
    origin = {"Origin": "https://app.example"}
    await pod.put("/c.ttl", "<#a> <#b> 1.")
    for path, status in (("/c.ttl", 200), ("/missing", 404)):
        async with pod.request("GET", path, headers=origin) as r:
            assert r.status == status
            assert r.headers["Access-Control-Allow-Origin"] == "https://app.example"
            assert r.headers["Access-Control-Allow-Credentials"] == "true"
            exposed = r.headers["Access-Control-Expose-Headers"]
            for name in (
                "ETag",
                "Link",
                "WAC-Allow",
                "Accept-Patch",
                "Location",
                "WWW-Authenticate",
            ):
                assert name in exposed
            assert "Origin" in r.headers["Vary"]


async def test_cors_preflight(pod: Pod) -> None:
    headers = {
        "Origin": "https://app.example",
        "Access-Control-Request-Method": "PATCH",
        "Access-Control-Request-Headers": "content-type, dpop, authorization",
    }
    async with pod.request("OPTIONS", "/anything", headers=headers) as r:
        assert r.status == 204
        assert "PATCH" in r.headers["Access-Control-Allow-Methods"]
        assert r.headers["Access-Control-Allow-Headers"] == "content-type, dpop, authorization"
        assert r.headers["Access-Control-Allow-Origin"] == "https://app.example"


async def test_storage_description(pod: Pod) -> None:
    async with pod.request("HEAD", "/") as r:
        link = r.headers["Link"]
    assert (
        f'<{pod.url("/.well-known/solid")}>; rel="http://www.w3.org/ns/solid/terms#storageDescription"'
        in link
    )
    async with pod.request("GET", "/.well-known/solid", headers={"Accept": "text/turtle"}) as r:
        assert r.status == 200
        graph = Graph().parse(data=await r.text(), format="turtle")
    assert (URIRef(pod.base), RDF.type, URIRef("http://www.w3.org/ns/pim/space#Storage")) in graph
    assert await pod.put("/.well-known/solid", "<#a> <#b> 1.") == 405


@pytest.mark.parametrize(
    "path",
    ["/a/../b", "/%2e%2e/etc/passwd", "/a/%2E%2E/b", "/a%2Fb", "/a%00b", "/a//b", "/bad%zz"],
)
async def test_dangerous_paths_are_refused(pod: Pod, path: str) -> None:
    async with pod.request("PUT", path, data="x", headers={"Content-Type": "text/plain"}) as r:
        assert r.status == 400, path
    async with pod.request("GET", path) as r:
        assert r.status == 400, path
    async with pod.request("GET", "/", headers={"Accept": "text/turtle"}) as r:
        assert "ldp:contains" not in await r.text()


async def test_encoded_and_non_ascii_names_round_trip(pod: Pod) -> None:
    assert await pod.put("/caf%C3%A9%20cr%C3%A8me.txt", "yum", "text/plain") == 201
    async with pod.request("GET", "/café crème.txt") as r:
        assert await r.text() == "yum"
    async with pod.request("GET", "/caf%c3%a9%20cr%c3%a8me.txt") as r:
        assert r.status == 200
    async with pod.request("GET", "/", headers={"Accept": "text/turtle"}) as r:
        assert "<caf%C3%A9%20cr%C3%A8me.txt>" in await r.text()
    async with pod.request(
        "POST", "/", data="x", headers={"Content-Type": "text/plain", "Slug": "naïve file"}
    ) as r:
        assert r.headers["Location"] == pod.url("/na%C3%AFve%20file")


@pytest.mark.parametrize(
    ("body", "media", "message"),
    [
        ("<#a> <#b> .", "text/turtle", "line 1"),
        ("@prefix ex: <http://e/>.\n\nex:a ex:b ex:c ;\n ex:d", "text/turtle", "line"),
        ('{"@id": ', "application/ld+json", ""),
        ("<a> <b> <c>", "application/n-triples", ""),
    ],
)
async def test_malformed_rdf_is_400_and_stores_nothing(
    pod: Pod, body: str, media: str, message: str
) -> None:
    async with pod.request("PUT", "/bad", data=body, headers={"Content-Type": media}) as r:
        assert r.status == 400
        assert message in (await r.text()).lower()
    async with pod.request("GET", "/bad") as r:
        assert r.status == 404


async def test_missing_content_type_is_400(pod: Pod) -> None:
    async with pod.request("PUT", "/x", data=b"abc", headers={"Content-Type": ""}) as r:
        assert r.status == 400


async def test_non_rdf_container_body_is_415(pod: Pod) -> None:
    assert await pod.put("/c/", "hello", "text/plain") == 415


async def test_container_link_on_document_url_is_400(pod: Pod) -> None:
    link = '<http://www.w3.org/ns/ldp#BasicContainer>; rel="type"'
    assert await pod.put("/notslash", "", Link=link) == 400
