"""Apps by client id: the access needs an app declares, what the person grants it, and
the rule that limits the app to that grant (on top of WAC). See ``grant`` for the rule."""

from pod_server.consent.apps.grant import (
    OWN_CONTAINER_MODES,
    AppGrant,
    allowed,
    choose,
    covers,
    is_full,
    limit,
)
from pod_server.consent.apps.lookup import AppGrants
from pod_server.consent.apps.needs import AccessNeed, AppNeeds, NeedsError, parse_needs

__all__ = [
    "OWN_CONTAINER_MODES",
    "AccessNeed",
    "AppGrant",
    "AppGrants",
    "AppNeeds",
    "NeedsError",
    "allowed",
    "choose",
    "covers",
    "is_full",
    "limit",
    "parse_needs",
]
