"""An in-memory storage backend for tests, behaving exactly like the file backend.

It also holds the small pieces both backends share so they cannot drift apart: the etag
format, precondition checks, range clamping and the in-memory :class:`BytesStored`.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Mapping, Sequence

from pod_server.errors import NotFound, PayloadTooLarge, StaleState
from pod_server.storage.base import (
    ABSENT,
    CHUNK_SIZE,
    PRESENT,
    Delete,
    Expect,
    Meta,
    Mutation,
    Put,
    Quota,
    QuotaExceeded,
    Staged,
    Touch,
    Usage,
    check_limit,
    check_page,
    check_root,
)


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


class MemoryBackend:
    """A dict of resources; writes are atomic because ``apply`` never awaits mid-way."""

    def __init__(self) -> None:
        self._rows: dict[str, tuple[Meta, bytes]] = {}
        self._used: dict[str, int] = {}  # quota root -> counted bytes under it
        self._limits: dict[str, int] = {}  # quota root -> its own byte limit

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def meta(self, path: str) -> Meta | None:
        row = self._rows.get(path)
        return row[0] if row else None

    async def read(self, path: str) -> BytesStored:
        row = self._rows.get(path)
        if row is None:
            raise NotFound(path)
        return BytesStored(*row)

    async def children(
        self, path: str, after: str | None = None, limit: int | None = None
    ) -> list[Meta]:
        check_page(after, limit)
        members = sorted(
            (meta for p, (meta, _) in self._rows.items() if parent_of(p) == path),
            key=lambda meta: meta.path,
        )
        if after is not None:
            members = [meta for meta in members if meta.path > after]
        return members if limit is None else members[:limit]

    async def stage(self, chunks: AsyncIterator[bytes], limit: int) -> Staged:
        parts: list[bytes] = []
        size = 0
        async for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"Body larger than {limit} bytes")
            parts.append(bytes(chunk))
        return Staged.of(b"".join(parts))

    async def discard(self, staged: Staged) -> None:
        return None

    async def apply(
        self,
        expects: Sequence[Expect],
        mutations: Sequence[Mutation],
        quota: Quota | None = None,
    ) -> Mapping[str, Meta]:
        # Validate everything first so a bad mutation cannot leave a half-applied batch.
        for mutation in mutations:
            check_mutation(mutation)
            if isinstance(mutation, Put):
                inline_body(mutation.body)
        for expect in expects:
            row = self._rows.get(expect.path)
            current = row[0].etag if row else None
            if not expect_holds(expect, current):
                raise stale(expect, current)
        refused = self._count(mutations, quota)
        if refused is not None:
            raise refused
        result: dict[str, Meta] = {}
        for mutation in mutations:
            self._mutate(mutation, result)
        return result

    async def usage(self, root: str) -> Usage:
        check_root(root)
        used = self._used.get(root)
        if used is None:
            used = self._scan(root)
            if root in self._rows:  # count an existing root from now on
                self._used[root] = used
        return Usage(used, self._limits.get(root))

    async def set_limit(self, root: str, limit: int | None) -> None:
        check_root(root)
        check_limit(limit)
        if limit is None:
            self._limits.pop(root, None)
        else:
            self._limits[root] = limit

    def _scan(self, root: str) -> int:
        return sum(meta.size for path, (meta, _) in self._rows.items() if path.startswith(root))

    def _size(self, path: str) -> int | None:
        row = self._rows.get(path)
        return None if row is None else row[0].size

    def _count(self, mutations: Sequence[Mutation], quota: Quota | None) -> QuotaExceeded | None:
        """Update every counter covering the batch, or return why the quota refuses it.

        Mirrors ``FileBackend._count``: a counter created here is kept even on refusal.
        """
        paths = [m.path for m in mutations]
        root = None if quota is None else quota.root
        if root is not None and root not in self._used and any(p.startswith(root) for p in paths):
            self._used[root] = self._scan(root)
        counted = [r for r in covering_roots(paths) if r in self._used]
        if not counted:
            return None
        deltas, final = size_changes(mutations, self._size)
        by_root = root_deltas(deltas, counted)
        if quota is not None and quota.root in by_root:
            used, override = self._used[quota.root], self._limits.get(quota.root)
            error = refusal(quota, used, by_root[quota.root], override)
            if error is not None:
                return error
        for root, delta in by_root.items():
            if root in final and final[root] is None:  # the root itself is gone
                del self._used[root]
            else:
                self._used[root] += delta
        return None

    def _mutate(self, mutation: Mutation, result: dict[str, Meta]) -> None:
        path = mutation.path
        if isinstance(mutation, Put):
            data = inline_body(mutation.body)
            meta = Meta(path, mutation.content_type, len(data), new_etag(), time.time())
            self._rows[path] = (meta, data)
            result[path] = meta
        elif isinstance(mutation, Delete):
            self._rows.pop(path, None)
            result.pop(path, None)
        elif path in self._rows:  # Touch; a missing path is ignored
            old, data = self._rows[path]
            meta = Meta(path, old.content_type, old.size, new_etag(), time.time())
            self._rows[path] = (meta, data)
            result[path] = meta
