"""Web Access Control as pure functions: compile ACLs, evaluate them, render WAC-Allow.

No I/O here: the caller finds the effective ACL, fetches group documents and parses
them, then asks these functions what is granted, what is needed, and the verdict.
"""

from __future__ import annotations

from pod_server.access.acl import CompiledAcl, Rule, compile_acl
from pod_server.access.evaluate import (
    Decision,
    Requirements,
    decide,
    granted_modes,
    group_members,
    groups_referenced,
    required_modes,
)
from pod_server.access.modes import NO_MODES, Mode, wac_allow
from pod_server.access.validate import grants_control, validate_acl

__all__ = [
    "NO_MODES",
    "CompiledAcl",
    "Decision",
    "Mode",
    "Requirements",
    "Rule",
    "compile_acl",
    "decide",
    "granted_modes",
    "grants_control",
    "group_members",
    "groups_referenced",
    "required_modes",
    "validate_acl",
    "wac_allow",
]
