"""The resource store over the memory backend: layout, reads, writes, appends, retries."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence

import pytest
from rdflib import Literal, URIRef

from pod_server.access.rules import AccessRules
from pod_server.errors import (
    Conflict,
    MethodNotAllowed,
    NotFound,
    NotModified,
    PreconditionFailed,
    ServiceUnavailable,
    StaleState,
)
from pod_server.ldp import rdf, writing
from pod_server.ldp.budget import WorkLimits
from pod_server.ldp.changes import Change
from pod_server.ldp.conditions import NONE, Conditions
from pod_server.ldp.layout import Layout
from pod_server.ldp.media_types import TURTLE
from pod_server.ldp.store import Body, Limits, ResourceStore
from pod_server.ldp.writing import MAX_ATTEMPTS, retrying
from pod_server.storage.base import Expect, Meta, Mutation, Put, Quota, Staged
from pod_server.storage.memory import MemoryBackend

BASE = "https://pod.example/base/"
EX = "http://example.org/"


class Interfering(MemoryBackend):
    """Lets ``before_apply`` run just before the next commits: a concurrent writer."""

    def __init__(self) -> None:
        super().__init__()
        self.before_apply: list[Callable[[], Awaitable[None]]] = []
        self.interfering = False
        self.discarded: list[Staged] = []

    async def apply(
        self, expects: Sequence[Expect], mutations: Sequence[Mutation], quota: Quota | None = None
    ) -> Mapping[str, Meta]:
        if self.before_apply and not self.interfering:
            self.interfering = True  # the other writer's own commits pass straight through
            try:
                await self.before_apply.pop(0)()
            finally:
                self.interfering = False
        result = await super().apply(expects, mutations, quota)
        return result

    async def discard(self, staged: Staged) -> None:
        self.discarded.append(staged)


def body(data: str | bytes, content_type: str = TURTLE) -> Body:
    raw = data.encode() if isinstance(data, str) else data

    async def chunks() -> AsyncIterator[bytes]:
        yield raw

    return Body(content_type, chunks(), len(raw), content_type)


def make(backend: MemoryBackend | None = None, multiuser: bool = False) -> ResourceStore:
    limits = Limits(1 << 20, 1 << 20)
    return ResourceStore(
        backend or MemoryBackend(), BASE, limits, rules=AccessRules(), multiuser=multiuser
    )


async def objects(store: ResourceStore, path: str, predicate: str) -> set[str]:
    _, graph = await store.graph_of(path)
    return {str(o) for o in graph.objects(URIRef(store.url(path)), URIRef(EX + predicate))}


async def insert(store: ResourceStore, path: str, value: str, cond: Conditions = NONE) -> None:
    update = f'INSERT DATA {{ <> <{EX}p> "{value}" . }}'
    patch = await store.read_patch(path, body(update, "application/sparql-update"))
    await store.patch(path, patch, cond)


# -- layout ------------------------------------------------------------------------------


def test_layout_maps_paths_and_urls_both_ways() -> None:
    layout = Layout("https://pod.example/base")
    assert layout.base_url == BASE and layout.base_path == "/base/"
    assert layout.url("/a/b.ttl") == BASE + "a/b.ttl"
    assert layout.local_path(BASE + "a/b.ttl#me") == "/a/b.ttl"
    assert layout.local_path("https://other.example/base/a") is None
    assert layout.local_path(BASE + "a/%2e%2e/%2e%2e/x") is None  # escapes the pod: not ours
    assert layout.storage_root_of("/a/b") == "/" and layout.is_storage_root("/")
    assert layout.is_root_acl("/.acl") and not layout.is_root_acl("/a/.acl")
    assert layout.storage_description_path("/a/b") == "/.well-known/solid"


def test_multiuser_layout_has_one_storage_per_pod() -> None:
    layout = Layout(BASE, multiuser=True)
    assert layout.storage_root_of("/alice/notes/x") == "/alice/"
    assert layout.storage_root_of("/alice") is None
    assert layout.is_storage_root("/alice/") and not layout.is_storage_root("/")
    assert layout.is_root_acl("/alice/.acl") and not layout.is_root_acl("/.acl")
    assert layout.storage_description_path("/alice/x") == "/alice/.well-known/solid"
    assert layout.is_well_known("/alice/.well-known/solid") and layout.is_well_known("/.well-known")
    assert not layout.is_well_known("/alice/notes/.well-known/x")


def test_the_store_delegates_to_its_layout() -> None:
    store = make(multiuser=True)
    assert store.layout == Layout(BASE, multiuser=True)
    assert (store.base_url, store.base_path) == (BASE, "/base/")
    assert store.url("/bob/") == BASE + "bob/"
    assert store.local_path(BASE + "bob/card#me") == "/bob/card"
    assert store.storage_root_of("/bob/x") == "/bob/"
    assert store.is_storage_root("/bob/") and store.is_root_acl("/bob/.acl")


# -- reads and writes --------------------------------------------------------------------


async def test_put_creates_ancestors_and_get_negotiates() -> None:
    store = make()
    await store.ensure_root()
    first = await store.put("/a/b/doc", body(f'<> <{EX}p> "one" .'), NONE)
    assert first.created
    assert (await store.meta("/a/")) is not None and (await store.meta("/a/b/")) is not None
    again = await store.put("/a/b/doc", body(f'<> <{EX}p> "two" .'), NONE)
    assert not again.created and again.meta.etag != first.meta.etag
    turtle = await store.get("/a/b/doc", TURTLE, NONE)
    assert turtle.content_type == TURTLE and turtle.etag == f'"{again.meta.etag}"'
    nt = await store.get("/a/b/doc", rdf.N_TRIPLES, NONE)
    assert nt.content_type == rdf.N_TRIPLES and nt.etag != turtle.etag
    assert nt.data is not None and b'"two"' in nt.data
    listing = await store.get("/a/b/", TURTLE, NONE)
    assert listing.data is not None and b"doc" in listing.data


async def test_conditional_requests_fail_without_changing_anything() -> None:
    store = make()
    written = await store.put("/doc", body(f'<> <{EX}p> "one" .'), NONE)
    tag = f'"{written.meta.etag}"'
    with pytest.raises(PreconditionFailed):
        await store.put("/doc", body(f'<> <{EX}p> "two" .'), Conditions(if_match=('"stale"',)))
    with pytest.raises(PreconditionFailed):
        await store.put("/doc", body("<> a <x:y> ."), Conditions(if_none_match=("*",)))
    with pytest.raises(PreconditionFailed):
        await insert(store, "/doc", "three", Conditions(if_match=('"stale"',)))
    with pytest.raises(PreconditionFailed):
        await store.delete("/doc", Conditions(if_match=('"stale"',)))
    assert await objects(store, "/doc", "p") == {"one"}
    with pytest.raises(NotModified):
        await store.get("/doc", TURTLE, Conditions(if_none_match=(tag,)))
    await store.put("/doc", body(f'<> <{EX}p> "four" .'), Conditions(if_match=(tag,)))
    assert await objects(store, "/doc", "p") == {"four"}


async def test_patch_appends_inserts_and_rewrites_deletes() -> None:
    store = make()
    await store.put("/doc", body(f'<> <{EX}p> "one" .'), NONE)
    await insert(store, "/doc", "two")
    await insert(store, "/doc", "three", Conditions(if_match=("*",)))  # under the lock
    stored = await store.get("/doc", TURTLE, NONE)
    assert stored.data is not None and stored.data.startswith(f'<> <{EX}p> "one" .'.encode())
    assert await objects(store, "/doc", "p") == {"one", "two", "three"}
    update = f'DELETE DATA {{ <> <{EX}p> "one" . }}'
    patch = await store.read_patch("/doc", body(update, "application/sparql-update"))
    await store.patch("/doc", patch, NONE)
    assert await objects(store, "/doc", "p") == {"two", "three"}


async def test_delete_rules() -> None:
    store = make()
    await store.ensure_root()
    await store.put("/c/doc", body("<> a <x:y> ."), NONE)
    await store.put("/c/doc.acl", body(""), NONE)
    with pytest.raises(Conflict):
        await store.delete("/c/", NONE)
    with pytest.raises(MethodNotAllowed):
        await store.delete("/", NONE)
    with pytest.raises(MethodNotAllowed):
        await store.put("/.well-known/x", body("<> a <x:y> ."), NONE)
    await store.delete("/c/doc", NONE)
    assert await store.meta("/c/doc.acl") is None  # auxiliary resources go with it
    with pytest.raises(NotFound):
        await store.delete("/c/doc", NONE)
    await store.put("/c/d/e", body(""), NONE)
    assert await store.delete_tree("/c/") == 3
    assert await store.meta("/c/") is None and await store.delete_tree("/c/") == 0


async def test_containment_triples_are_managed_by_the_server() -> None:
    store = make()
    with pytest.raises(Conflict):
        await store.put("/c/", body(f"<> <http://www.w3.org/ns/ldp#contains> <{BASE}x> ."), NONE)
    assert await store.meta("/c/") is None


async def test_listeners_see_each_committed_change() -> None:
    store = make()
    await store.ensure_root()
    seen: list[Change] = []
    store.listeners.append(seen.extend)
    await store.put("/doc", body(""), NONE)
    await store.delete("/doc", NONE)
    assert [(c.kind, c.path, c.object) for c in seen] == [
        ("Create", "/doc", None),
        ("Add", "/", "/doc"),
        ("Delete", "/doc", None),
        ("Remove", "/", "/doc"),
    ]


# -- retries -----------------------------------------------------------------------------


async def test_retrying_gives_up_with_a_conflict() -> None:
    calls = 0

    async def always_stale() -> None:
        nonlocal calls
        calls += 1
        raise StaleState("changed")

    with pytest.raises(Conflict, match="gave up"):
        await retrying(always_stale, "gave up")
    assert calls == MAX_ATTEMPTS

    async def stale_twice() -> int:
        nonlocal calls
        calls += 1
        if calls <= MAX_ATTEMPTS + 2:
            raise StaleState("changed")
        return calls

    assert await retrying(stale_twice, "no") == MAX_ATTEMPTS + 3


async def test_retrying_pauses_longer_after_each_lost_race(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pauses: list[float] = []

    async def record(seconds: float) -> None:
        pauses.append(seconds)

    monkeypatch.setattr(writing.random, "uniform", lambda low, high: high)  # the longest
    monkeypatch.setattr(writing.asyncio, "sleep", record)

    async def always_stale() -> None:
        raise StaleState("changed")

    with pytest.raises(Conflict):
        await retrying(always_stale, "gave up")
    # No pause after the first loss (one race is common), none after the last attempt.
    assert pauses == [writing.RETRY_PAUSE * n for n in range(1, MAX_ATTEMPTS - 1)]


async def test_a_write_replans_after_a_concurrent_change() -> None:
    backend = Interfering()
    store = make(backend)
    await store.put("/doc", body(f'<> <{EX}p> "one" .'), NONE)
    other = make(backend)  # another process sharing the storage

    async def concurrent_insert() -> None:
        await insert(other, "/doc", "theirs")

    backend.before_apply.append(concurrent_insert)
    update = f'DELETE DATA {{ <> <{EX}p> "one" . }}'  # the general path: a whole rewrite
    patch = await store.read_patch("/doc", body(update, "application/sparql-update"))
    await store.patch("/doc", patch, NONE)
    # The first plan was stale; the second saw the other process's triple and kept it.
    assert await objects(store, "/doc", "p") == {"theirs"}


async def test_an_append_replans_after_a_concurrent_change() -> None:
    backend = Interfering()
    store, other = make(backend), make(backend)
    await store.put("/doc", body(""), NONE)

    async def concurrent_insert() -> None:
        await insert(other, "/doc", "theirs")

    backend.before_apply.append(concurrent_insert)
    await insert(store, "/doc", "ours")
    assert await objects(store, "/doc", "p") == {"theirs", "ours"}


async def test_a_write_that_keeps_losing_is_a_conflict_and_discards_its_body() -> None:
    backend = Interfering()
    store, other = make(backend), make(backend)
    await store.put("/doc", body(""), NONE)
    count = 0

    async def concurrent_put() -> None:
        nonlocal count
        count += 1
        await other.put("/doc", body(f'<> <{EX}p> "{count}" .'), NONE)

    # Every plan of ``store`` is overtaken.
    backend.before_apply.extend([concurrent_put] * MAX_ATTEMPTS)
    with pytest.raises(Conflict, match="kept changing"):
        await store.put("/doc", body(f'<> <{EX}p> "mine" .'), NONE)
    assert await objects(store, "/doc", "p") == {str(MAX_ATTEMPTS)}
    assert len(backend.discarded) == 1
    assert Literal("mine") not in {o for _, _, o in (await store.graph_of("/doc"))[1]}


async def test_converting_stored_data_past_the_time_limit_is_a_503_not_a_422() -> None:
    """The time limit guards the server; when it is stored data that is heavy (not the
    request's body), the client did nothing wrong: 503, naming the format to ask for."""
    backend = MemoryBackend()
    limits = Limits(1 << 26, 1 << 26, work=WorkLimits(seconds=0.05, jobs=1))
    heavy = ResourceStore(backend, BASE, limits, rules=AccessRules())
    await heavy.ensure_root()
    turtle = "".join(f'<#s{i}> <#p> <#o{i}>, {i}, "v{i}".\n' for i in range(40_000)).encode()
    await backend.apply([], [Put("/big.ttl", TURTLE, Staged.of(turtle))])
    try:
        with pytest.raises(ServiceUnavailable, match="ask for it as text/turtle"):
            await heavy.get("/big.ttl", "application/ld+json", NONE)
        stored = await heavy.get("/big.ttl", TURTLE, NONE)  # its own format needs no work
        assert stored.meta.size == len(turtle)
    finally:
        heavy.runner.close()
