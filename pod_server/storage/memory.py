"""An in-memory storage backend for tests, behaving exactly like the file backend.

It also holds the small pieces both backends share so they cannot drift apart: the etag
format, precondition checks, range clamping and the in-memory :class:`BytesStored`.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator, Mapping, Sequence

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
    Staged,
    Touch,
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

    async def children(self, path: str) -> list[Meta]:
        members = [meta for p, (meta, _) in self._rows.items() if parent_of(p) == path]
        return sorted(members, key=lambda meta: meta.path)

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
        self, expects: Sequence[Expect], mutations: Sequence[Mutation]
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
        result: dict[str, Meta] = {}
        for mutation in mutations:
            self._mutate(mutation, result)
        return result

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
