"""``/.well-known/solid`` describes the server to anyone, and the notification gateway it
names leads a client from a resource's URL to a WebSocket without being told an endpoint;
the client finds the storage holding a resource even when it may not read the storage."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
import pytest
from rdflib import Graph, URIRef

from client import PUBLIC, Forbidden, PodClient, Subject, Unauthorized
from client.core import PIM_STORAGE
from pod_server.http.handlers import STORE
from pod_server.pods.hosting import add_user, user_credentials
from pod_server.settings import Settings
from pod_server.state import DB_NAME, SqliteState
from pod_server.storage.file import FileBackend
from tests.conftest import Pod, running_pod

GATEWAY = URIRef("http://www.w3.org/ns/solid/terms#notificationGateway")
SUBSCRIPTION = URIRef("http://www.w3.org/ns/solid/notifications#subscription")


async def _description(pod: Pod, accept: str = "text/turtle") -> tuple[Graph, str]:
    async with pod.request("GET", "/.well-known/solid", headers={"Accept": accept}) as r:
        assert r.status == 200, await r.text()
        assert r.content_type == accept
        text = await r.text()
    fmt = "json-ld" if accept == "application/ld+json" else "turtle"
    return Graph().parse(data=text, format=fmt, publicID=pod.url("/.well-known/solid")), text


async def test_multiuser_root_describes_the_server_to_anyone(tmp_path: Path) -> None:
    async with running_pod(tmp_path, FileBackend(tmp_path), Settings(multiuser=True)) as pod:
        graph, text = await _description(pod)
        gateway = pod.url("/.well-known/notifications/gateway")
        assert (URIRef(pod.base), GATEWAY, URIRef(gateway)) in graph
        # Inrupt's SDK reads the gateway off the document's first subject.
        assert text.index(f"<{pod.base}>") < text.index("notify:subscription")
        services = {str(o) for o in graph.objects(None, SUBSCRIPTION)}
        assert pod.url("/.well-known/notifications/WebSocketChannel2023") in services
        json_ld, _ = await _description(pod, "application/ld+json")
        assert (URIRef(pod.base), GATEWAY, URIRef(gateway)) in json_ld
        async with pod.request("HEAD", "/.well-known/solid") as r:
            assert r.status == 200
        async with pod.request("PUT", "/.well-known/solid", data="<a> <b> <c>.") as r:
            assert r.status in (401, 405)  # still the server's own: anonymous PUTs nothing
        async with pod.request("GET", "/.well-known/other") as r:
            assert r.status in (401, 404)  # only the description is public


async def test_single_storage_description_names_the_gateway_first(pod: Pod) -> None:
    graph, text = await _description(pod)
    assert (
        URIRef(pod.base),
        GATEWAY,
        URIRef(pod.url("/.well-known/notifications/gateway")),
    ) in graph
    first = next(line for line in text.splitlines() if line.startswith("<"))
    assert first.startswith(f"<{pod.base}>")  # Inrupt's SDK reads the first subject


async def _post(pod: Pod, path: str, body: object, status: int = 200) -> dict[str, object]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    async with pod.request("POST", path, data=data, headers=headers) as r:
        text = await r.text()
        assert r.status == status, text
        return json.loads(text) if status == 200 else {"message": text}


async def test_gateway_negotiates_then_subscribes_a_websocket(pod: Pod) -> None:
    offer = await _post(
        pod,
        "/.well-known/notifications/gateway",
        {"protocols": ["ws"], "features": ["state", "colour"]},
    )
    assert offer == {
        "endpoint": pod.url("/.well-known/notifications/gateway/ws"),
        "protocol": "ws",
        "features": ["state"],
    }
    assert await pod.put("/box/doc.ttl", "<#a> <#b> 0.") == 201
    info = await _post(
        pod, "/.well-known/notifications/gateway/ws", {"topic": pod.url("/box/doc.ttl")}
    )
    endpoint = str(info["endpoint"])
    assert endpoint.startswith("ws://") and info["receiveFrom"] == endpoint
    assert info["type"] == "WebSocketChannel2023" and info["topic"] == pod.url("/box/doc.ttl")
    async with pod.session.ws_connect(endpoint) as ws:
        await asyncio.sleep(0.05)
        assert await pod.put("/box/doc.ttl", "<#a> <#b> 1.") == 204
        message = json.loads((await ws.receive(timeout=5)).data)
        assert (message["type"], message["object"]) == ("Update", pod.url("/box/doc.ttl"))


async def test_gateway_refuses_bad_requests(pod: Pod) -> None:
    gateway = "/.well-known/notifications/gateway"
    assert "'ws' protocol only" in str(
        (await _post(pod, gateway, {"protocols": ["sse"]}, 422))["message"]
    )
    await _post(pod, gateway, {}, 422)
    await _post(pod, gateway, b"not json", 400)
    await _post(pod, gateway, ["ws"], 400)
    await _post(pod, gateway, {"protocols": "ws"}, 400)
    subscribe = gateway + "/ws"
    await _post(pod, subscribe, {}, 422)  # no topic
    await _post(pod, subscribe, {"topic": "https://elsewhere.example/x"}, 422)
    await _post(pod, subscribe, {"topic": pod.url("/x"), "type": "WebhookChannel2023"}, 422)
    await _post(pod, subscribe, b"[1]", 400)


async def test_gateway_subscription_needs_read_access(tmp_path: Path) -> None:
    async with running_pod(tmp_path, FileBackend(tmp_path), Settings()) as pod:  # not open
        body = json.dumps({"topic": pod.url("/private/")}).encode()
        async with aiohttp.ClientSession() as anonymous:
            async with anonymous.post(
                pod.url("/.well-known/notifications/gateway/ws"),
                data=body,
                headers={"Content-Type": "application/json"},
            ) as r:
                assert r.status == 401


async def _signed_in(made: dict[str, str]) -> PodClient:
    client = PodClient()
    await client.login_client_credentials(made["issuer"], made["client_id"], made["client_secret"])
    return client


async def test_client_finds_a_private_storage_root_from_a_public_document(tmp_path: Path) -> None:
    async with running_pod(tmp_path, FileBackend(tmp_path), Settings(multiuser=True)) as pod:
        store = pod.app[STORE]  # type: ignore[index]
        async with SqliteState(tmp_path / DB_NAME) as state:
            for name in ("alice", "bob"):
                await add_user(store, state, name, f"{name}@example.org", "a long passphrase")
            alice_made = await user_credentials(store, state, "alice")
            bob_made = await user_credentials(store, state, "bob")
        root = alice_made["pod"]
        note = root + "public/deep/note.txt"
        async with await _signed_in(alice_made) as alice:
            assert alice.webid is not None
            assert set(await alice.who_can(root)) == {Subject.agent(alice.webid)}  # owner-only
            await alice.put(note, "for anyone", "text/plain")
            await alice.grant(root + "public/", PUBLIC, "read")
            assert await alice.find_storage(note) == root
        async with PodClient() as anonymous, await _signed_in(bob_made) as bob:
            with pytest.raises(Unauthorized):
                await anonymous.head(root)
            with pytest.raises(Forbidden):
                await bob.head(root)
            assert await anonymous.find_storage(note) == root
            assert await bob.find_storage(note) == root
            assert await bob.find_storage(root + "public/") == root
            assert await bob.find_storage(bob_made["pod"] + "x/y") == bob_made["pod"]
            # A refused read still names the storage (Solid Protocol §4.1): found from a
            # private document too, with nothing readable on the way.
            refused = await anonymous.head(root, ok=(401,))
            assert refused.status == 401 and PIM_STORAGE in refused.types
            private = root + "private/doc.ttl"
            assert (await bob.head(private, ok=(403, 404))).status in (403, 404)
            assert await anonymous.find_storage(private) == root
            assert await bob.find_storage(private) == root
