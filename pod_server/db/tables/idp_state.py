"""The IdP state's PostgreSQL tables (``idp_*``): its migrations in the shared schema.

Version 2 of the sequence in :mod:`pod_server.db.schema` (the storage's tables are 1), so
the state can live beside a ``PostgresBackend`` in one database and schema.
"""

from __future__ import annotations

from pod_server.db.migrations import Migration

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        2,
        "identity provider state: accounts, clients, codes, tokens, sessions",
        (
            # pod_server.state.postgres. Times are POSIX seconds, as the records keep them.
            # email_key is the email casefolded by the server (as SqliteState does), so that
            # "unique ignoring case" does not depend on the database's locale. Columns that
            # are listed in order use the "C" collation: it sorts like Python strings.
            """CREATE TABLE idp_accounts (
                id text PRIMARY KEY,
                email text NOT NULL,
                email_key text NOT NULL UNIQUE,
                password_hash text NOT NULL,
                created double precision NOT NULL
            )""",
            """CREATE TABLE idp_webids (
                webid text COLLATE "C" PRIMARY KEY,
                account_id text NOT NULL REFERENCES idp_accounts (id) ON DELETE CASCADE,
                created double precision NOT NULL
            )""",
            "CREATE INDEX idp_webids_account ON idp_webids (account_id, webid)",
            """CREATE TABLE idp_credentials (
                client_id text COLLATE "C" PRIMARY KEY,
                secret_hash text NOT NULL,
                label text NOT NULL,
                account_id text NOT NULL REFERENCES idp_accounts (id) ON DELETE CASCADE,
                webid text NOT NULL,
                created double precision NOT NULL
            )""",
            "CREATE INDEX idp_credentials_account ON idp_credentials (account_id)",
            """CREATE TABLE idp_clients (
                client_id text PRIMARY KEY,
                metadata jsonb NOT NULL,
                secret_hash text,
                created double precision NOT NULL
            )""",
            """CREATE TABLE idp_codes (
                code_hash text PRIMARY KEY,
                client_id text NOT NULL,
                account_id text NOT NULL REFERENCES idp_accounts (id) ON DELETE CASCADE,
                webid text NOT NULL,
                redirect_uri text NOT NULL,
                scope text NOT NULL,
                code_challenge text NOT NULL,
                nonce text,
                dpop_jkt text,
                family_id text NOT NULL,
                auth_time double precision NOT NULL,
                expires_at double precision NOT NULL,
                used boolean NOT NULL
            )""",
            "CREATE INDEX idp_codes_account ON idp_codes (account_id)",
            "CREATE INDEX idp_codes_expires ON idp_codes (expires_at)",
            """CREATE TABLE idp_refresh_families (
                id text PRIMARY KEY,
                client_id text NOT NULL,
                account_id text NOT NULL REFERENCES idp_accounts (id) ON DELETE CASCADE,
                webid text NOT NULL,
                scope text NOT NULL,
                jkt text NOT NULL,
                auth_time double precision NOT NULL,
                expires_at double precision NOT NULL,
                revoked boolean NOT NULL
            )""",
            "CREATE INDEX idp_refresh_families_account ON idp_refresh_families (account_id)",
            "CREATE INDEX idp_refresh_families_expires ON idp_refresh_families (expires_at)",
            """CREATE TABLE idp_refresh_tokens (
                token_hash text PRIMARY KEY,
                family_id text NOT NULL
                    REFERENCES idp_refresh_families (id) ON DELETE CASCADE,
                expires_at double precision NOT NULL,
                used boolean NOT NULL
            )""",
            "CREATE INDEX idp_refresh_tokens_family ON idp_refresh_tokens (family_id)",
            "CREATE INDEX idp_refresh_tokens_expires ON idp_refresh_tokens (expires_at)",
            """CREATE TABLE idp_consents (
                account_id text NOT NULL REFERENCES idp_accounts (id) ON DELETE CASCADE,
                client_id text NOT NULL,
                scope text NOT NULL,
                webid text NOT NULL,
                created double precision NOT NULL,
                PRIMARY KEY (account_id, client_id)
            )""",
            """CREATE TABLE idp_sessions (
                id_hash text PRIMARY KEY,
                account_id text NOT NULL REFERENCES idp_accounts (id) ON DELETE CASCADE,
                auth_time double precision NOT NULL,
                expires_at double precision NOT NULL
            )""",
            "CREATE INDEX idp_sessions_account ON idp_sessions (account_id)",
            "CREATE INDEX idp_sessions_expires ON idp_sessions (expires_at)",
            """CREATE TABLE idp_keys (
                kid text COLLATE "C" PRIMARY KEY,
                private_jwk text NOT NULL,
                created double precision NOT NULL,
                use_from double precision NOT NULL,
                retire_after double precision NOT NULL,
                drop_after double precision NOT NULL
            )""",
            # Rate limits: one row per key and fixed window (see state.base.sliding_count).
            """CREATE TABLE idp_counters (
                key text NOT NULL,
                window_start double precision NOT NULL,
                hits integer NOT NULL,
                PRIMARY KEY (key, window_start)
            )""",
            "CREATE INDEX idp_counters_window ON idp_counters (window_start)",
            # IdpState.use_once (DPoP proof ids): a key is taken until expires_at.
            """CREATE TABLE idp_once (
                key text PRIMARY KEY,
                expires_at double precision NOT NULL
            )""",
            "CREATE INDEX idp_once_expires ON idp_once (expires_at)",
        ),
    ),
    Migration(
        4,
        "identity provider state: what each app may do with a WebID",
        (
            # pod_server.state.postgres: the person's choice on the consent page, per
            # (WebID, client id); targets is a JSON list of [URL, "Read Append"] pairs.
            """CREATE TABLE idp_app_access (
                webid text NOT NULL,
                client_id text NOT NULL,
                full_access boolean NOT NULL,
                targets jsonb NOT NULL,
                until double precision,
                created double precision NOT NULL,
                PRIMARY KEY (webid, client_id)
            )""",
        ),
    ),
)
