"""The policy holds a limited app to its grant on top of WAC: authorize (the target and the
parent container), modes (notifications), WAC-Allow, and the public's modes kept."""

from __future__ import annotations

import pytest

from pod_server.access import Mode
from pod_server.access.policy import AccessPolicy, AppLimit
from pod_server.access.rules import AccessRules
from pod_server.auth.agent import Agent
from pod_server.consent.apps import AppGrant
from pod_server.errors import Forbidden
from pod_server.ldp.store import Limits, ResourceStore
from pod_server.pods.provision import provision
from pod_server.storage.memory import MemoryBackend

BASE = "https://pod.example/"
ALICE = "https://alice.example/profile#me"
APP = "https://app.example/id"
GRANT = AppGrant(ALICE, APP, ((BASE + "alice/notes/", Mode.READ | Mode.APPEND),), False)


@pytest.fixture
async def policy() -> AccessPolicy:
    store = ResourceStore(MemoryBackend(), BASE, Limits(1 << 20, 1 << 20), rules=AccessRules(), multiuser=True)  # fmt: skip
    await store.ensure_root()
    await provision(store, "alice", "https://issuer.example/", ALICE)
    await store.create_internal("/alice/notes/n.ttl", b"<#a> <#b> 1.")
    await store.create_internal("/alice/private/p.ttl", b"<#a> <#b> 2.")

    async def limits(agent: Agent) -> AppLimit | None:
        return GRANT if agent.client_id == APP else None

    return AccessPolicy(store, app_limits=limits)


async def test_the_limited_app_gets_wac_intersected_with_its_grant(policy: AccessPolicy) -> None:
    app, own = Agent(webid=ALICE, client_id=APP), Agent(webid=ALICE, client_id="other")
    access = await policy.authorize(app, None, "GET", "/alice/notes/n.ttl")
    assert access.user == Mode.READ | Mode.APPEND and access.public == Mode(0)
    assert (await policy.authorize(own, None, "GET", "/alice/notes/n.ttl")).user.covers(
        Mode.READ | Mode.WRITE | Mode.CONTROL
    )
    with pytest.raises(Forbidden):
        await policy.authorize(app, None, "GET", "/alice/private/p.ttl")
    with pytest.raises(Forbidden):  # Append does not let it replace a document
        await policy.authorize(app, None, "PUT", "/alice/notes/n.ttl", target_exists=True)
    await policy.authorize(app, None, "POST", "/alice/notes/")  # but it may add one
    with pytest.raises(Forbidden):  # deleting needs Write on the parent too
        await policy.authorize(app, None, "DELETE", "/alice/notes/n.ttl")
    with pytest.raises(Forbidden):  # never Control
        await policy.authorize(app, None, "GET", "/alice/notes/n.ttl.acl")


async def test_public_modes_stay_and_notifications_see_the_limit(policy: AccessPolicy) -> None:
    app = Agent(webid=ALICE, client_id=APP)
    inbox = await policy.authorize(app, None, "POST", "/alice/inbox/")
    assert inbox.user == Mode.APPEND == inbox.public  # outside the grant, but anyone may
    assert await policy.modes(app, None, "/alice/private/p.ttl") == Mode(0)
    assert await policy.modes(app, None, "/alice/notes/n.ttl") == Mode.READ | Mode.APPEND
    assert Mode.CONTROL in await policy.modes(Agent(webid=ALICE), None, "/alice/private/p.ttl")
