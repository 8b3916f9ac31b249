"""The pod archive format on its own: paths, manifest, checksums, IRI rebasing, the tar."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, URIRef

import pod_archive
from pod_archive import ArchiveError, check_path, read_manifest, rebase, verify_archive
from tests.unit.pod_archive.helpers import make_archive

SHA_HELLO = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
GOOD = [
    {"path": "", "kind": "container"},
    {"path": "h.txt", "kind": "file", "size": 5, "sha256": SHA_HELLO},
]


def test_archive_paths_are_checked() -> None:
    for bad in ("../x", "a/../../b", "/etc/passwd", "a//b", "a\\b", "a?b", "./a", "a#b", "a\0"):
        with pytest.raises(ArchiveError, match="unsafe"):
            check_path(bad)
    assert check_path("notes/.acl") == "notes/.acl"
    assert check_path("") == ""  # the exported container itself


def test_verify_archive(tmp_path: Path) -> None:
    ok = make_archive(tmp_path / "ok.tar", GOOD, {"data/h.txt": b"hello"})
    assert verify_archive(ok)["entries"] == GOOD
    with pytest.raises(ArchiveError, match="SHA-256"):
        verify_archive(make_archive(tmp_path / "bad.tar", GOOD, {"data/h.txt": b"jello"}))
    with pytest.raises(ArchiveError, match="not the archive"):
        verify_archive(make_archive(tmp_path / "missing.tar", GOOD, {}))
    with pytest.raises(ArchiveError, match="counts"):
        verify_archive(
            make_archive(tmp_path / "c.tar", GOOD, {"data/h.txt": b"hello"}, {"file": 2})
        )
    evil = [{"path": "../x", "kind": "file", "size": 1, "sha256": SHA_HELLO}]
    with pytest.raises(ArchiveError, match="unsafe"):
        verify_archive(make_archive(tmp_path / "evil.tar", evil, {}))
    (tmp_path / "junk.tar").write_bytes(b"not a tar")
    with pytest.raises(ArchiveError, match="cannot read"):
        verify_archive(tmp_path / "junk.tar")


def _tar_with(path: Path, manifest: bytes | None) -> tarfile.TarFile:
    with tarfile.open(path, "w") as tar:
        if manifest is not None:
            info = tarfile.TarInfo("manifest.json")
            info.size = len(manifest)
            tar.addfile(info, io.BytesIO(manifest))
    return tarfile.open(path)


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        (None, "no manifest"),
        (b"{not json", "not valid JSON"),
        (b"[]", "not a solid-pod-archive"),
        (json.dumps({"format": "zip"}).encode(), "not a solid-pod-archive"),
        (json.dumps({"format": "solid-pod-archive", "version": 2}).encode(), "version 2"),
        (json.dumps({"format": "solid-pod-archive", "version": 1}).encode(), "no entries"),
        (
            json.dumps(
                {"format": "solid-pod-archive", "version": 1, "entries": [{"kind": "x"}]}
            ).encode(),
            "not usable",
        ),
        (
            json.dumps(
                {
                    "format": "solid-pod-archive",
                    "version": 1,
                    "entries": [{"path": "a", "kind": "file", "size": 1}],
                }
            ).encode(),
            "no size or checksum",
        ),
    ],
)
def test_read_manifest_refuses(tmp_path: Path, manifest: bytes | None, message: str) -> None:
    with _tar_with(tmp_path / "m.tar", manifest) as tar, pytest.raises(ArchiveError) as info:
        read_manifest(tar)
    assert message in info.value.message


def test_rebase_moves_only_iris_under_the_source() -> None:
    old, new = "https://old.example/alice/", "https://new.example/bob/"
    graph = Graph()
    node = BNode()
    graph.add((URIRef(old + "card#me"), URIRef(old + "p"), URIRef("https://else.example/x")))
    graph.add((node, URIRef("https://else.example/p"), Literal(old + "not-an-iri")))
    graph.add((URIRef(old), URIRef("https://else.example/q"), URIRef(old + "notes/a")))
    moved = rebase(graph, old, new)
    assert set(moved) == {
        (URIRef(new + "card#me"), URIRef(new + "p"), URIRef("https://else.example/x")),
        (node, URIRef("https://else.example/p"), Literal(old + "not-an-iri")),
        (URIRef(new), URIRef("https://else.example/q"), URIRef(new + "notes/a")),
    }
    assert len(graph) == 3 and (URIRef(old), None, None) in graph  # the input is left alone
    assert rebase(graph, old, old) is graph


@pytest.mark.parametrize(
    ("name", "gzipped"),
    [
        ("pod.tar.gz", True),
        ("pod.tgz", True),
        ("POD.TAR.GZ", True),
        ("pod.tar", False),
        ("pod.gz.tar", False),
        ("dir.tgz/pod.tar", False),
    ],
)
def test_gzip_is_chosen_by_the_final_name(tmp_path: Path, name: str, gzipped: bool) -> None:
    assert pod_archive.compressed(name) is gzipped
    target = tmp_path / "pod.tar.gz" if gzipped else tmp_path / "pod.tar"
    partial = pod_archive.partial_name(target)
    assert partial.name == target.name + ".partial" and partial.parent == target.parent
    with pod_archive.open_for_writing(partial, gzip=pod_archive.compressed(name)) as tar:
        pod_archive.add_member(tar, "data/h.txt", b"hello", mtime=7)
    assert (partial.read_bytes()[:2] == b"\x1f\x8b") is gzipped  # the gzip magic number
    if gzipped:
        gzip.decompress(partial.read_bytes())  # a whole gzip stream
    with tarfile.open(partial, "r:*") as tar:
        member = tar.getmember("data/h.txt")
        handle = tar.extractfile(member)
        assert handle is not None and handle.read() == b"hello"
        assert member.mtime == 7 and member.mode == 0o644


def test_the_error_carries_its_message() -> None:
    exc = ArchiveError("broken")
    assert exc.message == "broken" and str(exc) == "broken"
    assert not isinstance(exc, (OSError, ValueError))  # nothing catches it by accident
