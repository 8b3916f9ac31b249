"""The audit service's query parameters."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from pod_server.audit.query import DEFAULT_LIMIT, next_query, parse_query
from pod_server.errors import BadRequest
from pod_server.storage.base import LogQuery


def test_no_parameters_is_the_newest_page() -> None:
    assert parse_query({}) == LogQuery(limit=DEFAULT_LIMIT)


def test_every_parameter() -> None:
    query = parse_query(
        {
            "agent": "https://bank.example/#it",
            "resource": "https://pod.example/alice/bank/",
            "since": "2026-01-01",
            "until": "2026-02-01T00:00:00Z",
            "outcome": "refused",
            "limit": "10",
            "before": "42",
        }
    )
    assert query == LogQuery(
        agent="https://bank.example/#it",
        resource="https://pod.example/alice/bank/",
        since=1767225600.0,
        until=1769904000.0,
        outcomes=(401, 403),
        before=42,
        limit=10,
    )


def test_outcomes() -> None:
    assert parse_query({"outcome": "allowed"}).outcomes == (200, 399)
    assert parse_query({"outcome": "404"}).outcomes == (404, 404)


@pytest.mark.parametrize(
    "params, named",
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"before": "0"}, "before"),
        ({"before": "-3"}, "before"),
        ({"since": "last week"}, "since"),
        ({"until": "2026-13-01"}, "until"),
        ({"outcome": "maybe"}, "outcome"),
        ({"outcome": "999"}, "outcome"),
        ({"agent": "bank"}, "agent"),
        ({"resource": "/alice/"}, "resource"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_values_are_refused_naming_the_parameter(params: dict[str, str], named: str) -> None:
    with pytest.raises(BadRequest, match=named):
        parse_query(params)


def test_next_page_keeps_the_filters() -> None:
    following = next_query({"agent": "https://b/#me", "limit": "5", "before": "90"}, 40)
    assert parse_qs(following) == {"agent": ["https://b/#me"], "limit": ["5"], "before": ["40"]}
