"""Large bodies in PostgreSQL: staged into ``blob_chunks`` and read back by ranges.

A body larger than the inline threshold is streamed into ``blob_chunks`` by
:meth:`StagedBlobs.stage` (never held whole in memory), each chunk committed on its own;
the batch that stores it claims the staged blob in its transaction. A body staged but never
committed is deleted by ``discard()``, by the backend's ``close()``, or by the collector
once its expiry passes (a crashed process). Reads hold no connection between chunks: a
:class:`ChunkedStored` fetches about 1 MiB per query, and still reads a replaced body for
``garbage_grace`` seconds after the replace.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import asyncpg

from pod_server.db.postgres import UNAVAILABLE, unavailable
from pod_server.errors import PayloadTooLarge, PodError
from pod_server.storage.base import CHUNK_SIZE, Meta, Staged
from pod_server.storage.common import clamp_range
from pod_server.storage.pg_sql import CHUNK_RANGE, CHUNKS, NEW_BLOB, STAGE_CHUNK

BLOB_CHUNK = 256 * 1024  # bytes per blob_chunks row
READ_BATCH = 1024 * 1024  # bytes of a large body fetched per query


class ChunkedStored:
    """A stored resource whose body is in ``blob_chunks``, fetched lazily by ranges.

    Holds no connection: each batch of chunks is one query. The blob outlives a replace or
    delete of its resource by ``garbage_grace`` seconds, so this stays a snapshot while it
    is read within that time.
    """

    def __init__(self, meta: Meta, pool: asyncpg.Pool, blob: int, chunk_size: int) -> None:
        self.meta = meta
        self._pool, self._blob, self._chunk = pool, blob, chunk_size
        self._closed = False

    def close(self) -> None:
        self._closed = True

    async def read_all(self) -> bytes:
        return b"".join([part async for part in self._batches(0, self.meta.size)])

    async def iter_range(self, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        pos, stop = clamp_range(self.meta.size, start, end)
        async for data in self._batches(pos, stop):
            view = memoryview(data)
            for offset in range(0, len(data), CHUNK_SIZE):
                yield bytes(view[offset : offset + CHUNK_SIZE])

    async def _batches(self, pos: int, stop: int) -> AsyncIterator[bytes]:
        batch = max(self._chunk, READ_BATCH // self._chunk * self._chunk)
        while pos < stop:
            if self._closed:
                raise ValueError("Stored body is closed")
            upto = min(stop, (pos // batch + 1) * batch)
            first, last = pos // self._chunk, (upto - 1) // self._chunk
            with unavailable():
                rows = await self._pool.fetch(
                    CHUNK_RANGE, self._blob, pos, upto, self._chunk, first, last
                )
            data = b"".join(row["data"] for row in rows)
            if len(rows) != last - first + 1 or len(data) != upto - pos:
                raise PodError(f"The body of {self.meta.path} changed or vanished while read")
            yield data
            pos = upto


class StagedBlobs:
    """The staged, not yet committed blobs of one backend (``pending``), and how bodies
    get into ``blob_chunks``. ``db`` gives the backend's pool (it raises when stopped)."""

    def __init__(
        self,
        db: Callable[[], asyncpg.Pool],
        *,
        chunk_size: int,
        inline_threshold: int,
        staging_ttl: float,
    ) -> None:
        self._db = db
        self.chunk_size, self.inline_threshold = chunk_size, inline_threshold
        self.staging_ttl = staging_ttl
        self.pending: set[int] = set()

    async def stage(self, chunks: AsyncIterator[bytes], limit: int) -> Staged:
        buffer = bytearray()
        size = 0
        blob: int | None = None
        seq = 0
        try:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(f"Body larger than {limit} bytes")
                buffer += chunk
                if size <= self.inline_threshold:
                    continue
                while len(buffer) >= self.chunk_size:
                    if blob is None:
                        blob = await self._new_staged_blob()
                    await self._stage_chunk(blob, seq, bytes(buffer[: self.chunk_size]))
                    del buffer[: self.chunk_size]
                    seq += 1
            if blob is None and size <= self.inline_threshold:
                return Staged(size=size, data=bytes(buffer))
            if blob is None:
                blob = await self._new_staged_blob()
            if buffer:
                await self._stage_chunk(blob, seq, bytes(buffer))
        except BaseException:
            if blob is not None:
                await asyncio.shield(self.drop(blob))
            raise
        self.pending.add(blob)
        return Staged(size=size, blob=str(blob))

    async def _new_staged_blob(self) -> int:
        with unavailable():
            query = self._db().fetchval
            return int(await query(NEW_BLOB, self.chunk_size, "staged", self.staging_ttl))

    async def _stage_chunk(self, blob: int, seq: int, data: bytes) -> None:
        with unavailable():
            await self._db().execute(STAGE_CHUNK, blob, seq, data, self.staging_ttl)

    async def drop(self, blob: int) -> None:
        self.pending.discard(blob)
        with contextlib.suppress(*UNAVAILABLE):  # else the collector takes it later
            query = "DELETE FROM blobs WHERE id = $1 AND state = 'staged'"
            await self._db().execute(query, blob)

    async def discard(self, staged: Staged) -> None:
        blob = self.pending_blob(staged)
        if blob is not None:
            # A no-op once committed: the row is no longer 'staged' (and an apply still
            # committing it holds the row, so this waits and then sees that).
            await self.drop(blob)

    def pending_blob(self, staged: Staged) -> int | None:
        """The blob ``staged`` names, if it is one of ours still waiting for its commit."""
        if staged.blob is None or not staged.blob.isdigit():
            return None
        blob = int(staged.blob)
        return blob if blob in self.pending else None

    async def drop_all(self, pool: asyncpg.Pool) -> None:
        """Delete every blob still pending (the backend is closing)."""
        if self.pending:
            pending, self.pending = sorted(self.pending), set()
            with contextlib.suppress(*UNAVAILABLE):
                await pool.execute(
                    "DELETE FROM blobs WHERE id = ANY($1::bigint[]) AND state = 'staged'",
                    pending,
                )

    async def store(self, conn: asyncpg.Connection, data: bytes) -> int:
        """Chunk a large in-memory body (e.g. built by a PATCH) inside the transaction."""
        blob = int(await conn.fetchval(NEW_BLOB, self.chunk_size, "committed", 0.0))
        step = self.chunk_size
        pieces = [data[i : i + step] for i in range(0, len(data), step)]
        await conn.execute(CHUNKS, blob, list(range(len(pieces))), pieces)
        return blob
