"""Solid Notifications through a real server on loopback, with real WebSocket/HTTP clients.

Channel types (WebSocket, Streaming HTTP, Webhook, legacy solid-0.1), access (no Read: no
channel; Read revoked: no deliveries), order, expiry, unsubscription, webhook signatures,
slow receivers, and two server processes sharing one storage root.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from multidict import CIMultiDict
from rdflib import Graph, URIRef

from pod_server.notify import NOTIFIER, SignatureError, verify_request
from pod_server.settings import Settings
from pod_server.storage.file import FileBackend
from tests.conftest import Pod, deployed, free_socket, running_pod
from tests.fake_issuer import Caller, running_issuer

CONTEXT = "https://www.w3.org/ns/solid/notification/v1"
NOTIFY = "http://www.w3.org/ns/solid/notifications#"
SERVICES = ".well-known/notifications/"
JSONLD = {"Content-Type": "application/ld+json"}
ACL = "@prefix acl: <http://www.w3.org/ns/auth/acl#>.\n"


@pytest.fixture(autouse=True)
def quick_webhooks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POD_NOTIFY_WEBHOOK_BACKOFF", "0.05")


async def subscribe(
    pod: Pod, kind: str, topic: str, who: Caller | None = None, **extra: Any
) -> tuple[int, dict[str, Any]]:
    url = pod.url(SERVICES + kind)
    body = {"@context": [CONTEXT], "type": kind, "topic": pod.url(topic), **extra}
    headers = dict(JSONLD)
    if who is not None:
        headers.update(who.headers("POST", url))
    async with pod.session.post(url, data=json.dumps(body), headers=headers) as r:
        text = await r.text()
        return r.status, (json.loads(text) if r.status == 200 else {"error": text})


async def channel(pod: Pod, kind: str, topic: str, **extra: Any) -> dict[str, Any]:
    status, doc = await subscribe(pod, kind, topic, **extra)
    assert status == 200, doc
    return doc


async def next_message(ws: aiohttp.ClientWebSocketResponse, timeout: float = 5.0) -> dict[str, Any]:
    message = await ws.receive(timeout=timeout)
    assert message.type == aiohttp.WSMsgType.TEXT, message
    return dict(json.loads(message.data))


async def nothing_arrives(ws: aiohttp.ClientWebSocketResponse, within: float = 0.4) -> None:
    with pytest.raises(TimeoutError):
        message = await ws.receive(timeout=within)
        pytest.fail(f"unexpected message {message}")


async def etag(pod: Pod, path: str) -> str:
    async with pod.request("HEAD", path) as r:
        return str(r.headers["ETag"]).strip('"')


@dataclass
class Receiver:
    """A webhook endpoint on loopback that records what is POSTed to it."""

    url: str
    received: list[tuple[CIMultiDict[str], bytes]] = field(default_factory=list)
    arrived: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    answer: Callable[[int], int] = lambda attempt: 200
    delay: float = 0.0

    async def next(self, timeout: float = 5.0) -> dict[str, Any]:
        return await asyncio.wait_for(self.arrived.get(), timeout)


@asynccontextmanager
async def webhook_receiver() -> AsyncIterator[Receiver]:
    sock = free_socket()
    receiver = Receiver(f"http://127.0.0.1:{sock.getsockname()[1]}/hooks/inbox")

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        receiver.received.append((CIMultiDict(request.headers), body))
        await asyncio.sleep(receiver.delay)
        status = receiver.answer(len(receiver.received))
        if 200 <= status < 300:
            receiver.arrived.put_nowait(json.loads(body))
        return web.Response(status=status)

    app = web.Application()
    app.router.add_post("/hooks/inbox", receive)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    try:
        yield receiver
    finally:
        await runner.cleanup()


@pytest.fixture
async def pod(tmp_path: Path) -> AsyncIterator[Pod]:
    async with running_pod(tmp_path, FileBackend(tmp_path)) as running:
        yield running


# -- discovery ---------------------------------------------------------------------------------


async def test_storage_description_lists_the_subscription_services(pod: Pod) -> None:
    async with pod.request("GET", "/.well-known/solid", headers={"Accept": "text/turtle"}) as r:
        assert r.status == 200
        graph = Graph().parse(data=await r.text(), format="turtle", publicID=str(r.url))
    description = URIRef(pod.url("/.well-known/solid"))
    services = set(graph.objects(description, URIRef(NOTIFY + "subscription")))
    types = {
        str(kind).split("#")[1]: str(service)
        for service in services
        for kind in graph.objects(service, URIRef(NOTIFY + "channelType"))
    }
    assert types == {
        kind: pod.url(SERVICES + kind)
        for kind in ("WebSocketChannel2023", "StreamingHTTPChannel2023", "WebhookChannel2023")
    }
    features = set(graph.objects(URIRef(types["WebhookChannel2023"]), URIRef(NOTIFY + "feature")))
    assert {str(f).split("#")[1] for f in features} == {
        "accept",
        "endAt",
        "rate",
        "startAt",
        "state",
    }
    async with pod.request(
        "GET", "/.well-known/solid", headers={"Accept": "application/ld+json"}
    ) as r:
        assert r.status == 200 and "notify:subscription" in await r.text()


# -- WebSocketChannel2023 ----------------------------------------------------------------------


async def test_websocket_channel_delivers_every_change_once_in_order(pod: Pod) -> None:
    doc = await channel(pod, "WebSocketChannel2023", "/box/doc.ttl")
    box = await channel(pod, "WebSocketChannel2023", "/box/")
    assert doc["receiveFrom"].startswith("ws://") and doc["topic"] == pod.url("/box/doc.ttl")
    async with (
        pod.session.ws_connect(doc["receiveFrom"]) as on_doc,
        pod.session.ws_connect(box["receiveFrom"]) as on_box,
    ):
        await asyncio.sleep(0.05)
        assert await pod.put("/box/doc.ttl", "<#a> <#b> 0.") == 201
        states = [await etag(pod, "/box/doc.ttl")]
        for i in range(1, 16):
            assert await pod.put("/box/doc.ttl", f"<#a> <#b> {i}.") == 204
            states.append(await etag(pod, "/box/doc.ttl"))
        async with pod.request("DELETE", "/box/doc.ttl") as r:
            assert r.status == 204
        messages = [await next_message(on_doc) for _ in range(17)]
        await nothing_arrives(on_doc)
        assert [m["type"] for m in messages] == ["Create"] + ["Update"] * 15 + ["Delete"]
        assert [m.get("state") for m in messages] == [*states, None]
        assert {m["object"] for m in messages} == {pod.url("/box/doc.ttl")}
        assert all(m["@context"][0] == "https://www.w3.org/ns/activitystreams" for m in messages)
        assert len({m["id"] for m in messages}) == 17
        assert all(m["published"].endswith("Z") for m in messages)
        created, added, removed = [await next_message(on_box) for _ in range(3)]
        assert (created["type"], created["object"]) == ("Create", pod.url("/box/"))
        assert (added["type"], added["object"], added["target"]) == (
            "Add", pod.url("/box/doc.ttl"), pod.url("/box/"),
        )  # fmt: skip
        assert (removed["type"], removed["object"]) == ("Remove", pod.url("/box/doc.ttl"))
        assert removed["state"] == await etag(pod, "/box/")
        await nothing_arrives(on_box, 0.1)


async def test_concurrent_writes_arrive_in_commit_order(pod: Pod) -> None:
    doc = await channel(pod, "WebSocketChannel2023", "/race.ttl")
    async with pod.session.ws_connect(doc["receiveFrom"]) as ws:
        await asyncio.gather(*(pod.put("/race.ttl", f"<#a> <#b> {i}.") for i in range(20)))
        messages = [await next_message(ws) for _ in range(20)]
        await nothing_arrives(ws, 0.2)
    assert messages[0]["type"] == "Create"
    assert messages[-1]["state"] == await etag(pod, "/race.ttl")  # the last commit comes last
    assert len({m["state"] for m in messages}) == 20


async def test_unsubscribe_closes_the_websocket(pod: Pod) -> None:
    doc = await channel(pod, "WebSocketChannel2023", "/u.ttl")
    async with pod.session.ws_connect(doc["receiveFrom"]) as ws:
        async with pod.session.get(doc["id"]) as r:
            assert r.status == 200 and (await r.json())["topic"] == pod.url("/u.ttl")
        async with pod.session.delete(doc["id"]) as r:
            assert r.status == 204
        message = await ws.receive(timeout=3)
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    async with pod.session.get(doc["id"]) as r:
        assert r.status == 404
    with pytest.raises(aiohttp.WSServerHandshakeError):  # the capability is gone too
        await pod.session.ws_connect(doc["receiveFrom"])


async def test_end_at_expires_the_channel(pod: Pod) -> None:
    end = datetime.fromtimestamp(time.time() + 0.8, UTC).isoformat()
    doc = await channel(pod, "WebSocketChannel2023", "/e.ttl", endAt=end)
    assert doc["endAt"].startswith(end[:19])
    async with pod.session.ws_connect(doc["receiveFrom"]) as ws:
        await pod.put("/e.ttl", "<#a> <#b> 1.")
        assert (await next_message(ws))["type"] == "Create"
        message = await ws.receive(timeout=3)  # closed at endAt
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    await pod.put("/e.ttl", "<#a> <#b> 2.")
    status, _ = await subscribe(pod, "WebSocketChannel2023", "/e.ttl", endAt="2001-01-01T00:00:00Z")
    assert status == 422


async def test_rate_coalesces_to_the_latest_state(pod: Pod) -> None:
    doc = await channel(pod, "WebSocketChannel2023", "/r.ttl", rate="PT0.4S")
    assert doc["rate"] == "PT0.4S"
    async with pod.session.ws_connect(doc["receiveFrom"]) as ws:
        for i in range(6):
            await pod.put("/r.ttl", f"<#a> <#b> {i}.")
        first = await next_message(ws)
        last = await next_message(ws)
        await nothing_arrives(ws, 0.6)
    assert first["type"] == "Create"
    assert last["state"] == await etag(pod, "/r.ttl")


async def test_state_feature_reports_a_stale_state_at_once(pod: Pod) -> None:
    await pod.put("/s.ttl", "<#a> <#b> 1.")
    current = await etag(pod, "/s.ttl")
    fresh = await channel(pod, "WebSocketChannel2023", "/s.ttl", state=f'"{current}"')
    stale = await channel(pod, "WebSocketChannel2023", "/s.ttl", state="old")
    async with pod.session.ws_connect(stale["receiveFrom"]) as ws:
        message = await next_message(ws)
        assert (message["type"], message["state"]) == ("Update", current)
    async with pod.session.ws_connect(fresh["receiveFrom"]) as ws:
        await nothing_arrives(ws, 0.2)


async def test_malformed_subscription_requests(pod: Pod) -> None:
    url = pod.url(SERVICES + "WebSocketChannel2023")

    async def post(body: str, ctype: str = "application/ld+json") -> int:
        async with pod.session.post(url, data=body, headers={"Content-Type": ctype}) as r:
            return r.status

    topic = pod.url("/m.ttl")
    good = {"@context": [CONTEXT], "type": "WebSocketChannel2023", "topic": topic}
    assert await post(json.dumps(good), "text/turtle") == 415
    assert await post(json.dumps(good), 'application/ld+json; profile="urn:x"') == 415
    assert await post("{not json") == 400
    assert await post("[]") == 400
    assert await post(json.dumps({**good, "rate": "ten seconds"})) == 400
    assert await post(json.dumps({**good, "endAt": "tomorrow"})) == 400
    assert await post(json.dumps({**good, "type": "NoSuchChannel"})) == 422
    assert await post(json.dumps({**good, "type": "WebhookChannel2023"})) == 422  # wrong service
    assert await post(json.dumps({**good, "topic": "https://elsewhere.example/x"})) == 422
    assert await post(json.dumps({**good, "@context": ["https://evil.example/ctx"]})) == 422
    assert await post(json.dumps({**good, "accept": "text/turtle"})) == 422
    assert await post(json.dumps({k: v for k, v in good.items() if k != "topic"})) == 422
    assert await post(json.dumps({**good, "pad": "x" * 70_000})) == 413
    # Full IRIs are answered in kind.
    full = {**good, "type": NOTIFY + "WebSocketChannel2023"}
    async with pod.session.post(url, data=json.dumps(full), headers=JSONLD) as r:
        assert r.status == 200 and (await r.json())["type"] == NOTIFY + "WebSocketChannel2023"


# -- StreamingHTTPChannel2023 ------------------------------------------------------------------


async def test_streaming_channel_subscribe_receive_unsubscribe(pod: Pod) -> None:
    doc = await channel(pod, "StreamingHTTPChannel2023", "/st.ttl")
    assert doc["receiveFrom"].startswith(pod.base)
    async with pod.session.get(doc["receiveFrom"]) as stream:
        assert stream.status == 200
        assert stream.headers["Content-Type"].startswith("application/ld+json")
        await pod.put("/st.ttl", "<#a> <#b> 1.")
        await pod.put("/st.ttl", "<#a> <#b> 2.")
        lines = [json.loads(await asyncio.wait_for(stream.content.readline(), 5)) for _ in range(2)]
        assert [m["type"] for m in lines] == ["Create", "Update"]
        async with pod.session.delete(doc["id"]) as r:
            assert r.status == 204
        assert await asyncio.wait_for(stream.content.read(), 5) == b""  # the stream ended
    async with pod.session.get(doc["receiveFrom"]) as r:
        assert r.status == 404


# -- WebhookChannel2023 ------------------------------------------------------------------------


async def test_webhook_posts_signed_notifications(pod: Pod) -> None:
    async with webhook_receiver() as hook:
        doc = await channel(pod, "WebhookChannel2023", "/w.ttl", sendTo=hook.url)
        assert doc["sendTo"] == hook.url and "receiveFrom" not in doc
        await pod.put("/w.ttl", "<#a> <#b> 1.")
        await pod.put("/w.ttl", "<#a> <#b> 2.")
        assert [(await hook.next())["type"] for _ in range(2)] == ["Create", "Update"]
        async with pod.session.get(doc["sender"]) as r:
            jwks = await r.json()
        signed, body = hook.received[0]
        assert verify_request("POST", hook.url, signed, body, jwks) == jwks["keys"][0]["kid"]
        with pytest.raises(SignatureError):
            verify_request("POST", hook.url, signed, body.replace(b"Create", b"Delete"), jwks)
        with pytest.raises(SignatureError):
            verify_request("POST", hook.url + "?x", signed, body, jwks)
        with pytest.raises(SignatureError):
            verify_request("POST", hook.url, signed, body, jwks, now=time.time() + 3600)
        async with pod.session.delete(doc["id"]) as r:
            assert r.status == 204
        await pod.put("/w.ttl", "<#a> <#b> 3.")
        await asyncio.sleep(0.3)
        assert len(hook.received) == 2


async def test_webhook_state_and_channel_allowance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POD_NOTIFY_MAX_CHANNELS_PER_AGENT", "2")
    async with running_pod(tmp_path, FileBackend(tmp_path)) as pod, webhook_receiver() as hook:
        await pod.put("/ws.ttl", "<#a> <#b> 1.")
        await channel(pod, "WebhookChannel2023", "/ws.ttl", sendTo=hook.url, state="stale")
        update = await hook.next()
        assert (update["type"], update["state"]) == ("Update", await etag(pod, "/ws.ttl"))
        await channel(pod, "WebSocketChannel2023", "/ws.ttl")
        status, doc = await subscribe(pod, "WebSocketChannel2023", "/ws.ttl")
        assert status == 429, doc


async def test_webhook_retries_with_backoff(pod: Pod) -> None:
    async with webhook_receiver() as hook:
        hook.answer = lambda attempt: 503 if attempt < 3 else 200
        await channel(pod, "WebhookChannel2023", "/retry.ttl", sendTo=hook.url)
        await pod.put("/retry.ttl", "<#a> <#b> 1.")
        assert (await hook.next())["type"] == "Create"
        assert len(hook.received) == 3
        assert hook.received[0][1] == hook.received[2][1]  # the same notification, again


async def test_webhook_receiver_gone_ends_the_channel(pod: Pod) -> None:
    async with webhook_receiver() as hook:
        hook.answer = lambda attempt: 410
        doc = await channel(pod, "WebhookChannel2023", "/gone.ttl", sendTo=hook.url)
        await pod.put("/gone.ttl", "<#a> <#b> 1.")
        for _ in range(50):
            async with pod.session.get(doc["id"]) as r:
                if r.status == 404:
                    break
            await asyncio.sleep(0.05)
        assert r.status == 404


async def test_webhook_targets_are_restricted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POD_NOTIFY_WEBHOOK_PRIVATE_TARGETS", "0")  # production behaviour
    async with running_pod(tmp_path, FileBackend(tmp_path)) as pod:
        own_port = pod.base.rsplit(":", 1)[1].rstrip("/")
        for target in (
            "ftp://hooks.example/x",
            "http://hooks.example/x",  # plain http
            "https://user:secret@hooks.example/x",
            f"https://127.0.0.1:{own_port}/x",
            "https://10.1.2.3/x",
            "https://[::1]/x",
            "https://169.254.169.254/latest/meta-data",
            "https://localhost/x",
            "https://[::ffff:127.0.0.1]/x",
        ):
            status, doc = await subscribe(pod, "WebhookChannel2023", "/t.ttl", sendTo=target)
            assert status == 422, (target, doc)
        status, _ = await subscribe(pod, "WebhookChannel2023", "/t.ttl")  # no sendTo
        assert status == 422
        status, _ = await subscribe(
            pod, "WebhookChannel2023", "/t.ttl", sendTo="https://hooks.example/x"
        )
        assert status == 200
    # Even where private targets are allowed, the pod server itself is not one.
    monkeypatch.setenv("POD_NOTIFY_WEBHOOK_PRIVATE_TARGETS", "1")
    async with running_pod(tmp_path, FileBackend(tmp_path)) as pod:
        port = pod.base.rsplit(":", 1)[1].rstrip("/")
        for target in (pod.url("/x"), f"http://localhost:{port}/x", f"http://[::1]:{port}/x"):
            status, _ = await subscribe(pod, "WebhookChannel2023", "/t.ttl", sendTo=target)
            assert status == 422, target


async def test_a_slow_webhook_never_holds_up_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("POD_NOTIFY_QUEUE_SIZE", "4")
    monkeypatch.setenv("POD_NOTIFY_SEND_TIMEOUT", "5")
    caplog.set_level(logging.WARNING, "pod_server.notify")
    async with running_pod(tmp_path, FileBackend(tmp_path)) as pod, webhook_receiver() as hook:
        hook.delay = 3.0  # answers, eventually
        doc = await channel(pod, "WebhookChannel2023", "/slow.ttl", sendTo=hook.url)
        ws_doc = await channel(pod, "WebSocketChannel2023", "/slow.ttl")
        async with pod.session.ws_connect(ws_doc["receiveFrom"]) as ws:
            slowest = 0.0
            for i in range(12):
                started = time.perf_counter()
                assert await pod.put("/slow.ttl", f"<#a> <#b> {i}.") in (201, 204)
                slowest = max(slowest, time.perf_counter() - started)
            assert slowest < 0.5
            # A fast subscriber on the same topic got everything, meanwhile.
            assert len([await next_message(ws) for _ in range(12)]) == 12
        assert any("dropping WebhookChannel2023" in r.getMessage() for r in caplog.records)
        for _ in range(40):
            async with pod.session.get(doc["id"]) as r:
                if r.status == 404:
                    break
            await asyncio.sleep(0.05)
        assert r.status == 404  # the dropped channel is gone


# -- legacy solid-0.1 --------------------------------------------------------------------------


async def test_legacy_solid_websocket(pod: Pod) -> None:
    await pod.put("/legacy/doc.ttl", "<#a> <#b> 1.")
    async with pod.request("GET", "/legacy/doc.ttl") as r:
        updates_via = r.headers["Updates-Via"]
        assert "Updates-Via" in r.headers["Access-Control-Expose-Headers"]
    async with pod.session.ws_connect(updates_via, protocols=("solid-0.1",)) as ws:
        assert ws.protocol == "solid-0.1"
        await ws.send_str(f"sub {pod.url('/legacy/doc.ttl')}")
        await ws.send_str(f"sub {pod.url('/legacy/')}")
        await ws.send_str("sub https://elsewhere.example/x")
        assert await ws.receive_str(timeout=3) == f"ack {pod.url('/legacy/doc.ttl')}"
        assert await ws.receive_str(timeout=3) == f"ack {pod.url('/legacy/')}"
        assert (await ws.receive_str(timeout=3)).startswith("err https://elsewhere.example/x")
        await pod.put("/legacy/doc.ttl", "<#a> <#b> 2.")
        assert await ws.receive_str(timeout=3) == f"pub {pod.url('/legacy/doc.ttl')}"
        await pod.put("/legacy/other.ttl", "<#a> <#b> 2.")
        assert await ws.receive_str(timeout=3) == f"pub {pod.url('/legacy/')}"


# -- access --------------------------------------------------------------------------------------


async def test_only_readers_subscribe_and_a_revoked_read_stops_deliveries(tmp_path: Path) -> None:
    async with running_issuer() as issuer:
        alice_id, bob_id = issuer.add_person("alice"), issuer.add_person("bob")
        alice, bob = issuer.caller("alice"), issuer.caller("bob")
        async with running_pod(tmp_path, FileBackend(tmp_path), Settings(owner=alice_id)) as pod:

            async def write(path: str, body: str) -> int:
                url = pod.url(path)
                headers = {"Content-Type": "text/turtle", **alice.headers("PUT", url)}
                async with pod.session.put(url, data=body, headers=headers) as r:
                    return r.status

            owner = (
                f"<#owner> a acl:Authorization; acl:agent <{alice_id}>; acl:accessTo <./>;"
                " acl:default <./>; acl:mode acl:Read, acl:Write, acl:Control.\n"
            )
            reader = (
                f"<#bob> a acl:Authorization; acl:agent <{bob_id}>; acl:accessTo <./>;"
                " acl:default <./>; acl:mode acl:Read.\n"
            )
            assert await write("/shared/doc.ttl", "<#a> <#b> 1.") == 201
            # No Read: refused, 401 anonymous, 403 signed in; an ACL needs Control.
            assert (await subscribe(pod, "WebSocketChannel2023", "/shared/doc.ttl"))[0] == 401
            assert (await subscribe(pod, "WebSocketChannel2023", "/shared/doc.ttl", bob))[0] == 403
            assert (await subscribe(pod, "WebhookChannel2023", "/shared/doc.ttl", bob))[0] == 403
            assert await write("/shared/.acl", ACL + owner + reader) == 201
            status, acl_doc = await subscribe(pod, "WebSocketChannel2023", "/shared/.acl", bob)
            assert status == 403, acl_doc
            status, doc = await subscribe(pod, "WebSocketChannel2023", "/shared/doc.ttl", bob)
            assert status == 200
            _, watch = await subscribe(pod, "WebSocketChannel2023", "/shared/doc.ttl", alice)
            # Bob's channel is his: nobody else may end it.
            async with pod.session.delete(watch["id"]) as r:
                assert r.status == 401
            bob_delete = bob.headers("DELETE", watch["id"])
            async with pod.session.delete(watch["id"], headers=bob_delete) as r:
                assert r.status == 403
            async with (
                pod.session.ws_connect(doc["receiveFrom"]) as bobs,
                pod.session.ws_connect(watch["receiveFrom"]) as alices,
            ):
                await asyncio.sleep(0.05)
                assert await write("/shared/doc.ttl", "<#a> <#b> 2.") == 204
                assert (await next_message(bobs))["type"] == "Update"
                assert (await next_message(alices))["type"] == "Update"
                assert await write("/shared/.acl", ACL + owner) == 204  # Read revoked
                assert await write("/shared/doc.ttl", "<#a> <#b> 3.") == 204
                assert (await next_message(alices))["type"] == "Update"
                await nothing_arrives(bobs, 0.3)
                # The legacy protocol checks the same way: anonymous may not read it.
                legacy = pod.url(SERVICES + "solid-0.1").replace("http", "ws", 1)
                async with pod.session.ws_connect(legacy, protocols=("solid-0.1",)) as old:
                    await old.send_str(f"sub {pod.url('/shared/doc.ttl')}")
                    assert (await old.receive_str(timeout=3)).endswith("forbidden")
            # A streaming channel is received by its subscriber only.
            status, stream = await subscribe(
                pod, "StreamingHTTPChannel2023", "/shared/doc.ttl", alice
            )
            assert status == 200
            async with pod.session.get(stream["receiveFrom"]) as r:
                assert r.status == 401
            bob_get = bob.headers("GET", stream["receiveFrom"])
            async with pod.session.get(stream["receiveFrom"], headers=bob_get) as r:
                assert r.status == 403
            alice_get = alice.headers("GET", stream["receiveFrom"])
            async with pod.session.get(stream["receiveFrom"], headers=alice_get) as r:
                assert r.status == 200
                await write("/shared/doc.ttl", "<#a> <#b> 4.")
                line = await asyncio.wait_for(r.content.readline(), 5)
                assert json.loads(line)["type"] == "Update"


# -- several processes -------------------------------------------------------------------------


async def test_two_processes_on_one_storage(tmp_path: Path, storage: str) -> None:
    """Two servers of one deployment (one root, or one PostgreSQL schema) are two
    processes as far as notifications go: each has its own hub instance."""
    settings_a, backend_a = deployed(storage, tmp_path, Settings(open=True))
    settings_b, backend_b = deployed(storage, tmp_path, Settings(open=True))
    async with (
        running_pod(tmp_path, backend_a, settings_a) as a,
        running_pod(tmp_path, backend_b, settings_b) as b,
        webhook_receiver() as hook,
    ):
        assert a.app is not None and b.app is not None
        assert a.app[NOTIFIER].origin != b.app[NOTIFIER].origin
        on_b = await channel(b, "WebSocketChannel2023", "/multi.ttl")
        await channel(b, "WebhookChannel2023", "/multi.ttl", sendTo=hook.url)
        # A channel made through one process may be connected through the other.
        made_on_a = await channel(a, "WebSocketChannel2023", "/multi.ttl")
        via_b = made_on_a["receiveFrom"].replace(a.base[len("http://") :], b.base[len("http://") :])
        assert via_b != made_on_a["receiveFrom"]
        async with (
            b.session.ws_connect(on_b["receiveFrom"]) as ws,
            b.session.ws_connect(via_b) as ws2,
        ):
            await asyncio.sleep(0.05)
            ids: list[list[str]] = []
            assert await a.put("/multi.ttl", "<#a> <#b> 1.") == 201  # written through A
            assert await b.put("/multi.ttl", "<#a> <#b> 2.") == 204  # and through B
            for socket_ in (ws, ws2):
                got = [await next_message(socket_) for _ in range(2)]
                assert [m["type"] for m in got] == ["Create", "Update"]
                assert got[0]["object"] == b.url("/multi.ttl")
                ids.append([m["id"] for m in got])
            assert ids[0] == ids[1]  # one change, one notification id, whoever sends it
            webhooks = [(await hook.next())["type"] for _ in range(2)]
            assert webhooks == ["Create", "Update"]  # each change POSTed once, in order
            await asyncio.sleep(0.2)
            assert len(hook.received) == 2
            # Unsubscribing through A ends the connection held by B.
            async with a.session.delete(made_on_a["id"]) as r:
                assert r.status == 204
            message = await ws2.receive(timeout=3)
            assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_a_second_server_process_started_from_the_command_line(tmp_path: Path) -> None:
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    env = {**os.environ, "POD_ROOT": str(tmp_path), "POD_PORT": str(port), "POD_OPEN": "1"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "pod_server", "serve", "--host", "127.0.0.1",
        env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    other = f"http://127.0.0.1:{port}/"
    try:
        async with running_pod(tmp_path, FileBackend(tmp_path)) as here:
            for _ in range(200):
                try:
                    async with here.session.head(other) as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
            remote = Pod(other, here.session, tmp_path)
            there = await channel(remote, "WebSocketChannel2023", "/cli.ttl")
            local = await channel(here, "WebSocketChannel2023", "/cli.ttl")
            async with (
                here.session.ws_connect(there["receiveFrom"]) as on_there,
                here.session.ws_connect(local["receiveFrom"]) as on_here,
            ):
                await asyncio.sleep(0.05)
                assert await here.put("/cli.ttl", "<#a> <#b> 1.") == 201
                assert (await next_message(on_there))["object"] == remote.url("/cli.ttl")
                assert await remote.put("/cli.ttl", "<#a> <#b> 2.") == 204
                assert (await next_message(on_here))["type"] == "Create"
                assert (await next_message(on_here))["type"] == "Update"
                assert (await next_message(on_there))["type"] == "Update"
    finally:
        process.terminate()
        await process.wait()
