"""The statements the PostgreSQL storage backend runs.

Its tables are described, and created, in :mod:`pod_server.db.tables.storage`.
The statements name their result columns: the backend reads rows by column name.
"""

from __future__ import annotations

METAS_QUERY = """SELECT path, content_type, size, etag, modified FROM resources
    WHERE path = ANY($1::text[])"""
# The statement's snapshot and the paths of the outbox rows committed since the snapshot
# $1 (storage.meta_cache): a transaction $1 did not see is at or past its xmax ("newer",
# at most $2 rows) or in its list of transactions then in progress ("pending"). Both are
# index scans; ORDER BY and LIMIT keep the planner on the index for "newer" even when
# statistics make the range look large.
SYNC_QUERY = """SELECT pg_current_snapshot()::text AS snapshot,
    ARRAY(
        SELECT path FROM outbox WHERE xid >= pg_snapshot_xmax($1::text::pg_snapshot)
        ORDER BY xid LIMIT $2
    ) AS newer,
    ARRAY(
        SELECT path FROM outbox
        WHERE xid = ANY(ARRAY(SELECT pg_snapshot_xip($1::text::pg_snapshot)))
    ) AS pending"""
SNAPSHOT_QUERY = "SELECT pg_current_snapshot()::text"
READ_QUERY = """SELECT r.content_type, r.size, r.etag, r.modified, r.blob, r.body, b.chunk_size
    FROM resources r LEFT JOIN blobs b ON b.id = r.blob WHERE r.path = $1"""
# LIMIT NULL is no limit; every path is > '' (the first page).
CHILDREN_QUERY = """SELECT path, content_type, size, etag, modified FROM resources
    WHERE parent = $1 AND path > $2 ORDER BY path LIMIT $3"""
# A range on the primary key's index (the "C" collation makes it usable; LIKE would not be).
SCAN_QUERY = "SELECT coalesce(sum(size), 0) FROM resources WHERE path >= $1 AND path < $2"
USAGE_QUERY = """SELECT (SELECT used FROM quota_usage WHERE root = $1) AS used,
    (SELECT byte_limit FROM quota_limits WHERE root = $1) AS byte_limit"""
# After the locks: the rows of a write (or of a whole batch): resources (kind 'r'), the
# covering usage counters (kind 'c', locked in root order: the root in ``path``, its count in
# ``size``, with the root's limit), and the heads of the audit logs it appends to (kind 'h',
# created if missing, locked in root order after the counters, as ``LOG_HEADS`` does: the
# subquery on ``counters`` makes the counters' locks come first).
STATE_QUERY = """WITH counters AS (
        SELECT root, used FROM quota_usage WHERE root = ANY($2::text[])
        ORDER BY root FOR UPDATE
    ), heads AS (
        INSERT INTO audit_heads AS h (root, seq, hash, anchor_seq, anchor_hash)
        SELECT r, 0, $4::bytea, 0, $4::bytea FROM unnest($3::text[]) AS r
        WHERE (SELECT count(*) FROM counters) >= 0 ORDER BY r
        ON CONFLICT (root) DO UPDATE SET seq = h.seq
        RETURNING root, seq, hash, anchor_seq, anchor_hash
    )
    SELECT 'r' AS kind, path, content_type, size, etag, modified, blob,
            NULL::bigint AS byte_limit, NULL::bytea AS hash, NULL::bigint AS anchor_seq,
            NULL::bytea AS anchor_hash
        FROM resources WHERE path = ANY($1::text[])
    UNION ALL
    SELECT 'c', c.root, NULL, c.used, NULL, NULL, NULL,
        (SELECT byte_limit FROM quota_limits l WHERE l.root = c.root), NULL, NULL, NULL
        FROM counters c
    UNION ALL
    SELECT 'h', root, NULL, seq, NULL, NULL, NULL, NULL, hash, anchor_seq, anchor_hash
        FROM heads"""
# Before the first write of several: every counter any of them may update, in root order.
LOCK_COUNTERS = """SELECT 1 FROM quota_usage WHERE root = ANY($1::text[]) ORDER BY root
    FOR UPDATE"""
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


def _log_ctes(first: int) -> str:
    """Append chained audit rows and move their heads: CTEs taking 12 arrays from ``$first``."""
    n = [f"${first + i}" for i in range(12)]
    return f"""logged AS (
        INSERT INTO audit_log (root, seq, at, agent, resource, outcome, body, prev, hash)
        SELECT * FROM unnest({n[0]}::text[], {n[1]}::bigint[], {n[2]}::float8[], {n[3]}::text[],
            {n[4]}::text[], {n[5]}::int[], {n[6]}::bytea[], {n[7]}::bytea[], {n[8]}::bytea[])
    ),
    heads_moved AS (
        UPDATE audit_heads h SET seq = t.seq, hash = t.hash
        FROM unnest({n[9]}::text[], {n[10]}::bigint[], {n[11]}::bytea[]) AS t(root, seq, hash)
        WHERE h.root = t.root
    )"""


# Everything a batch writes, audit entries included, in one round trip (the CTEs touch
# disjoint rows).
WRITE = f"""WITH
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
    ),
    {_log_ctes(21)}
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

# Audit logs (db.tables.audit). The head upsert locks each root's head row, in root order.
LOG_HEADS = """INSERT INTO audit_heads AS h (root, seq, hash, anchor_seq, anchor_hash)
    SELECT r, 0, $2::bytea, 0, $2::bytea FROM unnest($1::text[]) AS r ORDER BY r
    ON CONFLICT (root) DO UPDATE SET seq = h.seq
    RETURNING root, seq, hash, anchor_seq, anchor_hash"""
LOG_APPEND = f"WITH {_log_ctes(1)} SELECT 1"
LOG_COLUMNS = "root, seq, at, agent, resource, outcome, body, prev, hash"
LOG_PAGE = f"""SELECT {LOG_COLUMNS} FROM audit_log
    WHERE root = $1 AND ($2::bigint IS NULL OR seq < $2)
    AND ($3::text IS NULL OR agent = $3)
    AND ($4::text IS NULL OR left(resource, length($4)) = $4)
    AND ($5::float8 IS NULL OR at >= $5) AND ($6::float8 IS NULL OR at < $6)
    AND ($7::int IS NULL OR outcome BETWEEN $7 AND $8)
    ORDER BY seq DESC LIMIT $9"""
LOG_ROWS = f"""SELECT {LOG_COLUMNS} FROM audit_log WHERE root = $1 AND seq > $2
    ORDER BY seq LIMIT $3"""
LOG_STATE = "SELECT seq, hash, anchor_seq, anchor_hash FROM audit_heads WHERE root = $1"
# A prefix of the chain: everything before the first entry at or after $2.
LOG_TRIM = """WITH head AS (
        SELECT root FROM audit_heads WHERE ($1::text IS NULL OR root = $1) FOR UPDATE
    ), keep AS (
        SELECT h.root,
            (SELECT k.seq FROM audit_log k WHERE k.root = h.root AND k.at >= $2
             ORDER BY k.seq LIMIT 1) AS first
        FROM head h
    ), cut AS (
        SELECT keep.root, l.seq, l.hash FROM keep CROSS JOIN LATERAL (
            SELECT seq, hash FROM audit_log l WHERE l.root = keep.root
            AND (keep.first IS NULL OR l.seq < keep.first) ORDER BY seq DESC LIMIT 1
        ) l
    ), anchored AS (
        UPDATE audit_heads h SET anchor_seq = cut.seq, anchor_hash = cut.hash
        FROM cut WHERE h.root = cut.root
    ), gone AS (
        DELETE FROM audit_log l USING cut WHERE l.root = cut.root AND l.seq <= cut.seq
        RETURNING 1
    )
    SELECT count(*) FROM gone"""
ADD_CHECKPOINT = """INSERT INTO audit_checkpoints (root, seq, hash, at, key, signature)
    VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (root, seq) DO UPDATE
    SET hash = EXCLUDED.hash, at = EXCLUDED.at, key = EXCLUDED.key,
        signature = EXCLUDED.signature"""
CHECKPOINTS = """SELECT root, seq, hash, at, key, signature FROM audit_checkpoints
    WHERE root = $1 ORDER BY seq"""
