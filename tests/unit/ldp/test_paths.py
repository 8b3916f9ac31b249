from __future__ import annotations

import pytest

from pod_server.errors import BadRequest
from pod_server.ldp import paths


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("/", "/"),
        ("/a/b/", "/a/b/"),
        ("/caf%c3%a9", "/caf%C3%A9"),
        ("/café", "/caf%C3%A9"),
        ("/a%20b", "/a%20b"),
        ("/a b", "/a%20b"),
        ("/%41", "/A"),
        ("/it's:@here!", "/it's:@here!"),
        ("/a%3Fb", "/a%3Fb"),
        ("/a%23b", "/a%23b"),
    ],
)
def test_canonical(raw: str, expected: str) -> None:
    assert paths.canonical(raw) == expected
    assert paths.canonical(expected) == expected  # idempotent


@pytest.mark.parametrize(
    "raw",
    [
        "a",
        "/..",
        "/a/../b",
        "/%2e%2E/x",
        "/./a",
        "/a%2Fb",
        "/a%5Cb",
        "/a%00",
        "/a//b",
        "/%zz",
        "/%c3",
    ],
)
def test_refused(raw: str) -> None:
    with pytest.raises(BadRequest):
        paths.canonical(raw)


def test_structure() -> None:
    assert paths.parent("/a/b/c") == "/a/b/"
    assert paths.parent("/a/b/") == "/a/"
    assert paths.parent("/") is None
    assert paths.ancestors("/a/b/c") == ["/a/b/", "/a/", "/"]
    assert paths.name("/a/b/") == "b"
    assert paths.twin("/a") == "/a/" and paths.twin("/a/") == "/a"


def test_auxiliary() -> None:
    assert paths.aux_subject("/a/b.acl") == (".acl", "/a/b")
    assert paths.aux_subject("/a/.acl") == (".acl", "/a/")
    assert paths.aux_subject("/.meta") == (".meta", "/")
    assert paths.aux_subject("/a.acl/") is None
    assert not paths.is_auxiliary("/a/b.ttl")
