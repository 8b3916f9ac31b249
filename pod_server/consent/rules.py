"""The WAC edits of a consent, as pure functions over rdflib graphs.

A grant adds, to each granted target's own ACL, one authorization::

    <T.acl#consent-ID-N> a acl:Authorization; acl:agent <recipient>;
        acl:accessTo <T>; acl:default <T>;        # acl:default only for a container
        acl:mode acl:Append; consent:grantedBy <record>;
        consent:until "..."^^xsd:dateTime.        # when the consent has an end

A target without an ACL of its own inherits its nearest ancestor's ``acl:default`` rules;
giving it an ACL would cut that inheritance (WAC uses only the nearest ACL), so the new ACL
starts with copies of those rules, rewritten to apply to the target (marked
``consent:copiedFrom``): nobody, the owner first, loses access.
Withdrawal and expiry remove every authorization ``consent:grantedBy`` the record, copies
included, and leave the rest of each ACL as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import RDF, XSD, BNode, Graph, Literal, URIRef

from pod_server.access.acl import (
    ACL_ACCESS_TO,
    ACL_AUTHORIZATION,
    ACL_CONDITION,
    ACL_DEFAULT,
    authorization_nodes,
    canonical_resource,
)
from pod_server.consent.model import ConsentRecord, Target, acl_url, rule_iri
from pod_server.consent.records import MODE_IRIS
from pod_server.consent.vocab import CONSENT
from pod_server.ldp.vocabulary import ACL


@dataclass(frozen=True, slots=True)
class Inherited:
    """The ACL a target inherits from: its graph, its URL and the container it is for."""

    graph: Graph
    acl_url: str
    container_url: str


def authorization(record: ConsentRecord, n: int, target: Target) -> Graph:
    """The one authorization the grant of ``record`` adds for its ``n``-th target."""
    g = _graph()
    node = URIRef(rule_iri(record.id, n, target.url))
    g.add((node, RDF.type, ACL_AUTHORIZATION))
    g.add((node, ACL.agent, URIRef(record.recipient)))
    g.add((node, ACL_ACCESS_TO, URIRef(target.url)))
    if target.url.endswith("/"):
        g.add((node, ACL_DEFAULT, URIRef(target.url)))
    for mode, iri in MODE_IRIS.items():
        if mode in target.modes:
            g.add((node, ACL.mode, iri))
    g.add((node, CONSENT.grantedBy, URIRef(record.url)))
    if record.until is not None:
        g.add((node, CONSENT.until, Literal(record.until.isoformat(), datatype=XSD.dateTime)))
    return g


def granted_acl(
    current: Graph | None, record: ConsentRecord, n: int, inherited: Inherited | None
) -> Graph:
    """The target's ACL once the grant is added: ``current`` (its own ACL), or when it has
    none a new one starting with the ``inherited`` rules (None: nothing above it has one)."""
    target = record.granted[n]
    if current is not None:
        result = _graph(current)
    elif inherited is not None:
        result = copy_inherited(inherited, target.url)
    else:
        result = _graph()
    result += authorization(record, n, target)
    return result


def copy_inherited(inherited: Inherited, target_url: str) -> Graph:
    """The rules ``inherited`` gives ``target_url`` through acl:default, as its own ACL's."""
    source = inherited.graph
    container = canonical_resource(inherited.container_url)
    new_acl = acl_url(target_url)
    result = _graph()
    k = 0
    for node in authorization_nodes(source):
        defaults = {canonical_resource(str(o)) for o in source.objects(node, ACL_DEFAULT)}
        if container not in defaults:
            continue
        copy = URIRef(f"{new_acl}#inherited-{k}")
        k += 1
        for predicate, value in source.predicate_objects(node):
            if predicate in (ACL_ACCESS_TO, ACL_DEFAULT, CONSENT.copiedFrom):
                continue
            if isinstance(value, BNode):
                if predicate == ACL_CONDITION:  # a condition limits the rule: copy it too
                    result.add((copy, predicate, _copy_node(source, value, result)))
                continue  # no other rule property the server reads takes a blank node
            result.add((copy, predicate, value))
        result.add((copy, ACL_ACCESS_TO, URIRef(target_url)))
        if target_url.endswith("/"):
            result.add((copy, ACL_DEFAULT, URIRef(target_url)))
        result.add((copy, CONSENT.copiedFrom, URIRef(inherited.acl_url)))
    return result


def _copy_node(source: Graph, node: BNode, into: Graph) -> BNode:
    """A fresh blank node in ``into`` with ``node``'s statements (a client condition)."""
    fresh = BNode()
    for predicate, value in source.predicate_objects(node):
        into.add((fresh, predicate, value))
    return fresh


def revoked_acl(graph: Graph, record_url: str) -> Graph:
    """``graph`` without the authorizations granted by the record at ``record_url``."""
    result = _graph(graph)
    for node in set(graph.subjects(CONSENT.grantedBy, URIRef(record_url))):
        result.remove((node, None, None))
    return result


def copied_grants(graph: Graph) -> dict[str, list[str]]:
    """Copies of other consents' rules in ``graph``, by the record that granted them: each
    such record must list its copies too (``consent:createdRule``), so that its withdrawal
    finds and removes them."""
    found: dict[str, list[str]] = {}
    for node in graph.subjects(CONSENT.copiedFrom, None):
        for record in graph.objects(node, CONSENT.grantedBy):
            found.setdefault(str(record), []).append(str(node))
    return {record: sorted(nodes) for record, nodes in found.items()}


def rule_acls(record: ConsentRecord) -> list[str]:
    """The ACL documents holding the record's rules (its own and their copies)."""
    return sorted({rule.split("#", 1)[0] for rule in record.rules})


def _graph(source: Graph | None = None) -> Graph:
    g = Graph(bind_namespaces="none")
    g.bind("acl", str(ACL))
    g.bind("consent", str(CONSENT))
    g.bind("xsd", str(XSD))
    if source is not None:
        for prefix, namespace in source.namespaces():
            g.bind(prefix, namespace, override=False)
        g += source
    return g
