"""The storage root's first ACL: the owner's, and everyone's on an open server."""

from __future__ import annotations

from rdflib.namespace import FOAF

from pod_server.ldp.vocabulary import ACL, turtle_prefixes

ACL_PREFIXES = turtle_prefixes(acl=ACL, foaf=FOAF)
ALL_MODES = "acl:Read, acl:Write, acl:Append, acl:Control"


def root_acl(owner: str | None, open_access: bool) -> str | None:
    """Turtle for a fresh root ``.acl`` (relative to it), or None when nobody gets access.

    Rules carry both ``acl:accessTo`` and ``acl:default`` on the root so they reach
    every resource below it that has no ACL of its own.
    """
    rules: list[str] = []
    if owner:
        rules.append(
            f"<#owner> a acl:Authorization; acl:agent <{owner}>;\n"
            f"    acl:accessTo <./>; acl:default <./>; acl:mode {ALL_MODES}.\n"
        )
    if open_access:
        rules.append(
            "<#public> a acl:Authorization; acl:agentClass foaf:Agent;\n"
            f"    acl:accessTo <./>; acl:default <./>; acl:mode {ALL_MODES}.\n"
        )
    return ACL_PREFIXES + "".join(rules) if rules else None
