"""Subscribing to a resource's changes (Solid Notifications Protocol, WebSocketChannel2023).

Discovery follows the protocol: the topic's ``storageDescription`` link, then the
description's ``notify:subscription`` service whose ``notify:channelType`` is
``WebSocketChannel2023``; the subscription is POSTed as this session (Read on the topic
is required), and the channel's ``receiveFrom`` capability URL is read over a WebSocket.
Works against any server implementing the protocol.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from rdflib import Graph, URIRef

from client.core import parse_links
from client.discovery import Discovery
from client.errors import PodClientError

NOTIFY = "http://www.w3.org/ns/solid/notifications#"
STORAGE_DESCRIPTION = "http://www.w3.org/ns/solid/terms#storageDescription"
WEBSOCKET_CHANNEL = NOTIFY + "WebSocketChannel2023"


class Notifications(Discovery):
    async def subscription_service(self, topic: str, channel: str = WEBSOCKET_CHANNEL) -> str:
        """The URL where subscriptions of ``channel`` type for ``topic`` are made."""
        response = await self.request("HEAD", topic)
        await response.aclose()
        links = parse_links(response.headers.getall("Link", []), topic)
        descriptions = links.get(STORAGE_DESCRIPTION)
        if not descriptions:
            raise PodClientError("the server advertises no storage description", url=topic)
        graph = await self._description(descriptions[0])
        for service in graph.objects(URIRef(descriptions[0]), URIRef(NOTIFY + "subscription")):
            if (service, URIRef(NOTIFY + "channelType"), URIRef(channel)) in graph:
                return str(service)
        raise PodClientError(f"the server offers no {channel.rsplit('#', 1)[-1]}", url=topic)

    async def _description(self, url: str) -> Graph:
        response = await self.request("GET", url, headers={"Accept": "text/turtle"})
        text = (await response.read()).decode("utf-8")
        try:
            return Graph().parse(data=text, format="turtle", publicID=url)
        except (SyntaxError, ValueError) as exc:  # rdflib's BadSyntax is a SyntaxError
            raise PodClientError(f"unreadable storage description: {exc}", url=url) from None

    async def subscribe(
        self, topic: str, ready: asyncio.Event | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Yield each notification about ``topic`` (an Activity Streams object as a dict:
        ``type`` Create/Update/Delete/Add/Remove, ``object``, ``state``, ``published``)
        until the channel closes or the caller stops iterating. ``ready`` is set once the
        channel is open, so a caller knows from when no change is missed."""
        service = await self.subscription_service(topic)
        request = {
            "@context": ["https://www.w3.org/ns/solid/notification/v1"],
            "type": "WebSocketChannel2023",
            "topic": topic,
        }
        response = await self.request(
            "POST",
            service,
            headers={"Content-Type": "application/ld+json", "Accept": "application/ld+json"},
            body=json.dumps(request).encode(),
        )
        channel = json.loads(await response.read())
        receive_from = channel.get("receiveFrom")
        if not isinstance(receive_from, str):
            raise PodClientError("the channel names no receiveFrom URL", url=service)
        # The receiveFrom URL is a capability: no credentials are sent with it.
        async with aiohttp.ClientSession() as http, http.ws_connect(receive_from) as socket:
            if ready is not None:
                ready.set()
            async for message in socket:
                if message.type is not aiohttp.WSMsgType.TEXT:
                    break
                yield json.loads(message.data)
