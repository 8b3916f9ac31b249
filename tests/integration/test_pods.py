"""Pod provisioning in the multi-user layout, checked through HTTP as apps see it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from rdflib import Graph, URIRef

from pod_server.errors import BadRequest, Conflict
from pod_server.http.handlers import STORE
from pod_server.pods.provision import deprovision, provision
from pod_server.settings import Settings
from tests.conftest import BACKENDS, Pod, running_pod
from tests.fake_issuer import Issuer, running_issuer

SOLID = "http://www.w3.org/ns/solid/terms#"
PIM = "http://www.w3.org/ns/pim/space#"


@pytest.fixture
async def host(tmp_path: Path, backend_name: str) -> AsyncIterator[tuple[Pod, Issuer]]:
    async with running_issuer() as issuer:
        settings = Settings(multiuser=True)
        async with running_pod(tmp_path, BACKENDS[backend_name](tmp_path), settings) as pod:
            yield pod, issuer


async def test_pod_with_external_webid(host: tuple[Pod, Issuer]) -> None:
    pod, issuer = host
    webid = issuer.add_person("alice")
    store = pod.app[STORE]  # type: ignore[index]
    info = await provision(store, "alice", issuer.base, webid)
    assert info.root == pod.url("/alice/") and info.webid == webid
    alice = issuer.caller("alice")

    async def get(path: str, who: object = None) -> tuple[int, dict[str, str], str]:
        headers = alice.headers("GET", pod.url(path)) if who is alice else {}
        async with pod.session.get(pod.url(path), headers=headers) as r:
            return r.status, dict(r.headers), await r.text()

    status, headers, _ = await get("/alice/", alice)
    assert status == 200
    assert f'<{PIM}Storage>; rel="type"' in headers["Link"]
    assert f"<{pod.url('/alice/.well-known/solid')}>" in headers["Link"]
    assert (await get("/alice/"))[0] == 401
    assert (await get("/alice/settings/prefs.ttl"))[0] == 401
    assert (await get("/alice/settings/publicTypeIndex.ttl"))[0] == 200
    status, _, text = await get("/alice/.well-known/solid")
    assert status == 200
    graph = Graph().parse(data=text, format="turtle")
    assert (URIRef(pod.url("/alice/")), URIRef(SOLID + "owner"), URIRef(webid)) in graph
    # Anyone may drop a message in the inbox, nobody else may read it.
    async with pod.session.post(
        pod.url("/alice/inbox/"), data="<#m> <#p> 1.", headers={"Content-Type": "text/turtle"}
    ) as r:
        assert r.status == 201
    assert (await get("/alice/inbox/"))[0] == 401
    assert (await get("/alice/inbox/", alice))[0] == 200
    # The server root is not a storage in this layout, and pods cannot be deleted by DELETE.
    async with pod.session.delete(
        pod.url("/alice/"), headers=alice.headers("DELETE", pod.url("/alice/"))
    ) as r:
        assert r.status == 405


async def test_pod_with_its_own_webid(host: tuple[Pod, Issuer]) -> None:
    pod, issuer = host
    store = pod.app[STORE]  # type: ignore[index]
    info = await provision(store, "bob", issuer.base)
    assert info.webid == pod.url("/bob/profile/card") + "#me"
    async with pod.session.get(
        pod.url("/bob/profile/card"), headers={"Accept": "text/turtle"}
    ) as r:
        assert r.status == 200
        graph = Graph().parse(
            data=await r.text(), format="turtle", publicID=pod.url("/bob/profile/card")
        )
    me = URIRef(info.webid)
    assert (me, URIRef(SOLID + "oidcIssuer"), URIRef(issuer.base)) in graph
    assert (me, URIRef(PIM + "storage"), URIRef(pod.url("/bob/"))) in graph
    assert (me, URIRef("http://www.w3.org/ns/ldp#inbox"), URIRef(pod.url("/bob/inbox/"))) in graph
    assert (me, URIRef(SOLID + "publicTypeIndex"), None) in graph
    async with pod.session.put(
        pod.url("/bob/profile/card"), data="<#me> <#p> 1.", headers={"Content-Type": "text/turtle"}
    ) as r:
        assert r.status == 401  # public read only


async def test_bad_and_duplicate_names(host: tuple[Pod, Issuer]) -> None:
    pod, issuer = host
    store = pod.app[STORE]  # type: ignore[index]
    for name in ("Alice", "-x", "a b", "idp", "", "x" * 64, "../etc"):
        with pytest.raises(BadRequest):
            await provision(store, name, issuer.base)
    await provision(store, "carol", issuer.base)
    with pytest.raises(Conflict):
        await provision(store, "carol", issuer.base)


async def test_deprovision_removes_everything(host: tuple[Pod, Issuer]) -> None:
    pod, issuer = host
    store = pod.app[STORE]  # type: ignore[index]
    await provision(store, "dave", issuer.base)
    removed = await deprovision(store, "dave")
    assert removed >= 10
    for path in ("/dave/", "/dave/profile/card", "/dave/.acl", "/dave/settings/prefs.ttl"):
        assert await store.meta(path) is None
    await provision(store, "dave", issuer.base)  # the name is free again


async def test_single_layout_refuses_pods(tmp_path: Path) -> None:
    async with running_pod(tmp_path, BACKENDS["memory"](tmp_path), Settings(open=True)) as pod:
        with pytest.raises(Conflict, match="multi-user"):
            await provision(pod.app[STORE], "erin", "http://127.0.0.1:1/")  # type: ignore[index]
