"""An owner's decision, as JSON and as a web page's form: what it yields and every refusal."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest

from pod_server.consent.wire.decisions import (
    MAX_BODY,
    Decision,
    ParsedDecision,
    parse_decision,
)
from pod_server.consent.wire.requests import RequestedTarget, Scope
from pod_server.errors import PodError, UnsupportedMediaType
from pod_server.ldp.layout import Layout

POD = "https://me.example/"
SCOPE = Scope(Layout(POD), "/", datetime(2026, 1, 1, tzinfo=UTC))
FORM = "application/x-www-form-urlencoded"


def decide(body: Any, ctype: str = "application/json") -> ParsedDecision:
    if isinstance(body, dict):
        body = json.dumps(body)
    if isinstance(body, list):  # form fields
        body, ctype = urlencode(body), FORM
    return parse_decision(body.encode() if isinstance(body, str) else body, ctype, SCOPE)


def refused(body: Any, ctype: str = "application/json", status: int = 422) -> str:
    with pytest.raises(PodError) as caught:
        decide(body, ctype)
    assert caught.value.status == status, caught.value.message
    return caught.value.message


def test_plain_decisions() -> None:
    for name in ("approve", "deny", "withdraw"):
        assert decide({"decision": name}) == ParsedDecision(Decision(name))
        assert decide([("decision", name)]) == ParsedDecision(Decision(name))


def test_partial_approval_as_json() -> None:
    parsed = decide(
        {
            "decision": "approve",
            "targets": [{"url": POD + "bank/", "modes": ["Append"]}],
            "until": "2026-03-31T00:00:00+02:00",
        }
    )
    assert parsed.decision is Decision.APPROVE
    assert parsed.targets == (RequestedTarget(POD + "bank/", frozenset({"Append"})),)
    assert parsed.until == datetime(2026, 3, 30, 22, tzinfo=UTC)


def test_partial_approval_from_a_form() -> None:
    parsed = decide(
        [
            ("decision", "approve"),
            ("access", f"Append {POD}bank/"),
            ("access", f"Read {POD}bank/"),
            ("access", f"Read {POD}profile"),
            ("until", "2026-03-31"),
        ]
    )
    assert parsed.targets == (
        RequestedTarget(POD + "bank/", frozenset({"Append", "Read"})),
        RequestedTarget(POD + "profile", frozenset({"Read"})),
    )
    assert parsed.until == datetime(2026, 4, 1, tzinfo=UTC)  # the end of the day given
    timed = decide([("decision", "approve"), ("until", "2026-03-31T12:00:00Z")])
    assert timed.until == datetime(2026, 3, 31, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({}, "decision: None: use approve, deny or withdraw"),
        ({"decision": "maybe"}, "decision: 'maybe': use approve, deny or withdraw"),
        ({"decision": "approve", "why": "x"}, "why: unknown field"),
        ({"decision": "approve", "targets": "all"}, "targets: must be a list"),
        ({"decision": "approve", "targets": [POD]}, 'targets[0]: must be {"url": URL'),
        ({"decision": "approve", "targets": [{"url": POD}]}, "targets[0].modes: required"),
        (
            {"decision": "approve", "targets": [{"url": POD, "modes": []}]},
            "targets[0].modes: required",
        ),
        (
            {"decision": "approve", "targets": [{"url": POD, "modes": ["Fly"]}]},
            "targets[0].modes: unknown mode 'Fly'",
        ),
        ({"decision": "approve", "targets": []}, "targets: no target"),
        (
            {
                "decision": "approve",
                "targets": [{"url": "https://other.example/x", "modes": ["Read"]}],
            },
            "targets: <https://other.example/x> is not a resource of this storage",
        ),
        (
            {
                "decision": "approve",
                "targets": [{"url": f"{POD}d{n}", "modes": ["Read"]} for n in range(101)],
            },
            "targets: 101 targets; at most 100",
        ),
        (
            {"decision": "approve", "until": "2025-12-31T00:00:00Z"},
            "until: 2025-12-31T00:00:00+00:00 is in the past",
        ),
        (
            {"decision": "approve", "until": "2026-12-31T00:00:00"},
            "until: '2026-12-31T00:00:00' has no time zone",
        ),
        ({"decision": "approve", "until": 5}, "until: must be an ISO 8601 date-time string"),
        (
            {"decision": "deny", "until": "2026-12-31T00:00:00Z"},
            "until: only an approval narrows the targets or until, not deny",
        ),
        ({"decision": "withdraw", "targets": []}, "targets: only an approval narrows"),
        ([("decision", "approve"), ("decision", "deny")], "decision: given more than once"),
        (
            [("decision", "approve"), ("access", f"Fly {POD}x")],
            "access: 'Fly https://me.example/x' is not 'MODE URL'",
        ),
        ([("decision", "approve"), ("access", "Read")], "access: 'Read' is not 'MODE URL'"),
        (
            [("decision", "approve"), ("access", "Read https://other.example/")],
            "access: <https://other.example/> is not a resource of this storage",
        ),
        ([("decision", "deny"), ("access", f"Read {POD}")], "access: only an approval narrows"),
        (
            [("decision", "approve"), ("until", "soon")],
            "until: 'soon' is not an ISO 8601 date-time",
        ),
        (
            [("decision", "approve"), ("until", "2025-01-01")],
            "until: 2025-01-02T00:00:00+00:00 is in the past",
        ),
    ],
)
def test_refusals(body: Any, fragment: str) -> None:
    assert refused(body).startswith(fragment)


def test_unparsable_oversized_and_untyped_bodies() -> None:
    assert refused(b"{", status=400).startswith("The body is not JSON")
    assert refused(b"[]") == "body: a decision is a JSON object"
    assert refused(b"a=1&&&=", FORM, status=400).startswith("The body is not a URL-encoded form")
    assert refused(b"x" * (MAX_BODY + 1)).startswith("body: larger than the 65536-byte limit")
    with pytest.raises(UnsupportedMediaType):
        decide(b"decision=approve", "text/plain")
