"""Live updates: the Solid Notifications Protocol (and the legacy solid-0.1 WebSocket).

Wiring, in ``create_app``: the ``Notifier`` (built from ``NotifyConfig.from_settings``, a hub
from ``deploy.open_hub`` and ``deploy.webhook_targets``) listens to the store's changes;
``add_notifications`` adds its routes before the catch-all route.

See ``README.md`` in this package for the design, the endpoints and how to verify webhooks.
"""

from pod_server.http.keys import NOTIFIER
from pod_server.notify.config import NotifyConfig
from pod_server.notify.routes import add_notifications, updates_via
from pod_server.notify.signing import SignatureError, verify_request

__all__ = [
    "NOTIFIER",
    "NotifyConfig",
    "SignatureError",
    "add_notifications",
    "updates_via",
    "verify_request",
]
