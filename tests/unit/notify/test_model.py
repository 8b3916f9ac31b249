"""Subscription requests and notifications: the data model, without a server."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pod_server.errors import BadRequest, UnprocessableEntity, UnsupportedMediaType
from pod_server.ldp.store import Change
from pod_server.notify.model import (
    NOTIFY,
    accepts_json_ld,
    format_duration,
    format_time,
    notification,
    parse_duration,
    parse_request,
    same_state,
)

NOW = 1_700_000_000.0
CTX = "https://www.w3.org/ns/solid/notification/v1"
TOPIC = "https://pod.example/doc"


def parse(doc: Any, ctype: str = "application/ld+json") -> Any:
    return parse_request(json.dumps(doc).encode(), ctype, NOW)


def test_compact_request_with_every_feature() -> None:
    wanted = parse(
        {
            "@context": [CTX],
            "type": "WebSocketChannel2023",
            "topic": TOPIC,
            "state": "abc",
            "startAt": "2023-11-14T22:13:21Z",
            "endAt": "2023-11-15T00:00:00+01:00",
            "rate": "PT10S",
            "accept": "application/ld+json",
        }
    )
    assert (wanted.type, wanted.topic, wanted.full_iri) == ("WebSocketChannel2023", TOPIC, False)
    assert wanted.state == "abc" and wanted.rate == 10.0
    assert wanted.start_at == 1_700_000_001.0
    assert wanted.end_at == 1_700_002_800.0
    assert wanted.accept == "application/ld+json"


def test_terms_as_iris_curies_and_expanded_values() -> None:
    wanted = parse(
        {
            "@type": [NOTIFY + "WebhookChannel2023"],
            NOTIFY + "topic": [{"@id": TOPIC}],
            "notify:sendTo": "https://hooks.example/in",
            NOTIFY + "state": [{"@value": "s1"}],
        },
        "application/json",
    )
    assert (wanted.type, wanted.full_iri) == ("WebhookChannel2023", True)
    assert (wanted.topic, wanted.send_to, wanted.state) == (TOPIC, "https://hooks.example/in", "s1")


@pytest.mark.parametrize(
    ("body", "ctype", "error"),
    [
        (b"{}", "text/turtle", UnsupportedMediaType),
        (b"{}", 'application/ld+json; profile="urn:other"', UnsupportedMediaType),
        (b"{nope", "application/ld+json", BadRequest),
        (b"[1]", "application/ld+json", BadRequest),
        (b'{"type": "WebSocketChannel2023"}', "application/ld+json", UnprocessableEntity),
        (b'{"type": "Smoke", "topic": "https://a/"}', "application/ld+json", UnprocessableEntity),
        (b'{"type": 7, "topic": "https://a/"}', "application/ld+json", UnprocessableEntity),
        (
            b'{"@context": {"x": "y"}, "type": "WebSocketChannel2023", "topic": "https://a/"}',
            "application/ld+json",
            UnprocessableEntity,
        ),
        (
            b'{"type": "WebSocketChannel2023", "topic": ["https://a/", "https://b/"]}',
            "application/ld+json",
            UnprocessableEntity,
        ),
        (b'{"type": "WebSocketChannel2023", "topic": 42}', "application/ld+json", BadRequest),
        (
            b'{"type": "WebSocketChannel2023", "topic": "urn:x:y"}',
            "application/ld+json",
            UnprocessableEntity,
        ),
    ],
)
def test_refused_requests(body: bytes, ctype: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_request(body, ctype, NOW)


def test_refused_features() -> None:
    base = {"type": "WebSocketChannel2023", "topic": TOPIC}
    with pytest.raises(UnprocessableEntity):
        parse({**base, "endAt": "2000-01-01T00:00:00Z"})  # past
    with pytest.raises(UnprocessableEntity):
        parse({**base, "startAt": "2030-01-02T00:00:00Z", "endAt": "2030-01-01T00:00:00Z"})
    with pytest.raises(UnprocessableEntity):
        parse({**base, "accept": "text/turtle"})
    with pytest.raises(BadRequest):
        parse({**base, "rate": "often"})
    with pytest.raises(BadRequest):
        parse({**base, "endAt": 5})
    with pytest.raises(BadRequest):
        parse({**base, "topic": TOPIC, NOTIFY + "topic": TOPIC})


def test_durations() -> None:
    assert parse_duration("PT10S") == 10.0
    assert parse_duration("pt0.5s") == 0.5
    assert parse_duration("P1DT1H1M1S") == 90061.0
    assert parse_duration("P2W") == 1209600.0
    for bad in ("P", "PT", "10S", "P1Y", "P1M", "PT1H2"):
        with pytest.raises(BadRequest):
            parse_duration(bad)
    assert format_duration(10.0) == "PT10S" and format_duration(0.25) == "PT0.25S"


def test_accept_values() -> None:
    assert accepts_json_ld("application/ld+json;q=0.9, text/html")
    assert accepts_json_ld("*/*") and accepts_json_ld("application/*")
    assert not accepts_json_ld("text/turtle")


def test_notifications_are_activity_streams() -> None:
    def url(path: str) -> str:
        return "https://pod.example" + path

    update = notification(Change("Update", "/doc", state="e1"), url, NOW, key="ev/0")
    assert update == {
        "@context": ["https://www.w3.org/ns/activitystreams", CTX],
        "id": update["id"],
        "type": "Update",
        "object": "https://pod.example/doc",
        "state": "e1",
        "published": "2023-11-14T22:13:20.000Z",
    }
    assert update["id"] == notification(Change("Update", "/doc"), url, NOW, key="ev/0")["id"]
    assert update["id"].startswith("urn:uuid:")
    added = notification(Change("Add", "/c/", "/c/m", "e2"), url, NOW)
    assert (added["object"], added["target"], added["state"]) == (
        "https://pod.example/c/m", "https://pod.example/c/", "e2",
    )  # fmt: skip
    assert "state" not in notification(Change("Delete", "/doc"), url, NOW)
    assert format_time(NOW + 0.5) == "2023-11-14T22:13:20.500Z"


def test_state_comparison() -> None:
    assert same_state('"abc"', "abc")
    assert same_state('W/"abc-jsonld"', "abc")
    assert same_state("abc", "abc")
    assert not same_state('"abd"', "abc")
    assert not same_state('"abcd"', "abc")
