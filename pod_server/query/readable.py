"""Which documents a query may see: the RDF documents of a storage the caller may Read.

Computed on every query from the storage itself (no index that could lag behind a write
made by this or another process): one listing of each container, then the access
layer's verdict on each document (``AccessPolicy.modes``: WAC with inheritance, groups,
origins, expiring consent rules and app limits, its compiled ACLs cached by ACL etag).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

from pod_server.access.modes import Mode
from pod_server.auth import Agent
from pod_server.errors import UnprocessableEntity
from pod_server.ldp import paths, rdf
from pod_server.storage.base import Meta

# Resources walked per query: past this a storage is too large for this design (see README).
MAX_LISTED = 100_000
CONCURRENT_CHECKS = 8  # access lookups in flight at once (each a metadata query)


class Lister(Protocol):
    async def children(
        self, path: str, after: str | None = None, limit: int | None = None
    ) -> list[Meta]: ...


class Modes(Protocol):
    async def modes(self, agent: Agent | None, origin: str | None, path: str) -> Mode: ...


def is_document(meta: Meta) -> bool:
    """A resource that is a named graph: an RDF document, not a container or an .acl/.meta
    (ACLs need Control, not Read; descriptions belong to their subject's page)."""
    return (
        not meta.is_container
        and not paths.is_auxiliary(meta.path)
        and rdf.is_rdf(meta.content_type)
    )


async def documents(backend: Lister, root: str, limit: int = MAX_LISTED) -> list[Meta]:
    """Every RDF document under the container ``root``, in path order."""
    found: list[Meta] = []
    pending = [root]
    seen = 0
    while pending:
        container = pending.pop()
        for meta in await backend.children(container):
            seen += 1
            if seen > limit:
                raise UnprocessableEntity(
                    f"This storage holds more than {limit} resources, too many to query"
                )
            if meta.is_container:
                pending.append(meta.path)
            elif is_document(meta):
                found.append(meta)
    found.sort(key=lambda m: m.path)
    return found


async def readable(
    policy: Modes, agent: Agent, origin: str | None, candidates: Sequence[Meta]
) -> list[Meta]:
    """The ``candidates`` ``agent`` (from ``origin``) may Read. The lookups run a few at a
    time: on PostgreSQL each is a round trip, which would otherwise add up."""
    gate = asyncio.Semaphore(CONCURRENT_CHECKS)

    async def may_read(meta: Meta) -> bool:
        async with gate:
            return Mode.READ in await policy.modes(agent, origin, meta.path)

    verdicts = await asyncio.gather(*(may_read(m) for m in candidates))
    return [m for m, ok in zip(candidates, verdicts, strict=True) if ok]
