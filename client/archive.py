"""Pod archives: a whole pod or container, with its RDF, files, ACLs and metadata, in
one tar file that another pod (on any Solid server) can be filled from.

Format (version 1) — a POSIX tar, gzip-compressed when the name ends in ``.gz``/``.tgz``:

``data/<path>``
    the body of each resource that has one, ``<path>`` being its URL path relative to
    the exported container, exactly as the server spells it (percent-encoded);
``manifest.json``
    the last member: ``{"format": "solid-pod-archive", "version": 1, "source": URL,
    "created": ISO-8601, "entries": [...], "counts": {...}, "bytes": N, "skipped": [...]}``.
    Each entry has ``path`` and ``kind`` (``container``, ``rdf``, ``file``, ``acl``,
    ``meta``); those with a body have ``media_type``, ``size`` and ``sha256``; ``acl`` and
    ``meta`` entries name the resource they describe in ``of`` (their URL on the target
    comes from its ``Link`` headers, so the archive is portable between servers).

RDF is stored as Turtle. On import under another URL, IRIs under the source URL are
rebased to the target URL (relative IRIs need nothing). An imported ACL always keeps
Control for the person importing. Exports and imports end with a verification of
counts and SHA-256 checksums (RDF: of its triples); an import that stops part way
raises :class:`IncompleteTransfer` and is never reported as done.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tarfile
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from rdflib import Graph, URIRef
from rdflib.compare import isomorphic

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
from client.transport import CHUNK

FORMAT = "solid-pod-archive"
VERSION = 1
MANIFEST = "manifest.json"
KINDS = ("container", "rdf", "file", "meta", "acl")  # import order
MAX_RDF = 64 * 1024 * 1024
Step = Callable[[str, int], Any]  # (what, bytes) after each resource


class ArchiveError(PodClientError):
    """The archive is not one this tool can read, or fails its own checksums."""


@dataclass
class Report:
    """What an export or import did, and whether the result was verified."""

    source: str
    target: str
    counts: dict[str, int] = field(default_factory=dict)
    bytes: int = 0
    verified: bool = False
    problems: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "counts": dict(self.counts),
            "bytes": self.bytes,
            "verified": self.verified,
            "problems": list(self.problems),
            "skipped": list(self.skipped),
            "seconds": round(self.seconds, 3),
        }


def compressed(name: str | os.PathLike[str]) -> bool:
    """Whether an archive called ``name`` is gzip-compressed (``.tar.gz``, ``.tgz``)."""
    return Path(name).name.lower().endswith((".gz", ".tgz"))


def _open_for_writing(path: Path, *, gzip: bool) -> tarfile.TarFile:
    # ``path`` is the temporary "<name>.partial": the final name decides, via ``gzip``.
    return tarfile.open(path, "w:gz" if gzip else "w", format=tarfile.PAX_FORMAT)


def check_path(path: str) -> str:
    """A manifest path: relative, no '..', no backslash or NUL, no empty inner segment."""
    if (
        path.startswith("/")
        or "\\" in path
        or "\0" in path
        or "//" in path
        or any(seg in (".", "..") for seg in path.split("/"))
        or "?" in path
        or "#" in path
    ):
        raise ArchiveError(f"unsafe path in the archive: {path!r}")
    return path


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
    partial = target.with_name(target.name + ".partial")
    report = Report(root, str(target))
    done = False
    try:
        with (
            _open_for_writing(partial, gzip=compressed(target)) as tar,
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
            data = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
            tar.addfile(info, io.BytesIO(data))
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
        entry = {"path": arel, "kind": kind, "of": rel, "media_type": ctype}
        sink.add_body(entry, spool, size, sha)


def read_manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = tar.getmember(MANIFEST)
        handle = tar.extractfile(member)
        assert handle is not None
        manifest = json.loads(handle.read())
    except (KeyError, AssertionError):
        raise ArchiveError("the archive has no manifest.json") from None
    except ValueError as exc:
        raise ArchiveError(f"manifest.json is not valid JSON: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArchiveError(f"not a {FORMAT} archive")
    if manifest.get("version") != VERSION:
        raise ArchiveError(f"archive version {manifest.get('version')!r}; this tool reads 1")
    entries = manifest.get("entries")
    if not isinstance(entries, list):
        raise ArchiveError("the manifest lists no entries")
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("kind") not in KINDS:
            raise ArchiveError(f"a manifest entry is not usable: {entry!r}"[:200])
        check_path(str(entry.get("path", "")))
        if entry["kind"] != "container" and not (
            isinstance(entry.get("size"), int) and isinstance(entry.get("sha256"), str)
        ):
            raise ArchiveError(f"entry {entry['path']!r} has no size or checksum")
    return manifest


def verify_archive(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Check every body against the manifest's size and SHA-256, and the counts; returns
    the manifest. Raises :class:`ArchiveError` on the first problem."""
    try:
        with tarfile.open(path, "r:*") as tar:
            manifest = read_manifest(tar)
            names = {m.name: m for m in tar.getmembers() if m.isfile()}
            counts = Counter(e["kind"] for e in manifest["entries"])
            declared = manifest.get("counts", {})
            for kind in KINDS:
                if declared.get(kind, 0) != counts.get(kind, 0):
                    raise ArchiveError(
                        f"the manifest counts {declared.get(kind, 0)} {kind} entries "
                        f"but lists {counts.get(kind, 0)}"
                    )
            for entry in manifest["entries"]:
                if entry["kind"] == "container":
                    continue
                member = names.get("data/" + entry["path"])
                if member is None:
                    raise ArchiveError(f"{entry['path']} is in the manifest, not the archive")
                digest, size = hashlib.sha256(), 0
                handle = tar.extractfile(member)
                assert handle is not None
                while chunk := handle.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                if size != entry["size"] or digest.hexdigest() != entry["sha256"]:
                    raise ArchiveError(
                        f"{entry['path']}: size or SHA-256 differs from the manifest"
                    )
            return manifest
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ArchiveError(f"cannot read the archive: {exc}") from None


def _rebase(graph: Graph, source: str, target: str) -> Graph:
    if source == target:
        return graph

    def move(term: Any) -> Any:
        if isinstance(term, URIRef) and str(term).startswith(source):
            return URIRef(target + str(term)[len(source) :])
        return term

    out = Graph()
    for s, p, o in graph:
        out.add((move(s), move(p), move(o)))
    return out


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
    graph = _rebase(graph, source, root)
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
    "VERSION",
    "ArchiveError",
    "Report",
    "check_path",
    "export_archive",
    "import_archive",
    "read_manifest",
    "verify_archive",
]
