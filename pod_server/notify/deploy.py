"""What the server's settings decide for notifications: where the hub lives and which
webhook targets may be called."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from pod_server.notify.config import NotifyConfig
from pod_server.notify.hub import DB_NAME, NotifyHub, SqliteHub
from pod_server.notify.pg_hub import PostgresHub
from pod_server.notify.webhook import TargetPolicy
from pod_server.settings import Settings


def open_hub(settings: Settings, config: NotifyConfig) -> NotifyHub:
    """Where subscriptions and events live, shared by every process of the server: the
    storage's PostgreSQL (other hosts may serve it too), else SQLite beside the files."""
    if settings.on_postgresql:
        dsn, schema = settings.postgresql
        # NOTIFY wakes listeners; its poll is only a safety net, not the SQLite hub's 20 ms.
        return PostgresHub(dsn, schema=schema, retention=config.event_retention)
    return SqliteHub(settings.root / DB_NAME, config.poll_interval, config.event_retention)


def webhook_targets(settings: Settings, config: NotifyConfig) -> TargetPolicy:
    """Private targets only if allowed (by default: a server on loopback alone), and never
    the server itself, under any of its names."""
    base = urlsplit(settings.public_base)
    allow_private = config.webhook_private_targets
    if allow_private is None:
        allow_private = _loopback(base.hostname or "") and _loopback(settings.host)
    own = {
        ((base.hostname or "").lower(), base.port or (443 if base.scheme == "https" else 80)),
        (settings.host.lower().strip("[]"), settings.port),
        ("localhost", settings.port),
    }
    return TargetPolicy(allow_private, frozenset(own))


def _loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
