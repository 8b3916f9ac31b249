"""The PostgreSQL storage's tables: its migrations in the shared schema.

Tables (migrations 1 and 6 of the sequence in :mod:`pod_server.db.schema`)::

    resources      one row per resource; ``path``/``parent`` use the "C" collation so that
                   prefix range scans (quota counting) and ``ORDER BY path`` use the B-tree
                   indexes (primary key; ``(parent, path)`` for keyset-paged listings)
                   and sort exactly like Python strings. Bodies up to ``inline_threshold``
                   bytes live in ``body`` (bytea); larger ones in ``blob``.
    blobs          one row per large body: ``state`` is 'staged' (being uploaded or waiting
                   for its commit; ``expires`` is pushed forward while it grows), 'committed'
                   (a resource names it) or 'garbage' (replaced or deleted; kept until
                   ``expires`` so a reader that already holds it can finish). The collector
                   (on ``start()`` and every ``gc_interval`` seconds, in every process)
                   deletes staged and garbage blobs past ``expires``.
    blob_chunks    (blob, seq, data): a large body in ``chunk_size`` pieces (256 KiB);
                   ``data`` is stored uncompressed (STORAGE EXTERNAL) so ranged reads use
                   ``substring`` without detoasting whole chunks.
    quota_usage    one byte counter per counted root (created lazily, see ``base``).
    quota_limits   per-root limit overrides.
    outbox         (id, path, kind, etag, created): one row per resource the transaction
                   changed, written in that same transaction. ``kind`` is 'create',
                   'update' (body or type replaced), 'delete' or 'touch' (only the etag and
                   modification time changed: a container whose members changed); ``etag``
                   is the new version (NULL for 'delete'); ``id`` orders one path's rows
                   in commit order (not rows of different paths: ids are taken before
                   commit, so a consumer must not keep a high-water mark). A delivery worker
                   may take rows (``SELECT ... ORDER BY id FOR UPDATE SKIP LOCKED``), deliver
                   them and delete them in one transaction, for at-least-once delivery of
                   every committed change; the collector drops rows older than
                   ``outbox_retention`` so that, consumed or not, the table stays bounded.
                   ``xid`` (migration 6) is the writing transaction: the rows a snapshot
                   did not see are exactly those its ``xmax`` and in-progress list name.
"""

from __future__ import annotations

from pod_server.db.migrations import Migration

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "storage: resources, chunked blobs, quota counters and limits, outbox",
        (
            """CREATE TABLE blobs (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                chunk_size integer NOT NULL CHECK (chunk_size > 0),
                state text NOT NULL CHECK (state IN ('staged', 'committed', 'garbage')),
                expires timestamptz,
                created timestamptz NOT NULL DEFAULT now()
            )""",
            "CREATE INDEX blobs_expiring ON blobs (expires) WHERE state <> 'committed'",
            """CREATE TABLE blob_chunks (
                blob bigint NOT NULL REFERENCES blobs (id) ON DELETE CASCADE,
                seq integer NOT NULL,
                data bytea NOT NULL,
                PRIMARY KEY (blob, seq)
            )""",
            "ALTER TABLE blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL",
            """CREATE TABLE resources (
                path text COLLATE "C" PRIMARY KEY,
                parent text COLLATE "C",
                content_type text NOT NULL,
                size bigint NOT NULL,
                etag text NOT NULL,
                modified double precision NOT NULL,
                blob bigint REFERENCES blobs (id),
                body bytea
            )""",
            "CREATE INDEX resources_parent ON resources (parent, path)",
            "CREATE INDEX resources_blob ON resources (blob) WHERE blob IS NOT NULL",
            """CREATE TABLE quota_usage (
                root text COLLATE "C" PRIMARY KEY,
                used bigint NOT NULL
            )""",
            """CREATE TABLE quota_limits (
                root text COLLATE "C" PRIMARY KEY,
                byte_limit bigint NOT NULL
            )""",
            """CREATE TABLE outbox (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                path text COLLATE "C" NOT NULL,
                kind text NOT NULL CHECK (kind IN ('create', 'update', 'delete', 'touch')),
                etag text,
                created timestamptz NOT NULL DEFAULT now()
            )""",
        ),
    ),
    Migration(
        6,
        "storage: the writing transaction of each outbox row",
        (
            # Readers' metadata caches (storage.meta_cache) read the rows committed since
            # their last snapshot: those whose transaction that snapshot did not see.
            """ALTER TABLE outbox
                ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id()""",
            "CREATE INDEX outbox_xid ON outbox (xid)",
        ),
    ),
)
