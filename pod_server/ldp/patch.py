"""PATCH bodies: parse once, then apply to an RDF graph. Pure functions: no HTTP, no I/O.

Two formats, chosen by media type:

- ``text/n3``: N3 Patch (Solid Protocol 0.11), see :mod:`pod_server.ldp.n3patch`. Strict:
  a where clause that does not match exactly once, or a deletion of an absent triple, is 409.
- ``application/sparql-update``: SPARQL 1.1 Update limited to the target resource, see
  :mod:`pod_server.ldp.sparql_update`. SPARQL semantics: deleting an absent triple is a no-op.

The flags on :class:`Patch` let the caller pick the access modes before touching storage.
Per the Solid Protocol: conditions need Read, insertions need Append, deletions need Read
and Write.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from rdflib import Graph

from pod_server.errors import BadRequest, UnsupportedMediaType
from pod_server.ldp.budget import DEFAULT_MAX_NESTING, DEFAULT_MAX_SOLUTIONS
from pod_server.ldp.media_types import N3_PATCH, SPARQL_UPDATE
from pod_server.ldp.n3patch import parse_n3_patch
from pod_server.ldp.sparql_update import parse_sparql_update

ACCEPTED_MEDIA_TYPES = (N3_PATCH, SPARQL_UPDATE)
ACCEPT_PATCH = ", ".join(ACCEPTED_MEDIA_TYPES)  # value for the Accept-Patch header


class PatchProgram(Protocol):
    """A parsed patch, ready to apply; ``apply`` mutates the graph it is given."""

    @property
    def deletes(self) -> bool: ...

    @property
    def has_where(self) -> bool: ...

    def apply(self, graph: Graph, max_solutions: int = ...) -> None: ...


@dataclass(frozen=True)
class Patch:
    """A parsed, validated PATCH body.

    ``inserts_only``: an unconditional append (no where clause, no deletion), so WAC Append
    suffices. ``deletes``: may remove triples (Read and Write). ``has_where``: has a
    condition (Read). A patch with a where clause but no deletions (N3 where+inserts,
    SPARQL ``INSERT {…} WHERE {…}``) has inserts_only=False, deletes=False, has_where=True:
    per the Solid Protocol that needs Read plus Append.
    """

    media_type: str
    inserts_only: bool
    deletes: bool
    has_where: bool
    program: PatchProgram = field(repr=False, compare=False)
    size: int = 0  # bytes of the body: what parsing and applying a DATA-only patch cost


def parse_patch(
    body: bytes, media_type: str, base: str, max_nesting: int = DEFAULT_MAX_NESTING
) -> Patch:
    """Parse a PATCH body of ``media_type`` (parameters allowed); ``base`` is the target URL.

    Raises UnsupportedMediaType (415), BadRequest (400: not UTF-8, syntax error, nested
    deeper than ``max_nesting``) or UnprocessableEntity (422: not an acceptable patch).
    """
    essence = _media_type_essence(media_type)
    text = _decode(body)
    parse = parse_n3_patch if essence == N3_PATCH else parse_sparql_update
    program: PatchProgram = parse(text, base, max_nesting)
    return Patch(
        media_type=essence,
        inserts_only=not (program.deletes or program.has_where),
        deletes=program.deletes,
        has_where=program.has_where,
        program=program,
        size=len(body),
    )


def apply_patch(graph: Graph, patch: Patch, max_solutions: int = DEFAULT_MAX_SOLUTIONS) -> Graph:
    """Return a new graph with ``patch`` applied; ``graph`` itself is never modified.
    A where clause with more than ``max_solutions`` solutions is a 422.

    Working on a copy also makes the patch atomic: on Conflict (409) or any other error the
    half-patched copy is simply dropped.
    """
    result = _copy(graph)
    patch.program.apply(result, max_solutions)
    return result


def _media_type_essence(media_type: str) -> str:
    essence, *parameters = (part.strip() for part in media_type.split(";"))
    essence = essence.lower()
    if essence not in ACCEPTED_MEDIA_TYPES:
        # RFC 5789 §2.2: a 415 for an unsupported patch format SHOULD carry Accept-Patch.
        raise UnsupportedMediaType(
            f"Unsupported PATCH media type {essence!r}; accepted: {ACCEPT_PATCH}",
            headers={"Accept-Patch": ACCEPT_PATCH},
        )
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        charset = value.strip().strip('"').lower()
        if name.strip().lower() == "charset" and charset not in ("utf-8", "utf8"):
            raise UnsupportedMediaType(
                f"Unsupported charset {charset!r} for {essence}; PATCH bodies must be UTF-8",
                headers={"Accept-Patch": ACCEPT_PATCH},
            )
    return essence


def _decode(body: bytes) -> str:
    # Both formats are UTF-8 by definition. "utf-8-sig" also drops a leading byte order mark,
    # which neither parser accepts.
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"PATCH body is not valid UTF-8 (byte {exc.start})") from None


def _copy(graph: Graph) -> Graph:
    """Same triples, identifier, base and prefixes, in a fresh in-memory store."""
    copy = Graph(identifier=graph.identifier, base=graph.base, bind_namespaces="none")
    for prefix, namespace in graph.namespaces():
        # Straight into the store: the bindings are already valid, and Graph.bind's checks
        # cost ~8 us per prefix (rdflib binds ~30 by default), more than copying the triples.
        copy.store.bind(prefix, namespace)
    copy += graph
    return copy
