"""Reading and writing resources: bytes, RDF graphs, JSON-LD, and large files as streams."""

from __future__ import annotations

import hashlib
import inspect
import json
import mimetypes
import os
from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from rdflib import Graph

from client import rdf
from client.core import AUTO, PodCore, Resource, media_type, normalize_url
from client.errors import IncompleteTransfer, InvalidResponse, NotFound, PreconditionFailed
from client.transport import CHUNK

Progress = Callable[[int], Any]  # called with the bytes moved since the last call
Source = bytes | str | os.PathLike[str] | IO[bytes] | AsyncIterable[bytes]


@dataclass(frozen=True)
class Snapshot:
    """The version of a graph this client last read or wrote: its ETag and triples."""

    etag: str | None
    triples: frozenset[rdf.Triple]


@dataclass(frozen=True)
class Download:
    url: str
    path: Path | None
    size: int
    sha256: str
    content_type: str
    etag: str | None


def guess_type(name: str) -> str:
    ext = os.path.splitext(name)[1].lower()
    return rdf.EXTENSIONS.get(ext) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def _report(progress: Progress | None, n: int) -> None:
    if progress is not None and n:
        progress(n)


async def _file_chunks(path: Path, progress: Progress | None) -> AsyncIterator[bytes]:
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            _report(progress, len(chunk))
            yield chunk


async def _stream_chunks(
    source: AsyncIterable[bytes], progress: Progress | None
) -> AsyncIterator[bytes]:
    async for chunk in source:
        _report(progress, len(chunk))
        yield chunk


class Resources(PodCore):
    """get/head/put/post/patch/delete, graphs, JSON-LD, uploads and downloads."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._snapshots: dict[str, Snapshot] = {}

    # -- plain HTTP -----------------------------------------------------------------------
    async def get(
        self, url: str, *, accept: str | None = None, headers: dict[str, str] | None = None
    ) -> Resource:
        """GET the whole body (use :meth:`download` for large files)."""
        url = normalize_url(url)
        sent = dict(headers or {})
        if accept:
            sent["Accept"] = accept
        response = await self.request("GET", url, headers=sent)
        body = await response.read()
        url = response.url or url  # after redirects
        self._remember(url, response)
        return Resource.of(url, response, body)

    async def head(self, url: str, *, ok: tuple[int, ...] = ()) -> Resource:
        """The resource's headers. An error status listed in ``ok`` is returned as it is
        (its headers may still say something, such as its type) instead of raised."""
        url = normalize_url(url)
        response = await self.request("HEAD", url, ok=ok)
        await response.aclose()
        url = response.url or url
        if response.status < 400:
            self._remember(url, response)
        return Resource.of(url, response)

    async def exists(self, url: str) -> bool:
        try:
            await self.head(url)
        except NotFound:
            return False
        return True

    def _conditions(self, url: str, if_match: Any, create_only: bool) -> dict[str, str]:
        headers: dict[str, str] = {}
        if create_only:
            headers["If-None-Match"] = "*"
        etag = self._etags.get(url) if if_match is AUTO else if_match
        if etag and not create_only:
            headers["If-Match"] = etag
        return headers

    async def put(
        self,
        url: str,
        data: bytes | str,
        content_type: str = "text/turtle",
        *,
        if_match: Any = AUTO,
        create_only: bool = False,
    ) -> Resource:
        """Create or replace ``url``. Replacing a resource this client has read sends
        ``If-Match`` with the ETag it read, so a concurrent change fails with
        :class:`PreconditionFailed` instead of being overwritten (``if_match=None``
        overwrites whatever is there; ``create_only`` never replaces)."""
        url = normalize_url(url)
        body = data.encode() if isinstance(data, str) else data
        headers = {"Content-Type": content_type, **self._conditions(url, if_match, create_only)}
        return await self._write("PUT", url, headers, body)

    async def _write(self, method: str, url: str, headers: dict[str, str], body: Any) -> Resource:
        self._snapshots.pop(url, None)
        try:
            response = await self.request(method, url, headers=headers, body=body)
        except PreconditionFailed as exc:
            if headers.get("If-None-Match") == "*":
                exc.message = "the resource already exists"
                exc.hint = "Read it first to change it, or overwrite it on purpose."
            raise
        await response.aclose()
        if response.headers.get("ETag"):
            self._remember(url, response)
        else:
            self._forget(url)
        return Resource.of(url, response)

    async def post(
        self,
        container: str,
        data: bytes | str = b"",
        content_type: str = "text/turtle",
        *,
        slug: str | None = None,
        container_type: bool = False,
    ) -> str:
        """Create a member of ``container``; returns its URL (the server may change the
        ``slug``). ``container_type`` creates a container instead."""
        url = normalize_url(container)
        headers = {"Content-Type": content_type}
        if slug:
            headers["Slug"] = slug
        if container_type:
            headers["Link"] = '<http://www.w3.org/ns/ldp#BasicContainer>; rel="type"'
        body = data.encode() if isinstance(data, str) else data
        response = await self.request("POST", url, headers=headers, body=body)
        await response.aclose()
        made = Resource.of(url, response).location
        if not made:
            raise InvalidResponse("the server created a resource but named no Location", url=url)
        return made

    async def patch(
        self,
        url: str,
        body: bytes | str,
        content_type: str = "text/n3",
        *,
        if_match: Any = AUTO,
    ) -> Resource:
        """PATCH with an N3 Patch (default) or SPARQL Update (``application/sparql-update``)."""
        url = normalize_url(url)
        headers = {"Content-Type": content_type, **self._conditions(url, if_match, False)}
        data = body.encode() if isinstance(body, str) else body
        return await self._write("PATCH", url, headers, data)

    async def delete(self, url: str, *, if_match: str | None = None) -> None:
        url = normalize_url(url)
        headers = {"If-Match": if_match} if if_match else {}
        response = await self.request("DELETE", url, headers=headers)
        await response.aclose()
        self._forget(url)
        self._snapshots.pop(url, None)

    # -- RDF ------------------------------------------------------------------------------
    async def read_graph(self, url: str) -> Graph:
        """The resource as an rdflib Graph (relative IRIs resolved against ``url``).
        The version read is remembered, so :meth:`save_graph` can send just the change."""
        url = normalize_url(url)
        res = await self.get(url, accept=rdf.RDF_ACCEPT)
        graph = await self._graph_of(res)
        self._snapshots[url] = Snapshot(res.etag, frozenset(graph))
        return graph

    async def _graph_of(self, res: Resource) -> Graph:
        if res.content_type == "application/ld+json":
            try:
                doc = json.loads(res.body)
            except ValueError as exc:
                raise InvalidResponse("JSON-LD that is not JSON", url=res.url) from exc
            contexts = await rdf.prefetch_contexts(doc, self._fetch_json)
            try:
                return rdf.jsonld_to_graph(doc, res.url, contexts)
            except Exception as exc:
                raise InvalidResponse(f"unusable JSON-LD: {exc}", url=res.url) from exc
        return rdf.parse(res.body, res.content_type, res.url)

    async def save_graph(self, url: str, graph: Graph) -> Resource | None:
        """Store ``graph`` at ``url``.

        After :meth:`read_graph`, only the difference is sent, as an N3 Patch with
        ``If-Match`` on the version read (a PUT with ``If-Match`` when blank nodes are
        involved, which a patch cannot name). A resource never read is created, never
        overwritten. A concurrent change raises :class:`PreconditionFailed` or
        :class:`Conflict`; nothing is lost: read again and redo the change. Returns None
        when there was nothing to send."""
        url = normalize_url(url)
        snap = self._snapshots.get(url)
        new = frozenset(graph)
        if snap is None:
            body = rdf.serialize(graph, "text/turtle", base=url)
            result = await self.put(url, body, "text/turtle", create_only=True)
        else:
            deletes, inserts = snap.triples - new, new - snap.triples
            if not deletes and not inserts:
                return None
            if rdf.has_bnode(deletes) or rdf.has_bnode(inserts):
                body = rdf.serialize(graph, "text/turtle", base=url)
                result = await self.put(url, body, "text/turtle", if_match=snap.etag)
            else:
                patch = rdf.n3_patch(deletes, inserts)
                result = await self.patch(url, patch, "text/n3", if_match=snap.etag)
        etag = result.etag
        if etag is None:
            etag = (await self.head(url)).etag
        self._snapshots[url] = Snapshot(etag, new)
        return result

    async def _fetch_json(self, url: str) -> Any:
        res = await self.get(url, accept="application/ld+json, application/json;q=0.9")
        try:
            return json.loads(res.body)
        except ValueError as exc:
            raise InvalidResponse("a JSON-LD context that is not JSON", url=url) from exc

    async def read_jsonld(self, url: str, context: Any = None) -> Any:
        """The resource as JSON-LD: expanded, or compacted with ``context`` (a context
        object, or the URL of one such as a vocabulary's ``context.jsonld``)."""
        graph = await self.read_graph(url)
        contexts = await rdf.prefetch_contexts({"@context": context}, self._fetch_json)
        return rdf.graph_to_jsonld(graph, context, contexts)

    async def write_jsonld(
        self, url: str, doc: Any, *, if_match: Any = AUTO, create_only: bool = False
    ) -> Resource:
        """Store a JSON-LD document (remote contexts fetched by the client) as Turtle."""
        url = normalize_url(url)
        contexts = await rdf.prefetch_contexts(doc, self._fetch_json)
        try:
            graph = rdf.jsonld_to_graph(doc, url, contexts)
        except Exception as exc:
            raise ValueError(f"not usable JSON-LD: {exc}") from exc
        body = rdf.serialize(graph, "text/turtle", base=url)
        return await self.put(url, body, "text/turtle", if_match=if_match, create_only=create_only)

    # -- large files ----------------------------------------------------------------------
    async def upload(
        self,
        url: str,
        source: Source,
        content_type: str | None = None,
        *,
        if_match: Any = None,
        size: int | None = None,
        progress: Progress | None = None,
    ) -> Resource:
        """PUT a file, streamed from disk (or an open binary handle, or any async iterable
        of bytes), never held in memory whole. ``size`` (known for files) is sent as
        ``Content-Length``; ``progress(n)`` is called as bytes go out."""
        url = normalize_url(url)
        headers: dict[str, str] = {}
        if size is not None:
            headers["Content-Length"] = str(size)
        body: Any
        if isinstance(source, bytes):
            body = source
            _report(progress, len(source))
        elif isinstance(source, str | os.PathLike):
            path = Path(source)
            headers["Content-Length"] = str(path.stat().st_size)
            content_type = content_type or guess_type(path.name)
            body = _file_chunks(path, progress)
        elif hasattr(source, "read"):
            stream = source

            async def from_handle() -> AsyncIterator[bytes]:
                while chunk := stream.read(CHUNK):
                    _report(progress, len(chunk))
                    yield chunk

            body = from_handle()
        else:
            body = _stream_chunks(source, progress)
        headers["Content-Type"] = content_type or guess_type(url)
        headers.update(self._conditions(url, if_match, False))
        return await self._write("PUT", url, headers, body)

    async def stream(self, url: str, *, accept: str | None = None) -> AsyncIterator[bytes]:
        """The body of ``url`` in chunks as it arrives (an async generator)."""
        response = await self.request(
            "GET", normalize_url(url), headers={"Accept": accept} if accept else None
        )
        async for chunk in response.iter_bytes():
            yield chunk

    async def download(
        self,
        url: str,
        dest: str | os.PathLike[str] | IO[bytes],
        *,
        accept: str | None = None,
        progress: Progress | None = None,
    ) -> Download:
        """GET ``url`` into a file (or an open binary handle), streamed, with its SHA-256.

        A file is written beside its destination and renamed into place only when the
        whole body arrived (checked against ``Content-Length``), so an interrupted
        download raises :class:`IncompleteTransfer` and leaves no partial file."""
        url = normalize_url(url)
        response = await self.request("GET", url, headers={"Accept": accept} if accept else None)
        expected = response.headers.get("Content-Length")
        digest = hashlib.sha256()
        size = 0
        target = Path(dest) if isinstance(dest, str | os.PathLike) else None
        part = target.with_name(target.name + ".part") if target else None
        handle: IO[bytes] = open(part, "wb") if part else dest  # type: ignore[assignment]  # noqa: SIM115
        done = False
        try:
            async for chunk in response.iter_bytes():
                handle.write(chunk)
                digest.update(chunk)
                size += len(chunk)
                _report(progress, len(chunk))
            if expected is not None and expected.isdigit() and int(expected) != size:
                raise IncompleteTransfer(
                    f"received {size} of {expected} bytes",
                    url=url,
                    method="GET",
                    done=size,
                    total=int(expected),
                )
            done = True
        finally:
            await response.aclose()
            if part is not None:
                handle.close()
                if done:
                    os.replace(part, target)  # type: ignore[arg-type]
                else:
                    part.unlink(missing_ok=True)
        self._remember(url, response)
        ctype = media_type(response.headers.get("Content-Type"))
        return Download(url, target, size, digest.hexdigest(), ctype, response.headers.get("ETag"))


async def maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


__all__ = ["Download", "Progress", "Resources", "Snapshot", "guess_type", "maybe_await"]
