"""Taking a request body in: its media type, size limits, and the bytes to store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import unquote

from rdflib import Graph

from pod_server.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from pod_server.ldp import conneg, paths, rdf
from pod_server.ldp.budget import WorkLimits
from pod_server.ldp.checks import Validation, check_managed_unchanged, kind
from pod_server.ldp.media_types import TURTLE
from pod_server.ldp.reading import PARSE_ON_LOOP_UP_TO, Reader
from pod_server.ldp.shapes import conforms_turtle
from pod_server.ldp.turtle_check import quick_check
from pod_server.storage.base import Backend, Staged


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


def media_type(body: Body, missing: str) -> tuple[str, dict[str, str]]:
    """The body's Content-Type, strictly parsed: a type we cannot read is a 400 (``missing``
    when there is none), since storing it would serve the body under a broken type."""
    header = body.header or body.content_type
    if not header.strip():
        raise BadRequest(missing)
    return conneg.parse_media_type(header)


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


def _conforming(
    data: bytes, base: str, max_nesting: int, checks: Validation, shapes: tuple[str, ...]
) -> bool:
    """Whether Turtle ``data`` is valid and the compiled shapes accept it as sent; False
    when pyshacl must decide on the parsed graph (see ``ldp.shapes``)."""
    rdf.check_turtle_nesting(data, max_nesting)
    return checks.shapes.conforms_turtle(data, base, shapes)


def conforms_turtle_job(
    data: bytes,
    base: str,
    max_nesting: int,
    shapes: tuple[str, ...],
    served_at: str,
    vocab_base: str,
) -> bool:
    """``_conforming`` from picklable arguments, for a worker process (``process_lane``)."""
    rdf.check_turtle_nesting(data, max_nesting)
    return conforms_turtle(data, base, shapes, served_at, vocab_base)


async def _conforms(
    reader: Reader,
    checks: Validation,
    max_nesting: int,
    data: bytes,
    base: str,
    shapes: tuple[str, ...],
) -> bool:
    """``_conforming``: on the loop for a small body, else in a worker process when the
    server has them (the GIL stays with the loop), else on a worker thread."""
    runner = reader.runner
    inline = len(data) <= PARSE_ON_LOOP_UP_TO
    if runner.lane is not None and not inline:
        constraints = checks.shapes
        return await runner.lane.run(
            conforms_turtle_job,
            data,
            base,
            max_nesting,
            shapes,
            constraints.served_at,
            constraints.vocab_base,
        )
    return await runner.run(_conforming, data, base, max_nesting, checks, shapes, inline=inline)


def _quick_check(data: bytes, base: str, max_nesting: int) -> bool:
    """Whether Turtle ``data`` may be stored as sent (see ``turtle_check``); too deep
    nesting is a 400 even there, since every later reading would refuse it."""
    rdf.check_turtle_nesting(data, max_nesting)
    return quick_check(data, base)


async def stage(
    backend: Backend, reader: Reader, checks: Validation, limits: Limits, path: str, body: Body
) -> tuple[Staged, str]:
    """Take the body in: RDF is parsed (and kept as Turtle), anything else streamed."""
    media, params = media_type(body, "A Content-Type header is required")
    if rdf.is_rdf(media):
        conneg.require_utf8(media, params)  # a file's charset is its own business
    needs_rdf = paths.is_container(path) or paths.is_auxiliary(path)
    if not rdf.is_rdf(media):
        if needs_rdf:
            raise UnsupportedMediaType(f"{kind(path)} must be RDF, not {media}")
        await checks.check_shapes(path, None)
        if body.length is not None and body.length > limits.max_body_size:
            raise PayloadTooLarge(f"Body larger than the {limits.max_body_size}-byte limit")
        staged = await backend.stage(body.chunks, limits.max_body_size)
        return staged, body.header or media
    if body.length is not None and body.length > limits.max_rdf_size:
        raise PayloadTooLarge(f"RDF body larger than the {limits.max_rdf_size}-byte limit")
    raw = await read_limited(body.chunks, limits.max_rdf_size)
    url = reader.layout.url(path)
    if (
        media == TURTLE
        and await checks.stored_verbatim(path)
        and await reader.runner.run(
            _quick_check,
            raw,
            url,
            limits.work.max_nesting,
            inline=len(raw) <= PARSE_ON_LOOP_UP_TO,
        )
    ):
        return Staged.of(raw), TURTLE  # valid as sent, and no rule needs the graph
    shapes = await checks.validated_member(path) if media == TURTLE else ()
    if shapes and await _conforms(reader, checks, limits.work.max_nesting, raw, url, shapes):
        return Staged.of(raw), TURTLE  # valid, and conforms to its container's shapes
    graph = await reader.parse(raw, media, url)
    if paths.is_container(path):
        check_managed_unchanged(Graph(), graph, url)
        if reader.layout.is_storage_root(path):  # a PUT keeps who owns the storage
            meta, current = await reader.graph_of(path)
            graph = checks.rules.keep_owners(current if meta else None, graph, url, replace=True)
        return Staged.of(await reader.turtle(path, graph)), TURTLE
    checks.check_acl(path, graph)
    await checks.check_shapes(path, graph)
    if media == TURTLE:
        return Staged.of(raw), TURTLE  # kept verbatim: served to Turtle clients unparsed
    return Staged.of(await reader.turtle(path, graph)), TURTLE
