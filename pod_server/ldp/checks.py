"""What a write may do: method policy, link types, managed triples, ACL and shape rules."""

from __future__ import annotations

from collections.abc import Sequence

from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, RDF

from pod_server.errors import BadRequest, Conflict, MethodNotAllowed
from pod_server.ldp import paths
from pod_server.ldp.layout import Layout
from pod_server.ldp.rules import DocumentRules
from pod_server.ldp.shapes import ShapeConstraints, ShapeViolation
from pod_server.ldp.vocabulary import CONTAINER_TYPES, LDP_CONTAINS, POSIX

_DOC_METHODS = ("OPTIONS", "HEAD", "GET", "PUT", "PATCH", "DELETE")
_ROOT_METHODS = ("OPTIONS", "HEAD", "GET", "POST", "PUT", "PATCH")
_ROOT_ACL_METHODS = ("OPTIONS", "HEAD", "GET", "PUT", "PATCH")
_MEMBER_METADATA = frozenset(
    {
        str(RDF.type),
        str(DCTERMS.modified),
        str(POSIX.size),
        str(POSIX.mtime),
    }
)


def allowed_methods(layout: Layout, path: str) -> tuple[str, ...]:
    if layout.is_well_known(path):
        return ("OPTIONS", "HEAD", "GET")
    if layout.is_storage_root(path):
        return _ROOT_METHODS
    if layout.is_root_acl(path):
        return _ROOT_ACL_METHODS
    if paths.is_container(path):
        return (*_DOC_METHODS, "POST")
    return _DOC_METHODS


def check_deletable(layout: Layout, path: str) -> None:
    """Solid Protocol §5.4: "When a DELETE request targets storage's root container or
    its associated ACL resource, the server MUST respond with the 405 status code."""
    if layout.is_storage_root(path) or layout.is_root_acl(path):
        raise MethodNotAllowed(
            "The storage root and its ACL cannot be deleted",
            allowed=allowed_methods(layout, path),
        )


def check_writable(layout: Layout, path: str) -> None:
    if layout.is_well_known(path):
        raise MethodNotAllowed(
            ".well-known/ is managed by the server", allowed=("GET", "HEAD", "OPTIONS")
        )


def asks_for_container(link_types: Sequence[str]) -> bool:
    return any(t in CONTAINER_TYPES for t in link_types)


def check_link_types(path: str, link_types: Sequence[str]) -> None:
    if asks_for_container(link_types) and not paths.is_container(path):
        raise BadRequest("A container's URL must end with '/'")


def kind(path: str) -> str:
    return "A container" if paths.is_container(path) else "An auxiliary resource"


def check_managed_unchanged(before: Graph, after: Graph, container_url: str) -> None:
    """Solid Protocol §5.3: "Servers MUST NOT allow HTTP POST, PUT and PATCH to update a
    container's containment triples" nor its "resource metadata statements" about the
    contained resources; such a request gets 409."""
    if _managed(before, container_url) != _managed(after, container_url):
        raise Conflict(
            "Containment triples (ldp:contains) and the descriptions of contained resources "
            "(type, dc:modified, posix:size, posix:mtime) are managed by the server"
        )


def _managed(graph: Graph, container_url: str) -> set[tuple[object, object, object]]:
    found: set[tuple[object, object, object]] = set(
        graph.triples((None, URIRef(LDP_CONTAINS), None))
    )
    for s, p, o in graph:
        if str(p) in _MEMBER_METADATA and _is_member(str(s), container_url):
            found.add((s, p, o))
    return found


def _is_member(iri: str, container_url: str) -> bool:
    if not iri.startswith(container_url) or iri == container_url:
        return False
    rest = iri[len(container_url) :]
    return "#" not in rest and "/" not in rest.rstrip("/")


class Validation:
    """The document rules (ACLs, owners) and container shapes a write must satisfy."""

    def __init__(self, layout: Layout, rules: DocumentRules, shapes: ShapeConstraints) -> None:
        self.layout = layout
        self.rules = rules
        self.shapes = shapes

    async def constraints(self, container: str) -> tuple[str, ...]:
        """The shapes the container at ``container`` requires its members to satisfy."""
        return await self.shapes.of(container, self.layout.url(container))

    def check_acl(self, path: str, graph: Graph) -> None:
        aux = paths.aux_subject(path)
        if aux is not None and aux[0] == paths.ACL_SUFFIX:
            subject = aux[1]
            root = self.layout.is_storage_root(subject)
            url = self.layout.url
            self.rules.check_acl(graph, url(path), url(subject), storage_root=root)

    async def check_shapes(self, path: str, graph: Graph | None) -> None:
        """Validate a write against its container's shapes; a container's description
        may only name shapes the server can apply. ``graph`` is None for a non-RDF body."""
        aux = paths.aux_subject(path)
        if aux is not None:
            if aux[0] == paths.META_SUFFIX and paths.is_container(aux[1]) and graph is not None:
                self.shapes.check_description(graph, self.layout.url(aux[1]))
            return
        parent = paths.parent(path)
        if parent is None or paths.is_container(path):
            return
        required = await self.constraints(parent)
        if not required:
            return
        if graph is None:
            message = f"This container only accepts RDF data satisfying {', '.join(required)}"
            raise ShapeViolation(message, "", required)
        await self.shapes.validate(graph, required)

    async def validated_member(self, path: str) -> tuple[str, ...]:
        """The shapes a document at ``path`` must satisfy as a member of its container
        (empty for containers, auxiliary resources and unconstrained containers)."""
        parent = paths.parent(path)
        if parent is None or paths.is_container(path) or paths.is_auxiliary(path):
            return ()
        return await self.constraints(parent)

    async def stored_verbatim(self, path: str) -> bool:
        """A plain document whose body no rule needs to see as a graph (not a container,
        ACL or description, not in a shape-validated container)."""
        if paths.is_container(path) or paths.is_auxiliary(path):
            return False
        parent = paths.parent(path)
        return parent is None or not await self.constraints(parent)
