"""The manifest of a pod archive, and the whole-archive check against it."""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
from collections import Counter
from typing import Any

from pod_archive.errors import ArchiveError

FORMAT = "solid-pod-archive"
VERSION = 1
MANIFEST = "manifest.json"
KINDS = ("container", "rdf", "file", "meta", "acl")  # import order
MAX_RDF = 64 * 1024 * 1024  # an RDF body is parsed in memory: larger ones are refused
READ_CHUNK = 256 * 1024  # bytes hashed at a time while verifying


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


def read_manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    """The archive's manifest, its format, version, entries and paths checked."""
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
                while chunk := handle.read(READ_CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                if size != entry["size"] or digest.hexdigest() != entry["sha256"]:
                    raise ArchiveError(
                        f"{entry['path']}: size or SHA-256 differs from the manifest"
                    )
            return manifest
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ArchiveError(f"cannot read the archive: {exc}") from None
