"""Containers: containment, slugs, slash semantics, deletion rules."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from pod_server.ldp import reading as store_module
from tests.conftest import Pod

LDP = "http://www.w3.org/ns/ldp#"
CONTAINS = URIRef(LDP + "contains")
POSIX_SIZE = URIRef("http://www.w3.org/ns/posix/stat#size")
DC_MODIFIED = URIRef("http://purl.org/dc/terms/modified")


async def listing(pod: Pod, path: str) -> Graph:
    async with pod.request("GET", path, headers={"Accept": "text/turtle"}) as r:
        assert r.status == 200, await r.text()
        return Graph().parse(data=await r.text(), format="turtle", publicID=pod.url(path))


async def members(pod: Pod, path: str) -> set[str]:
    graph = await listing(pod, path)
    return {str(o) for o in graph.objects(URIRef(pod.url(path)), CONTAINS)}


async def test_put_creates_intermediate_containers(pod: Pod) -> None:
    assert await pod.put("/a/b/c.ttl", "<#x> <#y> 1.") == 201
    assert await members(pod, "/") == {pod.url("/a/")}
    assert await members(pod, "/a/") == {pod.url("/a/b/")}
    assert await members(pod, "/a/b/") == {pod.url("/a/b/c.ttl")}


async def test_container_describes_its_members(pod: Pod) -> None:
    await pod.put("/docs/one.txt", "hello", "text/plain")
    await pod.put("/docs/sub/two.ttl", "<#a> <#b> <#c>.")
    graph = await listing(pod, "/docs/")
    one, sub = URIRef(pod.url("/docs/one.txt")), URIRef(pod.url("/docs/sub/"))
    assert (one, POSIX_SIZE, None) in graph
    assert int(graph.value(one, POSIX_SIZE)) == 5  # type: ignore[arg-type]
    assert (one, RDF.type, URIRef(LDP + "Resource")) in graph
    assert (
        one,
        RDF.type,
        URIRef("http://www.w3.org/ns/iana/media-types/text/plain#Resource"),
    ) in graph
    assert (sub, RDF.type, URIRef(LDP + "BasicContainer")) in graph
    assert (one, DC_MODIFIED, None) in graph
    container = URIRef(pod.url("/docs/"))
    assert (container, RDF.type, URIRef(LDP + "BasicContainer")) in graph


async def test_listing_changes_only_with_its_etag(pod: Pod) -> None:
    """A write below a member container re-versions that member, not the listing of its
    container: so that listing must not show anything the write changed (found by
    tests/integration/test_fuzz.py: a stale and a fresh body under one ETag)."""

    async def turtle_listing() -> tuple[str, bytes]:
        async with pod.request("GET", "/a/", headers={"Accept": "text/turtle"}) as r:
            return r.headers["ETag"], await r.read()

    await pod.put("/a/b/x.ttl", "<#a> <#b> 1.")
    tag, body = await turtle_listing()
    await asyncio.sleep(1.1)  # past the next whole second: posix:mtime has that precision
    await pod.put("/a/b/y.ttl", "<#a> <#b> 2.")
    async with pod.request("GET", "/a/", headers={"Accept": "application/ld+json"}) as r:
        assert r.status == 200  # rendered afresh, whatever a Turtle cache holds
    again_tag, again = await turtle_listing()
    assert again_tag != tag or again == body
    graph = await listing(pod, "/a/")
    assert (URIRef(pod.url("/a/b/")), RDF.type, URIRef(LDP + "BasicContainer")) in graph


async def test_container_headers_and_root_is_storage(pod: Pod) -> None:
    async with pod.request("HEAD", "/") as r:
        link = r.headers["Link"]
        assert '<http://www.w3.org/ns/pim/space#Storage>; rel="type"' in link
        assert f'<{LDP}BasicContainer>; rel="type"' in link
        assert "DELETE" not in r.headers["Allow"]
    graph = await listing(pod, "/")
    assert (
        URIRef(pod.url("/")),
        RDF.type,
        URIRef("http://www.w3.org/ns/pim/space#Storage"),
    ) in graph


async def test_document_and_container_with_same_name_conflict(pod: Pod) -> None:
    assert await pod.put("/thing", "<#a> <#b> 1.") == 201
    assert await pod.put("/thing/", "") == 409
    assert await pod.put("/thing/inner.ttl", "<#a> <#b> 1.") == 409
    assert await pod.put("/box/", "") == 201
    assert await pod.put("/box", "<#a> <#b> 1.") == 409


async def test_post_creates_member_with_slug_and_location(pod: Pod) -> None:
    await pod.put("/inbox/", "")
    async with pod.request(
        "POST",
        "/inbox/",
        data="<#a> <#b> 1.",
        headers={"Content-Type": "text/turtle", "Slug": "note one"},
    ) as r:
        assert r.status == 201
        location = r.headers["Location"]
    assert location == pod.url("/inbox/note%20one")
    async with pod.request(
        "POST",
        "/inbox/",
        data="<#a> <#b> 2.",
        headers={"Content-Type": "text/turtle", "Slug": "note one"},
    ) as r:
        assert r.status == 201
        assert r.headers["Location"] != location  # a clash gets a fresh name
        assert r.headers["Location"].startswith(pod.url("/inbox/"))
    assert len(await members(pod, "/inbox/")) == 2


async def test_post_slug_is_sanitised(pod: Pod) -> None:
    for slug in ("../../etc/passwd", "a/b", "x.acl", "..", ".meta", "%ff%fe"):
        async with pod.request(
            "POST", "/", data="hi", headers={"Content-Type": "text/plain", "Slug": slug}
        ) as r:
            assert r.status == 201
            location = r.headers["Location"]
        rest = location[len(pod.base) :]
        assert "/" not in rest and rest != ".." and not rest.endswith((".acl", ".meta"))


async def test_post_with_container_link_creates_container(pod: Pod) -> None:
    link = f'<{LDP}BasicContainer>; rel="type"'
    async with pod.request(
        "POST", "/", headers={"Content-Type": "text/turtle", "Slug": "photos", "Link": link}
    ) as r:
        assert r.status == 201
        assert r.headers["Location"] == pod.url("/photos/")
    assert await members(pod, "/photos/") == set()


async def test_post_to_document_or_missing_container(pod: Pod) -> None:
    await pod.put("/doc.ttl", "<#a> <#b> 1.")
    async with pod.request(
        "POST", "/doc.ttl", data="x", headers={"Content-Type": "text/plain"}
    ) as r:
        assert r.status == 405
    async with pod.request("POST", "/nope/", data="x", headers={"Content-Type": "text/plain"}) as r:
        assert r.status == 404


async def test_delete_rules(pod: Pod) -> None:
    await pod.put("/full/item.ttl", "<#a> <#b> 1.")
    async with pod.request("DELETE", "/full/") as r:
        assert r.status == 409
    async with pod.request("DELETE", "/") as r:
        assert r.status == 405
        assert "DELETE" not in r.headers["Allow"]
    async with pod.request("DELETE", "/full/item.ttl") as r:
        assert r.status == 204
    async with pod.request("DELETE", "/full/") as r:
        assert r.status == 204
    assert await members(pod, "/") == set()


async def test_containment_triples_cannot_be_written(pod: Pod) -> None:
    body = f"<> <{LDP}contains> <other>."
    assert await pod.put("/c/", body) == 409
    await pod.put("/c2/", "")
    patch = (
        "@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n"
        f"_:p a solid:InsertDeletePatch; solid:inserts {{ <> <{LDP}contains> <x>. }}."
    )
    async with pod.request("PATCH", "/c2/", data=patch, headers={"Content-Type": "text/n3"}) as r:
        assert r.status == 409


async def test_container_keeps_its_own_triples(pod: Pod) -> None:
    await pod.put("/c/", '<> <http://purl.org/dc/terms/title> "Mine".')
    await pod.put("/c/m.ttl", "<#a> <#b> 1.")
    graph = await listing(pod, "/c/")
    assert (URIRef(pod.url("/c/")), URIRef("http://purl.org/dc/terms/title"), None) in graph
    assert (URIRef(pod.url("/c/")), CONTAINS, URIRef(pod.url("/c/m.ttl"))) in graph


async def test_auxiliary_resources_are_not_members(pod: Pod) -> None:
    await pod.put("/c/m.ttl", "<#a> <#b> 1.")
    await pod.put("/c/m.ttl.meta", "<m.ttl> <#p> 1.")
    await pod.put("/c/.meta", "<> <#p> 1.")
    assert await members(pod, "/c/") == {pod.url("/c/m.ttl")}


async def test_container_etag_changes_when_members_change(pod: Pod) -> None:
    await pod.put("/e/", "")
    async with pod.request("HEAD", "/e/") as r:
        before = r.headers["ETag"]
    await pod.put("/e/x.ttl", "<#a> <#b> 1.")
    async with pod.request("HEAD", "/e/") as r:
        assert r.headers["ETag"] != before


async def test_deleting_a_container_removes_its_auxiliaries(pod: Pod) -> None:
    await pod.put("/gone/.meta", "<> <#p> 1.")
    async with pod.request("DELETE", "/gone/") as r:
        assert r.status == 204
    async with pod.request("GET", "/gone/.meta") as r:
        assert r.status == 404


async def test_large_container_lists_every_member(pod: Pod) -> None:
    for i in range(120):
        await pod.put(f"/many/{i:04d}.txt", str(i), "text/plain")
    assert len(await members(pod, "/many/")) == 120


async def test_member_descriptions_are_managed_by_the_server(pod: Pod) -> None:
    await pod.put("/m/", "")
    await pod.put("/m/x.ttl", "<#a> <#b> 1.")
    size = "<http://www.w3.org/ns/posix/stat#size>"
    assert await pod.put("/m2/", f"<x.ttl> {size} 9.") == 409
    patch = (
        "@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n"
        f"_:p a solid:InsertDeletePatch; solid:inserts {{ <x.ttl> {size} 999999. }}."
    )
    async with pod.request("PATCH", "/m/", data=patch, headers={"Content-Type": "text/n3"}) as r:
        assert r.status == 409
    # Other statements about members are the client's to make.
    title = (
        "@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n"
        '_:p a solid:InsertDeletePatch; solid:inserts { <x.ttl> <http://purl.org/dc/terms/title> "X". }.'
    )
    async with pod.request("PATCH", "/m/", data=title, headers={"Content-Type": "text/n3"}) as r:
        assert r.status == 204


# -- paging (ldp.paging) -------------------------------------------------------------------


def next_link(links: str) -> str | None:
    for part in links.split(","):
        if 'rel="next"' in part:
            return part.split(";")[0].strip().strip("<>")
    return None


async def test_listing_in_pages_covers_every_member_once(pod: Pod) -> None:
    names = ["a b.txt", "b.txt", "c/", "d.txt", "e.txt", "f.txt", "g/"]
    for name in names:
        path = "/big/" + name.replace(" ", "%20")
        if name.endswith("/"):
            assert await pod.put(path + "x.ttl", "<#a> <#b> 1.") == 201
        else:
            assert await pod.put(path, "x", "text/plain") == 201
    whole = await members(pod, "/big/")
    async with pod.request(
        "GET",
        "/big/",
        headers={"Prefer": 'return=representation; page-size="3"'},
        allow_redirects=False,
    ) as r:
        assert r.status == 303
        url: str | None = r.headers["Location"]
    assert url == pod.url("/big/?page-size=3")
    seen: list[str] = []
    pages = 0
    while url is not None:
        async with pod.session.get(url, headers={"Accept": "text/turtle"}) as r:
            assert r.status == 200, await r.text()
            links = ",".join(r.headers.getall("Link"))
            assert '<http://www.w3.org/ns/ldp#Page>; rel="type"' in links
            assert f'<{pod.url("/big/")}>; rel="canonical"' in links
            graph = Graph().parse(data=await r.text(), format="turtle", publicID=pod.url("/big/"))
            page = [str(o) for o in graph.objects(URIRef(pod.url("/big/")), CONTAINS)]
            assert 1 <= len(page) <= 3
            seen.extend(page)
            url = next_link(links)
            pages += 1
    assert pages == 3
    assert sorted(seen) == sorted(whole) and len(seen) == len(names)


async def test_a_page_has_its_own_etag_and_answers_304(pod: Pod) -> None:
    for name in ("one", "two", "three"):
        await pod.put(f"/p/{name}.txt", "x", "text/plain")
    async with pod.request("GET", "/p/?page-size=2") as r:
        first = r.headers["ETag"]
    async with pod.request("GET", "/p/?page-size=2&after=three.txt") as r:
        assert r.status == 200 and r.headers["ETag"] != first
        assert next_link(",".join(r.headers.getall("Link"))) is None  # the last page
        assert "two.txt" in await r.text()
    async with pod.request("GET", "/p/?page-size=2", headers={"If-None-Match": first}) as r:
        assert r.status == 304


async def test_bad_page_requests_are_refused(pod: Pod) -> None:
    await pod.put("/q/doc.txt", "x", "text/plain")
    for query in (
        "page-size=0",
        "page-size=ten",
        "page-size=10001",
        "after=doc.txt",
        "page-size=2&after=a/b",
        "page-size=2&after=..",
    ):
        async with pod.request("GET", f"/q/?{query}") as r:
            assert r.status == 400, query
            assert "page-size" in await r.text() or "after" in await r.text()
    # A preference that cannot be honoured is ignored (RFC 7240 §2): the listing, whole;
    # so are other preferences.
    for prefer in (
        'return=representation; page-size="-1"',
        "return=minimal",
        'return=representation; page-size="many"',
        "return=representation; page-size=0",
    ):
        async with pod.request(
            "GET", "/q/", headers={"Prefer": prefer}, allow_redirects=False
        ) as r:
            assert r.status == 200, prefer
            assert "<doc.txt>" in await r.text()  # the member, listed
    # One too large is served as large as pages go.
    headers = {"Prefer": 'return=representation; max-member-count="99999"'}
    async with pod.request("GET", "/q/", headers=headers, allow_redirects=False) as r:
        assert r.status == 303
        assert r.headers["Location"] == pod.url("/q/?page-size=10000")


async def test_a_long_listing_written_off_the_loop_is_the_same(
    pod: Pod, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("a", "b", "c"):
        await pod.put(f"/long/{name}.txt", "x", "text/plain")
    short = await members(pod, "/long/")
    await pod.put("/long/d.txt", "x", "text/plain")  # a new etag: not from the cache
    monkeypatch.setattr(store_module, "RENDER_IN_THREAD_ABOVE", 2)
    in_thread: list[object] = []
    to_thread = asyncio.to_thread

    async def spy(func: Any, *args: Any) -> Any:
        in_thread.append(func)
        return await to_thread(func, *args)

    monkeypatch.setattr(store_module.asyncio, "to_thread", spy)
    assert await members(pod, "/long/") == short | {pod.url("/long/d.txt")}
    assert store_module.containers.render in in_thread
