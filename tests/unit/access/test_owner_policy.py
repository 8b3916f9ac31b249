"""The policy learns a storage's owners from its root, cheaply and in step with changes."""

from __future__ import annotations

from typing import Any

import pytest

from pod_server.access import Mode
from pod_server.access.policy import AccessPolicy
from pod_server.access.rules import AccessRules
from pod_server.auth.agent import Agent
from pod_server.errors import Forbidden
from pod_server.ldp.store import TURTLE, Limits, ResourceStore
from pod_server.pods.provision import provision
from pod_server.storage.base import Expect, Put, Staged
from pod_server.storage.memory import MemoryBackend

BASE = "https://pod.example/"
ALICE = "https://alice.example/profile#me"
BOB = "https://bob.example/profile#me"
OWNER = "http://www.w3.org/ns/solid/terms#owner"


class CountingStore(ResourceStore):
    """Counts how often a policy has to read a graph (ACLs, or a root for its owners)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reads: list[str] = []

    async def graph_of(self, path: str) -> Any:
        self.reads.append(path)
        return await super().graph_of(path)


@pytest.fixture
async def store() -> CountingStore:
    store = CountingStore(
        MemoryBackend(), BASE, Limits(1 << 20, 1 << 20), rules=AccessRules(), multiuser=True
    )
    await store.ensure_root()
    await provision(store, "alice", "https://issuer.example/", ALICE)
    only_bob = (
        "@prefix acl: <http://www.w3.org/ns/auth/acl#>.\n"
        f"<#bob> a acl:Authorization; acl:agent <{BOB}>; acl:accessTo <{BASE}alice/c/>;"
        f" acl:default <{BASE}alice/c/>; acl:mode acl:Read, acl:Control.\n"
    )
    await store.create_internal("/alice/c/doc.ttl", b"<#a> <#b> 1.")
    await store.create_internal("/alice/c/.acl", only_bob.encode())
    store.reads = []
    return store


async def set_owner(store: ResourceStore, webid: str) -> None:
    """What a host's tool does: rewrite the pod root's own triples directly."""
    meta = await store.meta("/alice/")
    assert meta is not None
    data = f"<> <{OWNER}> <{webid}>.".encode()
    await store.backend.apply(
        [Expect("/alice/", meta.etag)], [Put("/alice/", TURTLE, Staged.of(data))]
    )


async def test_owner_controls_what_the_acl_withholds(store: CountingStore) -> None:
    policy = AccessPolicy(store)
    alice, bob = Agent(webid=ALICE), Agent(webid=BOB)
    access = await policy.authorize(alice, None, "GET", "/alice/c/.acl")
    assert access.user == Mode.CONTROL
    assert (await policy.authorize(alice, None, "DELETE", "/alice/c/.acl")).user == Mode.CONTROL
    with pytest.raises(Forbidden):
        await policy.authorize(alice, None, "GET", "/alice/c/doc.ttl")
    assert (await policy.authorize(bob, None, "GET", "/alice/c/doc.ttl")).user == (
        Mode.READ | Mode.CONTROL
    )
    assert await policy.modes(alice, None, "/alice/c/doc.ttl") == Mode.CONTROL
    assert await policy.modes(None, None, "/alice/c/doc.ttl") == Mode(0)
    # The owners were read once; every later request found them by the root's etag.
    assert store.reads.count("/alice/") == 1


async def test_a_change_of_owner_reaches_every_process(store: CountingStore) -> None:
    first, second = AccessPolicy(store), AccessPolicy(store)  # two processes' caches
    alice = Agent(webid=ALICE)
    await first.authorize(alice, None, "GET", "/alice/c/.acl")
    await second.authorize(alice, None, "GET", "/alice/c/.acl")
    await set_owner(store, BOB)
    for policy in (first, second):
        with pytest.raises(Forbidden):
            await policy.authorize(alice, None, "GET", "/alice/c/.acl")
    # bob now owns the pod: he controls an ACL that does not name him.
    await store.create_internal("/alice/d/.acl", b"")
    for policy in (first, second):
        assert await policy.modes(Agent(webid=BOB), None, "/alice/d/x") == Mode.CONTROL


async def test_single_user_owner_comes_from_the_settings() -> None:
    store = ResourceStore(MemoryBackend(), BASE, Limits(1 << 20, 1 << 20), rules=AccessRules())
    await store.ensure_root()  # no root ACL at all: nobody is granted anything
    policy = AccessPolicy(store, owner=ALICE)
    assert (await policy.authorize(Agent(webid=ALICE), None, "PUT", "/.acl")).user == Mode.CONTROL
    with pytest.raises(Forbidden):
        await policy.authorize(Agent(webid=BOB), None, "PUT", "/.acl")
    with pytest.raises(Forbidden):
        await policy.authorize(Agent(webid=ALICE), None, "GET", "/")
    # On a multi-user server the setting names no pod's owner.
    multi = ResourceStore(
        MemoryBackend(), BASE, Limits(1 << 20, 1 << 20), rules=AccessRules(), multiuser=True
    )
    await multi.ensure_root()
    await multi.create_internal("/bob/", b"")
    with pytest.raises(Forbidden):
        await AccessPolicy(multi, owner=ALICE).authorize(
            Agent(webid=ALICE), None, "GET", "/bob/.acl"
        )
