"""The client's archive errors and the command line's parsing and exit codes (no server)."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

import pod_archive
from client import errors
from client.archive import ArchiveError, check_path, read_manifest, verify_archive
from client.cli import EXIT_CODES, build_parser, exit_code, main
from tests.unit.pod_archive.helpers import make_archive


def test_format_errors_become_the_clients_own(tmp_path: Path) -> None:
    """The format (tests/unit/pod_archive) raises its own error; the client's wrappers raise
    :class:`client.archive.ArchiveError`, a PodClientError, with the same message."""
    with pytest.raises(ArchiveError, match="unsafe path") as info:
        check_path("../x")
    assert isinstance(info.value, errors.PodClientError)
    assert not isinstance(info.value, pod_archive.ArchiveError)
    assert check_path("notes/.acl") == "notes/.acl"
    sha = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    good = [
        {"path": "", "kind": "container"},
        {"path": "h.txt", "kind": "file", "size": 5, "sha256": sha},
    ]
    ok = make_archive(tmp_path / "ok.tar", good, {"data/h.txt": b"hello"})
    assert verify_archive(ok)["entries"] == good
    with pytest.raises(ArchiveError, match="SHA-256"):
        verify_archive(make_archive(tmp_path / "bad.tar", good, {"data/h.txt": b"jello"}))
    (tmp_path / "junk.tar").write_bytes(b"not a tar")
    with pytest.raises(ArchiveError, match="cannot read"):
        verify_archive(tmp_path / "junk.tar")
    with tarfile.open(tmp_path / "bad.tar") as tar:
        assert read_manifest(tar)["entries"] == good
    with tarfile.open(tmp_path / "empty.tar", "w"):
        pass
    with (
        tarfile.open(tmp_path / "empty.tar") as tar,
        pytest.raises(ArchiveError, match="no manifest"),
    ):
        read_manifest(tar)


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
