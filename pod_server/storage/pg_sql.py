"""The statements the PostgreSQL storage backend runs.

Its tables are described, and created, in :mod:`pod_server.db.tables.storage`.
The statements name their result columns: the backend reads rows by column name.
"""

from __future__ import annotations

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

