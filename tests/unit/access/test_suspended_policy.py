"""The policy refuses everyone on a suspended storage, reads the flag with the owners
(no extra graph read per request), and lets go once it is lifted."""

from __future__ import annotations

import pytest

from pod_server.access import Mode
from pod_server.access.policy import AccessPolicy
from pod_server.auth.agent import Agent
from pod_server.errors import Suspended
from pod_server.pods.operator import set_suspended
from tests.unit.access.test_owner_policy import ALICE, BOB, CountingStore, store  # noqa: F401


async def test_everyone_is_refused_while_suspended(store: CountingStore) -> None:  # noqa: F811
    policy = AccessPolicy(store)
    alice = Agent(webid=ALICE)
    assert (await policy.authorize(alice, None, "GET", "/alice/")).is_owner
    assert await set_suspended(store, "alice", True)
    for agent in (alice, Agent(webid=BOB), Agent()):
        for method, path in (("GET", "/alice/"), ("PUT", "/alice/c/new.ttl")):
            with pytest.raises(Suspended):
                await policy.authorize(agent, None, method, path)
    assert await policy.modes(alice, None, "/alice/c/doc.ttl") == Mode(0)
    assert not await policy.owns(alice, "/alice/c/doc.ttl")
    assert await policy.suspended("/alice/")
    assert not await set_suspended(store, "alice", True)  # already
    assert await set_suspended(store, "alice", False)
    assert not await policy.suspended("/alice/")
    assert (await policy.authorize(Agent(webid=BOB), None, "GET", "/alice/c/doc.ttl")).user


async def test_the_flag_costs_no_read_once_the_root_is_known(store: CountingStore) -> None:  # noqa: F811
    policy = AccessPolicy(store)
    agent = Agent(webid=BOB)
    await policy.authorize(agent, None, "GET", "/alice/c/doc.ttl")
    store.reads = []
    for _ in range(3):
        await policy.authorize(agent, None, "GET", "/alice/c/doc.ttl")
    assert "/alice/" not in store.reads  # cached by the root's etag
    await set_suspended(store, "alice", True)
    with pytest.raises(Suspended):
        await policy.authorize(agent, None, "GET", "/alice/c/doc.ttl")


async def test_a_pod_over_its_quota_can_still_be_suspended(store: CountingStore) -> None:  # noqa: F811
    await store.backend.set_limit("/alice/", 10)  # far below what it holds
    assert await set_suspended(store, "alice", True)
    assert await AccessPolicy(store).suspended("/alice/")
    assert await set_suspended(store, "alice", False)
