"""Access control's rules on documents the store is asked to write (``ldp.rules``).

Pure checks: an ACL must be usable and must leave a storage root with someone holding
Control; a client's write of a storage root keeps the storage's owners.
"""

from __future__ import annotations

from rdflib import Graph

from pod_server.access.acl import CompiledAcl, compile_acl
from pod_server.access.evaluate import granted_modes
from pod_server.access.modes import Mode
from pod_server.access.owners import kept_owners
from pod_server.access.suspension import kept_suspension
from pod_server.access.validate import grants_control, validate_acl
from pod_server.errors import BadRequest, Conflict


class AccessRules:
    """The ``ldp.rules.DocumentRules`` the store applies on every write."""

    def check_acl(
        self, graph: Graph, acl_url: str, subject_url: str, *, storage_root: bool
    ) -> None:
        check_acl_document(graph, acl_url, subject_url, storage_root)

    def keep_owners(
        self, current: Graph | None, written: Graph, root_url: str, *, replace: bool
    ) -> Graph:
        kept = kept_owners(current, written, root_url, replace=replace)
        return kept_suspension(current, kept, root_url)


def check_acl_document(graph: Graph, acl_url: str, subject_url: str, storage_root: bool) -> None:
    """Refuse an ACL that is unusable (400), or that would lock everyone out of a storage (409)."""
    problems = validate_acl(graph, acl_url)
    if problems:
        raise BadRequest("Invalid ACL: " + "; ".join(problems))
    if storage_root and not keeps_control(compile_acl(graph, acl_url), subject_url):
        raise Conflict(
            "This ACL would leave the storage root with no agent holding Control; "
            "keep an acl:agent (or the public, on an open server) with acl:Control"
        )


def keeps_control(acl: CompiledAcl, root_url: str) -> bool:
    """Someone keeps Control on the root: a named agent, or everyone on an open server."""
    if grants_control(acl, root_url):
        return True
    everyone = granted_modes(
        acl,
        root_url,
        default_for=None,
        agent_webid=None,
        authenticated=False,
        origin=None,
        groups={},
    )
    return Mode.CONTROL in everyone
