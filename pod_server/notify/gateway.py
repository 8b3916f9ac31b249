"""The notification gateway: how clients that predate the Solid Notifications Protocol's
storage-description discovery find a WebSocket on their own.

Inrupt's notifications SDK (``WebsocketNotification.connect()`` without an endpoint)
reads ``solid:notificationGateway`` from the *first* subject of ``/.well-known/solid``,
POSTs ``{"protocols": ["ws"], "features": [...]}`` there and expects JSON naming an
``endpoint``; it POSTs ``{"topic": URL, ...features}`` (plain JSON, no channel type) to
that endpoint and opens a WebSocket to the ``endpoint`` (and ``subprotocol``, if any) of
the answer. Both steps are thin translations onto WebSocketChannel2023: the second makes
exactly the channel a WebSocketChannel2023 subscription would, with the same access checks.
"""

from __future__ import annotations

import json
from typing import Any

from pod_server.errors import BadRequest, UnprocessableEntity
from pod_server.ldp.vocabulary import SOLID
from pod_server.notify.model import FEATURES, WEBSOCKET

GATEWAY = "gateway"  # under BASE/.well-known/notifications/
GATEWAY_WEBSOCKET = "gateway/ws"  # where the gateway sends ws clients to subscribe
PROTOCOL = "ws"
SOLID_NOTIFICATION_GATEWAY = SOLID.notificationGateway


def _object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(f"The {what} is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise BadRequest(f"The {what} must be a JSON object")
    return doc


def _names(value: Any, what: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRequest(f"{what} must be a list of names")
    return value


def negotiate(raw: bytes, subscribe_url: str) -> dict[str, Any]:
    """The gateway's answer to ``{"protocols": [...], "features": [...]}``."""
    doc = _object(raw, "gateway request")
    protocols = _names(doc.get("protocols"), "protocols")
    features = _names(doc.get("features"), "features")
    if PROTOCOL not in protocols:
        raise UnprocessableEntity(
            f"This gateway offers the {PROTOCOL!r} protocol only (a {WEBSOCKET}),"
            f" not {', '.join(map(repr, protocols)) or 'none'}"
        )
    return {
        "endpoint": subscribe_url,
        "protocol": PROTOCOL,
        "features": [f for f in features if f in FEATURES],
    }


def as_subscription(raw: bytes) -> bytes:
    """A gateway subscription (``{"topic": ..., ...features}``) as the equivalent
    WebSocketChannel2023 subscription request, for the one parser and its checks."""
    doc = _object(raw, "subscription request")
    doc.setdefault("type", WEBSOCKET)
    return json.dumps(doc).encode()


def connection_info(channel: dict[str, Any]) -> dict[str, Any]:
    """The channel's description plus the ``endpoint`` the gateway's clients connect to."""
    return {**channel, "endpoint": channel["receiveFrom"]}
