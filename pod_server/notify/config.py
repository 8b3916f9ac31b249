"""Notification settings: defaults suit production; tests and development relax a few.

The server's settings carry them as ``notify_<field>`` (env ``POD_NOTIFY_<FIELD>``, TOML
``notify_<field>``); ``NotifyConfig.from_settings`` reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pod_server.settings import Settings

DAY = 24 * 3600.0


@dataclass(frozen=True, slots=True)
class NotifyConfig:
    # Notifications waiting for one subscriber; past this, the subscriber is dropped.
    queue_size: int = 256
    # One send (a WebSocket frame, a chunk, one webhook attempt) slower than this fails.
    send_timeout: float = 10.0
    # endAt is capped at, and defaults to, this many seconds from the subscription.
    max_lifetime: float = 7 * DAY
    # A WebSocket or streaming channel nobody connects to within this is forgotten.
    connect_timeout: float = 300.0
    # Channels one agent (one WebID; all anonymous callers together) may hold.
    max_channels_per_agent: int = 2000
    # Webhooks: attempts per notification, first back-off (doubling), its cap.
    webhook_attempts: int = 5
    webhook_backoff: float = 1.0
    webhook_backoff_max: float = 60.0
    # Consecutive notifications a webhook may fail (after all attempts) before it is dropped.
    webhook_max_failures: int = 5
    # Allow webhook targets on loopback/private/link-local addresses and plain http (never
    # the pod server itself). None: only when the server is bound to, and publicly named by,
    # a loopback address (local development, where nobody else can subscribe). Refused
    # otherwise: server-side request forgery.
    webhook_private_targets: bool | None = None
    # Cross-process feed: how often other processes' events are looked for, how long kept.
    poll_interval: float = 0.02
    event_retention: float = 600.0
    # The legacy solid-0.1 WebSocket (Updates-Via), for older apps such as the data browser.
    legacy_websocket: bool = True

    @classmethod
    def from_settings(cls, settings: Settings) -> NotifyConfig:
        """The server's ``notify_<field>`` settings (env ``POD_NOTIFY_<FIELD>``, TOML)."""
        return cls(**{f.name: getattr(settings, "notify_" + f.name) for f in fields(cls)})
