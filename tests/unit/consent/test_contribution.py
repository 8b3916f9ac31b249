"""The audit entry of a contribution: what it records, and the bodies it refuses."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pod_server.audit.entry import Action, AuditEntry
from pod_server.consent.contribution import contribution_entry
from pod_server.errors import BadRequest

GOOD: dict[str, Any] = {
    "study": "https://ademe.example/studies/grid#study",
    "statistic": "monthly-consumption",
    "round": "r1",
    "consent": "https://pod.example/alice/.well-known/consent/abc",
    "digest": "ab" * 32,
    "cells": 12,
}


def test_the_entry_names_study_statistic_round_and_consent() -> None:
    entry = contribution_entry("/alice/", "https://pod.example/alice/profile/card#me", None, GOOD)
    assert entry.action is Action.CONTRIBUTE and entry.outcome == 201
    assert entry.resource == GOOD["study"] and entry.consent == GOOD["consent"]
    detail = json.loads(entry.detail or "")
    assert detail == {
        "statistic": "monthly-consumption",
        "round": "r1",
        "cells": 12,
        "digest": "ab" * 32,
    }
    assert AuditEntry.parse(entry.canonical()) == entry


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"study": "urn:x"}, "study"),
        ({"consent": None}, "consent"),
        ({"statistic": "a b"}, "statistic"),
        ({"round": ""}, "round"),
        ({"digest": "xyz"}, "digest"),
        ({"cells": -1}, "cells"),
        ({"cells": True}, "cells"),
    ],
)
def test_malformed_bodies_are_refused(change: dict[str, Any], message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        contribution_entry("/alice/", "https://x/#me", None, {**GOOD, **change})
    with pytest.raises(BadRequest, match="JSON object"):
        contribution_entry("/alice/", "https://x/#me", None, [GOOD])
