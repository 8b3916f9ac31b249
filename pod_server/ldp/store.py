"""The resource store: Solid Protocol semantics on top of a dumb storage backend.

Every write is planned as preconditions plus mutations and handed to the backend as one
atomic step; if a concurrent writer (in this or another process) changed what the plan
relied on, the backend raises StaleState and the plan is made again. A per-path lock
keeps writers of one resource in this process from retrying against each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, RDF

from pod_server.errors import (
    BadRequest,
    Conflict,
    MethodNotAllowed,
    NotAcceptable,
    NotFound,
    PayloadTooLarge,
    StaleState,
    UnsupportedMediaType,
)
from pod_server.ldp import conditions, conneg, containers, paths, rdf
from pod_server.ldp.budget import Runner, WorkLimits
from pod_server.ldp.cache import BytesLRU
from pod_server.ldp.conditions import Conditions
from pod_server.ldp.locks import GroupCommit, KeyedLock
from pod_server.ldp.media_types import TURTLE
from pod_server.ldp.paging import PageRequest
from pod_server.ldp.patch import ACCEPT_PATCH, SPARQL_UPDATE, Patch, apply_patch, parse_patch
from pod_server.ldp.patch import ACCEPTED_MEDIA_TYPES as PATCH_TYPES
from pod_server.ldp.rules import DocumentRules
from pod_server.ldp.shapes import ShapeConstraints, ShapeViolation
from pod_server.ldp.turtle_check import quick_check
from pod_server.ldp.vocabulary import (
    CONTAINER_TYPES,
    LDP_CONTAINS,
    PIM_STORAGE,
    POSIX,
    SOLID_OWNER,
)
from pod_server.storage.base import (
    ABSENT,
    PRESENT,
    Backend,
    Expect,
    Meta,
    Mutation,
    Put,
    Quota,
    Staged,
    Stored,
    Touch,
    Usage,
)
from pod_server.storage.base import Delete as DeleteOp

log = logging.getLogger("pod_server")
WELL_KNOWN = ".well-known/"
STORAGE_DESCRIPTION = ".well-known/solid"
MAX_ATTEMPTS = 20
CONVERSION_CACHE_BYTES = 64 * 1024**2  # recently read RDF resources, in each format asked
BODY_CACHE_ENTRY = 64 * 1024  # stored RDF bodies up to this size are cached as read
RENDER_IN_THREAD_ABOVE = 2_000  # container members written out on the event loop at most
# Work whose cost is linear in a small input stays on the event loop (a few ms); the rest
# goes to the bounded runner (worker threads, stopped at the time limit). JSON-LD's context
# processing and pyparsing's SPARQL grammar are not linear, so they always go, or nearly.
PARSE_ON_LOOP_UP_TO = 16 * 1024  # body bytes
SPARQL_ON_LOOP_UP_TO = 1024  # body bytes: pyparsing takes ~0.1 s per KB, superlinearly
SERIALIZE_ON_LOOP_UP_TO = 200  # triples


@dataclass(frozen=True, slots=True)
class Body:
    """A request body as it arrives: media type, declared length, and its chunks."""

    content_type: str  # essence, lower-case; "" when the header was missing
    chunks: AsyncIterator[bytes]
    length: int | None = None
    header: str = ""  # the Content-Type as sent, parameters included, kept for files


@dataclass(frozen=True, slots=True)
class Limits:
    max_body_size: int
    max_rdf_size: int
    quota: int | None = None  # bytes per storage unless it has its own limit; None: no limit
    # nesting, WHERE solutions, time and heavy jobs at once
    work: WorkLimits = field(default_factory=WorkLimits)


@dataclass(frozen=True, slots=True)
class Representation:
    """What a GET or HEAD sends: either ``data`` in memory or a stored body to stream."""

    meta: Meta
    content_type: str
    etag: str  # quoted
    data: bytes | None = None
    stored: Stored | None = None

    @property
    def length(self) -> int:
        return len(self.data) if self.data is not None else self.meta.size


@dataclass(frozen=True, slots=True)
class Change:
    """One committed change, in Activity Streams terms (Solid Notifications Protocol).

    ``Create``/``Update``/``Delete`` have the changed resource as ``path``; ``Add`` and
    ``Remove`` have the container as ``path`` and the member as ``object``. ``state`` is
    the topic's new etag when it still exists.
    """

    kind: str
    path: str
    object: str | None = None
    state: str | None = None


def describe_changes(
    expects: Sequence[Expect], mutations: Sequence[Mutation], written: Mapping[str, Meta]
) -> list[Change]:
    """The changes one atomic step made, derived from its plan (so nothing is missed)."""
    absent = {e.path for e in expects if e.etag == ABSENT}
    changes: list[Change] = []
    for mutation in mutations:
        if isinstance(mutation, Touch):
            continue  # a container touched because of a member: reported as Add/Remove
        path = mutation.path
        parent = paths.parent(path)
        member = parent is not None and not paths.is_auxiliary(path)
        parent_state = written[parent].etag if member and parent in written else None
        if isinstance(mutation, Put):
            created = path in absent
            changes.append(
                Change("Create" if created else "Update", path, state=written[path].etag)
            )
            if created and member and parent is not None:
                changes.append(Change("Add", parent, path, parent_state))
        else:
            changes.append(Change("Delete", path))
            if member and parent is not None:
                changes.append(Change("Remove", parent, path, parent_state))
    return changes


@dataclass(frozen=True, slots=True)
class WriteResult:
    meta: Meta
    created: bool


def _media_type(body: Body, missing: str) -> tuple[str, dict[str, str]]:
    """The body's Content-Type, strictly parsed: a type we cannot read is a 400 (``missing``
    when there is none), since storing it would serve the body under a broken type."""
    header = body.header or body.content_type
    if not header.strip():
        raise BadRequest(missing)
    return conneg.parse_media_type(header)


def representation_tag(meta: Meta, media_type: str) -> str:
    """Entity tag of ``meta`` served as ``media_type`` (see ``ldp.conditions``)."""
    if media_type == _stored_type(meta):
        return f'"{meta.etag}"'
    short = "".join(c for c in media_type.split("/")[-1] if c.isalnum())
    return f'"{meta.etag}-{short}"'


def _rdf_representation(
    meta: Meta, accept: str | None, cond: Conditions, method: str
) -> tuple[str, str]:
    """The RDF media type to serve ``meta``'s version in and its tag; 406, 304 or 412
    (raised) when no format fits or the request's conditions say so."""
    media = negotiate(accept, rdf.RDF_TYPES)
    tag = representation_tag(meta, media)
    conditions.evaluate(cond, method, meta.etag, tag, meta.modified)
    return media, tag


def negotiate(accept: str | None, offered: Sequence[str]) -> str:
    """The best of ``offered`` for ``accept``, or 406 naming what could be served."""
    chosen = conneg.choose(accept, offered)
    if chosen is None:
        raise NotAcceptable(f"None of the acceptable types is available; try {', '.join(offered)}")
    return chosen


def _stored_type(meta: Meta) -> str:
    return meta.content_type.split(";", 1)[0].strip().lower()


async def read_limited(chunks: AsyncIterator[bytes], limit: int) -> bytes:
    """Read a whole body, refusing (without reading on) once it passes ``limit``."""
    buf = bytearray()
    async for chunk in chunks:
        buf += chunk
        if len(buf) > limit:
            raise PayloadTooLarge(f"Body larger than the {limit}-byte limit for this resource")
    return bytes(buf)


def sanitize_slug(slug: str | None) -> str | None:
    """A safe member name from a ``Slug`` header, or None to let the server choose."""
    if not slug:
        return None
    try:
        name = unquote(slug, errors="strict") if "%" in slug else slug
    except UnicodeDecodeError:
        return None  # not percent-encoded UTF-8 (RFC 5023 §9.7): not a usable name
    name = "".join("-" if c in "/\\" or ord(c) < 32 or c == "\x7f" else c for c in name)
    name = name.strip().strip(".")[:120]
    if not name or paths.is_auxiliary("/" + name) or name.startswith(".well-known"):
        return None
    return name


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
        # Called with the changes of every committed write, in commit order (notifications).
        self.listeners: list[Callable[[list[Change]], None]] = list(listeners)
        # Extra Turtle for storage descriptions, given the storage root (e.g. notifications).
        self.description_providers: list[Callable[[str], str]] = list(description_providers)
        self._converted = BytesLRU(CONVERSION_CACHE_BYTES)
        self._appends = GroupCommit(self._append_batch)
        self.shapes = ShapeConstraints(
            vocab_base or base_url + "vocab/", backend.meta, self.graph_of
        )
        self.base_url = base_url.rstrip("/") + "/"
        self.base_path = urlsplit(self.base_url).path or "/"
        self.limits = limits
        self._locks = KeyedLock()
        self.runner = Runner(limits.work)
        self.shapes.run_heavy = self.runner.run

    # -- identifiers -------------------------------------------------------------------

    def url(self, path: str) -> str:
        return self.base_url + path[1:]

    def storage_root_of(self, path: str) -> str | None:
        """The storage holding ``path``: the server root, or with several users each pod
        (``/NAME/``); storages never overlap (Solid Protocol §4.1)."""
        if not self.multiuser:
            return "/"
        cut = path.find("/", 1)
        return None if cut < 0 else path[: cut + 1]

    def is_storage_root(self, path: str) -> bool:
        return path == self.storage_root_of(path)

    def is_root_acl(self, path: str) -> bool:
        aux = paths.aux_subject(path)
        return aux is not None and aux[0] == paths.ACL_SUFFIX and self.is_storage_root(aux[1])

    def storage_description_path(self, path: str) -> str:
        """Where the storage description of ``path``'s storage lives (Solid Protocol §4.1.2)."""
        return (self.storage_root_of(path) or "/") + STORAGE_DESCRIPTION

    async def storage_description(self, root: str) -> str:
        """Turtle describing the storage at ``root``: its type and, for a pod, its owner."""
        lines = [f"<{self.url(root)}> a <{PIM_STORAGE}>."]
        meta, graph = await self.graph_of(root)
        if meta is not None:
            for owner in graph.objects(URIRef(self.url(root)), URIRef(SOLID_OWNER)):
                lines.append(f"<{self.url(root)}> <{SOLID_OWNER}> <{owner}>.")
        lines += [provide(root) for provide in self.description_providers]
        return "\n".join(lines) + "\n"

    def allowed_methods(self, path: str) -> tuple[str, ...]:
        if self._is_well_known(path):
            return ("OPTIONS", "HEAD", "GET")
        if self.is_storage_root(path):
            return _ROOT_METHODS
        if self.is_root_acl(path):
            return _ROOT_ACL_METHODS
        if paths.is_container(path):
            return (*_DOC_METHODS, "POST")
        return _DOC_METHODS

    def check_deletable(self, path: str) -> None:
        """Solid Protocol §5.4: "When a DELETE request targets storage's root container or
        its associated ACL resource, the server MUST respond with the 405 status code."""
        if self.is_storage_root(path) or self.is_root_acl(path):
            raise MethodNotAllowed(
                "The storage root and its ACL cannot be deleted", allowed=self.allowed_methods(path)
            )

    def local_path(self, url: str) -> str | None:
        """The path of ``url`` when this server hosts it, else None."""
        if not url.startswith(self.base_url):
            return None
        try:
            return paths.canonical("/" + url[len(self.base_url) :].split("#", 1)[0])
        except BadRequest:
            return None

    async def ensure_root(self, root_acl: str | None = None) -> None:
        """Create the storage root on first start, and give it ``root_acl`` if it has none.

        An existing root ACL is never replaced: the owner may have edited it.
        """
        if await self.backend.meta("/") is None:
            with contextlib.suppress(StaleState):  # another process created it first
                await self._apply([Expect("/", ABSENT)], [Put("/", TURTLE)])
        acl_path = "/" + paths.ACL_SUFFIX
        if await self.backend.meta(acl_path) is not None:
            return
        if root_acl is None:
            if not self.multiuser:
                log.warning("The storage root has no ACL: nobody can use it (see --owner, --open)")
            return
        data = root_acl.encode()
        self._check_acl(acl_path, rdf.parse(data, TURTLE, self.url(acl_path)))
        with contextlib.suppress(StaleState):
            await self._apply([Expect(acl_path, ABSENT)], [Put(acl_path, TURTLE, Staged.of(data))])

    # -- reading -----------------------------------------------------------------------

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
        if known is not None:
            cached = self._cached(known, accept, cond, method)
            if cached is not None:
                return cached
        # One backend read gives the metadata and the body of the same version (one query
        # fewer than a meta lookup first); bodies stay unread in the store until consumed.
        stored = await self._read(path)
        handed_over = False
        try:
            meta = stored.meta
            if meta.is_container:
                return await self._get_container(stored, accept, cond, method)
            stored_type = _stored_type(meta)
            if not rdf.is_rdf(stored_type):
                negotiate(accept, (stored_type,))
                tag = representation_tag(meta, stored_type)
                conditions.evaluate(cond, method, meta.etag, tag, meta.modified)
                handed_over = True
                return Representation(meta, meta.content_type, tag, stored=stored)
            media, tag = _rdf_representation(meta, accept, cond, method)
            if media != stored_type:
                cached = self._converted.get((path, meta.etag, media))
                if cached is not None:
                    return Representation(meta, media, tag, data=cached)
            data = await stored.read_all()
            if media != stored_type:
                data = await self._convert(path, meta, data, stored_type, media)
            elif len(data) <= BODY_CACHE_ENTRY:
                self._converted.put((path, meta.etag, media), data)
            return Representation(meta, media, tag, data=data)
        finally:
            if not handed_over:
                stored.close()

    def _cached(
        self, meta: Meta, accept: str | None, cond: Conditions, method: str
    ) -> Representation | None:
        """The RDF representation of exactly ``meta``'s version from the cache, or None.
        Entries are keyed by etag, so a hit is the version ``meta`` names, never older."""
        if not (meta.is_container or rdf.is_rdf(_stored_type(meta))):
            return None  # other files stream from storage (and serve ranges)
        media, tag = _rdf_representation(meta, accept, cond, method)
        data = self._converted.get((meta.path, meta.etag, media))
        return None if data is None else Representation(meta, media, tag, data=data)

    async def get_page(
        self, path: str, page: PageRequest, accept: str | None, cond: Conditions, method: str
    ) -> tuple[Representation, str | None]:
        """One page of a container's listing (see ``ldp.paging``) and the name the next
        page starts after, None on the last page."""
        stored = await self._read(path)
        try:
            meta = stored.meta
            if not meta.is_container:
                raise BadRequest("Only containers are paged")
            media = negotiate(accept, rdf.RDF_TYPES)
            base_tag = representation_tag(meta, media)
            after = page.after
            marker = f"{page.size}-{after or ''}".encode()
            tag = f'{base_tag[:-1]}-p{hashlib.sha256(marker).hexdigest()[:12]}"'
            conditions.evaluate(cond, method, meta.etag, tag, meta.modified)
            own = await stored.read_all()
        finally:
            stored.close()
        start = None if after is None else path + after
        children = await self.backend.children(path, after=start, limit=page.size + 1)
        more = len(children) > page.size
        children = children[: page.size]
        turtle = await self._render(meta, containers.visible_members(children), own)
        data = (
            turtle
            if media == TURTLE
            else await self._serialize(
                await self._parse(turtle, TURTLE, self.url(path)), media, self.url(path)
            )
        )
        following = paths.name(children[-1].path) if more else None
        if following is not None and children[-1].path.endswith("/"):
            following += "/"
        return Representation(meta, media, tag, data=data), following

    async def _convert(self, path: str, meta: Meta, data: bytes, source: str, media: str) -> bytes:
        """Another RDF format of a stored body, remembered for that exact version."""
        graph = await self._parse(data, source, self.url(path))
        converted = await self._serialize(graph, media, self.url(path))
        self._converted.put((path, meta.etag, media), converted)
        return converted

    async def _read_body(self, path: str) -> tuple[bytes, Meta]:
        """A whole stored body and the metadata of exactly that version."""
        stored = await self._read(path)
        try:
            return await stored.read_all(), stored.meta
        finally:
            stored.close()

    async def _read(self, path: str) -> Stored:
        try:
            return await self.backend.read(path)
        except NotFound:
            raise NotFound(f"No resource at {path}") from None

    async def _get_container(
        self, stored: Stored, accept: str | None, cond: Conditions, method: str
    ) -> Representation:
        meta = stored.meta
        media, tag = _rdf_representation(meta, accept, cond, method)
        # Every change of a member touches the container, giving it a new etag: a listing
        # cached under an etag is exact for as long as anyone can ask for that etag.
        cached = self._converted.get((meta.path, meta.etag, media))
        if cached is not None:
            return Representation(meta, media, tag, data=cached)
        own = await stored.read_all()
        members = containers.visible_members(await self.backend.children(meta.path))
        turtle = await self._render(meta, members, own)
        self._converted.put((meta.path, meta.etag, TURTLE), turtle)
        if media == TURTLE:
            return Representation(meta, media, representation_tag(meta, media), data=turtle)
        converted = await self._convert(meta.path, meta, turtle, TURTLE, media)
        return Representation(meta, media, representation_tag(meta, media), data=converted)

    async def _render(self, meta: Meta, members: list[Meta], own: bytes) -> bytes:
        storage = self.is_storage_root(meta.path)
        if len(members) > RENDER_IN_THREAD_ABOVE:  # 100,000 members take ~0.5 s to write out:
            # off the loop, so other requests go on meanwhile (the GIL is shared, not held)
            return await asyncio.to_thread(containers.render, meta, members, own, storage)
        return containers.render(meta, members, own, storage)

    async def _parse(self, data: bytes, media_type: str, base: str) -> Graph:
        on_loop = len(data) <= PARSE_ON_LOOP_UP_TO and media_type != rdf.JSON_LD
        nesting = self.limits.work.max_nesting
        return await self.runner.run(rdf.parse, data, media_type, base, nesting, inline=on_loop)

    async def _serialize(self, graph: Graph, media_type: str, base: str | None) -> bytes:
        on_loop = len(graph) <= SERIALIZE_ON_LOOP_UP_TO
        return await self.runner.run(rdf.serialize, graph, media_type, base, inline=on_loop)

    async def graph_of(self, path: str) -> tuple[Meta | None, Graph]:
        """The stored graph of an RDF resource (a container's own triples), or empty."""
        meta = await self.backend.meta(path)
        if meta is None:
            return None, Graph()
        if not rdf.is_rdf(_stored_type(meta)):
            raise UnsupportedMediaType("PATCH applies to RDF resources only; this one is not RDF")
        data, meta = await self._read_body(path)
        return meta, await self._parse(data, _stored_type(meta), self.url(path))

    # -- writing -----------------------------------------------------------------------

    async def put(
        self, path: str, body: Body, cond: Conditions, link_types: Sequence[str] = ()
    ) -> WriteResult:
        self._check_writable(path)
        _check_link_types(path, link_types)
        staged, content_type = await self._stage(path, body)
        async with self._locks(path):
            return await self._commit(path, staged, content_type, cond, replace=True)

    async def post(
        self, container: str, body: Body, slug: str | None, link_types: Sequence[str] = ()
    ) -> WriteResult:
        self._check_writable(container)
        target = await self.backend.meta(container)
        if target is None:
            raise NotFound(f"No container at {container}")
        if not target.is_container:
            raise MethodNotAllowed(
                "POST is only allowed on containers", allowed=self.allowed_methods(container)
            )
        suffix = "/" if any(t in CONTAINER_TYPES for t in link_types) else ""
        name = sanitize_slug(slug)
        for _ in range(MAX_ATTEMPTS):
            path = container + (paths.encode_segment(name) if name else _fresh_name()) + suffix
            async with self._locks(path):
                if await self._taken(path):
                    name = None  # the Slug clashes: fall back to a server-chosen name
                    continue
                # The body is consumed from here on; a clash with another process now is a 409.
                staged, content_type = await self._stage(path, body)
                return await self._commit(
                    path, staged, content_type, conditions.NONE, replace=False
                )
        raise Conflict("Could not find a free name in the container; try again")

    async def read_patch(self, path: str, body: Body) -> Patch:
        """Parse a PATCH body first: which access modes it needs depends on what it does."""
        self._check_writable(path)
        media, params = _media_type(body, "PATCH needs a Content-Type header")
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

    async def patch(self, path: str, patch: Patch, cond: Conditions) -> WriteResult:
        if patch.inserts_only and not cond.any and await self._appendable(path):
            return await self._appends.submit(path, await self._inserted(patch))
        async with self._locks(path):
            if patch.inserts_only and await self._appendable(path):
                return await self._append(path, [await self._inserted(patch)], cond)
            for _ in range(MAX_ATTEMPTS):
                meta, graph = await self.graph_of(path)
                state = meta.etag if meta else None
                conditions.evaluate(cond, "PATCH", state, None, meta.modified if meta else None)
                # A where clause can cost far more than its size: always bounded.
                updated = await self.runner.run(
                    apply_patch,
                    graph,
                    patch,
                    self.limits.work.max_solutions,
                    inline=not patch.has_where and patch.size <= PARSE_ON_LOOP_UP_TO,
                )
                if paths.is_container(path):
                    _check_managed_unchanged(graph, updated, self.url(path))
                if meta is not None and self.is_storage_root(path):
                    self.rules.keep_owners(graph, updated, self.url(path), replace=False)
                self._check_acl(path, updated)
                await self._check_shapes(path, updated)
                data = await self._turtle(path, updated)
                if len(data) > self.limits.max_rdf_size:
                    raise PayloadTooLarge(
                        f"The patched document would exceed the {self.limits.max_rdf_size}-byte"
                        " limit for RDF"
                    )
                try:
                    return await self._apply_write(path, Staged.of(data), TURTLE, meta)
                except StaleState:
                    continue
        raise Conflict("The resource kept changing while the patch was applied; try again")

    async def _inserted(self, patch: Patch) -> bytes:
        on_loop = patch.size <= PARSE_ON_LOOP_UP_TO
        return await self.runner.run(_as_ntriples, patch, inline=on_loop)

    async def _stored_verbatim(self, path: str) -> bool:
        """A plain document whose body no rule needs to see as a graph (not a container,
        ACL or description, not in a shape-validated container)."""
        if paths.is_container(path) or paths.is_auxiliary(path):
            return False
        parent = paths.parent(path)
        return parent is None or not await self.constraints(parent)

    async def _appendable(self, path: str) -> bool:
        """Whether an insert-only patch may append to the stored text without parsing it:
        a plain Turtle document that no rule needs to see whole (not a container, ACL or
        description, and not in a shape-validated container)."""
        meta = await self.backend.meta(path)
        if meta is not None and _stored_type(meta) != TURTLE:
            return False
        return await self._stored_verbatim(path)

    async def _append_batch(self, path: str, additions: list[bytes]) -> WriteResult:
        async with self._locks(path):
            return await self._append(path, additions, conditions.NONE)

    async def _append(self, path: str, additions: list[bytes], cond: Conditions) -> WriteResult:
        """Apply insert-only patches by appending their triples as N-Triples, which is valid
        Turtle after any complete Turtle document: no parse and re-serialise of a document
        that grows with every insert. Same graph as the general path (RDF graphs are sets)."""
        addition = b"".join(additions)
        for _ in range(MAX_ATTEMPTS):
            meta = await self.backend.meta(path)
            conditions.evaluate(
                cond, "PATCH", meta.etag if meta else None, None, meta.modified if meta else None
            )
            current, meta = await self._read_body(path) if meta else (b"", None)
            try:
                return await self._apply_write(path, Staged.of(current + addition), TURTLE, meta)
            except StaleState:
                continue
        raise Conflict("The resource kept changing while the patch was applied; try again")

    async def delete(self, path: str, cond: Conditions) -> None:
        self.check_deletable(path)
        self._check_writable(path)
        async with self._locks(path):
            for _ in range(MAX_ATTEMPTS):
                meta = await self.backend.meta(path)
                if meta is None:
                    raise NotFound(f"No resource at {path}")
                conditions.evaluate(cond, "DELETE", meta.etag, None, meta.modified)
                expects, mutations = await self._deletion_plan(meta)
                try:
                    await self._apply(expects, mutations, under=path)
                    return
                except StaleState:
                    continue
        raise Conflict("The resource kept changing while it was deleted; try again")

    async def create_internal(self, path: str, turtle: bytes) -> WriteResult:
        """Create an RDF resource on the server's own behalf (pod provisioning): the same
        validation and atomicity as a client's PUT, and never over an existing resource."""

        async def once() -> AsyncIterator[bytes]:
            yield turtle

        body = Body(TURTLE, once(), len(turtle))
        return await self.put(path, body, Conditions(if_none_match=("*",)))

    async def delete_tree(self, root: str) -> int:
        """Remove a container and everything below it in one atomic step (pod deletion).

        Bypasses the one-by-one LDP rules on purpose: it is how an account's pod goes.
        """
        for _ in range(MAX_ATTEMPTS):
            doomed = await self._tree(root)
            if not doomed:
                return 0
            mutations: list[Mutation] = [DeleteOp(m.path) for m in reversed(doomed)]
            parent = paths.parent(root)
            if parent is not None:
                mutations.append(Touch(parent))
            try:
                await self._apply([Expect(m.path, m.etag) for m in doomed], mutations)
                return len(doomed)
            except StaleState:
                continue  # written to meanwhile: list again
        raise Conflict(f"{root} kept changing while it was deleted; try again")

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

    # -- write helpers -----------------------------------------------------------------

    async def _apply(
        self, expects: list[Expect], mutations: list[Mutation], under: str | None = None
    ) -> Mapping[str, Meta]:
        """Commit, counting bytes against the quota of the storage holding ``under``."""
        root = self.storage_root_of(under) if under is not None else None
        quota = Quota(root, self.limits.quota) if root is not None else None
        # Shielded: once the backend starts a commit, a cancelled request must not leave
        # the backend's own bookkeeping half done; the commit completes either way.
        written = await asyncio.shield(self.backend.apply(expects, mutations, quota))
        if self.listeners:
            changes = describe_changes(expects, mutations, written)
            for listener in self.listeners:
                listener(changes)  # after the commit: what listeners see is durable
        return written

    async def usage(self, root: str) -> Usage:
        """Bytes used by the storage at ``root`` and its own limit, if one was set."""
        return await self.backend.usage(root)

    def _is_well_known(self, path: str) -> bool:
        """``.well-known`` at the server root or at a storage root is the server's own."""
        for root in {"/", self.storage_root_of(path) or "/"}:
            if path.startswith(root + WELL_KNOWN) or path == root + WELL_KNOWN[:-1]:
                return True
        return False

    def _check_writable(self, path: str) -> None:
        if self._is_well_known(path):
            raise MethodNotAllowed(
                ".well-known/ is managed by the server", allowed=("GET", "HEAD", "OPTIONS")
            )

    async def _taken(self, path: str) -> bool:
        return (await self.backend.meta(path)) is not None or (
            await self.backend.meta(paths.twin(path))
        ) is not None

    async def _stage(self, path: str, body: Body) -> tuple[Staged, str]:
        """Take the body in: RDF is parsed (and kept as Turtle), anything else streamed."""
        media, params = _media_type(body, "A Content-Type header is required")
        if rdf.is_rdf(media):
            conneg.require_utf8(media, params)  # a file's charset is its own business
        needs_rdf = paths.is_container(path) or paths.is_auxiliary(path)
        if not rdf.is_rdf(media):
            if needs_rdf:
                raise UnsupportedMediaType(f"{_kind(path)} must be RDF, not {media}")
            await self._check_shapes(path, None)
            if body.length is not None and body.length > self.limits.max_body_size:
                raise PayloadTooLarge(
                    f"Body larger than the {self.limits.max_body_size}-byte limit"
                )
            staged = await self.backend.stage(body.chunks, self.limits.max_body_size)
            return staged, body.header or media
        if body.length is not None and body.length > self.limits.max_rdf_size:
            raise PayloadTooLarge(f"RDF body larger than the {self.limits.max_rdf_size}-byte limit")
        raw = await read_limited(body.chunks, self.limits.max_rdf_size)
        if (
            media == TURTLE
            and await self._stored_verbatim(path)
            and await self.runner.run(
                _quick_check,
                raw,
                self.url(path),
                self.limits.work.max_nesting,
                inline=len(raw) <= PARSE_ON_LOOP_UP_TO,
            )
        ):
            return Staged.of(raw), TURTLE  # valid as sent, and no rule needs the graph
        graph = await self._parse(raw, media, self.url(path))
        if paths.is_container(path):
            _check_managed_unchanged(Graph(), graph, self.url(path))
            if self.is_storage_root(path):  # a PUT keeps who owns the storage
                meta, current = await self.graph_of(path)
                graph = self.rules.keep_owners(
                    current if meta else None, graph, self.url(path), replace=True
                )
            return Staged.of(await self._turtle(path, graph)), TURTLE
        self._check_acl(path, graph)
        await self._check_shapes(path, graph)
        if media == TURTLE:
            return Staged.of(raw), TURTLE  # kept verbatim: served to Turtle clients unparsed
        return Staged.of(await self._turtle(path, graph)), TURTLE

    async def constraints(self, container: str) -> tuple[str, ...]:
        """The shapes the container at ``container`` requires its members to satisfy."""
        return await self.shapes.of(container, self.url(container))

    async def _check_shapes(self, path: str, graph: Graph | None) -> None:
        """Validate a write against its container's shapes; a container's description
        may only name shapes the server can apply. ``graph`` is None for a non-RDF body."""
        aux = paths.aux_subject(path)
        if aux is not None:
            if aux[0] == paths.META_SUFFIX and paths.is_container(aux[1]) and graph is not None:
                self.shapes.check_description(graph, self.url(aux[1]))
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

    def _check_acl(self, path: str, graph: Graph) -> None:
        aux = paths.aux_subject(path)
        if aux is not None and aux[0] == paths.ACL_SUFFIX:
            subject = aux[1]
            root = self.is_storage_root(subject)
            self.rules.check_acl(graph, self.url(path), self.url(subject), storage_root=root)

    async def _turtle(self, path: str, graph: Graph) -> bytes:
        """Turtle to store for ``graph``: IRIs relative to the resource where possible and
        no ``@base`` line, so stored data follows the resource if the public URL changes,
        and a container's own triples can be followed by ``ldp.containers``' relative ones."""
        if not len(graph):
            return b""
        data = await self._serialize(graph, TURTLE, self.url(path))
        if data.startswith(b"@base "):
            data = data[data.index(b"\n") + 1 :]
        return data

    async def _commit(
        self, path: str, staged: Staged, content_type: str, cond: Conditions, *, replace: bool
    ) -> WriteResult:
        try:
            for _ in range(MAX_ATTEMPTS):
                meta = await self.backend.meta(path)
                if meta is not None and not replace:
                    raise Conflict(f"{path} already exists")
                conditions.evaluate(
                    cond, "PUT", meta.etag if meta else None, None, meta.modified if meta else None
                )
                try:
                    return await self._apply_write(path, staged, content_type, meta)
                except StaleState:
                    continue
            raise Conflict("The resource kept changing while it was written; try again")
        except BaseException:
            await self.backend.discard(staged)
            raise

    async def _apply_write(
        self, path: str, staged: Staged, content_type: str, current: Meta | None
    ) -> WriteResult:
        """Write one resource, creating missing ancestors, as a single atomic step."""
        expects = [Expect(path, current.etag if current else ABSENT)]
        mutations: list[Mutation] = []
        if current is None:
            await self._plan_ancestors(path, expects, mutations)
            expects.append(Expect(paths.twin(path), ABSENT))
        mutations.append(Put(path, content_type, staged))
        parent = paths.parent(path)
        if parent is not None and not paths.is_auxiliary(path):
            mutations.append(Touch(parent))
        written = await self._apply(expects, mutations, under=path)
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


_DOC_METHODS = ("OPTIONS", "HEAD", "GET", "PUT", "PATCH", "DELETE")
_ROOT_METHODS = ("OPTIONS", "HEAD", "GET", "POST", "PUT", "PATCH")
_ROOT_ACL_METHODS = ("OPTIONS", "HEAD", "GET", "PUT", "PATCH")


def _fresh_name() -> str:
    return secrets.token_hex(8)


def _kind(path: str) -> str:
    return "A container" if paths.is_container(path) else "An auxiliary resource"


def _check_link_types(path: str, link_types: Sequence[str]) -> None:
    if any(t in CONTAINER_TYPES for t in link_types) and not paths.is_container(path):
        raise BadRequest("A container's URL must end with '/'")


def _quick_check(data: bytes, base: str, max_nesting: int) -> bool:
    """Whether Turtle ``data`` may be stored as sent (see ``turtle_check``); too deep
    nesting is a 400 even there, since every later reading would refuse it."""
    rdf.check_turtle_nesting(data, max_nesting)
    return quick_check(data, base)


def _as_ntriples(patch: Patch) -> bytes:
    """The triples an insert-only patch adds, as N-Triples text to append."""
    inserted = apply_patch(Graph(bind_namespaces="none"), patch)
    return b"\n" + rdf.serialize(inserted, rdf.N_TRIPLES, None)


def _check_managed_unchanged(before: Graph, after: Graph, container_url: str) -> None:
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


_MEMBER_METADATA = frozenset(
    {
        str(RDF.type),
        str(DCTERMS.modified),
        str(POSIX.size),
        str(POSIX.mtime),
    }
)
