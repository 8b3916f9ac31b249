"""Moving data between storages: a whole storage (``migrate``) or one pod (``export_pod``,
``import_pod``), through the :class:`~pod_server.storage.base.Backend` contract only, so
any backend can be the source or the target of any other.

- :func:`migrate` copies every resource (bodies streamed, content types kept, containers
  and auxiliary resources included) and every root's own quota limit, then reads the
  target back and compares each resource's content type, size and SHA-256 with what was
  read from the source. Modification times and etags are new on the target (the contract
  has no way to set them).
- :func:`export_pod` writes the subtree ``/NAME/`` to a pod archive in the format of the
  ``pod export`` command (:mod:`pod_archive`: ``data/<path>`` bodies, ``manifest.json``
  with kinds, media types, sizes and SHA-256 checksums), which ``pod import`` also reads.
  Two additions other readers ignore: a container entry may carry its own triples inline
  (``body``, with ``media_type``, ``size`` and ``sha256``; a pod's root names its owner
  there), and the manifest may carry the pod's own quota limit (``quota_limit``).
- :func:`import_pod` fills ``/NAME/`` of another storage from such an archive, rebasing
  IRIs under the archive's source URL to the pod's new URL in every RDF body when the two
  differ. The archive is checked whole first (manifest, counts, checksums), so a malformed
  or truncated one writes nothing; a failure part way removes what was written.

Resources are written with the backend's own ``apply`` in batches, bypassing the Solid
rules of ``ldp`` on purpose (as pod deletion does): a host moves data as it is.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tarfile
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol
from urllib.parse import urlsplit

import pod_archive
from pod_archive import FORMAT, KINDS, MANIFEST, MAX_RDF, VERSION, Report, check_path
from pod_server.audit.entry import Action, AuditEntry
from pod_server.errors import NotFound, PayloadTooLarge, PodError, StaleState
from pod_server.ldp import paths, rdf
from pod_server.ldp.media_types import OCTET_STREAM, TURTLE
from pod_server.pods.provision import check_name
from pod_server.state import AlreadyExists, IdpState
from pod_server.storage.base import (
    ABSENT,
    CHUNK_SIZE,
    Backend,
    Delete,
    Expect,
    Meta,
    Mutation,
    Put,
    Staged,
    Touch,
)

PAGE = 1000  # container members listed per backend call while walking a tree
BATCH_RESOURCES = 200  # resources per atomic apply on the target
BATCH_INLINE_BYTES = 8 * 1024 * 1024  # in-memory staged bytes per apply, at most (about)
SHOWN = 20  # mismatches or occupants named in a message, at most
GENERATOR = "pod-server (solid-pods)"
_AUX_KINDS = {"acl": paths.ACL_SUFFIX, "meta": paths.META_SUFFIX}


class TransferError(Exception):
    """A migration, export or import that cannot be done or did not complete."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TargetNotEmpty(TransferError):
    """The target already holds data this transfer would mix with or overwrite."""


class ArchiveError(TransferError):
    """The archive is not one this server can read, or fails its own checksums."""


@contextlib.contextmanager
def _format_errors() -> Iterator[None]:
    """The archive format's own error, as this module's :class:`ArchiveError`."""
    try:
        yield
    except pod_archive.ArchiveError as exc:
        raise ArchiveError(exc.message) from None


def verify_archive(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The manifest of the archive at ``path``, once its format, counts and every body's
    SHA-256 are checked (:func:`pod_archive.verify_archive`)."""
    with _format_errors():
        return pod_archive.verify_archive(path)


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What verification compares: a resource's content type, size and body digest."""

    content_type: str
    size: int
    sha256: str


class Progress(Protocol):
    """Where a transfer reports how far it is (the command line shows tqdm bars)."""

    def begin(self, what: str, resources: int, nbytes: int) -> None: ...

    def advance(self, path: str, nbytes: int) -> None: ...

    def end(self) -> None: ...


class NoProgress:
    """Reports nothing."""

    def begin(self, what: str, resources: int, nbytes: int) -> None:
        pass

    def advance(self, path: str, nbytes: int) -> None:
        pass

    def end(self) -> None:
        pass


@dataclass
class MigrationReport:
    """What a migration copied, and whether the target was verified against it."""

    source: str
    target: str
    resources: int = 0
    bytes: int = 0
    limits: dict[str, int] = field(default_factory=dict)  # quota root -> its own limit
    problems: list[str] = field(default_factory=list)  # mismatches: the copy is not good
    extra: list[str] = field(default_factory=list)  # in the target only (left by --force)
    skipped: list[str] = field(default_factory=list)  # gone from the source while copying
    verified: bool = False
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "resources": self.resources,
            "bytes": self.bytes,
            "limits": dict(self.limits),
            "problems": list(self.problems),
            "extra": list(self.extra),
            "skipped": list(self.skipped),
            "verified": self.verified,
            "seconds": round(self.seconds, 3),
        }


# -- reading a tree -----------------------------------------------------------------------


async def walk(backend: Backend, root: str = "/") -> AsyncIterator[Meta]:
    """Every resource at or below ``root``, each container before its members, in path
    order; listings are paged, so no container is listed whole at once."""
    top = await backend.meta(root)
    if top is None:
        return
    yield top
    if not top.is_container:
        return
    # An explicit stack rather than recursion: trees may be deeper than Python's stack.
    stack: list[_Level] = [_Level(root)]
    while stack:
        level = stack[-1]
        if not level.pending:
            if level.exhausted:
                stack.pop()
                continue
            page = await backend.children(level.path, after=level.after, limit=PAGE)
            level.exhausted = len(page) < PAGE
            if page:
                level.after = page[-1].path
            level.pending = list(reversed(page))
            continue
        child = level.pending.pop()
        yield child
        if child.is_container:
            stack.append(_Level(child.path))


@dataclass(slots=True)
class _Level:
    path: str
    after: str | None = None
    pending: list[Meta] = field(default_factory=list)  # reversed: pop() gives the next
    exhausted: bool = False


async def fingerprint(backend: Backend, path: str) -> Fingerprint | None:
    """The fingerprint of the body stored at ``path`` (streamed), None when absent."""
    try:
        stored = await backend.read(path)
    except NotFound:
        return None
    try:
        digest, size = hashlib.sha256(), 0
        async for chunk in stored.iter_range(0):
            digest.update(chunk)
            size += len(chunk)
        return Fingerprint(stored.meta.content_type, size, digest.hexdigest())
    finally:
        stored.close()


async def occupants(backend: Backend, root: str = "/") -> list[str]:
    """Up to SHOWN paths that make ``root`` more than an empty container (the root itself
    excluded), or that stand where it should be (its twin document)."""
    found: list[str] = []
    if root != "/" and await backend.meta(paths.twin(root)) is not None:
        found.append(paths.twin(root))
    if await backend.meta(root) is None:  # members without their container still count
        found += [m.path for m in await backend.children(root, limit=SHOWN)]
    async for meta in walk(backend, root):
        if meta.path != root:
            found.append(meta.path)
        if len(found) >= SHOWN:
            break
    return found


async def verify(
    expected: Mapping[str, Fingerprint],
    target: Backend,
    root: str = "/",
    progress: Progress | None = None,
) -> tuple[list[str], list[str]]:
    """Compare what is under ``root`` in ``target`` with ``expected``: (mismatches, paths
    only the target has). Every body is read back and hashed."""
    progress = progress or NoProgress()
    progress.begin("verifying", len(expected), sum(f.size for f in expected.values()))
    problems: list[str] = []
    extra: list[str] = []
    seen: set[str] = set()
    try:
        async for meta in walk(target, root):
            want = expected.get(meta.path)
            if want is None:
                extra.append(meta.path)
                continue
            seen.add(meta.path)
            got = await fingerprint(target, meta.path)
            problems += _differences(meta.path, want, got)
            progress.advance(meta.path, want.size)
    finally:
        progress.end()
    problems += [f"{path}: missing from the target" for path in expected if path not in seen]
    found = len(seen)
    if found != len(expected):
        problems.insert(0, f"the target holds {found} of the {len(expected)} resources")
    return problems, extra


def _differences(path: str, want: Fingerprint, got: Fingerprint | None) -> list[str]:
    if got is None:
        return [f"{path}: missing from the target"]
    out = []
    if got.content_type != want.content_type:
        out.append(f"{path}: content type {got.content_type!r}, expected {want.content_type!r}")
    if got.size != want.size:
        out.append(f"{path}: {got.size} bytes, expected {want.size}")
    elif got.sha256 != want.sha256:
        out.append(f"{path}: SHA-256 differs")
    return out


# -- writing in batches -------------------------------------------------------------------


class _Writer:
    """Puts gathered into atomic ``apply`` batches on the target, each path checked
    absent (or at a known etag) unless ``force``; remembers what it committed."""

    def __init__(self, target: Backend, *, force: bool, current: Mapping[str, str]) -> None:
        self.target = target
        self.force = force
        self.current = dict(current)  # path -> etag it must still have (else ABSENT)
        self.puts: list[Put] = []
        self.inline = 0
        self.written: list[str] = []

    async def put(self, path: str, content_type: str, staged: Staged) -> None:
        self.puts.append(Put(path, content_type, staged))
        self.inline += len(staged.data or b"")
        if len(self.puts) >= BATCH_RESOURCES or self.inline >= BATCH_INLINE_BYTES:
            await self.flush()

    async def flush(self, extra: Sequence[Mutation] = ()) -> None:
        if not self.puts and not extra:
            return
        puts, self.puts, self.inline = self.puts, [], 0
        expects = (
            [] if self.force else [Expect(p.path, self.current.get(p.path, ABSENT)) for p in puts]
        )
        try:
            await self.target.apply(expects, [*puts, *extra])
        except StaleState as exc:
            await self._discard(puts)
            raise TransferError(f"the target changed while it was written: {exc}") from None
        except BaseException:
            await self._discard(puts)
            raise
        self.written += [p.path for p in puts]

    async def discard(self) -> None:
        puts, self.puts = self.puts, []
        await self._discard(puts)

    async def _discard(self, puts: Iterable[Put]) -> None:
        for put in puts:
            with contextlib.suppress(Exception):
                await self.target.discard(put.body)


async def _hashed(
    chunks: AsyncIterator[bytes], digest: Any, counter: list[int]
) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        digest.update(chunk)
        counter[0] += len(chunk)
        yield chunk


async def _copy_body(
    source: Backend, target: Backend, path: str
) -> tuple[Staged, Fingerprint, int]:
    """Stream one body from ``source`` into ``target``'s staging, hashing it on the way;
    also returns the size the source's metadata declares."""
    stored = await source.read(path)
    meta = stored.meta
    try:
        digest, counter = hashlib.sha256(), [0]
        # The declared size bounds the stream: a body longer than its metadata says is
        # refused rather than copied (the source is damaged).
        staged = await target.stage(_hashed(stored.iter_range(0), digest, counter), meta.size)
    except PayloadTooLarge:
        message = f"{path}: the source body is longer than its {meta.size} bytes"
        raise TransferError(message) from None
    finally:
        stored.close()
    return staged, Fingerprint(meta.content_type, counter[0], digest.hexdigest()), meta.size


# -- migrate ------------------------------------------------------------------------------


async def migrate(
    source: Backend,
    target: Backend,
    *,
    force: bool = False,
    progress: Progress | None = None,
    source_name: str = "source",
    target_name: str = "target",
) -> MigrationReport:
    """Copy every resource of ``source`` into ``target`` and verify the copy.

    Refuses (:class:`TargetNotEmpty`) when the target holds anything but an empty root,
    unless ``force``: then resources present in both are replaced, and those only in the
    target are left alone and listed in ``extra``. Holds one fingerprint per resource in
    memory (for the verification), never a body. Both backends must be started.
    """
    started = time.monotonic()
    progress = progress or NoProgress()
    report = MigrationReport(source_name, target_name)
    taken = await occupants(target)
    if taken and not force:
        raise TargetNotEmpty(
            f"the target already holds resources ({_listed(taken)}); migrate into an empty"
            " storage, or pass --force to copy over what is there"
        )
    current: dict[str, str] = {}
    root = await target.meta("/")
    if root is not None:
        current["/"] = root.etag  # an empty root is replaced, as long as it stays as seen
    metas = [meta async for meta in walk(source)]
    if not metas:
        raise TransferError("the source holds no resources at all (not even a root)")
    expected = await _copy_all(source, target, metas, force, current, progress, report)
    report.resources = len(expected)
    report.bytes = sum(f.size for f in expected.values())
    report.limits = await _copy_limits(source, target)
    problems, report.extra = await verify(expected, target, "/", progress)
    report.problems += problems
    if not force and report.extra:  # only a concurrent writer could have put them there
        report.problems += [f"{path}: in the target, not in the source" for path in report.extra]
    report.verified = not report.problems
    report.seconds = time.monotonic() - started
    return report


async def _copy_all(
    source: Backend,
    target: Backend,
    metas: Sequence[Meta],
    force: bool,
    current: Mapping[str, str],
    progress: Progress,
    report: MigrationReport,
) -> dict[str, Fingerprint]:
    writer = _Writer(target, force=force, current=current)
    expected: dict[str, Fingerprint] = {}
    progress.begin("copying", len(metas), sum(m.size for m in metas))
    try:
        for meta in metas:
            try:
                staged, fp, declared = await _copy_body(source, target, meta.path)
            except NotFound:  # deleted from the source since it was listed
                report.skipped.append(meta.path)
                continue
            if fp.size != declared:
                report.problems.append(
                    f"{meta.path}: the source body has {fp.size} bytes, its metadata {declared}"
                )
            await writer.put(meta.path, fp.content_type, staged)
            expected[meta.path] = fp
            progress.advance(meta.path, fp.size)
        await writer.flush()
    except BaseException:
        await writer.discard()
        raise
    finally:
        progress.end()
    return expected


async def _copy_limits(source: Backend, target: Backend) -> dict[str, int]:
    """Copy every root's own quota limit (usage counters are the target's to keep)."""
    copied = await source.limits()
    for root, limit in sorted(copied.items()):
        await target.set_limit(root, limit)
    return copied


def _listed(found: Sequence[str]) -> str:
    shown = ", ".join(found[:5])
    return shown + (", ..." if len(found) > 5 else "")


# -- export -------------------------------------------------------------------------------


def pod_root(name: str) -> str:
    """The storage path of pod ``name`` (a checked pod name)."""
    try:
        return f"/{check_name(name)}/"
    except PodError as exc:
        raise TransferError(exc.message) from None


async def export_pod(
    backend: Backend,
    name: str,
    base_url: str,
    archive: str | os.PathLike[str],
    *,
    progress: Progress | None = None,
) -> Report:
    """Write pod ``name`` (``/NAME/`` in ``backend``, served at ``base_url``) to ``archive``
    (gzip-compressed when it ends in ``.gz``/``.tgz``), then check the archive whole.

    The archive appears only once complete and verified (it is written beside, then
    renamed), so an interrupted export leaves no archive that looks usable.
    """
    started = time.monotonic()
    progress = progress or NoProgress()
    root = pod_root(name)
    source = base_url.rstrip("/") + root
    if await backend.meta(root) is None:
        raise TransferError(f"there is no pod named {name!r} in this storage")
    target = Path(archive)
    partial = pod_archive.partial_name(target)
    report = Report(source, str(target))
    metas = [meta async for meta in walk(backend, root)]
    done = False
    progress.begin("exporting", len(metas), sum(m.size for m in metas))
    try:
        entries: list[dict[str, Any]] = []
        gzip = pod_archive.compressed(target)  # by the final name, as `pod export` decides
        with (
            pod_archive.open_for_writing(partial, gzip=gzip) as tar,
            tempfile.TemporaryFile() as spool,
        ):
            for meta in metas:
                entry = await _export_one(backend, tar, spool, meta, root)
                if entry is None:
                    report.skipped.append({"path": meta.path, "reason": "deleted meanwhile"})
                    continue
                entries.append(entry)
                if entry["kind"] != "container":
                    report.bytes += entry["size"]
                progress.advance(meta.path, meta.size)
            counts = {kind: sum(e["kind"] == kind for e in entries) for kind in KINDS}
            manifest: dict[str, Any] = {
                "format": FORMAT,
                "version": VERSION,
                "source": source,
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
                "generator": GENERATOR,
                "entries": entries,
                "counts": counts,
                "bytes": report.bytes,
                "skipped": report.skipped,
            }
            limit = (await backend.usage(root)).limit
            if limit is not None:
                manifest["quota_limit"] = limit
            pod_archive.add_member(tar, MANIFEST, json.dumps(manifest, indent=2).encode())
        report.counts = counts
        _checked_entries(verify_archive(partial))  # raises on any mismatch
        os.replace(partial, target)
        report.verified = done = True
        # A copy of the pod left the server: its owner reads that in the pod's log.
        exported = AuditEntry(
            root=root,
            action=Action.EXPORT,
            resource=source,
            outcome=200,
            detail=f"exported by the host to {target.name}",
        )
        await backend.apply([], [exported.mutation()])
    finally:
        progress.end()
        if not done:
            with contextlib.suppress(OSError):
                partial.unlink()
    report.seconds = time.monotonic() - started
    return report


async def _export_one(
    backend: Backend, tar: tarfile.TarFile, spool: IO[bytes], meta: Meta, root: str
) -> dict[str, Any] | None:
    """The manifest entry of one resource, its body added to ``tar`` (None: gone)."""
    rel = meta.path[len(root) :]
    try:
        stored = await backend.read(meta.path)
    except NotFound:
        return None
    try:
        ctype = stored.meta.content_type
        if meta.is_container:
            entry: dict[str, Any] = {"path": rel, "kind": "container"}
            data = await stored.read_all()
            if data.strip():  # its own triples (a pod root names its owner)
                try:
                    text = data.decode("utf-8")
                except UnicodeDecodeError:
                    raise TransferError(f"{meta.path}: its own triples are not UTF-8") from None
                entry.update(
                    media_type=ctype,
                    size=len(data),
                    sha256=hashlib.sha256(data).hexdigest(),
                    body=text,
                )
            return entry
        spool.seek(0)
        spool.truncate()
        digest, size = hashlib.sha256(), 0
        async for chunk in stored.iter_range(0):
            spool.write(chunk)
            digest.update(chunk)
            size += len(chunk)
    finally:
        stored.close()
    aux = paths.aux_subject(meta.path)
    if aux is not None:
        kind = "acl" if aux[0] == paths.ACL_SUFFIX else "meta"
        entry = {"path": rel, "kind": kind, "of": aux[1][len(root) :], "media_type": ctype}
    else:
        entry = {"path": rel, "kind": "rdf" if rdf.is_rdf(ctype) else "file", "media_type": ctype}
    info = tarfile.TarInfo("data/" + rel)
    info.size, info.mtime, info.mode = size, int(meta.modified), 0o644
    spool.seek(0)
    tar.addfile(info, spool)
    entry.update(size=size, sha256=digest.hexdigest())
    return entry


# -- import -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Planned:
    entry: dict[str, Any]
    rel: str  # where it goes, relative to the pod root


def _checked_entries(manifest: Mapping[str, Any]) -> list[_Planned]:
    """Where each entry goes, refusing what the format checks leave open: an entry whose
    kind does not fit its path, two entries for one path (or for ``a`` and ``a/``), an
    auxiliary entry without its subject, a container body that fails its checksum."""
    planned: list[_Planned] = []
    taken: set[str] = set()
    for entry in manifest["entries"]:
        kind, path = entry["kind"], str(entry["path"])
        if (kind == "container") != (path == "" or path.endswith("/")):
            raise ArchiveError(f"entry {path!r}: a {kind} entry cannot have that path")
        rel = path
        if kind in _AUX_KINDS:  # placed by its subject, as this server names aux resources
            of = entry.get("of")
            if not isinstance(of, str):
                raise ArchiveError(f"entry {path!r}: no resource named in 'of'")
            with _format_errors():
                rel = check_path(of) + _AUX_KINDS[kind]
        if kind == "container" and "body" in entry:
            body = entry["body"]
            data = body.encode("utf-8") if isinstance(body, str) else None
            if data is None or hashlib.sha256(data).hexdigest() != entry.get("sha256"):
                raise ArchiveError(f"container {path!r}: its body fails its SHA-256")
        if rel in taken or (rel and paths.twin(rel) in taken):
            raise ArchiveError(f"the archive holds {rel!r} twice (or as both a and a/)")
        taken.add(rel)
        planned.append(_Planned(entry, rel))
    return planned


def _name_of(source: str) -> str | None:
    """The pod name an archive's source URL ends with (``https://host/NAME/``)."""
    path = urlsplit(source).path
    segments = path.split("/")
    return segments[-2] if path.endswith("/") and len(segments) > 2 else None


async def import_pod(
    backend: Backend,
    archive: str | os.PathLike[str],
    base_url: str,
    *,
    name: str | None = None,
    progress: Progress | None = None,
) -> Report:
    """Create pod ``name`` (default: the exported pod's name) in ``backend``, served at
    ``base_url``, from ``archive``; then read every resource back and verify it.

    Refuses (:class:`TargetNotEmpty`) when the pod already exists. IRIs under the
    archive's source URL are rewritten to the new pod URL in every RDF body when they
    differ (each such body is then stored as Turtle). Nothing is written unless the
    archive is whole; on a failure part way, what was written is removed again.
    """
    started = time.monotonic()
    progress = progress or NoProgress()
    manifest = verify_archive(archive)  # format, counts and every body's SHA-256
    planned = _checked_entries(manifest)
    source = str(manifest.get("source") or "")
    name = name or _name_of(source)
    if not name:
        raise TransferError(f"the archive's source {source!r} names no pod: pass --name")
    root = pod_root(name)
    target_url = base_url.rstrip("/") + root
    source = source or target_url
    taken = await occupants(backend, root)
    if taken or await backend.meta(root) is not None:
        raise TargetNotEmpty(f"this storage already has a pod named {name!r}: {root}")
    report = Report(str(archive), target_url, skipped=[])
    writer = _Writer(backend, force=False, current={})
    expected: dict[str, Fingerprint] = {}
    move = _Rebaser(source, target_url) if source != target_url else None
    total = sum(int(p.entry.get("size", 0)) for p in planned)
    progress.begin("importing", len(planned), total)
    try:
        by_member: dict[str, _Planned] = {}
        containers = [p for p in planned if p.entry["kind"] == "container"]
        if not any(p.rel == "" for p in containers):  # an archive of a pod always has it
            containers.insert(0, _Planned({"path": "", "kind": "container"}, ""))
        for item in containers:
            await _import_container(writer, item, root, move, expected)
            progress.advance(root + item.rel, 0)
        for item in planned:
            if item.entry["kind"] != "container":
                by_member["data/" + item.entry["path"]] = item
        with tarfile.open(archive, "r:*") as tar:
            for member in tar:  # in archive order: no seeking back in a compressed stream
                body = by_member.pop(member.name, None)
                if body is None or not member.isfile():
                    continue
                handle = tar.extractfile(member)
                if handle is None:
                    raise ArchiveError(f"{member.name} cannot be read")
                await _import_body(writer, body, handle, root, move, expected)
                report.bytes += int(body.entry["size"])
                progress.advance(root + body.rel, int(body.entry["size"]))
        if by_member:
            raise ArchiveError(f"{next(iter(by_member))} is in the manifest, not the archive")
        parent = await backend.meta("/")
        await writer.flush([Touch("/")] if parent is not None else [])
        limit = manifest.get("quota_limit")
        if type(limit) is int and limit >= 0:  # not a bool, not another reader's key
            await backend.set_limit(root, limit)
    except BaseException as exc:
        await writer.discard()
        await _remove(backend, writer.written)
        if isinstance(exc, ArchiveError):  # the archive itself: reported as unusable
            raise
        if isinstance(exc, (TransferError, PodError)):  # e.g. an RDF body that does not parse
            raise TransferError(f"import stopped, nothing kept: {exc.message}") from exc
        if isinstance(exc, (OSError, tarfile.TarError, EOFError)):
            raise TransferError(f"import stopped, nothing kept: {exc}") from exc
        raise
    finally:
        progress.end()
    report.counts = {kind: sum(p.entry["kind"] == kind for p in planned) for kind in KINDS}
    report.problems, extra = await verify(expected, backend, root, progress)
    report.problems += [f"{path}: in the target, not in the archive" for path in extra]
    report.verified = not report.problems
    report.seconds = time.monotonic() - started
    return report


class _Rebaser:
    """Rewrites RDF from the archive's source URL to the pod's new URL."""

    def __init__(self, source: str, target: str) -> None:
        self.source, self.target = source, target

    def __call__(self, data: bytes, media_type: str, rel: str) -> bytes:
        try:
            graph = rdf.parse(data, media_type, self.source + rel)
        except PodError as exc:
            raise TransferError(f"{rel or 'the pod root'}: {exc.message}") from None
        moved = pod_archive.rebase(graph, self.source, self.target)
        if not len(moved):
            return b""
        # Stored the way the server stores Turtle: relative to the resource, no @base line.
        out = rdf.serialize(moved, TURTLE, self.target + rel)
        return out[out.index(b"\n") + 1 :] if out.startswith(b"@base ") else out


async def _import_container(
    writer: _Writer,
    item: _Planned,
    root: str,
    move: _Rebaser | None,
    expected: dict[str, Fingerprint],
) -> None:
    body = item.entry.get("body")
    data = body.encode("utf-8") if isinstance(body, str) else b""
    ctype = str(item.entry.get("media_type") or TURTLE) if data else TURTLE
    if data and move is not None:
        data, ctype = move(data, ctype, item.rel), TURTLE
    path = root + item.rel
    await writer.put(path, ctype, Staged.of(data))
    expected[path] = Fingerprint(ctype, len(data), hashlib.sha256(data).hexdigest())


async def _import_body(
    writer: _Writer,
    item: _Planned,
    handle: IO[bytes],
    root: str,
    move: _Rebaser | None,
    expected: dict[str, Fingerprint],
) -> None:
    entry, path = item.entry, root + item.rel
    ctype = str(entry.get("media_type") or OCTET_STREAM)
    if entry["kind"] == "file" or move is None:
        digest, counter = hashlib.sha256(), [0]
        staged = await writer.target.stage(
            _hashed(_chunks(handle), digest, counter), int(entry["size"])
        )
        await writer.put(path, ctype, staged)
        expected[path] = Fingerprint(ctype, counter[0], digest.hexdigest())
        return
    if int(entry["size"]) > MAX_RDF:
        raise ArchiveError(f"{entry['path']}: RDF larger than {MAX_RDF} bytes")
    data = move(handle.read(), ctype, item.rel)
    await writer.put(path, TURTLE, Staged.of(data))
    expected[path] = Fingerprint(TURTLE, len(data), hashlib.sha256(data).hexdigest())


async def _chunks(handle: IO[bytes]) -> AsyncIterator[bytes]:
    while chunk := handle.read(CHUNK_SIZE):
        yield chunk


async def _remove(backend: Backend, written: Sequence[str]) -> None:
    """Undo an import: delete what it committed (the pod did not exist before)."""
    with contextlib.suppress(Exception):  # the original error is the one to report
        for start in range(0, len(written), BATCH_RESOURCES * 5):
            chunk = written[start : start + BATCH_RESOURCES * 5]
            await backend.apply([], [Delete(path) for path in reversed(chunk)])


__all__ = [
    "ArchiveError",
    "Fingerprint",
    "MigrationReport",
    "NoProgress",
    "Progress",
    "TargetNotEmpty",
    "TransferError",
    "export_pod",
    "fingerprint",
    "import_pod",
    "migrate",
    "occupants",
    "verify",
    "walk",
]


# -- accounts ------------------------------------------------------------------------------


@dataclass(slots=True)
class AccountsReport:
    """What :func:`copy_accounts` copied; ``skipped`` names what the target had already."""

    accounts: int = 0
    webids: int = 0
    credentials: int = 0
    keys: int = 0
    skipped: list[str] = field(default_factory=list)


async def copy_accounts(source: IdpState, target: IdpState, now: float) -> AccountsReport:
    """Copy the identity provider's lasting state: accounts (with their password hashes),
    their WebIDs and client credentials, and the signing keys (so tokens already issued
    still verify and the issuer keeps its keys). Sessions, codes, refresh tokens, consents
    and dynamically registered clients are short-lived: people sign in again, apps
    register again. What the target already holds is left as it is, and reported."""
    report = AccountsReport()

    async def add(what: str, step: Awaitable[None]) -> bool:
        try:
            await step
        except AlreadyExists:
            report.skipped.append(what)
            return False
        return True

    for account in await source.list_accounts():
        report.accounts += await add(f"account {account.email}", target.add_account(account))
        for webid in await source.account_webids(account.id):
            report.webids += await add(f"WebID {webid}", target.link_webid(account.id, webid, now))
        for credential in await source.list_credentials(account.id):
            what = f"credential {credential.client_id}"
            report.credentials += await add(what, target.add_credential(credential))
    have = {key.kid for key in await target.list_keys()}
    for key in await source.list_keys():
        if key.kid in have:
            report.skipped.append(f"signing key {key.kid}")
            continue
        await target.add_key(key)
        report.keys += 1
    return report
