"""Solid Notifications Protocol 0.3: discovery through the storage description, subscription
services, and delivery over each channel type (WebSocket, Webhook, Streaming HTTP)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from conformance.areas.common import DOC, OTHER_DOC
from conformance.areas.protocol import description_url
from conformance.areas.wac import private_document
from conformance.context import Context
from conformance.rdf import NOTIFY, graph_of
from conformance.registry import (
    NOTIFICATIONS,
    STREAMING_CHANNEL,
    WEBHOOK_CHANNEL,
    WEBSOCKET_CHANNEL,
    check,
    expect,
    expect_status,
    fail,
    skip,
)

N = NOTIFICATIONS + "#"
CONTEXT = "https://www.w3.org/ns/solid/notification/v1"
JSONLD = "application/ld+json"
STREAMING_LINK = "http://www.w3.org/ns/solid/terms#updatesViaStreamingHttp2023"
WAIT = 8.0  # seconds to wait for a notification


@dataclass(frozen=True)
class Channel:
    key: str  # short name used in check ids
    type: str  # the channel type's local name
    spec: str  # the channel type's section, with its anchor
    rule: str  # its conformance sentence, quoted


WEBSOCKET = Channel(
    "websocket", "WebSocketChannel2023", WEBSOCKET_CHANNEL + "#subscription-type",
    "An WebSocketChannel2023 API MUST conform to the Solid Notifications Protocol.",
)  # fmt: skip
WEBHOOK = Channel(
    "webhook", "WebhookChannel2023", WEBHOOK_CHANNEL + "#channel-type",
    "An WebhookChannel2023 MUST conform to the Solid Notifications Protocol.",
)  # fmt: skip
STREAMING = Channel(
    "streaming", "StreamingHTTPChannel2023", STREAMING_CHANNEL + "#channel-type",
    "An StreamingHTTPChannel2023 MUST conform to the Solid Notifications Protocol.",
)  # fmt: skip


async def discover(ctx: Context) -> dict[str, str]:
    """Channel type local name -> subscription service URL, from the storage description."""

    async def build() -> dict[str, str]:
        url = await description_url(ctx)
        graph = graph_of(expect_status(await ctx.writer.get(url, Accept="text/turtle"), 200))
        found: dict[str, str] = {}
        for service in set(graph.objects(None, NOTIFY.subscription)):
            for kind in graph.objects(service, NOTIFY.channelType):
                found[str(kind).split("#")[-1]] = str(service)
        return found

    return dict(await ctx.once("notification-services", build))


async def service_for(ctx: Context, channel: Channel) -> str:
    services = await discover(ctx)
    if channel.type not in services:
        skip(f"no {channel.type} subscription service is advertised")
    return services[channel.type]


async def subscribe(ctx: Context, channel: Channel, topic: str, **extra: str) -> dict[str, Any]:
    service = await service_for(ctx, channel)
    body = json.dumps({"@context": [CONTEXT], "type": iri(channel), "topic": topic, **extra})
    reply = await ctx.writer.post(service, body, JSONLD, Accept=JSONLD)
    expect_status(reply, 200, 201)
    try:
        return dict(json.loads(reply.body))
    except ValueError:
        fail(f"the subscription response is not JSON: {reply.describe()}")


def iri(channel: Channel) -> str:
    # The full IRI: valid under any context, and servers that cannot fetch the context (no
    # network) still read it.
    return str(NOTIFY[channel.type])


def local(value: Any) -> str:
    """A JSON-LD term or IRI by its last segment: "Update" for as:Update and "Update"."""
    text = value.get("id", "") if isinstance(value, dict) else str(value)
    return text.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def message_about(message: dict[str, Any], topic: str, kind: str) -> bool:
    types = message.get("type", [])
    types = types if isinstance(types, list) else [types]
    target = message.get("object")
    target = target.get("id") if isinstance(target, dict) else target
    return target == topic and kind in {local(t) for t in types}


def check_message(message: dict[str, Any], topic: str, kind: str) -> None:
    expect(message_about(message, topic, kind), f"expected a {kind} of {topic}, got {message}")
    expect(message.get("id"), "the notification has no id")
    expect(message.get("published"), "the notification has no published")


# --- Discovery ----------------------------------------------------------------------------------


@check(
    "notifications.discovery.subscription-services",
    N + "resource-server-link-storage-description-resource",
    "Resource Servers that want to enable Discovery Clients to discover subscription services"
    " and notification channels available to a storage in which a given resource is in MUST"
    " advertise the associated resources describing the subscription services and notification"
    " channels by responding to an HTTP request including a Link header with the rel value of"
    " http://www.w3.org/ns/solid/terms#storageDescription [SOLID-PROTOCOL] and the description"
    " resource as link target [RFC8288].",
)
async def services_listed(ctx: Context) -> None:
    expect(await discover(ctx), "the storage description lists no notify:subscription service")


@check(
    "notifications.discovery.description-jsonld",
    N + "resource-server-description-resource-accept",
    "Resource Servers MUST accept requests targeting the description resource when the value of"
    " the Accept header indicates a preferred representation in application/ld+json"
    " [JSON-LD11].",
)
async def description_jsonld(ctx: Context) -> None:
    reply = expect_status(await ctx.writer.get(await description_url(ctx), Accept=JSONLD), 200)
    expect(reply.media_type == JSONLD, f"served as {reply.media_type}")


@check(
    "notifications.discovery.channel-type-declared",
    N + "subscription-service-data-model",
    "One channelType property to state the notification channel type.",
)
async def channel_types(ctx: Context) -> None:
    url = await description_url(ctx)
    graph = graph_of(await ctx.writer.get(url, Accept="text/turtle"))
    services = set(graph.objects(None, NOTIFY.subscription))
    if not services:
        skip("no subscription service is listed")
    for service in services:
        kinds = list(graph.objects(service, NOTIFY.channelType))
        expect(len(kinds) == 1, f"{service} has {len(kinds)} channelType values")


# --- Subscription services ----------------------------------------------------------------------


@check(
    "notifications.subscription.methods",
    N + "subscription-server-subscription-request-methods",
    "Subscription Servers MUST support the GET, HEAD, OPTIONS, and POST methods [RFC9110] on the"
    " subscription service.",
)
async def service_methods(ctx: Context) -> None:
    service = await service_for(ctx, WEBSOCKET)
    for method in ("GET", "HEAD", "OPTIONS"):
        reply = await ctx.writer.request(method, service, Accept=JSONLD)
        expect(reply.ok, f"{method} on the subscription service: {reply.describe()}")


@check(
    "notifications.subscription.accepts-jsonld",
    N + "subscription-server-subscription-request-accept",
    "Subscription Servers MUST accept requests on the subscription service when the value of"
    " the Accept header indicates a preferred representation in application/ld+json"
    " [JSON-LD11].",
)
async def service_jsonld(ctx: Context) -> None:
    service = await service_for(ctx, WEBSOCKET)
    reply = expect_status(await ctx.writer.get(service, Accept=JSONLD), 200)
    expect(reply.media_type == JSONLD, f"served as {reply.media_type}")


@check(
    "notifications.subscription.unknown-profile-415",
    N + "subscription-server-subscription-request-profile-unrecognised",
    "Subscription Servers MUST respond with a 415 status code for HTTP requests with"
    " unsupported values in the profile parameter.",
)
async def unknown_profile(ctx: Context) -> None:
    service = await service_for(ctx, WEBSOCKET)
    topic = await ctx.make(DOC)
    body = json.dumps({"@context": [CONTEXT], "type": iri(WEBSOCKET), "topic": topic})
    ctype = JSONLD + '; profile="https://conformance.example/unknown-profile"'
    expect_status(await ctx.writer.post(service, body, ctype), 415)


@check(
    "notifications.subscription.unprocessable-422",
    N + "subscription-server-subscription-request-unprocessable-entity",
    "Subscription Servers MUST respond with a 422 status code [RFC4918] when unable to process"
    " the contained instructions, including unrecognised JSON-LD context in representation"
    " data.",
)
async def unprocessable(ctx: Context) -> None:
    service = await service_for(ctx, WEBSOCKET)
    body = json.dumps(
        {
            "@context": ["https://conformance.example/not-a-context"],
            "type": "NoSuchChannel",
            "topic": 42,
        }
    )
    reply = await ctx.writer.post(service, body, JSONLD)
    expect(reply.status in (400, 422), f"an unusable subscription request: {reply.describe()}")
    expect_status(reply, 422)


@check(
    "notifications.subscription.unreadable-topic-refused",
    WEBSOCKET_CHANNEL + "#subscription-type",
    "A client establishes a subscription using the WebSocketChannel2023 type by sending an"
    " authorized subscription request to the subscription resource based on Solid"
    " Notifications Protocol discovery.",
)
async def unreadable_topic(ctx: Context) -> None:
    service = await service_for(ctx, WEBSOCKET)
    topic = str(await ctx.once("private", lambda: private_document(ctx)))
    body = json.dumps({"@context": [CONTEXT], "type": iri(WEBSOCKET), "topic": topic})
    reply = await ctx.anon.post(service, body, JSONLD)
    expect(
        reply.status in (401, 403), f"anonymous subscription to a private topic: {reply.describe()}"
    )


# --- Channel types ------------------------------------------------------------------------------


def advertised_check(channel: Channel) -> None:
    @check(f"notifications.{channel.key}.advertised", channel.spec, channel.rule)
    async def advertised(ctx: Context) -> None:
        if channel is STREAMING and (await ctx.writer.head(ctx.server)).link(STREAMING_LINK):
            return  # a pre-established channel per resource is a valid advertisement too
        expect(channel.type in await discover(ctx), f"no {channel.type} service is advertised")


for _channel in (WEBSOCKET, WEBHOOK, STREAMING):
    advertised_check(_channel)


Q_RESPONSE = (
    "Subscription Servers MUST use the Notification Channel Data Model, and in addition conform to"
    " a particular notification channel type in the subscription response content."
)


@check(
    "notifications.websocket.subscription-response",
    N + "subscription-server-subscription-response",
    Q_RESPONSE,
)
async def ws_response(ctx: Context) -> None:
    topic = await ctx.make(DOC)
    channel = await subscribe(ctx, WEBSOCKET, topic)
    expect(local(channel.get("type")) == WEBSOCKET.type, f"type {channel.get('type')!r}")
    expect(channel.get("topic") == topic, f"topic {channel.get('topic')!r}")
    expect(channel.get("id"), "the channel has no id")


@check(
    "notifications.websocket.receive-from",
    N + "notify-receiveFrom",
    "One receiveFrom property to identify the resource on the Notification Sender that can be"
    " used to establish a connection to receive notifications.",
)
async def ws_receive_from(ctx: Context) -> None:
    channel = await subscribe(ctx, WEBSOCKET, await ctx.make(DOC))
    source = str(channel.get("receiveFrom", ""))
    expect(
        urlsplit(source).scheme in ("ws", "wss"), f"receiveFrom {source!r} is not a WebSocket URL"
    )


async def ws_messages(ctx: Context, topic: str, change: str) -> list[dict[str, Any]]:
    """Subscribe, connect, make ``change`` to ``topic``, and collect what arrives."""
    channel = await subscribe(ctx, WEBSOCKET, topic)
    messages: list[dict[str, Any]] = []
    async with ctx.http.ws_connect(str(channel["receiveFrom"])) as socket_:
        await asyncio.sleep(0.2)  # let the server register the connection
        if change == "update":
            expect_status(await ctx.writer.put(topic, OTHER_DOC), 200, 204, 205)
        else:
            expect_status(await ctx.writer.delete(topic))
        deadline = asyncio.get_running_loop().time() + WAIT
        while not any(message_about(m, topic, change.title()) for m in messages):
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                break
            try:
                frame = await socket_.receive(timeout=left)
            except TimeoutError:
                break
            if frame.type == aiohttp.WSMsgType.TEXT:
                messages.append(json.loads(frame.data))
            elif frame.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                break
    return messages


Q_MESSAGE = (
    "Notification Sender MUST be able to produce message content using the Notification Message"
    " Data Model, in addition to conforming to a particular notification channel type."
)


@check(
    "notifications.websocket.delivers-update",
    N + "notification-sender-notification-message-data-model",
    Q_MESSAGE,
)
async def ws_update(ctx: Context) -> None:
    topic = await ctx.make(DOC)
    messages = await ws_messages(ctx, topic, "update")
    found = [m for m in messages if message_about(m, topic, "Update")]
    expect(found, f"no Update of {topic} within {WAIT}s: {messages}")
    check_message(found[0], topic, "Update")


@check(
    "notifications.websocket.delivers-delete",
    N + "notification-sender-notification-message-data-model",
    Q_MESSAGE,
)
async def ws_delete(ctx: Context) -> None:
    topic = await ctx.make(DOC)
    messages = await ws_messages(ctx, topic, "delete")
    expect(any(message_about(m, topic, "Delete") for m in messages), f"no Delete: {messages}")


# Webhooks: the suite runs a receiver on loopback, which only a server on this host can reach.


@asynccontextmanager
async def receiver() -> AsyncIterator[tuple[str, asyncio.Queue[dict[str, Any]]]]:
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def receive(request: web.Request) -> web.Response:
        with contextlib.suppress(ValueError):  # not JSON: not a notification, ignored
            inbox.put_nowait(json.loads(await request.read()))
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/{tail:.*}", receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    site = web.SockSite(runner, sock)
    await site.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/hook", inbox
    finally:
        await runner.cleanup()


def loopback(ctx: Context) -> None:
    host = urlsplit(ctx.server).hostname or ""
    if host not in ("127.0.0.1", "localhost", "::1"):
        skip("webhook delivery needs a receiver the server can reach; the suite's is on loopback")


@check(
    "notifications.webhook.subscription-response",
    WEBHOOK_CHANNEL + "#channel-type",
    "For WebhookChannel2023 interactions, the subscription server responds with a subscription"
    " response. The only required fields in the payload are id, type, topic, sender",
)
async def hook_response(ctx: Context) -> None:
    loopback(ctx)
    topic = await ctx.make(DOC)
    async with receiver() as (hook, _):
        channel = await subscribe(ctx, WEBHOOK, topic, sendTo=hook)
    expect(local(channel.get("type")) == WEBHOOK.type, f"type {channel.get('type')!r}")
    expect(channel.get("topic") == topic, f"topic {channel.get('topic')!r}")
    expect(channel.get("id"), "the channel has no id")
    expect(channel.get("sender"), "the channel names no sender")


@check(
    "notifications.webhook.delivers-update",
    N + "notification-sender-notification-message-data-model",
    Q_MESSAGE,
)
async def hook_update(ctx: Context) -> None:
    loopback(ctx)
    topic = await ctx.make(DOC)
    async with receiver() as (hook, inbox):
        await subscribe(ctx, WEBHOOK, topic, sendTo=hook)
        expect_status(await ctx.writer.put(topic, OTHER_DOC), 200, 204, 205)
        seen: list[dict[str, Any]] = []
        try:
            async with asyncio.timeout(WAIT):
                while not any(message_about(m, topic, "Update") for m in seen):
                    seen.append(await inbox.get())
        except TimeoutError:
            fail(f"no Update POSTed to the webhook within {WAIT}s: {seen}")
    check_message(next(m for m in seen if message_about(m, topic, "Update")), topic, "Update")


async def stream_source(ctx: Context, topic: str) -> str:
    link = (await ctx.writer.head(topic)).link(STREAMING_LINK)
    if link:
        return link
    channel = await subscribe(ctx, STREAMING, topic)
    return str(channel.get("receiveFrom"))


@check(
    "notifications.streaming.delivers-update",
    N + "notification-sender-notification-message-data-model",
    Q_MESSAGE,
)
async def stream_update(ctx: Context) -> None:
    topic = await ctx.make(DOC)
    source = await stream_source(ctx, topic)
    headers: dict[str, str] = {"Accept": JSONLD}
    if ctx.writer.login is not None:
        await ctx.writer.login.ensure_token(ctx.http)
        headers.update(ctx.writer.login.headers("GET", source))
    text = ""
    async with ctx.http.get(
        source, headers=headers, timeout=aiohttp.ClientTimeout(total=WAIT + 2)
    ) as stream:
        expect(stream.status == 200, f"GET {source} -> {stream.status}")
        await asyncio.sleep(0.2)
        writer = asyncio.create_task(ctx.writer.put(topic, OTHER_DOC))
        try:
            async with asyncio.timeout(WAIT):
                while topic not in text or "Update" not in text:
                    chunk = await stream.content.readany()
                    if not chunk:
                        break
                    text += chunk.decode("utf-8", "replace")
        except TimeoutError:
            pass
        finally:
            expect_status(await writer, 200, 204, 205)
    expect(
        topic in text and "Update" in text, f"no Update of {topic} on the stream: {text[:300]!r}"
    )
