"""``verify`` and ``reindex`` over a storage (the memory backend): verify compares what a
fresh engine builds with what storage holds, and names a document that differs."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from pod_server.query import maintenance
from pod_server.query.worker import Answer, Engine, Job
from pod_server.storage.base import Put, Staged
from pod_server.storage.memory import MemoryBackend

BASE = "http://pod.example"


async def storage() -> MemoryBackend:
    backend = MemoryBackend()
    await backend.start()
    await backend.apply(
        [],
        [
            Put("/", "text/turtle"),
            Put("/a", "text/turtle", Staged.of(b"<#a> <http://ex/v> 1 . [] <http://ex/v> 2 .")),
            Put("/b", "application/ld+json", Staged.of(b'{"@id": "#b", "http://ex/v": 3}')),
            Put("/c", "text/turtle", Staged.of(b"<#c> <http://ex/v> 1 .")),
            Put("/notes.txt", "text/plain", Staged.of(b"not RDF")),
        ],
    )
    return backend


async def test_a_faithful_engine_verifies() -> None:
    backend = await storage()
    assert await maintenance.verify(backend, "/", BASE) == (3, [])


class Lossy(Engine):
    """An engine that loses a triple of /a after loading it (the fault verify is for)."""

    def run(self, job: Job) -> Answer:
        answer = super().run(job)
        store = self.stores[job.root]
        lost = next(iter(store.quads_for_pattern(None, None, None, ox.NamedNode(BASE + "/a"))))
        store.remove(lost)
        return answer


async def test_a_lossy_engine_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(maintenance, "Engine", Lossy)
    count, problems = await maintenance.verify(await storage(), "/", BASE)
    assert count == 3
    # Its graph, and the merged default graph it was copied to before the loss.
    assert problems == [
        "/a: the engine holds 1 triples, storage 2, not the same graph",
        "the default graph holds 4 triples, the documents' merge 3",
    ]


async def test_reindex_gives_every_rdf_document_a_new_etag() -> None:
    backend = await storage()
    before = {p: (await backend.meta(p)).etag for p in ("/a", "/b", "/c", "/notes.txt")}  # type: ignore[union-attr]
    assert await maintenance.reindex(backend, "/") == 3
    after = {p: (await backend.meta(p)).etag for p in before}  # type: ignore[union-attr]
    assert {p for p in before if before[p] != after[p]} == {"/a", "/b", "/c"}
