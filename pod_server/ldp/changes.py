"""Change events: what one committed atomic step did, for notifications."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pod_server.ldp import paths
from pod_server.storage.base import ABSENT, Expect, Meta, Mutation, Put, Touch


@dataclass(frozen=True, slots=True)
class Change:
    """One committed change, in Activity Streams terms (Solid Notifications Protocol).

    ``Create``/``Update``/``Delete`` have the changed resource as ``path``; ``Add`` and
    ``Remove`` have the container as ``path`` and the member as ``object``. ``state`` is
    the topic's new etag when it still exists.
    """

    kind: str
    path: str
    object: str | None = None
    state: str | None = None


def describe_changes(
    expects: Sequence[Expect], mutations: Sequence[Mutation], written: Mapping[str, Meta]
) -> list[Change]:
    """The changes one atomic step made, derived from its plan (so nothing is missed)."""
    absent = {e.path for e in expects if e.etag == ABSENT}
    changes: list[Change] = []
    for mutation in mutations:
        if isinstance(mutation, Touch):
            continue  # a container touched because of a member: reported as Add/Remove
        path = mutation.path
        parent = paths.parent(path)
        member = parent is not None and not paths.is_auxiliary(path)
        parent_state = written[parent].etag if member and parent in written else None
        if isinstance(mutation, Put):
            created = path in absent
            changes.append(
                Change("Create" if created else "Update", path, state=written[path].etag)
            )
            if created and member and parent is not None:
                changes.append(Change("Add", parent, path, parent_state))
        else:
            changes.append(Change("Delete", path))
            if member and parent is not None:
                changes.append(Change("Remove", parent, path, parent_state))
    return changes
