"""The resource store: Solid Protocol semantics on top of a dumb storage backend.

A facade over parts named by concern: ``layout`` (URLs), ``reading`` (negotiation and
the conversion cache), ``staging`` (request bodies), ``checks`` (what a write may do),
``writing`` (atomic plans and their retry), ``appending`` (insert-only PATCH) and
``changes`` (events for notifications). Every write is planned as preconditions plus
mutations and handed to the backend as one atomic step; if a concurrent writer (in this
or another process) changed what the plan relied on, the plan is made again. A per-path
lock keeps writers of one resource in this process from retrying against each other.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence

from rdflib import Graph, URIRef

from pod_server.errors import StaleState
from pod_server.ldp import checks, conneg, containers, paths, rdf
from pod_server.ldp.appending import Appender
from pod_server.ldp.budget import Runner
from pod_server.ldp.changes import Change, describe_changes
from pod_server.ldp.conditions import Conditions
from pod_server.ldp.layout import STORAGE_DESCRIPTION, WELL_KNOWN, Layout
from pod_server.ldp.media_types import TURTLE
from pod_server.ldp.paging import PageRequest
from pod_server.ldp.patch import ACCEPT_PATCH, SPARQL_UPDATE, Patch, parse_patch
from pod_server.ldp.patch import ACCEPTED_MEDIA_TYPES as PATCH_TYPES
from pod_server.ldp.process_lane import ProcessLane
from pod_server.ldp.reading import (
    PARSE_ON_LOOP_UP_TO,
    Reader,
    Representation,
    negotiate,
    representation_tag,
)
from pod_server.ldp.rules import DocumentRules
from pod_server.ldp.shapes import ShapeConstraints
from pod_server.ldp.staging import Body, Limits, media_type, read_limited, sanitize_slug
from pod_server.ldp.vocabulary import PIM_STORAGE, SOLID_OWNER
from pod_server.ldp.writing import MAX_ATTEMPTS, LogFor, Writer, WriteResult
from pod_server.storage.base import (
    ABSENT,
    Backend,
    Expect,
    Log,
    Meta,
    Mutation,
    Put,
    Staged,
    Usage,
)

# Names other modules have imported from here; they live with their concern now.
__all__ = [
    "MAX_ATTEMPTS",
    "STORAGE_DESCRIPTION",
    "TURTLE",
    "WELL_KNOWN",
    "Body",
    "Change",
    "Limits",
    "Representation",
    "ResourceStore",
    "WriteResult",
    "describe_changes",
    "negotiate",
    "read_limited",
    "representation_tag",
    "sanitize_slug",
]

log = logging.getLogger("pod_server")
SPARQL_ON_LOOP_UP_TO = 1024  # body bytes: pyparsing takes ~0.1 s per KB, superlinearly


class ResourceStore:
    """Solid resources over a backend; every public method is one protocol operation."""

    def __init__(
        self,
        backend: Backend,
        base_url: str,
        limits: Limits,
        *,
        rules: DocumentRules,
        multiuser: bool = False,
        vocab_base: str | None = None,
        listeners: Sequence[Callable[[list[Change]], None]] = (),
        description_providers: Sequence[Callable[[str], str]] = (),
    ) -> None:
        self.backend = backend
        self.rules = rules
        self.multiuser = multiuser
        self.layout = Layout(base_url, multiuser)
        self.base_url = self.layout.base_url
        self.base_path = self.layout.base_path
        self.limits = limits
        # Called with the changes of every committed write, in commit order (notifications).
        self.listeners: list[Callable[[list[Change]], None]] = list(listeners)
        # Extra Turtle for storage descriptions, given the storage root (e.g. notifications).
        self.description_providers: list[Callable[[str], str]] = list(description_providers)
        lane = ProcessLane(limits.work) if limits.work.processes else None
        self.runner = Runner(limits.work, lane)
        self._reader = Reader(backend, self.layout, self.runner, limits.work.max_nesting)
        self.shapes = ShapeConstraints(
            vocab_base or base_url + "vocab/", backend.meta, self._reader.graph_of
        )
        self.shapes.run_heavy = self.runner.run
        self._checks = checks.Validation(self.layout, rules, self.shapes)
        self._writer = Writer(
            backend, self._reader, self._checks, limits, self.runner, self.listeners
        )
        self._appender = Appender(self._writer)

    # -- identifiers (see ``layout``) ----------------------------------------------------

    def url(self, path: str) -> str:
        return self.layout.url(path)

    def local_path(self, url: str) -> str | None:
        return self.layout.local_path(url)

    def storage_root_of(self, path: str) -> str | None:
        return self.layout.storage_root_of(path)

    def is_storage_root(self, path: str) -> bool:
        return self.layout.is_storage_root(path)

    def is_root_acl(self, path: str) -> bool:
        return self.layout.is_root_acl(path)

    def storage_description_path(self, path: str) -> str:
        return self.layout.storage_description_path(path)

    async def storage_description(self, root: str) -> str:
        """Turtle describing the storage at ``root``: its type and, for a pod, its owner."""
        lines = [f"<{self.url(root)}> a <{PIM_STORAGE}>."]
        meta, graph = await self.graph_of(root)
        if meta is not None:
            for owner in graph.objects(URIRef(self.url(root)), URIRef(SOLID_OWNER)):
                lines.append(f"<{self.url(root)}> <{SOLID_OWNER}> <{owner}>.")
        lines += [provide(root) for provide in self.description_providers]
        return "\n".join(lines) + "\n"

    # -- method policy (see ``checks``) -----------------------------------------------------

    def allowed_methods(self, path: str) -> tuple[str, ...]:
        return checks.allowed_methods(self.layout, path)

    def check_deletable(self, path: str) -> None:
        checks.check_deletable(self.layout, path)

    async def constraints(self, container: str) -> tuple[str, ...]:
        """The shapes the container at ``container`` requires its members to satisfy."""
        return await self._checks.constraints(container)

    async def ensure_root(self, root_acl: str | None = None) -> None:
        """Create the storage root on first start, and give it ``root_acl`` if it has none.

        An existing root ACL is never replaced: the owner may have edited it.
        """
        if await self.backend.meta("/") is None:
            with contextlib.suppress(StaleState):  # another process created it first
                await self._writer.apply([Expect("/", ABSENT)], [Put("/", TURTLE)])
        acl_path = "/" + paths.ACL_SUFFIX
        if await self.backend.meta(acl_path) is not None:
            return
        if root_acl is None:
            if not self.multiuser:
                log.warning("The storage root has no ACL: nobody can use it (see --owner, --open)")
            return
        data = root_acl.encode()
        self._checks.check_acl(acl_path, rdf.parse(data, TURTLE, self.url(acl_path)))
        with contextlib.suppress(StaleState):
            put = Put(acl_path, TURTLE, Staged.of(data))
            await self._writer.apply([Expect(acl_path, ABSENT)], [put])

    # -- reading (see ``reading``) ---------------------------------------------------------

    async def meta(self, path: str) -> Meta | None:
        return await self.backend.meta(path)

    async def metas(self, paths: Sequence[str]) -> dict[str, Meta]:
        return await self.backend.metas(paths)

    async def get(
        self,
        path: str,
        accept: str | None,
        cond: Conditions,
        method: str = "GET",
        known: Meta | None = None,
    ) -> Representation:
        """``known``: the resource's metadata as just read (with its ACLs); when the body
        of that very version is cached, no backend read is needed at all."""
        return await self._reader.get(path, accept, cond, method, known)

    async def get_page(
        self, path: str, page: PageRequest, accept: str | None, cond: Conditions, method: str
    ) -> tuple[Representation, str | None]:
        """One page of a container's listing (see ``ldp.paging``) and the name the next
        page starts after, None on the last page."""
        return await self._reader.get_page(path, page, accept, cond, method)

    async def members(
        self, container: str, after: str | None = None, limit: int | None = None
    ) -> list[Meta]:
        """A container's members in name order (auxiliary resources left out), from the
        first whose path sorts after ``after``, at most ``limit`` read: the pages' listing."""
        children = await self.backend.children(container, after=after, limit=limit)
        return containers.visible_members(children)

    async def graph_of(self, path: str) -> tuple[Meta | None, Graph]:
        """The stored graph of an RDF resource (a container's own triples), or empty."""
        return await self._reader.graph_of(path)

    async def usage(self, root: str) -> Usage:
        """Bytes used by the storage at ``root`` and its own limit, if one was set."""
        return await self.backend.usage(root)

    # -- writing (see ``writing`` and ``appending``) ---------------------------------------

    # ``log``, on each client write: its audit entry, committed with the write (``writing``).

    async def put(
        self,
        path: str,
        body: Body,
        cond: Conditions,
        link_types: Sequence[str] = (),
        log: LogFor | None = None,
    ) -> WriteResult:
        checks.check_writable(self.layout, path)
        checks.check_link_types(path, link_types)
        return await self._writer.put(path, body, cond, log)

    async def post(
        self,
        container: str,
        body: Body,
        slug: str | None,
        link_types: Sequence[str] = (),
        log: LogFor | None = None,
    ) -> WriteResult:
        checks.check_writable(self.layout, container)
        return await self._writer.post(container, body, slug, link_types, log)

    async def read_patch(self, path: str, body: Body) -> Patch:
        """Parse a PATCH body first: which access modes it needs depends on what it does."""
        checks.check_writable(self.layout, path)
        media, params = media_type(body, "PATCH needs a Content-Type header")
        if media in PATCH_TYPES:  # any other type is refused by parse_patch, with Accept-Patch
            conneg.require_utf8(media, params, {"Accept-Patch": ACCEPT_PATCH})
        raw = await read_limited(body.chunks, self.limits.max_rdf_size)
        small = SPARQL_ON_LOOP_UP_TO if media == SPARQL_UPDATE else PARSE_ON_LOOP_UP_TO
        return await self.runner.run(
            parse_patch,
            raw,
            media,
            self.url(path),
            self.limits.work.max_nesting,
            inline=len(raw) <= small,
        )

    async def patch(
        self, path: str, patch: Patch, cond: Conditions, log: LogFor | None = None
    ) -> WriteResult:
        appender = self._appender
        # Grouped appends share one write, so an audited patch (its own entry) goes alone.
        if patch.inserts_only and not cond.any and log is None and await appender.appendable(path):
            return await appender.submit(path, patch)
        async with self._writer.locks(path):
            if patch.inserts_only and await appender.appendable(path):
                added = await appender.inserted(patch)
                return await appender.append(path, [added], cond, log)
            return await self._writer.patch(path, patch, cond, log)

    async def delete(self, path: str, cond: Conditions, log: LogFor | None = None) -> None:
        checks.check_deletable(self.layout, path)
        checks.check_writable(self.layout, path)
        await self._writer.delete(path, cond, log)

    async def create_internal(self, path: str, turtle: bytes) -> WriteResult:
        """Create an RDF resource on the server's own behalf (pod provisioning): the same
        validation and atomicity as a client's PUT, and never over an existing resource."""

        async def once() -> AsyncIterator[bytes]:
            yield turtle

        body = Body(TURTLE, once(), len(turtle))
        return await self.put(path, body, Conditions(if_none_match=("*",)))

    async def commit(
        self, expects: Sequence[Expect], mutations: Sequence[Mutation | Log], under: str
    ) -> Mapping[str, Meta]:
        """The server's own atomic write of several resources (a consent decision writes its
        record and the ACLs it changes together): one backend step, counted against the
        quota of the storage holding ``under``, its changes announced to the listeners.
        The caller has validated what it writes (ACLs with ``check_acl``); client-facing
        rules such as the read-only ``.well-known/`` do not apply to the server itself.
        ``mutations`` may include audit entries (``AuditEntry(...).mutation()``)."""
        return await self._writer.apply(list(expects), list(mutations), under=under)

    def check_acl(self, acl_path: str, graph: Graph) -> None:
        """Refuse (422) an ACL document that access control's rules do not accept."""
        self._checks.check_acl(acl_path, graph)

    async def delete_tree(self, root: str) -> int:
        """Remove a container and everything below it in one atomic step (pod deletion).

        Bypasses the one-by-one LDP rules on purpose: it is how an account's pod goes.
        """
        return await self._writer.delete_tree(root)
