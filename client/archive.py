"""Pod archives over HTTP: ``pod export`` fetches a pod or container (RDF, files, ACLs
and metadata) into one tar file, ``pod import`` fills a container on any Solid server
from one. The format itself (manifest, checksums, kinds, IRI rebasing, the tar) is
:mod:`pod_archive`, shared with the server; this module adds the walking, fetching and
uploading, and turns the format's errors into the client's :class:`ArchiveError`.

The ``of`` of an ``acl`` or ``meta`` entry is placed on the target through its ``Link``
headers, so the archive is portable between servers. An imported ACL always keeps
Control for the person importing. Exports and imports end with a verification of
counts and SHA-256 checksums (RDF: of its triples); an import that stops part way
raises :class:`IncompleteTransfer` and is never reported as done.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tarfile
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from rdflib import Graph
from rdflib.compare import isomorphic

import pod_archive
from client import rdf
from client.access import ACL, AUTHENTICATED, PUBLIC, Subject, add_rule, rules_for
from client.core import normalize_url
from client.errors import (
    Forbidden,
    IncompleteTransfer,
    InvalidResponse,
    NotFound,
    PodClientError,
    Unauthorized,
)
from client.pod import PodClient
from pod_archive import FORMAT, KINDS, MANIFEST, MAX_RDF, VERSION, Report, compressed

Step = Callable[[str, int], Any]  # (what, bytes) after each resource


class ArchiveError(PodClientError):
    """The archive is not one this tool can read, or fails its own checksums."""


@contextlib.contextmanager
def _format_errors() -> Iterator[None]:
    """The format's :class:`pod_archive.ArchiveError` as the client's own."""
    try:
        yield
    except pod_archive.ArchiveError as exc:
        raise ArchiveError(exc.message) from None


def check_path(path: str) -> str:
    """A manifest path: relative, no '..', no backslash or NUL, no empty inner segment."""
    with _format_errors():
        return pod_archive.check_path(path)


def read_manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    """The archive's manifest, checked (see :func:`pod_archive.read_manifest`)."""
    with _format_errors():
        return pod_archive.read_manifest(tar)


def verify_archive(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Check every body against the manifest's size and SHA-256, and the counts; returns
    the manifest. Raises :class:`ArchiveError` on the first problem."""
    with _format_errors():
        return pod_archive.verify_archive(path)


def _rel(root: str, url: str) -> str | None:
    return url[len(root) :] if url.startswith(root) else None


class _Sink:
    """The tar being written, and the manifest that goes with it."""

    def __init__(self, tar: tarfile.TarFile) -> None:
        self.tar = tar
        self.entries: list[dict[str, Any]] = []
        self.bytes = 0

    def add_body(self, entry: dict[str, Any], handle: IO[bytes], size: int, sha: str) -> None:
        info = tarfile.TarInfo("data/" + entry["path"])
        info.size, info.mtime, info.mode = size, int(time.time()), 0o644
        handle.seek(0)
        self.tar.addfile(info, handle)
        entry.update(size=size, sha256=sha)
        self.entries.append(entry)
        self.bytes += size


async def _fetch_to(
    pod: PodClient, url: str, accept: str | None, spool: IO[bytes]
) -> tuple[int, str, str]:
    spool.seek(0)
    spool.truncate()
    got = await pod.download(url, spool, accept=accept)
    return got.size, got.sha256, got.content_type


async def export_archive(
    pod: PodClient, url: str, archive: str | os.PathLike[str], *, step: Step | None = None
) -> Report:
    """Write the container ``url`` and everything below it to ``archive``, then verify it."""
    started = time.monotonic()
    root = normalize_url(url)
    if not root.endswith("/"):
        raise PodClientError("export a container: its URL ends with '/'", url=root)
    target = Path(archive)
    partial = pod_archive.partial_name(target)
    report = Report(root, str(target))
    done = False
    try:
        with (
            pod_archive.open_for_writing(partial, gzip=compressed(target)) as tar,
            tempfile.TemporaryFile() as spool,
        ):
            sink = _Sink(tar)
            async for container, members in pod.walk(root):
                rel = _rel(root, container)
                assert rel is not None
                sink.entries.append({"path": rel, "kind": "container"})
                await _export_aux(pod, root, container, rel, sink, spool, report)
                if step:
                    step(container, 0)
                for member in members:
                    if member.is_container:
                        continue
                    mrel = _rel(root, member.url)
                    if mrel is None:
                        report.skipped.append({"path": member.url, "reason": "outside the root"})
                        continue
                    await _export_one(pod, root, member.url, mrel, sink, spool, report, step)
            counts = Counter(e["kind"] for e in sink.entries)
            totals = {k: counts.get(k, 0) for k in KINDS}
            manifest: dict[str, Any] = {
                "format": FORMAT,
                "version": VERSION,
                "source": root,
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
                "generator": "pod (solid-pods Python client)",
                "entries": sink.entries,
                "counts": totals,
                "bytes": sink.bytes,
                "skipped": report.skipped,
            }
            pod_archive.add_member(tar, MANIFEST, json.dumps(manifest, indent=2).encode())
        report.counts, report.bytes = totals, sink.bytes
        verify_archive(partial)  # raises on any mismatch
        os.replace(partial, target)
        report.verified = done = True
    finally:
        if not done:
            with contextlib.suppress(OSError):
                partial.unlink()
    report.seconds = time.monotonic() - started
    return report


async def _export_one(
    pod: PodClient,
    root: str,
    url: str,
    rel: str,
    sink: _Sink,
    spool: IO[bytes],
    report: Report,
    step: Step | None,
) -> None:
    try:
        size, sha, ctype = await _fetch_to(pod, url, "text/turtle, */*;q=0.5", spool)
    except (Forbidden, Unauthorized, NotFound) as exc:
        report.skipped.append({"path": rel, "reason": f"{exc.status}: {exc.message}"})
        return
    kind = "rdf" if rdf.is_rdf(ctype) else "file"
    sink.add_body({"path": rel, "kind": kind, "media_type": ctype}, spool, size, sha)
    if step:
        step(url, size)
    await _export_aux(pod, root, url, rel, sink, spool, report)


async def _export_aux(
    pod: PodClient,
    root: str,
    url: str,
    rel: str,
    sink: _Sink,
    spool: IO[bytes],
    report: Report,
) -> None:
    """The ACL and description resource of ``url``, when they exist and can be read."""
    head = await pod.head(url)
    for kind, aux in (("acl", head.acl_url), ("meta", head.describedby)):
        if not aux or aux == url:
            continue
        arel = _rel(root, aux)
        if arel is None:
            report.skipped.append({"path": aux, "reason": f"{kind} outside the root"})
            continue
        try:
            size, sha, ctype = await _fetch_to(pod, aux, "text/turtle", spool)
        except NotFound:
            continue
        except (Forbidden, Unauthorized) as exc:
            report.skipped.append({"path": arel, "reason": f"{kind}: {exc.status} {exc.message}"})
            continue
        if kind == "meta" and _says_nothing(spool, size):
            continue  # servers answer an empty description for every resource: not data
        entry = {"path": arel, "kind": kind, "of": rel, "media_type": ctype}
        sink.add_body(entry, spool, size, sha)


def _says_nothing(spool: IO[bytes], size: int) -> bool:
    """Whether the Turtle just spooled holds no statement (only whitespace or prefixes)."""
    if size > 64 * 1024:
        return False  # a description that large says something; no need to parse it
    spool.seek(0)
    data = spool.read(size)
    try:
        return len(Graph().parse(data=data, format="turtle")) == 0
    except Exception:  # not Turtle after all: keep it as it is
        return False


def _keep_control(graph: Graph, acl_url: str, subject: str, webid: str | None) -> Graph:
    """An imported ACL must leave the importer Control of what it protects."""
    if not webid:
        return graph
    holders = {s for r in rules_for(graph, subject) if "Control" in r.modes for s in r.subjects}
    if holders & {Subject.agent(webid), PUBLIC, AUTHENTICATED}:
        return graph
    targets = frozenset({subject})
    default = targets if subject.endswith("/") else frozenset()
    add_rule(
        graph,
        acl_url,
        Subject.agent(webid),
        frozenset({"Read", "Write", "Control"}),
        targets,
        default,
    )
    return graph


async def import_archive(
    pod: PodClient,
    archive: str | os.PathLike[str],
    url: str,
    *,
    step: Step | None = None,
) -> Report:
    """Fill the container ``url`` from ``archive`` (checked first), then verify the pod
    holds every entry with the right checksum (RDF: the same triples).

    Resources already there are replaced; others are left alone. Re-running an import
    that stopped finishes it. Raises :class:`IncompleteTransfer` when it stops part way.
    """
    started = time.monotonic()
    root = normalize_url(url)
    if not root.endswith("/"):
        raise PodClientError("import into a container: its URL ends with '/'", url=root)
    manifest = verify_archive(archive)
    source = str(manifest.get("source") or root)
    entries = sorted(manifest["entries"], key=lambda e: (KINDS.index(e["kind"]), e["path"]))
    report = Report(str(archive), root, skipped=[])
    expected: dict[str, tuple[str, Any]] = {}  # url -> ("sha", hex) or ("graph", Graph)
    done = 0
    try:
        with tarfile.open(archive, "r:*") as tar:
            for entry in entries:
                target, check = await _import_one(pod, tar, entry, root, source)
                if target is not None:
                    expected[target] = check
                done += 1
                report.bytes += int(entry.get("size", 0))
                if step:
                    step(target or entry["path"], int(entry.get("size", 0)))
    except (PodClientError, OSError, tarfile.TarError) as exc:
        raise IncompleteTransfer(
            f"import INCOMPLETE: {done} of {len(entries)} entries written before "
            f"{type(exc).__name__}: {exc}",
            done=done,
            total=len(entries),
            url=root,
            hint="The pod holds a partial copy. Fix the cause and run the same import "
            "again: it replaces what is there and finishes the rest.",
        ) from exc
    report.counts = dict(Counter(e["kind"] for e in entries))
    report.problems = await _verify_import(pod, expected)
    report.verified = not report.problems
    report.seconds = time.monotonic() - started
    return report


async def _import_one(
    pod: PodClient, tar: tarfile.TarFile, entry: dict[str, Any], root: str, source: str
) -> tuple[str | None, Any]:
    kind, path = entry["kind"], entry["path"]
    url = root + path
    if kind == "container":
        if path:
            await pod.create_container(url)
        return None, None
    member = tar.getmember("data/" + path)
    handle = tar.extractfile(member)
    assert handle is not None
    ctype = entry.get("media_type") or "application/octet-stream"
    if kind == "file":
        await pod.upload(url, handle, ctype, size=entry["size"])
        return url, ("sha", entry["sha256"])
    if entry["size"] > MAX_RDF:
        raise ArchiveError(f"{path}: RDF larger than {MAX_RDF} bytes")
    body = handle.read()
    if kind in ("acl", "meta"):
        subject = root + check_path(str(entry.get("of", "")))
        head = await pod.head(subject)
        url = (head.acl_url if kind == "acl" else head.describedby) or ""
        if not url:
            raise PodClientError(f"the server names no {kind} resource for {subject}")
    graph = rdf.parse(body, ctype, source + path)
    graph = pod_archive.rebase(graph, source, root)
    if kind == "acl":
        graph = _keep_control(graph, url, root + entry["of"], pod.webid)
        graph.bind("acl", ACL)
    await pod.put(url, rdf.serialize(graph, "text/turtle", base=url), "text/turtle", if_match=None)
    return url, ("graph", graph)


async def _verify_import(pod: PodClient, expected: dict[str, tuple[str, Any]]) -> list[str]:
    problems = []
    for url, (how, value) in expected.items():
        try:
            if how == "sha":
                digest = hashlib.sha256()
                async for chunk in pod.stream(url):
                    digest.update(chunk)
                if digest.hexdigest() != value:
                    problems.append(f"{url}: SHA-256 differs from the archive")
            else:
                res = await pod.get(url, accept="text/turtle")
                got = rdf.parse(res.body, res.content_type or "text/turtle", url)
                if not isomorphic(got, value):
                    problems.append(f"{url}: its triples differ from the archive's")
        except (PodClientError, InvalidResponse) as exc:
            problems.append(f"{url}: {exc.status or ''} {exc.message}".strip())
    return problems


__all__ = [
    "FORMAT",
    "KINDS",
    "MANIFEST",
    "MAX_RDF",
    "VERSION",
    "ArchiveError",
    "Report",
    "check_path",
    "export_archive",
    "import_archive",
    "read_manifest",
    "verify_archive",
]
