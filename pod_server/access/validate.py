"""Checks on an ACL before the server stores it.

``validate_acl`` lists what makes authorizations unusable; the caller decides whether
that refuses the write. ``grants_control`` guards against locking everyone out:
WAC, ACL Resource Representation: "The ACL resource of the root container MUST include
an Authorization allowing the acl:Control access privilege".
"""

from __future__ import annotations

from collections.abc import Iterable

from rdflib import RDF, Graph, URIRef
from rdflib.term import Node

from pod_server.access.acl import (
    ACL_ACCESS_TO,
    ACL_AGENT,
    ACL_AGENT_CLASS,
    ACL_AGENT_GROUP,
    ACL_AUTHORIZATION,
    ACL_DEFAULT,
    ACL_MODE,
    ACL_ORIGIN,
    MODE_IRIS,
    CompiledAcl,
    authorization_nodes,
)
from pod_server.access.modes import Mode
from pod_server.ldp.vocabulary import ACL

_SUBJECT_PREDICATES = (ACL_AGENT, ACL_AGENT_GROUP, ACL_AGENT_CLASS, ACL_ORIGIN)
_RULE_PREDICATES = (ACL_MODE, ACL_ACCESS_TO, ACL_DEFAULT)


def validate_acl(graph: Graph, acl_url: str) -> list[str]:
    """Problems that leave authorizations in the ACL at ``acl_url`` unusable.

    Reported: an authorization (WAC, Authorization Conformance) without an acl:mode,
    without a recognised mode, with an unknown mode in the acl: namespace (a typo such
    as ``acl:write``), without acl:accessTo or acl:default, or without any agent,
    group, class or origin; and a subject that has acl:mode, acl:accessTo or
    acl:default but is not typed acl:Authorization (it is ignored).

    Not reported, because the spec allows them: modes from other namespaces (WAC,
    Access Mode Extensions: "Foreign-namespaced access modes are allowed in ACL
    resources"), acl:default on a document, and authorizations whose IRIs or targets
    belong to other documents (the Inrupt client writes those when copying rules).
    """
    problems: list[str] = []
    for node in authorization_nodes(graph):
        problems.extend(_authorization_problems(graph, node, _label(node, acl_url)))
    for node in _untyped_rules(graph):
        problems.append(f"{_label(node, acl_url)} is not typed acl:Authorization; it is ignored")
    return problems


def _authorization_problems(graph: Graph, node: Node, label: str) -> list[str]:
    problems: list[str] = []
    modes = list(graph.objects(node, ACL_MODE))
    unknown = [m for m in modes if _is_unknown_mode(m)]
    if not modes:
        problems.append(f"{label} has no acl:mode")
    elif not any(str(m) in MODE_IRIS for m in modes):
        problems.append(f"{label} has no recognised acl:mode (acl:Read, Write, Append, Control)")
    problems.extend(f"{label} has unknown mode {m.n3()}" for m in unknown)
    if not _has_any(graph, node, (ACL_ACCESS_TO, ACL_DEFAULT)):
        problems.append(f"{label} has neither acl:accessTo nor acl:default")
    if not _has_any(graph, node, _SUBJECT_PREDICATES):
        problems.append(f"{label} names no acl:agent, acl:agentGroup, acl:agentClass or acl:origin")
    return problems


def _is_unknown_mode(mode: Node) -> bool:
    if not isinstance(mode, URIRef):
        return True
    return str(mode).startswith(str(ACL)) and str(mode) not in MODE_IRIS


def _has_any(graph: Graph, node: Node, predicates: Iterable[URIRef]) -> bool:
    return any(graph.value(node, predicate) is not None for predicate in predicates)


def _untyped_rules(graph: Graph) -> list[Node]:
    candidates = {s for p in _RULE_PREDICATES for s in graph.subjects(p, None)}
    typed = set(graph.subjects(RDF.type, ACL_AUTHORIZATION))
    return sorted(candidates - typed, key=lambda n: n.n3())


def _label(node: Node, acl_url: str) -> str:
    text = str(node)
    if isinstance(node, URIRef) and text.startswith(acl_url + "#"):
        return "<" + text[len(acl_url) :] + ">"
    return node.n3()


def grants_control(
    acl: CompiledAcl, target_url: str, candidates: Iterable[str] | None = None
) -> bool:
    """Whether some ``acl:agent`` holds Control on ``target_url`` through acl:accessTo.

    With ``candidates`` (e.g. the storage owners), one of those agents must hold it.
    Only named agents count: a class or a group cannot be relied on to keep a person
    in control. Use on the compiled *new* ACL of the storage root before storing it.
    """
    control = Mode.CONTROL.value
    holders = {
        agent
        for rule in acl.rules
        if rule.bits & control and target_url in rule.access_to
        for agent in rule.agents
    }
    if candidates is None:
        return bool(holders)
    return not holders.isdisjoint(candidates)
