"""Containers: listing with types and sizes, creating, walking, and whole trees moved or
deleted at once."""

from __future__ import annotations

import builtins
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urljoin, urlsplit

from rdflib import RDF, Graph, URIRef
from rdflib.namespace import DCTERMS

from client import rdf
from client.core import LDP, normalize_url
from client.errors import NotFound, PodClientError
from client.resources import Progress, Resources, maybe_await

CONTAINS = URIRef(LDP + "contains")
POSIX = "http://www.w3.org/ns/posix/stat#"
Confirm = Callable[[list[str]], "bool | Awaitable[bool]"]


@dataclass(frozen=True)
class Entry:
    """A member of a container, as the container describes it."""

    url: str
    types: tuple[str, ...] = ()
    size: int | None = None
    modified: datetime | None = None

    @property
    def is_container(self) -> bool:
        return self.url.endswith("/")

    @property
    def name(self) -> str:
        path = urlsplit(self.url).path.rstrip("/")
        return unquote(path.rsplit("/", 1)[-1]) + ("/" if self.is_container else "")


@dataclass
class TreeSummary:
    """What a recursive operation did."""

    containers: int = 0
    files: int = 0
    bytes: int = 0
    urls: list[str] = field(default_factory=list)


def entries_of(graph: Graph, container: str) -> list[Entry]:
    entries = []
    for member in sorted(set(graph.objects(URIRef(container), CONTAINS)), key=str):
        types = tuple(sorted(str(t) for t in graph.objects(member, RDF.type)))
        size_node = graph.value(member, URIRef(POSIX + "size"))
        size = int(str(size_node)) if size_node is not None and str(size_node).isdigit() else None
        entries.append(Entry(str(member), types, size, _modified(graph, member)))
    return entries


def _modified(graph: Graph, member: Any) -> datetime | None:
    value = graph.value(member, DCTERMS.modified)
    if value is not None:
        parsed = value.toPython()
        if isinstance(parsed, datetime):
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    mtime = graph.value(member, URIRef(POSIX + "mtime"))
    if mtime is not None and str(mtime).isdigit():
        return datetime.fromtimestamp(int(str(mtime)), UTC)
    return None


def safe_name(name: str) -> str:
    """A member name (URL-decoded) usable as one local file name, or an error."""
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise PodClientError(f"refusing the unsafe local name {name!r}")
    return name


class Containers(Resources):
    async def list(self, container: str) -> builtins.list[Entry]:
        """The members of ``container`` with their types, sizes and modification times."""
        url = normalize_url(container)
        if not url.endswith("/"):
            raise PodClientError("a container URL ends with '/'", url=url)
        res = await self.get(url, accept="text/turtle")
        graph = rdf.parse(res.body, res.content_type or "text/turtle", url)
        return entries_of(graph, url)

    async def create_container(self, url: str, *, exist_ok: bool = True) -> bool:
        """Create the container ``url`` (and its missing parents); False when it was
        already there (or :class:`PreconditionFailed` unless ``exist_ok``)."""
        url = normalize_url(url)
        if not url.endswith("/"):
            url += "/"
        if exist_ok and await self.exists(url):
            return False
        await self.put(url, b"", "text/turtle", create_only=True)
        return True

    async def walk(self, container: str) -> AsyncIterator[tuple[str, builtins.list[Entry]]]:
        """``(container, members)`` for ``container`` and every container below it, top
        down (like :func:`os.walk`)."""
        todo = [normalize_url(container)]
        while todo:
            current = todo.pop(0)
            try:
                members = await self.list(current)
            except NotFound:
                continue  # deleted while walking
            yield current, members
            todo[:0] = [m.url for m in members if m.is_container]

    async def tree(self, url: str) -> builtins.list[str]:
        """Every resource at or below ``url``, containers before their members."""
        url = normalize_url(url)
        if not url.endswith("/"):
            await self.head(url)
            return [url]
        found: builtins.list[str] = []
        async for current, members in self.walk(url):
            found.append(current)
            found += [m.url for m in members if not m.is_container]
        return found

    async def delete_tree(self, url: str, *, confirm: Confirm | None = None) -> int:
        """Delete ``url`` and, for a container, everything in it (members first).
        ``confirm(urls)`` sees the list first and may refuse (returns False: nothing is
        deleted, 0 returned). A storage root is emptied but kept (servers refuse to
        delete one). Returns how many resources were deleted."""
        everything = await self.tree(url)
        if confirm is not None and not await maybe_await(confirm(list(everything))):
            return 0
        deleted = 0
        top = normalize_url(url)
        keep_top = top.endswith("/") and (await self.head(top)).is_storage
        for target in reversed(everything):  # members before their containers
            if target == top and keep_top:
                continue  # a storage root cannot be deleted: it is emptied instead
            try:
                await self.delete(target)
            except NotFound:
                continue
            deleted += 1
        return deleted

    async def upload_tree(
        self,
        local: str | os.PathLike[str],
        container: str,
        *,
        progress: Progress | None = None,
        on_item: Callable[[str], Any] | None = None,
    ) -> TreeSummary:
        """Copy a local folder into ``container`` (created if missing), files streamed."""
        root = Path(local)
        base = normalize_url(container)
        if not base.endswith("/"):
            base += "/"
        summary = TreeSummary()
        if await self.create_container(base):
            summary.containers += 1
        for folder, dirs, files in os.walk(root):
            dirs.sort()
            rel = Path(folder).relative_to(root)
            prefix = base + "".join(quote(part, safe="") + "/" for part in rel.parts)
            if rel.parts and await self.create_container(prefix):
                summary.containers += 1
            for name in sorted(files):
                path = Path(folder) / name
                target = prefix + quote(name, safe="")
                await self.upload(target, path, progress=progress)
                summary.files += 1
                summary.bytes += path.stat().st_size
                summary.urls.append(target)
                if on_item:
                    on_item(target)
        return summary

    async def download_tree(
        self,
        container: str,
        local: str | os.PathLike[str],
        *,
        progress: Progress | None = None,
        on_item: Callable[[str], Any] | None = None,
    ) -> TreeSummary:
        """Copy ``container`` and everything below it into a local folder."""
        base = normalize_url(container)
        root = Path(local)
        root.mkdir(parents=True, exist_ok=True)
        summary = TreeSummary()
        async for current, members in self.walk(base):
            rel = urlsplit(current).path[len(urlsplit(base).path) :]
            folder = root.joinpath(*(safe_name(unquote(p)) for p in rel.split("/") if p))
            folder.mkdir(parents=True, exist_ok=True)
            summary.containers += 1
            for member in members:
                if member.is_container:
                    continue
                name = safe_name(member.name)
                got = await self.download(member.url, folder / name, progress=progress)
                summary.files += 1
                summary.bytes += got.size
                summary.urls.append(member.url)
                if on_item:
                    on_item(member.url)
        return summary

    async def copy(self, source: str, target: str, *, progress: Progress | None = None) -> int:
        """Copy one resource from pod to pod (any servers), streamed; returns bytes."""
        source, target = normalize_url(source), normalize_url(target)
        response = await self.request("GET", source)
        ctype = response.headers.get("Content-Type", "application/octet-stream")
        moved = 0

        async def body() -> AsyncIterator[bytes]:
            nonlocal moved
            async for chunk in response.iter_bytes():
                moved += len(chunk)
                if progress:
                    progress(len(chunk))
                yield chunk

        headers = {"Content-Type": ctype}
        length = response.headers.get("Content-Length")
        if length:
            headers["Content-Length"] = length
        try:
            await self._write("PUT", target, headers, body())
        finally:
            await response.aclose()
        return moved


def join(container: str, name: str) -> str:
    return urljoin(container if container.endswith("/") else container + "/", name)


__all__ = ["Containers", "Entry", "TreeSummary", "entries_of", "join", "safe_name"]
