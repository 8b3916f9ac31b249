"""The audit service's query string (``agent``, ``resource``, ``since``, ``until``,
``outcome``, ``limit``, ``before``) as a storage :class:`LogQuery`; pure."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import urlencode

from pod_server.errors import BadRequest
from pod_server.storage.base import LogQuery

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
OUTCOMES = {"allowed": (200, 399), "refused": (401, 403)}
PARAMETERS = ("agent", "resource", "since", "until", "outcome", "limit", "before")


def parse_query(params: Mapping[str, str]) -> LogQuery:
    """The page a request asks for; 400 naming the parameter that makes no sense."""
    unknown = sorted(set(params) - set(PARAMETERS))
    if unknown:
        raise BadRequest(f"Unknown audit log parameter {unknown[0]!r}; use {', '.join(PARAMETERS)}")
    return LogQuery(
        agent=_url(params, "agent"),
        resource=_url(params, "resource"),
        since=_time(params, "since"),
        until=_time(params, "until"),
        outcomes=_outcome(params.get("outcome")),
        before=_number(params, "before", 1, None),
        limit=_number(params, "limit", 1, MAX_LIMIT) or DEFAULT_LIMIT,
    )


def next_query(params: Mapping[str, str], before: int) -> str:
    """The query string of the page after this one (which ends at seq ``before``)."""
    kept = {k: v for k, v in params.items() if k in PARAMETERS and k != "before"}
    return urlencode({**kept, "before": str(before)})


def _url(params: Mapping[str, str], name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if not value.startswith(("http://", "https://")):
        raise BadRequest(f"{name} must be an http(s) URL, not {value!r}")
    return value


def _time(params: Mapping[str, str], name: str) -> float | None:
    value = params.get(name)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest(
            f"{name} must be an ISO 8601 date or time (2026-01-31T12:00:00Z), not {value!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _outcome(value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    if value in OUTCOMES:
        return OUTCOMES[value]
    if value.isdigit() and 100 <= int(value) <= 599:
        return (int(value), int(value))
    raise BadRequest(f"outcome must be allowed, refused or an HTTP status, not {value!r}")


def _number(params: Mapping[str, str], name: str, low: int, high: int | None) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if not value.isdigit() or int(value) < low or (high is not None and int(value) > high):
        bound = f"{low} to {high}" if high is not None else f"at least {low}"
        raise BadRequest(f"{name} must be a whole number {bound}, not {value!r}")
    return int(value)
