"""The audit logs' PostgreSQL tables: version 5 of the sequence in :mod:`pod_server.db.schema`.

audit_heads        one row per storage root with a log: its head (last ``seq`` and
                   ``hash``) and anchor (the last entry a retention trim removed). A
                   batch appending to a root's log takes its row ``FOR UPDATE`` (an
                   upsert), so every process and host appends to one gapless chain.
audit_log          (root, seq): one entry; ``body`` is its canonical bytes (what the
                   chain hashes), the other columns repeat parts of it for filtering.
audit_checkpoints  (root, seq): signed statements of a log's hash at ``seq``.
"""

from __future__ import annotations

from pod_server.db.migrations import Migration

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        5,
        "audit logs: heads, entries, checkpoints",
        (
            """CREATE TABLE audit_heads (
                root text COLLATE "C" PRIMARY KEY,
                seq bigint NOT NULL,
                hash bytea NOT NULL,
                anchor_seq bigint NOT NULL,
                anchor_hash bytea NOT NULL
            )""",
            """CREATE TABLE audit_log (
                root text COLLATE "C" NOT NULL,
                seq bigint NOT NULL,
                at double precision NOT NULL,
                agent text,
                resource text COLLATE "C" NOT NULL,
                outcome integer NOT NULL,
                body bytea NOT NULL,
                prev bytea NOT NULL,
                hash bytea NOT NULL,
                PRIMARY KEY (root, seq)
            )""",
            "CREATE INDEX audit_log_agent ON audit_log (root, agent, seq)",
            """CREATE TABLE audit_checkpoints (
                root text COLLATE "C" NOT NULL,
                seq bigint NOT NULL,
                hash bytea NOT NULL,
                at double precision NOT NULL,
                key text NOT NULL,
                signature bytea NOT NULL,
                PRIMARY KEY (root, seq)
            )""",
        ),
    ),
)
