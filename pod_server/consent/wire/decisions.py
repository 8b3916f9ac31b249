"""Parsing an owner's decision on a consent record (``POST R.well-known/consent/<id>``).

JSON::

    {"decision": "approve" | "deny" | "withdraw",
     "targets": [{"url": "https://…/bank/", "modes": ["Append"]}],   # approve only, optional
     "until": "2026-06-30T00:00:00Z"}                                # approve only, optional

or the same from an HTML form (``application/x-www-form-urlencoded``): ``decision=approve``,
one ``access`` field per granted target and mode, written ``MODE URL`` (a checkbox each,
e.g. ``access=Append https://…/bank/``), and ``until`` as an ISO date-time with a time
zone or a plain date (``2026-06-30``: to the end of that day, UTC).

Absent targets or until mean "as requested"; whether the targets are within what was
requested is the consent model's check. Pure: 400 for an unparsable body, 422 naming the
field for a well-formed but unusable one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qs

from pod_server.consent.wire.requests import (
    MODES,
    RequestedTarget,
    Scope,
    check_targets,
    check_until,
    invalid,
    parse_time,
)
from pod_server.errors import BadRequest, UnsupportedMediaType
from pod_server.ldp import conneg

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
MAX_BODY = 64 * 1024


class Decision(StrEnum):
    APPROVE = "approve"
    DENY = "deny"
    WITHDRAW = "withdraw"


@dataclass(frozen=True, slots=True)
class ParsedDecision:
    decision: Decision
    targets: tuple[RequestedTarget, ...] | None = None  # None: as requested
    until: datetime | None = None  # None: as requested


def parse_decision(body: bytes, content_type: str, scope: Scope) -> ParsedDecision:
    """The decision in ``body``, JSON or an HTML form."""
    if len(body) > MAX_BODY:
        raise invalid("body", f"larger than the {MAX_BODY}-byte limit for a decision")
    essence = conneg.parse_content_type(content_type)[0]
    if essence == JSON:
        return _from_json(body, scope)
    if essence == FORM:
        return _from_form(body, scope)
    raise UnsupportedMediaType(f"A decision is {JSON} or {FORM}, not {essence or 'untyped'}")


def _from_json(body: bytes, scope: Scope) -> ParsedDecision:
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(f"The body is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise invalid("body", "a decision is a JSON object")
    unknown = sorted(set(document) - {"decision", "targets", "until"})
    if unknown:
        raise invalid(unknown[0], "unknown field; use decision, targets, until")
    decision = _decision(document.get("decision"))
    targets = None
    if "targets" in document:
        targets = tuple(_json_target(t, f"targets[{i}]") for i, t in enumerate(_list(document)))
    until = parse_time(document["until"], "until") if "until" in document else None
    return _checked(decision, targets, until, scope, "targets")


def _list(document: dict[str, Any]) -> list[Any]:
    value = document["targets"]
    if not isinstance(value, list):
        raise invalid("targets", "must be a list of {url, modes} objects")
    return value


def _json_target(item: Any, field: str) -> RequestedTarget:
    if not isinstance(item, dict) or not isinstance(item.get("url"), str):
        raise invalid(field, 'must be {"url": URL, "modes": [...]}')
    modes = item.get("modes")
    if not isinstance(modes, list) or not modes:
        raise invalid(f"{field}.modes", f"required: one or more of {', '.join(MODES)}")
    for mode in modes:
        if mode not in MODES:
            raise invalid(f"{field}.modes", f"unknown mode {mode!r}; use {', '.join(MODES)}")
    return RequestedTarget(item["url"], frozenset(modes))


def _from_form(body: bytes, scope: Scope) -> ParsedDecision:
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(f"The body is not a URL-encoded form: {exc}") from None
    decision = _decision(_single(fields, "decision"))
    targets = None
    if "access" in fields:
        found: dict[str, set[str]] = {}
        for value in fields["access"]:
            mode, _, url = value.strip().partition(" ")
            if mode not in MODES or not url.strip():
                raise invalid("access", f"{value!r} is not 'MODE URL' with MODE one of {MODES}")
            found.setdefault(url.strip(), set()).add(mode)
        targets = tuple(RequestedTarget(u, frozenset(m)) for u, m in sorted(found.items()))
    until_text = _single(fields, "until")
    until = _form_time(until_text) if until_text else None
    return _checked(decision, targets, until, scope, "access")


def _single(fields: dict[str, list[str]], name: str) -> str | None:
    values = fields.get(name)
    if values is not None and len(values) > 1:
        raise invalid(name, "given more than once")
    return values[0] if values else None


def _form_time(text: str) -> datetime:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return parse_time(text, "until")
    return datetime.combine(day + timedelta(days=1), time(), UTC)  # the end of that day


def _decision(value: Any) -> Decision:
    try:
        return Decision(value)
    except ValueError:
        raise invalid("decision", f"{value!r}: use approve, deny or withdraw") from None


def _checked(
    decision: Decision,
    targets: tuple[RequestedTarget, ...] | None,
    until: datetime | None,
    scope: Scope,
    targets_field: str,
) -> ParsedDecision:
    if decision is not Decision.APPROVE and (targets is not None or until is not None):
        field = targets_field if targets is not None else "until"
        raise invalid(field, f"only an approval narrows the targets or until, not {decision}")
    if targets is not None:
        check_targets(targets, scope, targets_field)
    check_until(until, scope, "until")
    return ParsedDecision(decision, targets, until)
