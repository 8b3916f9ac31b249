"""Each module registers the checks of one area when imported."""

from conformance.areas import extensions, notifications, oidc, patch, protocol, wac

__all__ = ["extensions", "notifications", "oidc", "patch", "protocol", "wac"]
