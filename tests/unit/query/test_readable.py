"""Which documents are a caller's named graphs: RDF documents it may Read, nothing else."""

from __future__ import annotations

import pytest

from pod_server.access.modes import NO_MODES, Mode
from pod_server.auth import Agent
from pod_server.errors import UnprocessableEntity
from pod_server.query.readable import documents, is_document, readable
from pod_server.storage.base import Meta


def meta(path: str, ctype: str = "text/turtle") -> Meta:
    return Meta(path, ctype, 10, "e1", 0.0)


TREE = {
    "/a/": [
        meta("/a/.acl"),
        meta("/a/b/", "text/turtle"),
        meta("/a/doc"),
        meta("/a/doc.meta"),
        meta("/a/photo.jpg", "image/jpeg"),
        meta("/a/data.jsonld", "application/ld+json"),
    ],
    "/a/b/": [meta("/a/b/deep", "application/n-triples")],
}


class Tree:
    async def children(
        self, path: str, after: str | None = None, limit: int | None = None
    ) -> list[Meta]:
        return TREE.get(path, [])


class Policy:
    """Read on /a/b/ and below only (the agent); nothing for the public."""

    def __init__(self) -> None:
        self.asked: list[tuple[str | None, str]] = []

    async def modes(self, agent: Agent | None, origin: str | None, path: str) -> Mode:
        self.asked.append((agent.webid if agent else None, path))
        if agent is not None and agent.webid and path.startswith("/a/b/"):
            return Mode.READ
        return NO_MODES


def test_only_rdf_documents_are_graphs() -> None:
    assert is_document(meta("/x"))
    assert not is_document(meta("/x/"))
    assert not is_document(meta("/x.acl"))
    assert not is_document(meta("/x.meta"))
    assert not is_document(meta("/x.png", "image/png"))


async def test_documents_walks_every_container() -> None:
    found = await documents(Tree(), "/a/")
    assert [m.path for m in found] == ["/a/b/deep", "/a/data.jsonld", "/a/doc"]


async def test_too_many_resources_is_refused() -> None:
    with pytest.raises(UnprocessableEntity):
        await documents(Tree(), "/a/", limit=3)


async def test_readable_asks_access_control_of_each_document() -> None:
    policy = Policy()
    docs = await documents(Tree(), "/a/")
    bob = Agent(webid="https://bob.example/#me")
    assert [m.path for m in await readable(policy, bob, None, docs)] == ["/a/b/deep"]
    assert {p for _, p in policy.asked} == {m.path for m in docs}
    assert await readable(policy, Agent(), None, docs) == []
