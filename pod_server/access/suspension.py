"""A pod its host suspended: a server-managed triple on the pod's root.

Decision: the flag lives in the storage root's own triples (``<root> pod:suspendedSince
"date"``), beside ``solid:owner``, not in the identity provider's state. The access policy
already reads the root's metadata in the same query as the ACLs and caches what the root
says by its etag, so checking the flag costs no query, and a change made by any process
(or host, on PostgreSQL) is seen by every other at its next request, on both storages.
While the flag is there the policy refuses everyone (the owner too); only the operator's
tools, which write through the store directly, lift it. A client's write of the root must
leave it as it is (``kept_suspension``).

Everything here is pure.
"""

from __future__ import annotations

from rdflib import Graph, Literal, URIRef

from pod_server.errors import Conflict

SUSPENDED_SINCE = "urn:pod-server:suspendedSince"
_SUSPENDED = URIRef(SUSPENDED_SINCE)


def suspended_since(graph: Graph, root_url: str) -> str | None:
    """When the pod at ``root_url`` was suspended (an ISO date), or None if it is not."""
    for value in graph.objects(URIRef(root_url), _SUSPENDED):
        return str(value)
    return None


def with_suspension(graph: Graph, root_url: str, since: str | None) -> Graph:
    """A copy of the root's triples suspended since ``since`` (None: resumed)."""
    changed = Graph(bind_namespaces="none")
    changed += graph
    changed.remove((URIRef(root_url), _SUSPENDED, None))
    if since is not None:
        changed.add((URIRef(root_url), _SUSPENDED, Literal(since)))
    return changed


def kept_suspension(current: Graph | None, written: Graph, root_url: str) -> Graph:
    """``written`` as a client may store it over ``current``: naming no suspension keeps
    the current one's absence; naming one (a client suspending a pod) is refused."""
    before = None if current is None else suspended_since(current, root_url)
    after = suspended_since(written, root_url)
    if after is not None and after != before:
        raise Conflict("Only the server's operator suspends a pod (pod:suspendedSince)")
    return written
