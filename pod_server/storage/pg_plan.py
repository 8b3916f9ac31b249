"""Writes simulated in memory from the rows they read, written out in one statement.

A :class:`Plan` starts from the rows a batch read under its locks (resources, usage
counters held ``FOR UPDATE``, audit heads) and plays writes on them one after another:
each checks its ``Expect`` s and its quota against the state the writes before it left,
then changes that state. At the end one ``WRITE`` statement stores every path's end state,
the counters, the outbox rows and the audit entries. Nothing reaches the database before
that statement, so a write refused halfway changes nothing and needs no savepoint.

The per-write path (``pg_batch``) uses a plan of one write each; the batch path one plan
for all, which needs every write's quota root counted already and every body in its row
(else :class:`Fallback`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from pod_server.storage.base import (
    Delete,
    Expect,
    Log,
    LogRow,
    LogState,
    Meta,
    Mutation,
    Put,
    Quota,
    QuotaExceeded,
    Touch,
)
from pod_server.storage.common import (
    chain_logs,
    expect_holds,
    new_etag,
    parent_of,
    put_size,
    refusal,
    root_deltas,
    size_changes,
    stale,
)

Row = Mapping[str, Any]  # an asyncpg.Record of the STATE statement


class Fallback(Exception):
    """The batch needs the per-write path: a root to count, or a body kept outside its row."""


@dataclass(slots=True)
class Final:
    """A path's state after the writes played so far."""

    content_type: str
    size: int
    etag: str
    modified: float
    put: Put | None  # the Put that wrote it in this plan, None if only touched
    blob: int | None = None


def needs_blobs(mutations: Iterable[Mutation], inline_threshold: int) -> bool:
    """Whether a Put's body is (or must become) a blob: claimed or chunked in the transaction."""
    return any(
        isinstance(m, Put)
        and (m.body.blob is not None or len(m.body.data or b"") > inline_threshold)
        for m in mutations
    )


class Plan:
    """The state a batch read (``rows``: kind 'r' resources, 'c' counters, 'h' audit heads)
    and what its writes played on it so far."""

    def __init__(self, rows: Iterable[Row], inline_threshold: int) -> None:
        self.inline_threshold = inline_threshold  # larger bodies are chunked into blobs
        self.current: dict[str, Row] = {}  # resource rows as read
        self.counters: dict[str, int] = {}  # usage per counted root, as played
        self.limits: dict[str, int | None] = {}
        self.heads: dict[str, LogState] = {}
        for row in rows:
            kind, path = row["kind"], row["path"]
            if kind == "r":
                self.current[path] = row
            elif kind == "c":
                self.counters[path] = int(row["size"])
                self.limits[path] = row["byte_limit"]
            else:
                seq, anchor = int(row["size"]), int(row["anchor_seq"])
                self.heads[path] = LogState(seq, row["hash"], anchor, row["anchor_hash"])
        self.counted = dict(self.counters)  # as stored
        self.final: dict[str, Final | None] = {}  # paths changed: their end state (None: gone)
        self.outbox: list[tuple[str, str, str | None]] = []
        self.claimed: list[int] = []

    def state(self, path: str) -> Final | None:
        if path in self.final:
            return self.final[path]
        row = self.current.get(path)
        if row is None:
            return None
        size, etag, modified = int(row["size"]), row["etag"], row["modified"]
        return Final(row["content_type"], size, etag, modified, None, row["blob"])

    def _size(self, path: str) -> int | None:
        state = self.state(path)
        return None if state is None else state.size

    def check(self, expects: Sequence[Expect]) -> None:
        """Raise the error of the first ``Expect`` that does not hold now."""
        for expect in expects:
            state = self.state(expect.path)
            etag = None if state is None else state.etag
            if not expect_holds(expect, etag):
                raise stale(expect, etag)

    def uncounted(self, quota: Quota | None, mutations: Sequence[Mutation]) -> str | None:
        """The quota root these mutations count against when it has no counter yet."""
        root = None if quota is None else quota.root
        if root is None or root in self.counters:
            return None
        return root if any(m.path.startswith(root) for m in mutations) else None

    def add_counter(self, root: str, used: int, limit: int | None) -> None:
        """A counter just created (stored with ``used``) for ``root``."""
        self.counters[root] = self.counted[root] = used
        self.limits[root] = limit

    def refusal(self, quota: Quota | None, mutations: Sequence[Mutation]) -> QuotaExceeded | None:
        if quota is None or quota.root not in self.counters:
            return None
        deltas, _ = size_changes(mutations, self._size)
        delta = root_deltas(deltas, (quota.root,))[quota.root]
        used, override = self.counters[quota.root], self.limits.get(quota.root)
        return refusal(quota, used, delta, override)

    def play(self, mutations: Sequence[Mutation], claimed: Sequence[int] = ()) -> dict[str, Meta]:
        """Apply ``mutations`` (checked already) to the state; their resulting metadata."""
        deltas, final_sizes = size_changes(mutations, self._size)
        for root, delta in root_deltas(deltas, self.counters).items():
            if final_sizes.get(root, 0) is None:
                del self.counters[root]  # the root is gone: it is counted afresh if it returns
            elif delta:
                self.counters[root] += delta
        self.claimed.extend(claimed)
        ends: dict[str, Final | None] = {}  # this write's end states
        result: dict[str, Meta] = {}
        for mutation in mutations:
            path = mutation.path
            state: Final | None
            if isinstance(mutation, Put):
                body = mutation.body
                blob = None if body.blob is None else int(body.blob)
                modified = time.time()
                state = Final(
                    mutation.content_type, put_size(mutation), new_etag(), modified, mutation, blob
                )
            elif isinstance(mutation, Delete):
                ends[path] = None
                result.pop(path, None)
                continue
            else:  # Touch; a missing path is ignored
                assert isinstance(mutation, Touch)
                before = ends[path] if path in ends else self.state(path)
                if before is None:
                    continue
                state = replace(before, etag=new_etag(), modified=time.time())
            ends[path] = state
            result[path] = Meta(path, state.content_type, state.size, state.etag, state.modified)
        for path, end in ends.items():
            existed = self.state(path) is not None
            if end is None:
                if existed:
                    self.outbox.append((path, "delete", None))
            elif end.put is None:
                self.outbox.append((path, "touch", end.etag))
            else:
                self.outbox.append((path, "update" if existed else "create", end.etag))
            self.final[path] = end
        return result

    def unstored(self) -> list[Final]:
        """End states whose body must be chunked into a blob before ``write_args``."""
        return [
            end
            for end in self.final.values()
            if end is not None
            and end.put is not None
            and end.blob is None
            and len(end.put.body.data or b"") > self.inline_threshold
        ]

    def write_args(self, garbage_grace: float, logs: Sequence[Log] = ()) -> list[Any]:
        """The ``WRITE`` statement's arguments: every end state, counter, outbox row and
        audit entry (chained after ``heads``: logs need their roots' heads read)."""
        deleted: list[str] = []
        upserts: list[tuple[str, Final]] = []
        touches: list[tuple[str, Final]] = []
        garbage: set[int] = set(self.claimed)
        for path, end in self.final.items():
            old = self.current.get(path)
            if old is not None and old["blob"] is not None and (end is None or end.put is not None):
                garbage.add(old["blob"])  # its body is replaced or gone
            if end is None:
                if old is not None:
                    deleted.append(path)
            elif end.put is None:
                touches.append((path, end))
            else:
                upserts.append((path, end))
        garbage.difference_update(end.blob for _, end in upserts if end.blob is not None)
        counted = [
            (r, self.counters[r] - used)
            for r, used in self.counted.items()
            if r in self.counters and self.counters[r] != used
        ]
        dropped = [r for r in self.counted if r not in self.counters]
        rows = chain_logs(logs, self.heads.__getitem__) if logs else []
        return [
            deleted,
            [p for p, _ in upserts],
            [parent_of(p) for p, _ in upserts],
            [s.content_type for _, s in upserts],
            [s.size for _, s in upserts],
            [s.etag for _, s in upserts],
            [s.modified for _, s in upserts],
            [s.blob for _, s in upserts],
            [_inline(s) for _, s in upserts],
            [p for p, _ in touches],
            [s.etag for _, s in touches],
            [s.modified for _, s in touches],
            [r for r, _ in counted],
            [d for _, d in counted],
            dropped,
            garbage_grace,
            sorted(garbage),
            [o[0] for o in self.outbox],
            [o[1] for o in self.outbox],
            [o[2] for o in self.outbox],
            *log_args(rows),
        ]


def log_args(rows: Sequence[LogRow]) -> list[list[Any]]:
    """The arguments appending chained ``rows`` (and moving their roots' heads) take."""
    last = {row.root: row for row in rows}
    return [
        [r.root for r in rows],
        [r.seq for r in rows],
        [r.at for r in rows],
        [r.agent for r in rows],
        [r.resource for r in rows],
        [r.outcome for r in rows],
        [r.body for r in rows],
        [r.prev for r in rows],
        [r.hash for r in rows],
        list(last),
        [r.seq for r in last.values()],
        [r.hash for r in last.values()],
    ]


def _inline(state: Final) -> bytes | None:
    if state.blob is not None or state.put is None:
        return None
    return bytes(state.put.body.data or b"")
