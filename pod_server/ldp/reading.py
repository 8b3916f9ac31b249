"""Reads: content negotiation, the conversion cache, container listings and paging."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from rdflib import Graph

from pod_server.errors import (
    BadRequest,
    NotAcceptable,
    NotFound,
    ServiceUnavailable,
    UnsupportedMediaType,
)
from pod_server.ldp import conditions, conneg, containers, paths, rdf
from pod_server.ldp.budget import OverTime, Runner
from pod_server.ldp.cache import BytesLRU
from pod_server.ldp.conditions import Conditions
from pod_server.ldp.layout import Layout
from pod_server.ldp.media_types import TURTLE
from pod_server.ldp.paging import PageRequest
from pod_server.storage.base import Backend, Meta, Stored

CONVERSION_CACHE_BYTES = 64 * 1024**2  # recently read RDF resources, in each format asked
BODY_CACHE_ENTRY = 64 * 1024  # stored RDF bodies up to this size are cached as read
RENDER_IN_THREAD_ABOVE = 2_000  # container members written out on the event loop at most
# Work whose cost is linear in a small input stays on the event loop (a few ms); the rest
# goes to the bounded runner (worker threads, stopped at the time limit). JSON-LD's context
# processing and pyparsing's SPARQL grammar are not linear, so they always go, or nearly.
PARSE_ON_LOOP_UP_TO = 16 * 1024  # body bytes
SERIALIZE_ON_LOOP_UP_TO = 200  # triples
STORAGE_TURTLE_ON_LOOP_UP_TO = 2_000  # triples: the storage writer does ~200 per ms


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


def stored_type(meta: Meta) -> str:
    return meta.content_type.split(";", 1)[0].strip().lower()


def representation_tag(meta: Meta, media_type: str) -> str:
    """Entity tag of ``meta`` served as ``media_type`` (see ``ldp.conditions``)."""
    if media_type == stored_type(meta):
        return f'"{meta.etag}"'
    short = "".join(c for c in media_type.split("/")[-1] if c.isalnum())
    return f'"{meta.etag}-{short}"'


def negotiate(accept: str | None, offered: Sequence[str]) -> str:
    """The best of ``offered`` for ``accept``, or 406 naming what could be served."""
    chosen = conneg.choose(accept, offered)
    if chosen is None:
        raise NotAcceptable(f"None of the acceptable types is available; try {', '.join(offered)}")
    return chosen


def _rdf_representation(
    meta: Meta, accept: str | None, cond: Conditions, method: str
) -> tuple[str, str]:
    """The RDF media type to serve ``meta``'s version in and its tag; 406, 304 or 412
    (raised) when no format fits or the request's conditions say so."""
    media = negotiate(accept, rdf.RDF_TYPES)
    tag = representation_tag(meta, media)
    conditions.evaluate(cond, method, meta.etag, tag, meta.modified)
    return media, tag


class Reader:
    """Serves stored resources in the format asked, remembering conversions by version."""

    def __init__(self, backend: Backend, layout: Layout, runner: Runner, max_nesting: int) -> None:
        self.backend = backend
        self.layout = layout
        self.runner = runner
        self.max_nesting = max_nesting
        self.converted = BytesLRU(CONVERSION_CACHE_BYTES)

    async def get(
        self, path: str, accept: str | None, cond: Conditions, method: str, known: Meta | None
    ) -> Representation:
        if known is not None:
            cached = self._cached(known, accept, cond, method)
            if cached is not None:
                return cached
        # One backend read gives the metadata and the body of the same version (one query
        # fewer than a meta lookup first); bodies stay unread in the store until consumed.
        stored = await self.read(path)
        handed_over = False
        try:
            meta = stored.meta
            if meta.is_container:
                return await self._get_container(stored, accept, cond, method)
            own_type = stored_type(meta)
            if not rdf.is_rdf(own_type):
                negotiate(accept, (own_type,))
                tag = representation_tag(meta, own_type)
                conditions.evaluate(cond, method, meta.etag, tag, meta.modified)
                handed_over = True
                return Representation(meta, meta.content_type, tag, stored=stored)
            media, tag = _rdf_representation(meta, accept, cond, method)
            if media != own_type:
                cached = self.converted.get((path, meta.etag, media))
                if cached is not None:
                    return Representation(meta, media, tag, data=cached)
            data = await stored.read_all()
            if media != own_type:
                data = await self._convert(path, meta, data, own_type, media)
            elif len(data) <= BODY_CACHE_ENTRY:
                self.converted.put((path, meta.etag, media), data)
            return Representation(meta, media, tag, data=data)
        finally:
            if not handed_over:
                stored.close()

    def _cached(
        self, meta: Meta, accept: str | None, cond: Conditions, method: str
    ) -> Representation | None:
        """The RDF representation of exactly ``meta``'s version from the cache, or None.
        Entries are keyed by etag, so a hit is the version ``meta`` names, never older."""
        if not (meta.is_container or rdf.is_rdf(stored_type(meta))):
            return None  # other files stream from storage (and serve ranges)
        media, tag = _rdf_representation(meta, accept, cond, method)
        data = self.converted.get((meta.path, meta.etag, media))
        return None if data is None else Representation(meta, media, tag, data=data)

    async def get_page(
        self, path: str, page: PageRequest, accept: str | None, cond: Conditions, method: str
    ) -> tuple[Representation, str | None]:
        stored = await self.read(path)
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
        url = self.layout.url(path)
        data = (
            turtle
            if media == TURTLE
            else await self.serialize(await self.parse(turtle, TURTLE, url), media, url)
        )
        following = paths.name(children[-1].path) if more else None
        if following is not None and children[-1].path.endswith("/"):
            following += "/"
        return Representation(meta, media, tag, data=data), following

    async def _convert(self, path: str, meta: Meta, data: bytes, source: str, media: str) -> bytes:
        """Another RDF format of a stored body, remembered for that exact version."""
        try:
            graph = await self.parse(data, source, self.layout.url(path), stored=True)
            converted = await self.serialize(graph, media, self.layout.url(path))
        except OverTime as exc:  # the stored data is heavy, not the request: not a 4xx
            raise ServiceUnavailable(
                f"Converting this resource to {media} takes longer than the {exc.seconds:g}-second"
                f" limit; ask for it as {source}"
            ) from None
        self.converted.put((path, meta.etag, media), converted)
        return converted

    async def read_body(self, path: str) -> tuple[bytes, Meta]:
        """A whole stored body and the metadata of exactly that version."""
        stored = await self.read(path)
        try:
            return await stored.read_all(), stored.meta
        finally:
            stored.close()

    async def read(self, path: str) -> Stored:
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
        cached = self.converted.get((meta.path, meta.etag, media))
        if cached is not None:
            return Representation(meta, media, tag, data=cached)
        own = await stored.read_all()
        members = containers.visible_members(await self.backend.children(meta.path))
        turtle = await self._render(meta, members, own)
        self.converted.put((meta.path, meta.etag, TURTLE), turtle)
        if media == TURTLE:
            return Representation(meta, media, representation_tag(meta, media), data=turtle)
        converted = await self._convert(meta.path, meta, turtle, TURTLE, media)
        return Representation(meta, media, representation_tag(meta, media), data=converted)

    async def _render(self, meta: Meta, members: list[Meta], own: bytes) -> bytes:
        storage = self.layout.is_storage_root(meta.path)
        if len(members) > RENDER_IN_THREAD_ABOVE:  # 100,000 members take ~0.5 s to write out:
            # off the loop, so other requests go on meanwhile (the GIL is shared, not held)
            return await asyncio.to_thread(containers.render, meta, members, own, storage)
        return containers.render(meta, members, own, storage)

    async def parse(self, data: bytes, media_type: str, base: str, stored: bool = False) -> Graph:
        """``data`` as a graph; ``stored``: a body this server stored (see ``parse_stored``)."""
        on_loop = len(data) <= PARSE_ON_LOOP_UP_TO and media_type != rdf.JSON_LD
        parser = rdf.parse_stored if stored else rdf.parse
        return await self.runner.run(
            parser, data, media_type, base, self.max_nesting, inline=on_loop
        )

    async def serialize(self, graph: Graph, media_type: str, base: str | None) -> bytes:
        on_loop = len(graph) <= SERIALIZE_ON_LOOP_UP_TO
        return await self.runner.run(rdf.serialize, graph, media_type, base, inline=on_loop)

    async def turtle(self, path: str, graph: Graph) -> bytes:
        """Turtle to store for ``graph``: IRIs relative to the resource where possible and
        no ``@base`` line, so stored data follows the resource if the public URL changes,
        and a container's own triples can be followed by ``ldp.containers``' relative ones."""
        if not len(graph):
            return b""
        on_loop = len(graph) <= STORAGE_TURTLE_ON_LOOP_UP_TO
        url = self.layout.url(path)
        return await self.runner.run(rdf.storage_turtle, graph, url, inline=on_loop)

    async def graph_of(self, path: str) -> tuple[Meta | None, Graph]:
        """The stored graph of an RDF resource (a container's own triples), or empty."""
        meta = await self.backend.meta(path)
        if meta is None:
            return None, Graph()
        if not rdf.is_rdf(stored_type(meta)):
            raise UnsupportedMediaType("PATCH applies to RDF resources only; this one is not RDF")
        data, meta = await self.read_body(path)
        return meta, await self.parse(data, stored_type(meta), self.layout.url(path), stored=True)
