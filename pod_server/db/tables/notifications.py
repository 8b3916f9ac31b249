"""The notification hub's PostgreSQL tables (``notify_*``): its migrations in the shared
schema, version 3 of the sequence in :mod:`pod_server.db.schema`."""

from __future__ import annotations

from pod_server.db.migrations import Migration

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        3,
        "notifications across processes: channels and events",
        (
            # pod_server.notify.pg_hub: the channel registry (times are epoch seconds, as
            # the notify model keeps them) and the feed of events, in id order.
            """CREATE TABLE notify_channels (
                id text PRIMARY KEY,
                type text NOT NULL,
                topic text NOT NULL,
                webid text,
                origin text,
                created double precision NOT NULL,
                end_at double precision NOT NULL,
                start_at double precision,
                rate double precision,
                state text,
                accept text,
                send_to text,
                token_hash text UNIQUE,
                full_iri boolean NOT NULL,
                attached double precision
            )""",
            "CREATE INDEX notify_channels_topic ON notify_channels (topic, type)",
            "CREATE INDEX notify_channels_webid ON notify_channels (webid)",
            "CREATE INDEX notify_channels_end_at ON notify_channels (end_at)",
            """CREATE INDEX notify_channels_unattached ON notify_channels (created)
                WHERE attached IS NULL AND type <> 'WebhookChannel2023'""",
            # CACHE 1 (the default, spelled out): ids are taken under the feed's lock, so
            # id order is commit order only if no session holds a range of them.
            """CREATE TABLE notify_events (
                id bigint GENERATED ALWAYS AS IDENTITY (CACHE 1) PRIMARY KEY,
                origin text NOT NULL,
                published double precision NOT NULL,
                body text NOT NULL
            )""",
            "CREATE INDEX notify_events_published ON notify_events (published)",
            # Secrets every process must share: the webhook signing key ("webhook").
            """CREATE TABLE notify_keys (
                name text PRIMARY KEY,
                value text NOT NULL
            )""",
        ),
    ),
)
