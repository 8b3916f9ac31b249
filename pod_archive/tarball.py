"""Writing the tar of a pod archive: gzip or not is decided by the final file name."""

from __future__ import annotations

import io
import os
import tarfile
import time
from pathlib import Path


def compressed(name: str | os.PathLike[str]) -> bool:
    """Whether an archive called ``name`` is gzip-compressed (``.tar.gz``, ``.tgz``)."""
    return Path(name).name.lower().endswith((".gz", ".tgz"))


def partial_name(target: Path) -> Path:
    """Where an archive is written before it is verified and renamed to ``target``."""
    return target.with_name(target.name + ".partial")


def open_for_writing(path: Path, *, gzip: bool) -> tarfile.TarFile:
    """A new POSIX (PAX) tar at ``path``; ``gzip`` comes from the final name, since
    ``path`` is usually the temporary ``<name>.partial``."""
    return tarfile.open(path, "w:gz" if gzip else "w", format=tarfile.PAX_FORMAT)


def add_member(tar: tarfile.TarFile, name: str, data: bytes, mtime: int | None = None) -> None:
    """Add ``data`` to ``tar`` as the regular file ``name``."""
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o644
    info.mtime = int(time.time()) if mtime is None else mtime
    tar.addfile(info, io.BytesIO(data))
