"""What a resource's 401 challenge looks like since the Access Grants API (issue 18)."""

from __future__ import annotations


def uma_then_dpop(challenge: str) -> bool:
    """UMA first (the Inrupt Access Grants client reads only the first scheme), then the
    Solid-OIDC DPoP challenge."""
    uma, sep, dpop = challenge.partition(", DPoP ")
    return uma.startswith("UMA as_uri=") and 'ticket="' in uma and bool(sep) and "algs=" in dpop
