"""An in-memory storage backend for tests, behaving exactly like the file backend."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import replace

from pod_server.errors import NotFound, PayloadTooLarge
from pod_server.storage.base import (
    Checkpoint,
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
    Usage,
    check_limit,
    check_page,
    check_root,
    split_logs,
)
from pod_server.storage.common import (
    BytesStored,
    chain_logs,
    check_log_query,
    check_log_rows,
    check_mutation,
    covering_roots,
    expect_holds,
    inline_body,
    log_matches,
    new_etag,
    parent_of,
    refusal,
    root_deltas,
    size_changes,
    stale,
    trim_cut,
)


class MemoryBackend:
    """A dict of resources; writes are atomic because ``apply`` never awaits mid-way."""

    def __init__(self) -> None:
        self._rows: dict[str, tuple[Meta, bytes]] = {}
        self._used: dict[str, int] = {}  # quota root -> counted bytes under it
        self._limits: dict[str, int] = {}  # quota root -> its own byte limit
        self._logs: dict[str, list[LogRow]] = {}  # audit root -> its rows in seq order
        self._heads: dict[str, LogState] = {}
        self._checkpoints: dict[str, dict[int, Checkpoint]] = {}

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def meta(self, path: str) -> Meta | None:
        row = self._rows.get(path)
        return row[0] if row else None

    async def metas(self, paths: Sequence[str]) -> dict[str, Meta]:
        return {path: row[0] for path in paths if (row := self._rows.get(path))}

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
        steps: Sequence[Mutation | Log],
        quota: Quota | None = None,
    ) -> Mapping[str, Meta]:
        mutations, logs = split_logs(steps)
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
        for row in chain_logs(logs, self._head):
            self._logs.setdefault(row.root, []).append(row)
            self._heads[row.root] = replace(self._head(row.root), seq=row.seq, hash=row.hash)
        return result

    # -- audit logs ------------------------------------------------------------------------

    def _head(self, root: str) -> LogState:
        return self._heads.get(root) or LogState()

    async def log_page(self, root: str, query: LogQuery) -> list[LogRow]:
        check_log_query(root, query)
        rows = [row for row in reversed(self._logs.get(root, [])) if log_matches(row, query)]
        return rows[: query.limit]

    async def log_rows(self, root: str, after: int = 0, limit: int = 1000) -> list[LogRow]:
        check_log_rows(root, after, limit)
        return [row for row in self._logs.get(root, []) if row.seq > after][:limit]

    async def log_state(self, root: str) -> LogState:
        check_root(root)
        return self._head(root)

    async def log_trim(self, before: float, root: str | None = None) -> int:
        removed = 0
        for name in [root] if root is not None else list(self._logs):
            rows = self._logs.get(name, [])
            cut = trim_cut(rows, before)
            if cut is None:
                continue
            kept = [row for row in rows if row.seq > cut.seq]
            removed += len(rows) - len(kept)
            self._logs[name] = kept
            head = self._head(name)
            self._heads[name] = LogState(head.seq, head.hash, cut.seq, cut.hash)
        return removed

    async def add_checkpoint(self, checkpoint: Checkpoint) -> None:
        check_root(checkpoint.root)
        self._checkpoints.setdefault(checkpoint.root, {})[checkpoint.seq] = checkpoint

    async def checkpoints(self, root: str) -> list[Checkpoint]:
        check_root(root)
        return [cp for _, cp in sorted(self._checkpoints.get(root, {}).items())]

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

    async def limits(self) -> dict[str, int]:
        return dict(self._limits)

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
