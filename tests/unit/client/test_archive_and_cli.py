"""Archive checks and the command line's parsing and exit codes (no server)."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from client import errors
from client.archive import ArchiveError, check_path, verify_archive
from client.cli import EXIT_CODES, build_parser, exit_code, main


def make_archive(
    path: Path, entries: list[dict], files: dict[str, bytes], counts: dict | None = None
) -> Path:  # type: ignore[type-arg]
    manifest = {
        "format": "solid-pod-archive",
        "version": 1,
        "source": "https://pod.example/a/",
        "entries": entries,
        "counts": counts
        or {
            k: sum(e["kind"] == k for e in entries)
            for k in ("container", "rdf", "file", "meta", "acl")
        },
    }
    with tarfile.open(path, "w") as tar:
        for name, data in {**files, "manifest.json": json.dumps(manifest).encode()}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_archive_paths_are_checked() -> None:
    for bad in ("../x", "a/../../b", "/etc/passwd", "a//b", "a\\b", "a?b", "./a"):
        with pytest.raises(ArchiveError):
            check_path(bad)
    assert check_path("notes/.acl") == "notes/.acl"


def test_verify_archive(tmp_path: Path) -> None:
    sha = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    good = [
        {"path": "", "kind": "container"},
        {"path": "h.txt", "kind": "file", "size": 5, "sha256": sha},
    ]
    ok = make_archive(tmp_path / "ok.tar", good, {"data/h.txt": b"hello"})
    assert verify_archive(ok)["entries"] == good
    with pytest.raises(ArchiveError, match="SHA-256"):
        verify_archive(make_archive(tmp_path / "bad.tar", good, {"data/h.txt": b"jello"}))
    with pytest.raises(ArchiveError, match="not the archive"):
        verify_archive(make_archive(tmp_path / "missing.tar", good, {}))
    with pytest.raises(ArchiveError, match="counts"):
        verify_archive(
            make_archive(tmp_path / "c.tar", good, {"data/h.txt": b"hello"}, {"file": 2})
        )
    evil = [{"path": "../x", "kind": "file", "size": 1, "sha256": sha}]
    with pytest.raises(ArchiveError, match="unsafe"):
        verify_archive(make_archive(tmp_path / "evil.tar", evil, {}))
    (tmp_path / "junk.tar").write_bytes(b"not a tar")
    with pytest.raises(ArchiveError, match="cannot read"):
        verify_archive(tmp_path / "junk.tar")


def test_exit_codes() -> None:
    assert exit_code(errors.Unauthorized()) == 3 and exit_code(errors.AuthenticationError()) == 3
    assert exit_code(errors.Forbidden()) == 4 and exit_code(errors.NotFound()) == 5
    assert exit_code(errors.PreconditionFailed()) == 6 and exit_code(errors.Conflict()) == 6
    assert exit_code(errors.ConnectionFailed()) == 7
    assert exit_code(errors.IncompleteTransfer()) == 8 and exit_code(ArchiveError()) == 8
    assert exit_code(errors.ServerError()) == 1 and len(EXIT_CODES) == 9


def test_parser(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    args = parser.parse_args(
        ["acl", "grant", "https://h/x", "--public", "--modes", "read", "--json"]
    )
    assert args.public and args.modes == "read" and args.json
    assert main(["acl", "grant", "https://h/x", "--modes", "read"]) == 2  # who is missing
    assert main(["--help"]) == 0
    help_text = capsys.readouterr().out
    assert "exit codes" in help_text.lower() or "130" in help_text
