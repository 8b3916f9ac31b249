"""One audit entry: who did what to which resource, with what outcome, relying on what.

Each entry is an Activity Streams 2.0 activity (``Action`` names its type). Its canonical
bytes (sorted-key compact JSON, UTF-8) are what the storage hashes into the chain, and what
readers render: the storage's other columns only serve filtering.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

from pod_server.storage.base import Log


class Action(StrEnum):
    """What was done, as the AS2 activity type recording it."""

    READ = "View"
    CREATE = "Create"
    UPDATE = "Update"
    APPEND = "Add"
    DELETE = "Delete"
    REQUEST = "Offer"
    GRANT = "Accept"
    REFUSE = "Reject"
    WITHDRAW = "Undo"
    EXPIRE = "Remove"
    EXPORT = "Move"  # a copy of the pod left it
    SIGN_IN = "Join"  # the owner signed in
    CONTRIBUTE = "Announce"  # data shared into statistics


# The action an HTTP method performs on a resource (a refused request records what it tried).
METHOD_ACTIONS: dict[str, Action] = {
    "GET": Action.READ,
    "HEAD": Action.READ,
    "OPTIONS": Action.READ,
    "PUT": Action.UPDATE,
    "POST": Action.CREATE,
    "PATCH": Action.UPDATE,
    "DELETE": Action.DELETE,
}


def action_of(method: str, status: int) -> Action:
    """The action of an HTTP request: a write that created something (201) is a Create."""
    if method in ("PUT", "PATCH") and status == 201:
        return Action.CREATE
    return METHOD_ACTIONS.get(method, Action.READ)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    root: str  # storage root path the entry belongs to
    action: Action
    resource: str  # URL acted on (for consent actions: the record's URL)
    outcome: int  # HTTP status: 200, 201, 204, 401, 403, 409, ...
    agent: str | None = None  # WebID; None = anonymous
    client: str | None = None  # client_id of the token
    consent: str | None = None  # URL of the consent record relied on / changed
    at: float = field(default_factory=time.time)
    detail: str | None = None

    def canonical(self) -> bytes:
        """The bytes hashed into the chain: every field, sorted keys, compact, UTF-8."""
        values = {name: getattr(self, name) for name in _FIELDS}  # asdict() deep-copies: slow
        values["action"] = str(self.action)
        return _ENCODER.encode(values).encode()

    def mutation(self) -> Log:
        """The storage step appending this entry to its root's log."""
        return Log(
            root=self.root,
            body=self.canonical(),
            at=self.at,
            resource=self.resource,
            outcome=self.outcome,
            agent=self.agent,
        )

    @classmethod
    def parse(cls, body: bytes) -> AuditEntry:
        """The entry whose canonical bytes are ``body``; ValueError if they are not one."""
        try:
            data: Any = json.loads(body)
            entry = cls(**{**data, "action": Action(data["action"])})
        except (ValueError, TypeError, KeyError) as err:
            raise ValueError(f"not an audit entry: {err}") from None
        if entry.canonical() != body:
            raise ValueError("not in canonical form")
        return entry


_FIELDS = tuple(f.name for f in fields(AuditEntry))
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
