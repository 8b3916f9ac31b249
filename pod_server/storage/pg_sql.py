"""The PostgreSQL storage's tables (its migrations) and the statements the backend runs.

Tables (migration 1 of the sequence in :mod:`pod_server.db.schema`)::

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

The statements name their result columns: the backend reads rows by column name.
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
)

META_QUERY = "SELECT content_type, size, etag, modified FROM resources WHERE path = $1"
METAS_QUERY = """SELECT path, content_type, size, etag, modified FROM resources
    WHERE path = ANY($1::text[])"""
READ_QUERY = """SELECT r.content_type, r.size, r.etag, r.modified, r.blob, r.body, b.chunk_size
    FROM resources r LEFT JOIN blobs b ON b.id = r.blob WHERE r.path = $1"""
# LIMIT NULL is no limit; every path is > '' (the first page).
CHILDREN_QUERY = """SELECT path, content_type, size, etag, modified FROM resources
    WHERE parent = $1 AND path > $2 ORDER BY path LIMIT $3"""
# A range on the primary key's index (the "C" collation makes it usable; LIKE would not be).
SCAN_QUERY = "SELECT coalesce(sum(size), 0) FROM resources WHERE path >= $1 AND path < $2"
USAGE_QUERY = """SELECT (SELECT used FROM quota_usage WHERE root = $1) AS used,
    (SELECT byte_limit FROM quota_limits WHERE root = $1) AS byte_limit"""
# After the locks: the batch's rows (kind 'r') and its covering counters (kind 'c', locked
# in root order: the root in ``path``, its count in ``size``, with the root's limit).
STATE_QUERY = """WITH counters AS (
        SELECT root, used FROM quota_usage WHERE root = ANY($2::text[])
        ORDER BY root FOR UPDATE
    )
    SELECT 'r' AS kind, path, content_type, size, etag, modified, blob, NULL::bigint AS byte_limit
        FROM resources WHERE path = ANY($1::text[])
    UNION ALL
    SELECT 'c', c.root, NULL, c.used, NULL, NULL, NULL,
        (SELECT byte_limit FROM quota_limits l WHERE l.root = c.root) FROM counters c"""
NEW_BLOB = """INSERT INTO blobs (chunk_size, state, expires)
    VALUES ($1, $2,
        CASE WHEN $2::text = 'staged' THEN now() + $3::float8 * interval '1 second' END)
    RETURNING id"""
STAGE_CHUNK = """WITH alive AS (
        UPDATE blobs SET expires = now() + $4::float8 * interval '1 second' WHERE id = $1
    ) INSERT INTO blob_chunks (blob, seq, data) VALUES ($1, $2, $3)"""
CHUNKS = """INSERT INTO blob_chunks (blob, seq, data)
    SELECT $1, * FROM unnest($2::int[], $3::bytea[])"""
CLAIM = """UPDATE blobs SET state = 'committed', expires = NULL
    WHERE id = ANY($1::bigint[]) AND state = 'staged' RETURNING id"""
# Everything a batch writes, in one round trip (the CTEs touch disjoint rows).
WRITE = """WITH
    deleted AS (DELETE FROM resources WHERE path = ANY($1::text[])),
    upserted AS (
        INSERT INTO resources (path, parent, content_type, size, etag, modified, blob, body)
        SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[],
                             $7::float8[], $8::bigint[], $9::bytea[])
        ON CONFLICT (path) DO UPDATE SET parent = EXCLUDED.parent,
            content_type = EXCLUDED.content_type, size = EXCLUDED.size,
            etag = EXCLUDED.etag, modified = EXCLUDED.modified,
            blob = EXCLUDED.blob, body = EXCLUDED.body
    ),
    touched AS (
        UPDATE resources r SET etag = t.etag, modified = t.modified
        FROM unnest($10::text[], $11::text[], $12::float8[]) AS t(path, etag, modified)
        WHERE r.path = t.path
    ),
    counted AS (
        UPDATE quota_usage q SET used = q.used + c.delta
        FROM unnest($13::text[], $14::bigint[]) AS c(root, delta) WHERE q.root = c.root
    ),
    uncounted AS (DELETE FROM quota_usage WHERE root = ANY($15::text[])),
    garbage AS (
        UPDATE blobs SET state = 'garbage', expires = now() + $16::float8 * interval '1 second'
        WHERE id = ANY($17::bigint[])
    ),
    outbox_rows AS (
        INSERT INTO outbox (path, kind, etag)
        SELECT * FROM unnest($18::text[], $19::text[], $20::text[])
    )
SELECT 1"""
COLLECT = """WITH doomed AS (
        SELECT id FROM blobs WHERE state <> 'committed' AND expires < now()
        ORDER BY expires LIMIT $1 FOR UPDATE SKIP LOCKED
    ), gone AS (DELETE FROM blobs b USING doomed d WHERE b.id = d.id RETURNING 1)
    SELECT count(*) FROM gone"""
# Tables of ours that changed by more than a tenth (plus some slack) since their last ANALYZE.
ANALYZED = ("resources", "outbox", "blobs")
STALE_STATISTICS = """SELECT relname FROM pg_stat_user_tables
    WHERE schemaname = current_schema() AND relname IN ('resources', 'outbox', 'blobs')
    AND n_mod_since_analyze > $1 + 0.1 * n_live_tup"""
TRIM_OUTBOX = """WITH old AS (
        SELECT id FROM outbox WHERE created < now() - make_interval(secs => $1)
        ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED
    ), gone AS (DELETE FROM outbox o USING old WHERE o.id = old.id RETURNING 1)
    SELECT count(*) FROM gone"""
CHUNK_RANGE = """SELECT seq, substring(data
        FROM (greatest($2::bigint - seq::bigint * $4::bigint, 0) + 1)::int
        FOR (least($3::bigint - seq::bigint * $4::bigint, $4::bigint)
             - greatest($2::bigint - seq::bigint * $4::bigint, 0))::int) AS data
    FROM blob_chunks WHERE blob = $1 AND seq BETWEEN $5::int AND $6::int ORDER BY seq"""

