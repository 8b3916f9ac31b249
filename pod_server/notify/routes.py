"""HTTP endpoints of the notifications: ``add_notifications`` adds their routes.

Under ``BASE/.well-known/notifications/`` (server-managed: no resource can live there):

    WebSocketChannel2023          POST a subscription; GET describes the service
    StreamingHTTPChannel2023      (same)
    WebhookChannel2023            (same)
    channels/{id}                 GET the channel, DELETE it (unsubscribe)
    websocket/{token}             receiveFrom of a WebSocketChannel2023 channel
    stream/{token}                receiveFrom of a StreamingHTTPChannel2023 channel
    jwks                          the key that signs webhook requests (the ``sender``)
    solid-0.1                     the legacy WebSocket (Updates-Via)
    gateway, gateway/ws           the notification gateway (see ``gateway``): negotiation
                                  and a WebSocketChannel2023 subscription by topic alone
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import math
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from pod_server.auth import Agent, AuthConfig, Authenticator, www_authenticate
from pod_server.errors import (
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    PodError,
    Unauthorized,
)
from pod_server.errors import UnprocessableEntity as Unprocessable
from pod_server.ldp.store import read_limited
from pod_server.notify import gateway, legacy
from pod_server.notify.model import (
    CHANNEL_TYPES,
    JSON_LD,
    MAX_REQUEST_BYTES,
    STREAMING,
    WEBHOOK,
    WEBSOCKET,
    Channel,
    SubscriptionRequest,
    parse_request,
)
from pod_server.notify.notifier import PREFIX, Notifier
from pod_server.notify.sinks import DISCONNECTED, StreamSink, WebSocketSink
from pod_server.settings import Settings

DISCONNECT_CHECK = 1.0  # seconds between checks that a streaming client is still there


class TooManyChannels(PodError):
    status, title = 429, "Too Many Requests"


def add_notifications(
    app: web.Application,
    notifier: Notifier,
    authenticator: Authenticator,
    settings: Settings,
) -> None:
    """Add the notification endpoints to ``app``'s routes (before the catch-all route)."""
    store = notifier.store
    endpoints = _Endpoints(notifier, authenticator, settings)
    prefix = store.base_path + PREFIX
    router = app.router
    for kind in CHANNEL_TYPES:
        router.add_post(prefix + kind, endpoints.subscriber(kind))
        router.add_get(prefix + kind, endpoints.service(kind))
        router.add_route("OPTIONS", prefix + kind, endpoints.options)
    router.add_get(prefix + "channels/{id}", endpoints.channel)
    router.add_delete(prefix + "channels/{id}", endpoints.channel)
    router.add_get(prefix + "websocket/{token}", endpoints.websocket)
    router.add_get(prefix + "stream/{token}", endpoints.stream)
    router.add_get(prefix + "jwks", endpoints.jwks)
    router.add_post(prefix + gateway.GATEWAY, endpoints.gateway)
    router.add_post(prefix + gateway.GATEWAY_WEBSOCKET, endpoints.gateway_subscribe)
    if notifier.config.legacy_websocket:
        router.add_get(prefix + legacy.PROTOCOL, endpoints.legacy)


ResponseHook = Callable[[web.Request, web.StreamResponse], Awaitable[None]]


def updates_via(notifier: Notifier) -> ResponseHook:
    """Response hook naming the legacy WebSocket (``Updates-Via``) on resource responses."""
    prefix = notifier.store.base_path + PREFIX

    async def hook(request: web.Request, response: web.StreamResponse) -> None:
        if not request.path.startswith(prefix):
            response.headers.setdefault("Updates-Via", notifier.urls.legacy)

    return hook


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _json(doc: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, text=json.dumps(doc, indent=1), content_type=JSON_LD)


class _Endpoints:
    def __init__(
        self,
        notifier: Notifier,
        authenticator: Authenticator,
        settings: Settings,
    ) -> None:
        self.notifier = notifier
        self.hub = notifier.hub
        self.store = notifier.store
        self.policy = notifier.policy
        self.authenticator = authenticator
        self.auth_config = AuthConfig(allow_bearer=settings.allow_bearer)
        self.config = notifier.config

    async def _agent(self, request: web.Request) -> Agent:
        raw = request.raw_path.split("?", 1)[0]
        url = self.store.base_url + raw[len(self.store.base_path) :]
        return await self.authenticator.identify(request.method, url, request.headers)

    def _refuse(self, agent: Agent, what: str) -> PodError:
        if not agent.authenticated:
            challenge = www_authenticate(self.auth_config, agent)
            return Unauthorized(f"Sign in to {what}", headers={"WWW-Authenticate": challenge})
        return Forbidden(f"{agent.webid} may not {what}")

    # -- subscription services ---------------------------------------------------------------

    def subscriber(self, kind: str) -> Any:
        async def subscribe(request: web.Request) -> web.Response:
            return await self._subscribe(request, kind)

        return subscribe

    def service(self, kind: str) -> Any:
        async def describe(_request: web.Request) -> web.Response:
            return _json(self.notifier.describe_service(kind))

        return describe

    async def options(self, _request: web.Request) -> web.Response:
        return web.Response(status=204, headers={"Allow": "GET, HEAD, OPTIONS, POST"})

    async def _read(self, request: web.Request) -> bytes:
        if request.content_length is not None and request.content_length > MAX_REQUEST_BYTES:
            raise PayloadTooLarge(f"A subscription request is at most {MAX_REQUEST_BYTES} bytes")
        return await read_limited(request.content.iter_chunked(8192), MAX_REQUEST_BYTES)

    async def _subscribe(self, request: web.Request, kind: str) -> web.Response:
        now = time.time()
        raw = await self._read(request)
        wanted = parse_request(raw, request.headers.get("Content-Type"), now)
        channel, token = await self._open(request, wanted, kind, now)
        return _json(self.notifier.describe_channel(channel, token))

    async def gateway(self, request: web.Request) -> web.Response:
        """Protocol negotiation of the notification gateway (see ``gateway``)."""
        offer = gateway.negotiate(await self._read(request), self.notifier.urls.gateway_websocket)
        return web.json_response(offer)

    async def gateway_subscribe(self, request: web.Request) -> web.Response:
        """A gateway client's subscription: a WebSocketChannel2023 by another name."""
        now = time.time()
        raw = gateway.as_subscription(await self._read(request))
        wanted = parse_request(raw, "application/json", now)
        channel, token = await self._open(request, wanted, WEBSOCKET, now)
        info = gateway.connection_info(self.notifier.describe_channel(channel, token))
        return web.json_response(info)

    async def _open(
        self, request: web.Request, wanted: SubscriptionRequest, kind: str, now: float
    ) -> tuple[Channel, str | None]:
        """Check a subscription request and make its channel (and the receiver's token)."""
        if wanted.type != kind:
            raise Unprocessable(f"This service makes {kind} channels, not {wanted.type}")
        path = self.store.local_path(wanted.topic)
        if path is None:
            raise Unprocessable(f"The topic {wanted.topic} is not a resource of this server")
        agent = await self._agent(request)
        origin = request.headers.get("Origin")
        # Only an agent who may read the topic may subscribe (an ACL's topic needs Control).
        await self.policy.authorize(agent, origin, "GET", path, target_exists=True)
        if kind == WEBHOOK:
            if wanted.send_to is None:
                raise Unprocessable("A WebhookChannel2023 subscription needs sendTo")
            refusal = self.notifier.targets.refusal(wanted.send_to)
            if refusal is not None:
                raise Unprocessable(f"sendTo {wanted.send_to} is refused: {refusal}")
        token = None if kind == WEBHOOK else secrets.token_urlsafe(32)
        end_at = min(wanted.end_at or math.inf, now + self.config.max_lifetime)
        channel = Channel(
            id=uuid.uuid4().hex,
            type=kind,
            topic=path,
            webid=agent.webid,
            origin=origin,
            created=now,
            end_at=end_at,
            start_at=wanted.start_at,
            rate=wanted.rate,
            state=wanted.state,
            accept=wanted.accept,
            send_to=wanted.send_to if kind == WEBHOOK else None,
            token_hash=None if token is None else _token_hash(token),
            full_iri=wanted.full_iri,
        )
        if not await self.hub.add(channel, self.config.max_channels_per_agent):
            raise TooManyChannels(
                f"At most {self.config.max_channels_per_agent} channels per agent; "
                "unsubscribe from some first"
            )
        if kind == WEBHOOK and channel.state is not None:
            await self.notifier.initial_state(channel, self.notifier.hook_sink(channel))
        return channel, token

    # -- channels ----------------------------------------------------------------------------

    async def channel(self, request: web.Request) -> web.StreamResponse:
        found = await self.hub.get(request.match_info["id"])
        if found is None:
            raise NotFound("No such notification channel")
        agent = await self._agent(request)
        if found.webid is not None and agent.webid != found.webid:
            raise self._refuse(agent, "manage this notification channel")
        if request.method == "DELETE":
            await self.notifier.unsubscribe(found.id)
            return web.Response(status=204)
        return _json(self.notifier.describe_channel(found))

    async def _connect(self, request: web.Request, kind: str) -> Channel:
        found = await self.hub.by_token(_token_hash(request.match_info["token"]))
        if found is None or found.type != kind or found.end_at <= time.time():
            raise NotFound("No such notification channel (it may have ended)")
        return found

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        channel = await self._connect(request, WEBSOCKET)
        if not await self.hub.attach(channel.id, time.time()):
            raise Conflict("This channel is already connected")
        ws = web.WebSocketResponse(heartbeat=30.0, max_msg_size=4096, compress=False)
        try:
            await ws.prepare(request)
        except BaseException:
            await self.hub.remove(channel.id)
            raise
        sink = WebSocketSink(channel, self.config, self.notifier.close_sink, ws, request)
        self.notifier.open(sink)
        try:
            await self.notifier.initial_state(channel, sink)
            async for _message in ws:
                pass  # the receiver has nothing to say on this channel
        finally:
            sink.close(DISCONNECTED)
        return ws

    async def stream(self, request: web.Request) -> web.StreamResponse:
        channel = await self._connect(request, STREAMING)
        agent = await self._agent(request)
        if channel.webid is not None and agent.webid != channel.webid:
            raise self._refuse(agent, "receive this channel's notifications")
        if not await self.hub.attach(channel.id, time.time()):
            raise Conflict("This channel is already connected")
        headers = {"Content-Type": JSON_LD, "Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        response = web.StreamResponse(headers=headers)
        try:
            await response.prepare(request)
        except BaseException:
            await self.hub.remove(channel.id)
            raise
        sink = StreamSink(channel, self.config, self.notifier.close_sink, response, request)
        self.notifier.open(sink)
        try:
            await self.notifier.initial_state(channel, sink)
            while not sink.closed:
                transport = request.transport
                if transport is None or transport.is_closing():
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(sink.done.wait(), DISCONNECT_CHECK)
        finally:
            sink.close(DISCONNECTED)
            await sink.done.wait()
        return response

    async def jwks(self, _request: web.Request) -> web.Response:
        assert self.notifier.signer is not None, "the notifier is not started"
        response = web.json_response(self.notifier.signer.jwks())
        response.content_type = "application/jwk-set+json"
        return response

    async def legacy(self, request: web.Request) -> web.StreamResponse:
        agent = await self._agent(request)
        return await legacy.serve(request, self.notifier, self.config, agent.webid)
