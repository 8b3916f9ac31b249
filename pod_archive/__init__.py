"""The pod archive format, shared by the ``pod`` command line (``client.archive``) and
the server's ``pod-server export``/``import`` (``pod_server.pods.transfer``). A leaf:
it imports neither ``client`` nor ``pod_server``, so either side reads the format
without pulling in the other.

Format (version 1) — a POSIX tar, gzip-compressed when the name ends in ``.gz``/``.tgz``:

``data/<path>``
    the body of each resource that has one, ``<path>`` being its URL path relative to
    the exported container, exactly as the server spells it (percent-encoded);
``manifest.json``
    the last member: ``{"format": "solid-pod-archive", "version": 1, "source": URL,
    "created": ISO-8601, "entries": [...], "counts": {...}, "bytes": N, "skipped": [...]}``.
    Each entry has ``path`` and ``kind`` (``container``, ``rdf``, ``file``, ``acl``,
    ``meta``); those with a body have ``media_type``, ``size`` and ``sha256``; ``acl`` and
    ``meta`` entries name the resource they describe in ``of``.

RDF is stored as Turtle. On import under another URL, IRIs under the source URL are
moved to the target URL (:func:`rebase`; relative IRIs need nothing). Problems with an
archive raise :class:`ArchiveError`, which each side translates into its own errors.
"""

from pod_archive.errors import ArchiveError
from pod_archive.manifest import (
    FORMAT,
    KINDS,
    MANIFEST,
    MAX_RDF,
    READ_CHUNK,
    VERSION,
    check_path,
    read_manifest,
    verify_archive,
)
from pod_archive.rebase import rebase
from pod_archive.report import Report
from pod_archive.tarball import add_member, compressed, open_for_writing, partial_name

__all__ = [
    "FORMAT",
    "KINDS",
    "MANIFEST",
    "MAX_RDF",
    "READ_CHUNK",
    "VERSION",
    "ArchiveError",
    "Report",
    "add_member",
    "check_path",
    "compressed",
    "open_for_writing",
    "partial_name",
    "read_manifest",
    "rebase",
    "verify_archive",
]
