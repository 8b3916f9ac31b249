"""Writes: each is planned as preconditions plus mutations and committed as one atomic
step; when a concurrent writer changed what the plan relied on, the backend raises
StaleState and ``retrying`` makes the plan again."""

from __future__ import annotations

import asyncio
import random
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from rdflib import Graph

from pod_server.errors import Conflict, MethodNotAllowed, NotFound, PayloadTooLarge, StaleState
from pod_server.ldp import conditions, containers, paths, rdf
from pod_server.ldp.budget import Runner
from pod_server.ldp.changes import Change, describe_changes
from pod_server.ldp.checks import (
    Validation,
    allowed_methods,
    asks_for_container,
    check_managed_unchanged,
)
from pod_server.ldp.conditions import Conditions
from pod_server.ldp.locks import KeyedLock
from pod_server.ldp.media_types import TURTLE
from pod_server.ldp.n3patch import GroundInsert
from pod_server.ldp.patch import Patch, apply_patch
from pod_server.ldp.reading import PARSE_ON_LOOP_UP_TO, Reader
from pod_server.ldp.shapes import ShapeConstraints
from pod_server.ldp.staging import Body, Limits, sanitize_slug, stage
from pod_server.storage.base import (
    ABSENT,
    PRESENT,
    Backend,
    Expect,
    Log,
    Meta,
    Mutation,
    Put,
    Quota,
    Staged,
    Touch,
)
from pod_server.storage.base import Delete as DeleteOp

MAX_ATTEMPTS = 20
# After a second lost race, a random pause that grows with each attempt: writers in other
# processes (which the per-path lock does not serialise) then stop overtaking each other
# in lockstep, and none gives up while the others keep winning.
RETRY_PAUSE = 0.002  # seconds, times the attempt number, at most
T = TypeVar("T")
# The audit entry of a write, given the path written and whether it was created: it is
# committed in the same backend step as the write (see pod_server.audit).
LogFor = Callable[[str, bool], Log]


@dataclass(frozen=True, slots=True)
class WriteResult:
    meta: Meta
    created: bool


async def retrying(attempt: Callable[[], Awaitable[T]], gave_up: str) -> T:
    """Run ``attempt`` (which plans from fresh reads and commits) until no concurrent
    writer invalidates its plan; a 409 saying ``gave_up`` after ``MAX_ATTEMPTS``."""
    for attempt_number in range(MAX_ATTEMPTS):
        try:
            return await attempt()
        except StaleState:
            if attempt_number and attempt_number < MAX_ATTEMPTS - 1:
                await asyncio.sleep(random.uniform(0, RETRY_PAUSE * attempt_number))
    raise Conflict(gave_up)


class Writer:
    """Plans and commits PUT, POST, PATCH (the general path) and DELETE."""

    def __init__(
        self,
        backend: Backend,
        reader: Reader,
        checks: Validation,
        limits: Limits,
        runner: Runner,
        listeners: list[Callable[[list[Change]], None]],
    ) -> None:
        self.backend = backend
        self.reader = reader
        self.layout = reader.layout
        self.checks = checks
        self.limits = limits
        self.runner = runner
        self.listeners = listeners  # the store's own list: listeners added later count
        self.locks = KeyedLock()

    async def apply(
        self,
        expects: list[Expect],
        mutations: Sequence[Mutation | Log],
        under: str | None = None,
        log: Log | None = None,
    ) -> Mapping[str, Meta]:
        """Commit, counting bytes against the quota of the storage holding ``under``;
        ``log`` (and any ``Log`` among ``mutations``) goes into the same atomic step."""
        root = self.layout.storage_root_of(under) if under is not None else None
        quota = Quota(root, self.limits.quota) if root is not None else None
        steps = [*mutations, log] if log is not None else mutations
        # Shielded: once the backend starts a commit, a cancelled request must not leave
        # the backend's own bookkeeping half done; the commit completes either way.
        written = await asyncio.shield(self.backend.apply(expects, steps, quota))
        if self.listeners:
            changed = [m for m in mutations if not isinstance(m, Log)]
            changes = describe_changes(expects, changed, written)
            for listener in self.listeners:
                listener(changes)  # after the commit: what listeners see is durable
        return written

    async def put(
        self, path: str, body: Body, cond: Conditions, log: LogFor | None = None
    ) -> WriteResult:
        staged, content_type = await self._stage(path, body)
        async with self.locks(path):
            return await self._commit(path, staged, content_type, cond, replace=True, log=log)

    async def post(
        self,
        container: str,
        body: Body,
        slug: str | None,
        link_types: Sequence[str],
        log: LogFor | None = None,
    ) -> WriteResult:
        target = await self.backend.meta(container)
        if target is None:
            raise NotFound(f"No container at {container}")
        if not target.is_container:
            raise MethodNotAllowed(
                "POST is only allowed on containers",
                allowed=allowed_methods(self.layout, container),
            )
        suffix = "/" if asks_for_container(link_types) else ""
        name = sanitize_slug(slug)
        for _ in range(MAX_ATTEMPTS):
            path = container + (paths.encode_segment(name) if name else _fresh_name()) + suffix
            async with self.locks(path):
                if await self._taken(path):
                    name = None  # the Slug clashes: fall back to a server-chosen name
                    continue
                # The body is consumed from here on; a clash with another process now is a 409.
                staged, content_type = await self._stage(path, body)
                return await self._commit(
                    path, staged, content_type, conditions.NONE, replace=False, log=log
                )
        raise Conflict("Could not find a free name in the container; try again")

    async def patch(
        self, path: str, patch: Patch, cond: Conditions, log: LogFor | None = None
    ) -> WriteResult:
        """The general PATCH: parse, apply, check and store the whole graph (under the lock);
        a ground insert creating a shape-validated document skips the graph when the compiled
        shapes accept it (``_created_conforming``)."""

        async def attempt() -> WriteResult:
            meta, graph = await self.reader.graph_of(path)
            state = meta.etag if meta else None
            conditions.evaluate(cond, "PATCH", state, None, meta.modified if meta else None)
            data = await self._created_conforming(path, patch) if meta is None else None
            if data is None:
                data = await self._patched(path, patch, meta, graph)
            if len(data) > self.limits.max_rdf_size:
                raise PayloadTooLarge(
                    f"The patched document would exceed the {self.limits.max_rdf_size}-byte"
                    " limit for RDF"
                )
            return await self.apply_write(path, Staged.of(data), TURTLE, meta, log)

        return await retrying(
            attempt, "The resource kept changing while the patch was applied; try again"
        )

    async def _patched(self, path: str, patch: Patch, meta: Meta | None, graph: Graph) -> bytes:
        """The Turtle to store for ``patch`` applied to ``graph``, the stored graph of
        ``path`` (``meta`` None: no document yet), once every rule accepts the result."""
        # A where clause can cost far more than its size: always bounded.
        updated = await self.runner.run(
            apply_patch,
            graph,
            patch,
            self.limits.work.max_solutions,
            inline=not patch.has_where and patch.size <= PARSE_ON_LOOP_UP_TO,
        )
        url = self.layout.url(path)
        if paths.is_container(path):
            check_managed_unchanged(graph, updated, url)
        if meta is not None and self.layout.is_storage_root(path):
            self.checks.rules.keep_owners(graph, updated, url, replace=False)
        self.checks.check_acl(path, updated)
        await self.checks.check_shapes(path, updated)
        return await self.reader.turtle(path, updated)

    async def _created_conforming(self, path: str, patch: Patch) -> bytes | None:
        """The Turtle to store when ``patch`` only inserts ground triples, creates a plain
        document in a shape-validated container (the one rule such a document has) and
        the compiled shapes accept them: no rdflib graph or terms are built at all. None
        leaves the general path to decide: pyshacl, and the report of a 422."""
        program = patch.program
        if not isinstance(program, GroundInsert):
            return None
        shapes = await self.checks.validated_member(path)
        if not shapes:
            return None
        return await self.runner.run(
            _conforming_turtle,
            self.checks.shapes,
            program,
            self.layout.url(path),
            shapes,
            inline=patch.size <= PARSE_ON_LOOP_UP_TO,
        )

    async def delete(self, path: str, cond: Conditions, log: LogFor | None = None) -> None:
        async def attempt() -> None:
            meta = await self.backend.meta(path)
            if meta is None:
                raise NotFound(f"No resource at {path}")
            conditions.evaluate(cond, "DELETE", meta.etag, None, meta.modified)
            expects, mutations = await self._deletion_plan(meta)
            entry = log(path, False) if log is not None else None
            await self.apply(expects, mutations, under=path, log=entry)

        async with self.locks(path):
            await retrying(attempt, "The resource kept changing while it was deleted; try again")

    async def delete_tree(self, root: str) -> int:
        async def attempt() -> int:
            doomed = await self._tree(root)
            if not doomed:
                return 0
            mutations: list[Mutation] = [DeleteOp(m.path) for m in reversed(doomed)]
            parent = paths.parent(root)
            if parent is not None:
                mutations.append(Touch(parent))
            await self.apply([Expect(m.path, m.etag) for m in doomed], mutations)
            return len(doomed)

        # written to meanwhile: list again
        return await retrying(attempt, f"{root} kept changing while it was deleted; try again")

    async def _tree(self, root: str) -> list[Meta]:
        """Every resource at or below ``root``, each container before its members."""
        found: list[Meta] = []
        pending = [root]
        while pending:
            meta = await self.backend.meta(pending.pop())
            if meta is None:
                continue
            found.append(meta)
            for child in await self.backend.children(meta.path):
                if child.is_container:
                    pending.append(child.path)
                else:
                    found.append(child)
        return found

    async def _deletion_plan(self, meta: Meta) -> tuple[list[Expect], list[Mutation]]:
        expects = [Expect(meta.path, meta.etag)]
        mutations: list[Mutation] = []
        if meta.is_container:
            children = await self.backend.children(meta.path)
            if containers.visible_members(children):
                raise Conflict("Container is not empty; delete its members first")
            # Only auxiliary resources remain; they go with it.
            expects += [Expect(c.path, c.etag) for c in children]
            mutations += [DeleteOp(c.path) for c in children]
        elif not paths.is_auxiliary(meta.path):
            for suffix in paths.AUX_SUFFIXES:
                aux = await self.backend.meta(meta.path + suffix)
                if aux is not None:
                    expects.append(Expect(aux.path, aux.etag))
                    mutations.append(DeleteOp(aux.path))
        mutations.append(DeleteOp(meta.path))
        parent = paths.parent(meta.path)
        if parent is not None and not paths.is_auxiliary(meta.path):
            mutations.append(Touch(parent))
        return expects, mutations

    async def _taken(self, path: str) -> bool:
        return (await self.backend.meta(path)) is not None or (
            await self.backend.meta(paths.twin(path))
        ) is not None

    async def _stage(self, path: str, body: Body) -> tuple[Staged, str]:
        return await stage(self.backend, self.reader, self.checks, self.limits, path, body)

    async def _commit(
        self,
        path: str,
        staged: Staged,
        content_type: str,
        cond: Conditions,
        *,
        replace: bool,
        log: LogFor | None = None,
    ) -> WriteResult:
        async def attempt() -> WriteResult:
            meta = await self.backend.meta(path)
            if meta is not None and not replace:
                raise Conflict(f"{path} already exists")
            conditions.evaluate(
                cond, "PUT", meta.etag if meta else None, None, meta.modified if meta else None
            )
            return await self.apply_write(path, staged, content_type, meta, log)

        try:
            return await retrying(
                attempt, "The resource kept changing while it was written; try again"
            )
        except BaseException:
            await self.backend.discard(staged)
            raise

    async def apply_write(
        self,
        path: str,
        staged: Staged,
        content_type: str,
        current: Meta | None,
        log: LogFor | None = None,
    ) -> WriteResult:
        """Write one resource, creating missing ancestors, as a single atomic step (with
        the write's audit entry, if ``log`` makes one)."""
        expects = [Expect(path, current.etag if current else ABSENT)]
        mutations: list[Mutation] = []
        if current is None:
            await self._plan_ancestors(path, expects, mutations)
            expects.append(Expect(paths.twin(path), ABSENT))
        mutations.append(Put(path, content_type, staged))
        parent = paths.parent(path)
        if parent is not None and not paths.is_auxiliary(path):
            mutations.append(Touch(parent))
        entry = log(path, current is None) if log is not None else None
        written = await self.apply(expects, mutations, under=path, log=entry)
        return WriteResult(written[path], created=current is None)

    async def _plan_ancestors(
        self, path: str, expects: list[Expect], mutations: list[Mutation]
    ) -> None:
        """Add the creation of every missing ancestor container (outermost first)."""
        missing: list[str] = []
        for ancestor in paths.ancestors(path):
            if await self.backend.meta(ancestor) is not None:
                expects.append(Expect(ancestor, PRESENT))
                break
            if await self.backend.meta(paths.twin(ancestor)) is not None:
                raise Conflict(f"{paths.twin(ancestor)} is a document, so it cannot be a container")
            missing.append(ancestor)
            expects += [Expect(ancestor, ABSENT), Expect(paths.twin(ancestor), ABSENT)]
        for ancestor in reversed(missing):
            mutations.append(Put(ancestor, TURTLE))
            grand = paths.parent(ancestor)
            if grand is not None and (grand not in missing):
                mutations.append(Touch(grand))


def _conforming_turtle(
    shapes: ShapeConstraints, program: GroundInsert, url: str, required: tuple[str, ...]
) -> bytes | None:
    """The stored Turtle of a new document of ``program``'s triples when the compiled
    ``required`` shapes accept them, else None. Synchronous, for a worker."""
    index = shapes.conforming_index(program.quads, required)
    if index is None:
        return None
    # rdflib's lexical forms, as the general path's rdflib terms would write them.
    return rdf.storage_turtle_of_new(program.quads, url, index.literals.lexical)


def _fresh_name() -> str:
    return secrets.token_hex(8)
