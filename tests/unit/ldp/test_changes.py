from __future__ import annotations

from pod_server.ldp.store import Change, describe_changes
from pod_server.storage.base import ABSENT, PRESENT, Delete, Expect, Meta, Put, Touch


def meta(path: str, etag: str) -> Meta:
    return Meta(path, "text/turtle", 0, etag, 0.0)


def test_create_with_new_ancestor() -> None:
    expects = [Expect("/a/b", ABSENT), Expect("/a/", ABSENT), Expect("/", PRESENT)]
    mutations = [Put("/a/", "text/turtle"), Touch("/"), Put("/a/b", "text/turtle"), Touch("/a/")]
    written = {"/a/": meta("/a/", "e2"), "/": meta("/", "e1"), "/a/b": meta("/a/b", "e3")}
    assert describe_changes(expects, mutations, written) == [
        Change("Create", "/a/", state="e2"),
        Change("Add", "/", "/a/", "e1"),
        Change("Create", "/a/b", state="e3"),
        Change("Add", "/a/", "/a/b", "e2"),
    ]


def test_update_delete_and_auxiliary() -> None:
    expects = [Expect("/x", "old"), Expect("/x.acl", "o2")]
    mutations = [Put("/x", "text/turtle"), Delete("/x.acl"), Delete("/y"), Touch("/")]
    written = {"/x": meta("/x", "n1"), "/": meta("/", "r2")}
    assert describe_changes(expects, mutations, written) == [
        Change("Update", "/x", state="n1"),
        Change("Delete", "/x.acl"),  # auxiliary: not a member, no Remove
        Change("Delete", "/y"),
        Change("Remove", "/", "/y", "r2"),
    ]
