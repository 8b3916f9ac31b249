"""Hand-made archives, written without the code under test."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

KINDS = ("container", "rdf", "file", "meta", "acl")


def make_archive(
    path: Path,
    entries: list[dict[str, Any]],
    files: dict[str, bytes],
    counts: dict[str, int] | None = None,
) -> Path:
    """An uncompressed archive at ``path``: ``files`` then a manifest listing ``entries``
    (``counts`` as given, or as the entries add up)."""
    manifest = {
        "format": "solid-pod-archive",
        "version": 1,
        "source": "https://pod.example/a/",
        "entries": entries,
        "counts": counts or {k: sum(e["kind"] == k for e in entries) for k in KINDS},
    }
    with tarfile.open(path, "w") as tar:
        for name, data in {**files, "manifest.json": json.dumps(manifest).encode()}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path
