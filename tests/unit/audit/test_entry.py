"""Audit entries: canonical bytes, the storage step they make, parsing back."""

from __future__ import annotations

import json

import pytest

from pod_server.audit.entry import Action, AuditEntry, action_of
from pod_server.storage.base import Log


def test_canonical_bytes_are_sorted_compact_json() -> None:
    entry = AuditEntry("/", Action.READ, "http://pod/doc", 200, agent="https://a/#me", at=5.0)
    body = entry.canonical()
    data = json.loads(body)
    assert list(data) == sorted(data)
    assert data["action"] == "View" and data["at"] == 5.0 and data["client"] is None
    assert b" " not in body


def test_unicode_is_kept_as_utf8() -> None:
    entry = AuditEntry("/", Action.READ, "http://pod/caf\u00e9", 200, at=1.0)
    assert "caf\u00e9".encode() in entry.canonical()


def test_mutation_carries_the_body_and_filter_columns() -> None:
    entry = AuditEntry("/a/", Action.UPDATE, "http://pod/a/x", 204, agent="https://b/#it", at=3.0)
    log = entry.mutation()
    assert log == Log("/a/", entry.canonical(), 3.0, "http://pod/a/x", 204, "https://b/#it")


def test_parse_round_trips_and_refuses_other_bytes() -> None:
    entry = AuditEntry(
        "/", Action.GRANT, "http://pod/c", 200, consent="http://pod/.well-known/consent/x", at=2.0
    )
    assert AuditEntry.parse(entry.canonical()) == entry
    with pytest.raises(ValueError):
        AuditEntry.parse(b'{"root": "/"}')
    with pytest.raises(ValueError):
        AuditEntry.parse(json.dumps(json.loads(entry.canonical()), indent=1).encode())


def test_actions_of_methods() -> None:
    assert action_of("GET", 200) is Action.READ
    assert action_of("PUT", 201) is Action.CREATE
    assert action_of("PUT", 204) is Action.UPDATE
    assert action_of("POST", 201) is Action.CREATE
    assert action_of("DELETE", 403) is Action.DELETE
