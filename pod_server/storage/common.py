"""What every storage backend shares, so the backends cannot drift apart: the etag format,
precondition checks, range clamping, quota arithmetic and the in-memory :class:`BytesStored`.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Mapping
from typing import TypeVar

from pod_server.errors import StaleState
from pod_server.storage.base import (
    ABSENT,
    CHUNK_SIZE,
    PRESENT,
    Delete,
    Expect,
    Log,
    LogQuery,
    LogRow,
    LogState,
    Meta,
    Mutation,
    Put,
    Quota,
    QuotaExceeded,
    Staged,
    Touch,
    check_root,
    link_hash,
)

K = TypeVar("K")  # how a backend names a staged blob


def new_etag() -> str:
    """A fresh version token: 20 random lowercase hex digits (80 bits, never reused)."""
    return secrets.token_hex(10)


def parent_of(path: str) -> str | None:
    """The container holding ``path`` (``None`` for the root); mirrors ``ldp.paths.parent``.

    Kept local so storage never imports ``ldp``, which sits above it.
    """
    if path == "/":
        return None
    trimmed = path[:-1] if path.endswith("/") else path
    return trimmed[: trimmed.rfind("/") + 1]


def expect_holds(expect: Expect, current_etag: str | None) -> bool:
    """Whether ``expect`` is met by a resource currently at ``current_etag`` (None: absent)."""
    if expect.etag == ABSENT:
        return current_etag is None
    if expect.etag == PRESENT:
        return current_etag is not None
    return current_etag == expect.etag


def stale(expect: Expect, current_etag: str | None) -> StaleState:
    found = "absent" if current_etag is None else current_etag
    return StaleState(f"{expect.path}: expected {expect.etag!r}, found {found}")


def clamp_range(size: int, start: int, end: int | None) -> tuple[int, int]:
    """Clamp ``[start, end)`` into ``[0, size]``; negative offsets are a caller bug."""
    if start < 0 or (end is not None and end < 0):
        raise ValueError(f"Negative range bounds: {start}, {end}")
    stop = size if end is None else min(end, size)
    begin = min(start, size)
    return begin, max(begin, stop)


def inline_body(staged: Staged) -> bytes:
    """The bytes of a staged body held in memory; a blob handle is not ours to read."""
    if staged.blob is not None or staged.data is None:
        raise ValueError("Staged body is not an in-memory body of this backend")
    return bytes(staged.data)


def check_mutation(mutation: Mutation) -> None:
    if not isinstance(mutation, Put | Delete | Touch):
        raise TypeError(f"Not a storage mutation: {mutation!r}")


def claim_blobs(mutations: Iterable[Mutation], pending: Callable[[Staged], K | None]) -> list[K]:
    """Validate a batch; return the staged blobs it commits, each one ``pending`` knows as
    this backend's (its key, else None) and named only once."""
    claimed: list[K] = []
    for mutation in mutations:
        check_mutation(mutation)
        if not isinstance(mutation, Put):
            continue
        body = mutation.body
        if body.blob is None:
            if body.data is None:
                raise ValueError(f"Put {mutation.path} has no body")
            continue
        key = pending(body)
        if key is None or key in claimed:
            raise ValueError(f"Staged blob {body.blob!r} is not pending in this backend")
        claimed.append(key)
    return claimed


# -- quotas ---------------------------------------------------------------------------------


def put_size(put: Put) -> int:
    """The body bytes a Put stores (what ``Meta.size`` will say)."""
    body = put.body
    return body.size if body.blob is not None else len(body.data or b"")


def root_upper_bound(root: str) -> str:
    """The least string above every path under ``root``: the range is ``[root, bound)``."""
    check_root(root)
    return root[:-1] + chr(ord(root[-1]) + 1)


def covering_roots(paths: Iterable[str]) -> set[str]:
    """Every container path a counter could sit on for these paths (each one's ancestors,
    and the path itself when it is a container)."""
    roots: set[str] = set()
    for path in paths:
        end = path.find("/")
        while end >= 0:
            roots.add(path[: end + 1])
            end = path.find("/", end + 1)
    return roots


def size_changes(
    mutations: Iterable[Mutation], size_of: Callable[[str], int | None]
) -> tuple[dict[str, int], dict[str, int | None]]:
    """Simulate a batch on sizes: each path's net byte delta, and its final size (None: absent).

    ``size_of`` gives a path's size before the batch (None: absent); it is asked once per path.
    """
    final: dict[str, int | None] = {}
    deltas: dict[str, int] = {}
    for mutation in mutations:
        path = mutation.path
        if isinstance(mutation, Touch):
            continue
        current = final[path] if path in final else size_of(path)
        new = put_size(mutation) if isinstance(mutation, Put) else None
        deltas[path] = deltas.get(path, 0) + (new or 0) - (current or 0)
        final[path] = new
    return deltas, final


def root_deltas(deltas: Mapping[str, int], roots: Collection[str]) -> dict[str, int]:
    """Sum per-path deltas into each of ``roots`` that contains the path."""
    return {root: sum(d for p, d in deltas.items() if p.startswith(root)) for root in roots}


def refusal(quota: Quota, used: int, delta: int, override: int | None) -> QuotaExceeded | None:
    """The error for a batch adding ``delta`` bytes to ``used``, or None when it fits."""
    limit = override if override is not None else quota.default_limit
    if delta > 0 and limit is not None and used + delta > limit:
        return QuotaExceeded(quota.root, delta, used, limit)
    return None


class BytesStored:
    """A stored resource whose whole body is already in memory."""

    __slots__ = ("_data", "meta")

    def __init__(self, meta: Meta, data: bytes) -> None:
        self.meta = meta
        self._data = data

    def close(self) -> None:
        """Nothing to release: the body is plain memory."""

    async def read_all(self) -> bytes:
        return self._data

    async def iter_range(self, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        begin, stop = clamp_range(len(self._data), start, end)
        view = memoryview(self._data)
        for pos in range(begin, stop, CHUNK_SIZE):
            yield bytes(view[pos : min(pos + CHUNK_SIZE, stop)])


# -- audit logs ------------------------------------------------------------------------------

MAX_LOG_PAGE = 10_000  # rows one log read may return


def check_log_query(root: str, query: LogQuery) -> None:
    check_root(root)
    if not isinstance(query.limit, int) or not 0 < query.limit <= MAX_LOG_PAGE:
        raise ValueError(f"A log page's limit must be 1 to {MAX_LOG_PAGE}, not {query.limit!r}")


def check_log_rows(root: str, after: int, limit: int) -> None:
    check_root(root)
    if after < 0 or not 0 < limit <= MAX_LOG_PAGE:
        raise ValueError(f"Bad log range: after {after!r}, limit {limit!r}")


def log_matches(row: LogRow, query: LogQuery) -> bool:
    """Whether ``row`` passes ``query``'s filters (the backends' SQL says the same)."""
    if query.before is not None and row.seq >= query.before:
        return False
    if query.agent is not None and row.agent != query.agent:
        return False
    if query.resource is not None and not row.resource.startswith(query.resource):
        return False
    if query.since is not None and row.at < query.since:
        return False
    if query.until is not None and row.at >= query.until:
        return False
    low, high = query.outcomes or (row.outcome, row.outcome)
    return low <= row.outcome <= high


def chain_logs(logs: Iterable[Log], head: Callable[[str], LogState]) -> list[LogRow]:
    """Number and chain ``logs`` after each root's ``head`` (read once per root)."""
    heads: dict[str, LogState] = {}
    rows: list[LogRow] = []
    for log in logs:
        state = heads.get(log.root) or head(log.root)
        seq = state.seq + 1
        digest = link_hash(state.hash, seq, log.body)
        rows.append(
            LogRow(
                log.root,
                seq,
                log.at,
                log.agent,
                log.resource,
                log.outcome,
                log.body,
                state.hash,
                digest,
            )
        )
        heads[log.root] = LogState(seq, digest, state.anchor_seq, state.anchor_hash)
    return rows


def trim_cut(rows: Iterable[LogRow], before: float) -> LogRow | None:
    """The last row of the longest prefix of ``rows`` (in seq order) older than ``before``."""
    cut = None
    for row in rows:
        if row.at >= before:
            break
        cut = row
    return cut
