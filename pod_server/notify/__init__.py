"""Live updates: the Solid Notifications Protocol (and the legacy solid-0.1 WebSocket).

Wiring, in ``create_app`` before the catch-all route::

    add_notifications(app, store, policy, authenticator, settings)

See ``README.md`` in this package for the design, the endpoints and how to verify webhooks.
"""

from pod_server.notify.config import NotifyConfig
from pod_server.notify.routes import NOTIFIER, add_notifications
from pod_server.notify.signing import SignatureError, verify_request

__all__ = ["NOTIFIER", "NotifyConfig", "SignatureError", "add_notifications", "verify_request"]
