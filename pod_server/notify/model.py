"""The Solid Notifications data model: subscription requests, channels, notifications.

Subscription requests are JSON-LD in the compacted form every client sends (the
notification context, ``type``/``topic``/...); terms are also accepted as ``notify:`` CURIEs
or full IRIs. Anything else the server cannot interpret is refused (400 when the JSON is
malformed, 422 when it is well-formed but unusable), never guessed at.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from pod_server.errors import BadRequest, UnprocessableEntity, UnsupportedMediaType
from pod_server.ldp.media_types import JSON_LD
from pod_server.ldp.store import Change
from pod_server.ldp.vocabulary import AS_CONTEXT, JSONLD, NOTIFY_CONTEXT, NOTIFY_CONTEXT_DRAFT
from pod_server.ldp.vocabulary import NOTIFY as NOTIFY_TERMS

NOTIFY = str(NOTIFY_TERMS)  # a plain prefix: request terms are matched as strings
KNOWN_CONTEXTS = frozenset({NOTIFY_CONTEXT, NOTIFY_CONTEXT_DRAFT, AS_CONTEXT})
REQUEST_TYPES = frozenset({JSON_LD, "application/json"})
MAX_REQUEST_BYTES = 64 * 1024

WEBSOCKET = "WebSocketChannel2023"
WEBHOOK = "WebhookChannel2023"
STREAMING = "StreamingHTTPChannel2023"
CHANNEL_TYPES = (WEBSOCKET, STREAMING, WEBHOOK)
FEATURES = ("accept", "endAt", "rate", "startAt", "state")

_TERMS = ("type", "topic", "state", "startAt", "endAt", "rate", "accept", "sendTo")


@dataclass(frozen=True, slots=True)
class Channel:
    """One notification channel, as the registry keeps it (all processes share it)."""

    id: str  # random; the channel's URL is built from it
    type: str  # one of CHANNEL_TYPES
    topic: str  # the resource path
    webid: str | None  # who subscribed (None: anonymous)
    origin: str | None  # their Origin header (acl:origin rules apply to it)
    created: float
    end_at: float
    start_at: float | None = None
    rate: float | None = None  # seconds between notifications
    state: str | None = None
    accept: str | None = None
    send_to: str | None = None  # webhooks
    token_hash: str | None = None  # WebSocket/streaming: sha-256 of the receiveFrom secret
    full_iri: bool = False  # the client named the type by IRI: answer alike


@dataclass(frozen=True, slots=True)
class SubscriptionRequest:
    type: str
    topic: str  # URL, as sent
    full_iri: bool
    state: str | None = None
    start_at: float | None = None
    end_at: float | None = None
    rate: float | None = None
    accept: str | None = None
    send_to: str | None = None


# -- parsing ---------------------------------------------------------------------------------


def media_essence(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def parse_request(raw: bytes, content_type: str | None, now: float) -> SubscriptionRequest:
    """A subscription request body, checked; raises 400/415/422 with a clear message."""
    if media_essence(content_type) not in REQUEST_TYPES:
        raise UnsupportedMediaType(
            f"A subscription request must be JSON-LD (Content-Type: {JSON_LD})"
        )
    for profile in _profiles(content_type or ""):
        if profile not in JSON_LD_PROFILES:
            raise UnsupportedMediaType(f"Unsupported JSON-LD profile {profile!r}")
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(f"The subscription request is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise BadRequest("The subscription request must be a JSON object")
    _check_context(doc.get("@context"))
    terms = _terms(doc)
    kind, full = _channel_type(terms.get("type"))
    topic = _iri(terms.get("topic"), "topic")
    if topic is None:
        raise UnprocessableEntity("The subscription request needs a topic (the resource's URL)")
    start_at = _datetime(terms.get("startAt"), "startAt")
    end_at = _datetime(terms.get("endAt"), "endAt")
    if end_at is not None and end_at <= now:
        raise UnprocessableEntity("endAt is in the past")
    if start_at is not None and end_at is not None and start_at >= end_at:
        raise UnprocessableEntity("startAt is not before endAt")
    rate = terms.get("rate")
    accept = _string(terms.get("accept"), "accept")
    if accept is not None and not accepts_json_ld(accept):
        raise UnprocessableEntity(f"Notifications are only sent as {JSON_LD}, not {accept}")
    return SubscriptionRequest(
        type=kind,
        topic=topic,
        full_iri=full,
        state=_string(terms.get("state"), "state"),
        start_at=start_at,
        end_at=end_at,
        rate=None if rate is None else parse_duration(_string(rate, "rate") or ""),
        accept=accept,
        send_to=_iri(terms.get("sendTo"), "sendTo"),
    )


JSON_LD_PROFILES = frozenset(
    str(form) for form in (JSONLD.compacted, JSONLD.expanded, JSONLD.flattened)
)
_PROFILE = re.compile(r';\s*profile\s*=\s*(?:"([^"]*)"|([^;\s]+))', re.IGNORECASE)


def _profiles(content_type: str) -> list[str]:
    """The IRIs of a Content-Type's profile parameter (a space-separated list)."""
    found: list[str] = []
    for quoted, bare in _PROFILE.findall(content_type):
        found += (quoted or bare).split()
    return found


def _check_context(context: Any) -> None:
    if context is None:
        return
    items = context if isinstance(context, list) else [context]
    for item in items:
        if not isinstance(item, str):
            raise UnprocessableEntity("Only the notification context may be used, not inline ones")
        if item not in KNOWN_CONTEXTS:
            raise UnprocessableEntity(f"Unsupported @context {item!r}; use {NOTIFY_CONTEXT}")


def _terms(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The request's terms by short name, whether sent short, as notify:X or as an IRI."""
    found: dict[str, Any] = {}
    for key, value in doc.items():
        name = "type" if key == "@type" else _short(key)
        if name in _TERMS:
            if name in found:
                raise BadRequest(f"{name} is given twice")
            found[name] = value
    return found


def _short(term: str) -> str:
    for prefix in (NOTIFY, "notify:"):
        if term.startswith(prefix):
            return term[len(prefix) :]
    return term


def _channel_type(value: Any) -> tuple[str, bool]:
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if not isinstance(value, str):
        raise UnprocessableEntity(f"type must name one channel type: {', '.join(CHANNEL_TYPES)}")
    short = _short(value)
    if short not in CHANNEL_TYPES:
        raise UnprocessableEntity(
            f"Unsupported channel type {value!r}; this server offers {', '.join(CHANNEL_TYPES)}"
        )
    return short, value.startswith(NOTIFY)


def _iri(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        if len(value) != 1:
            raise UnprocessableEntity(f"{name} must be exactly one URL")
        value = value[0]
    if isinstance(value, dict):
        value = value.get("@id")
    if not isinstance(value, str) or not value:
        raise BadRequest(f"{name} must be a URL string")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UnprocessableEntity(f"{name} must be an absolute http(s) URL, not {value!r}")
    return value


def _string(value: Any, name: str) -> str | None:
    if isinstance(value, list) and len(value) == 1:  # expanded JSON-LD
        value = value[0]
    if isinstance(value, dict) and "@value" in value:
        value = value["@value"]
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be a string")
    return value


def _datetime(value: Any, name: str) -> float | None:
    text = _string(value, name)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise BadRequest(f"{name} must be an xsd:dateTime, not {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


_DURATION = re.compile(
    r"P(?!$)(?:(?P<w>\d+(?:\.\d+)?)W)?(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?=\d)(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?"
)
_UNIT_SECONDS = {"w": 604800.0, "d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}


def parse_duration(text: str) -> float:
    """An xsd:duration in seconds (days, hours, minutes, seconds; no years or months)."""
    match = _DURATION.fullmatch(text.strip().upper())
    if match is None:
        raise BadRequest(f"rate must be an xsd:duration such as PT10S, not {text!r}")
    return sum(float(v) * _UNIT_SECONDS[k] for k, v in match.groupdict().items() if v)


def format_duration(seconds: float) -> str:
    return f"PT{seconds:g}S"


def format_time(timestamp: float) -> str:
    """An xsd:dateTime in UTC with milliseconds, e.g. ``2024-05-01T10:00:00.123Z``."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def accepts_json_ld(accept: str) -> bool:
    for item in accept.split(","):
        media = item.split(";", 1)[0].strip().lower()
        if media in (JSON_LD, "application/json", "application/*", "*/*"):
            return True
    return False


# -- rendering -------------------------------------------------------------------------------


def notification(
    change: Change, url: Callable[[str], str], published: float, key: str | None = None
) -> dict[str, Any]:
    """The Activity Streams 2.0 notification of one change, as JSON-LD. ``key`` makes the
    id (the same for every receiver and process); without it the id is random."""
    name = uuid.uuid5(uuid.NAMESPACE_URL, key) if key else uuid.uuid4()
    doc: dict[str, Any] = {
        "@context": [AS_CONTEXT, NOTIFY_CONTEXT],
        "id": f"urn:uuid:{name}",
        "type": change.kind,
    }
    if change.object is not None:  # Add/Remove: the member changed, the container is the target
        doc["object"] = url(change.object)
        doc["target"] = url(change.path)
    else:
        doc["object"] = url(change.path)
    if change.state is not None:
        doc["state"] = change.state
    doc["published"] = format_time(published)
    return doc


def dumps(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def same_state(client_state: str, etag: str) -> bool:
    """Whether a client's state (an ETag as the server sent it, maybe of another
    representation or quoted) names the current version ``etag``."""
    value = client_state.strip()
    if value.startswith("W/"):
        value = value[2:]
    value = value.strip('"')
    return value == etag or value.startswith(etag + "-")
