"""A storage's owners: who they are (read from the storage root) and what they may do.

Solid Protocol, Storage: "Servers MUST keep track of at least one owner of a storage in
an implementation defined way." Here the storage root's own triples name them
(``<root> solid:owner <webid>``, written when a pod is provisioned), and a single-user
server adds its configured ``--owner``. Solid Protocol (2024-05-12), Terminology,
owner: "An owner is identified by a URI, and implicitly has control over all resources
in a storage."

Because the owners decide who holds Control, only the host's tools may change them:
once a storage root exists, a client's PUT or PATCH of it must leave its ``solid:owner``
triples as they are (``kept_owners``), else anyone given Write on the root could make
themselves an owner.

Everything here is pure.
"""

from __future__ import annotations

from rdflib import Graph, URIRef

from pod_server.access.modes import NO_MODES, Mode
from pod_server.errors import Conflict
from pod_server.ldp.vocabulary import SOLID_OWNER

_OWNER = URIRef(SOLID_OWNER)


def owners_in(graph: Graph, root_url: str) -> frozenset[str]:
    """The WebIDs a storage root's own triples name as its owners (IRIs only)."""
    return frozenset(
        str(owner) for owner in graph.objects(URIRef(root_url), _OWNER) if isinstance(owner, URIRef)
    )


def owner_modes(agent_webid: str | None, owners: frozenset[str]) -> Mode:
    """The modes holding the storage gives the requester on any resource in it.

    Decision: Control only, the spec's minimum (see the module docstring): the owner can
    always read and rewrite every ACL in their storage, so can grant themselves anything
    back, but an ACL that withholds Read or Write from them (for instance to guard a
    resource against their own apps' mistakes) still does so. The spec's editors said as
    much reviewing Node Solid Server's owner rule (its pull request 1604: "only control, not
    necessarily read or write"), and the Community Solid Server's owner rule likewise only
    opens ACL resources. It applies whatever the request's Origin: it is not an ACL rule,
    so ``acl:origin`` cannot restrict it.
    """
    if agent_webid is not None and agent_webid in owners:
        return Mode.CONTROL
    return NO_MODES


def kept_owners(
    current: Graph | None, written: Graph, root_url: str, *, replace: bool
) -> Graph:
    """``written`` as a client's PUT (``replace``) or PATCH of a storage root may store it.

    ``current`` is what the root holds now (None: it does not exist yet, so this write
    creates it and may name its owners, as provisioning does). A PUT body that names no
    owner keeps the current ones (it replaces the root's other triples, not who owns
    it); one that names owners, and any PATCH result, must name exactly the current
    ones; otherwise 409.
    """
    if current is None:
        return written
    before = owners_in(current, root_url)
    after = owners_in(written, root_url)
    if after != before and (after or not replace):
        raise Conflict(
            "The storage's owners (solid:owner on its root) are managed by the server; "
            "a PUT or PATCH of the root must keep them as they are"
        )
    if after or not before:
        return written
    kept = Graph(bind_namespaces="none")
    kept += written
    for owner in sorted(before):
        kept.add((URIRef(root_url), _OWNER, URIRef(owner)))
    return kept
