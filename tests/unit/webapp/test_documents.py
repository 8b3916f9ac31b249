"""Cached per-document reads (apps.webapp.documents) against a pod held in memory: what
comes from the cache, from one prefetch, from reading documents, and what is refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from rdflib import Graph, Literal, URIRef

from apps.webapp import documents
from apps.webapp.documents import NoAccess, Place, read_cached
from client import Forbidden, NotFound, PodClient, PreconditionFailed, ServerError
from client.containers import Entry

DATA = "https://p/alice/data/"
OWN = "https://p/alice/apps/x/"
PLACE = Place("https://p/alice/", DATA, False, OWN)
WHEN = datetime(2024, 1, 1, tzinfo=UTC)


class Stored:
    def __init__(self, body: bytes, etag: str) -> None:
        self.body, self.etag = body, etag


class MemoryPod:
    """Just what read_cached uses: list, get, read_graph, put (with If-Match)."""

    def __init__(self, docs: dict[str, int], forbidden: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.docs = docs  # url -> a number each document holds
        self.forbidden = forbidden
        self.files: dict[str, Stored] = {}
        self.reads: list[str] = []
        self.listable = True

    async def list(self, container: str) -> list[Entry]:
        if not self.listable:
            raise Forbidden("no", url=container)
        return [Entry(u, (), n, WHEN) for u, n in sorted(self.docs.items())]

    async def read_graph(self, url: str) -> Graph:
        self.reads.append(url)
        if url in self.forbidden:
            raise Forbidden("no", url=url)
        graph = Graph()
        graph.add((URIRef(url), URIRef("urn:n"), Literal(self.docs[url])))
        return graph

    async def get(self, url: str, accept: str | None = None) -> Stored:
        if url not in self.files:
            raise NotFound("none", url=url)
        return self.files[url]

    async def put(self, url: str, body: str, content_type: str, *, if_match: Any = None, create_only: bool = False) -> None:  # fmt: skip
        current = self.files.get(url)
        if (create_only and current) or (if_match and (not current or current.etag != if_match)):
            raise PreconditionFailed("changed", url=url)
        self.files[url] = Stored(body.encode(), f'"{len(self.files) + 1}-{hash(body)}"')


def extract(graph: Graph) -> dict[str, Any]:
    return {"n": int(next(iter(graph.objects())))}


async def read(pod: MemoryPod, prefetch: Any = None) -> documents.Read:
    return await read_cached(cast(PodClient, pod), PLACE, "things", "c.json", 1, extract, prefetch)


async def test_first_visit_reads_then_second_comes_from_the_cache() -> None:
    pod = MemoryPod({DATA + "a": 1, DATA + "b": 2})
    first = await read(pod)
    assert {u: d["n"] for u, d in first.documents.items()} == {DATA + "a": 1, DATA + "b": 2}
    assert (first.from_cache, first.cache_saved, len(pod.reads)) == (0, True, 2)
    second = await read(pod)
    assert (second.from_cache, second.cache_saved, len(pod.reads)) == (2, False, 2)
    assert second.documents == first.documents


async def test_a_changed_document_alone_is_read_again() -> None:
    pod = MemoryPod({DATA + "a": 1, DATA + "b": 2})
    await read(pod)
    pod.docs[DATA + "b"] = 30  # another size: another stamp
    again = await read(pod)
    assert pod.reads[-1] == DATA + "b" and len(pod.reads) == 3
    assert again.documents[DATA + "b"]["n"] == 30 and again.from_cache == 1


async def test_a_prefetch_answers_many_and_reads_cover_the_rest() -> None:
    pod = MemoryPod({DATA + str(n): n for n in range(6)})

    async def prefetch(urls: list[str]) -> dict[str, dict[str, Any]]:
        return {u: {"n": 100} for u in urls[:4]}

    got = await read(pod, prefetch)
    assert got.prefetched == 4 and len(pod.reads) == 2
    assert sorted(d["n"] for d in got.documents.values()) == [4, 5, 100, 100, 100, 100]


async def test_a_failing_prefetch_falls_back_to_reading() -> None:
    pod = MemoryPod({DATA + str(n): n for n in range(5)})

    async def broken(urls: list[str]) -> dict[str, dict[str, Any]]:
        raise ServerError("endpoint down", url=DATA)

    got = await read(pod, broken)
    assert got.prefetched == 0 and len(got.documents) == 5 and len(pod.reads) == 5


async def test_refused_documents_are_counted_and_a_refused_folder_says_so() -> None:
    pod = MemoryPod({DATA + "a": 1, DATA + "b": 2}, forbidden={DATA + "b"})
    got = await read(pod)
    assert got.refused == [DATA + "b"] and list(got.documents) == [DATA + "a"]
    pod.listable = False
    with pytest.raises(NoAccess, match="may not read your things at https://p/alice/data/"):
        await read(pod)


async def test_a_cache_changed_by_another_visit_is_not_overwritten() -> None:
    pod = MemoryPod({DATA + "a": 1})
    await read(pod)
    pod.files[OWN + "c.json"] = Stored(json.dumps({"version": 1, "documents": {}}).encode(), '"other"')  # fmt: skip
    real_get = pod.get

    async def stale_get(url: str, accept: str | None = None) -> Stored:
        stored = await real_get(url)
        return Stored(stored.body, '"stale"')  # as read before the other visit saved

    pod.get = stale_get  # type: ignore[method-assign]
    got = await read(pod)
    assert got.cache_saved is False and pod.files[OWN + "c.json"].etag == '"other"'


def test_the_type_index_wins_else_the_declared_folder() -> None:
    assert documents.choose_container([], "https://p/a/", "data/") == ("https://p/a/data/", False)
