"""A consent through a real server: the grant's WAC rules decide what the recipient's
DPoP-authenticated requests may do (the HTTP routes for decisions are tested elsewhere)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from pod_server.access.modes import Mode
from pod_server.auth import Agent
from pod_server.consent.model import AccessRequest, Target
from pod_server.consent.service import ConsentService
from pod_server.http.keys import CONSENT
from tests.integration.test_access import World, world

__all__ = ["world"]  # the fixture, shared with the access tests

TRANSACTION = "<#t> <http://example.org/amount> 12 ."


def service(world: World) -> ConsentService:
    assert world.pod.app is not None
    return world.pod.app[CONSENT]


async def ask(world: World, modes: Mode, seconds: float) -> str:
    until = datetime.now(UTC) + timedelta(seconds=seconds)
    bob = world.bob.webid
    request = AccessRequest(bob, (Target(world.pod.url("/bank/"), modes),), (), (), until)
    record = await service(world).request("/", Agent(webid=bob), request)
    return record.id


async def test_a_granted_container_takes_appends_but_is_not_readable(world: World) -> None:
    assert await world.status(world.alice, "PUT", "/bank/", "") == 201
    assert await world.status(world.bob, "POST", "/bank/", TRANSACTION) == 403
    id = await ask(world, Mode.APPEND | Mode.READ, 90 * 86400)
    # The record is readable by the owner and the recipient, by nobody else.
    assert await world.status(world.alice, "GET", f"/.well-known/consent/{id}") == 200
    assert await world.status(world.bob, "GET", f"/.well-known/consent/{id}") == 200
    assert await world.status(None, "GET", f"/.well-known/consent/{id}") == 401
    alice = world.alice.webid
    # Alice grants Append only, of the Read and Append asked.
    await service(world).approve(
        "/", id, alice, granted=[Target(world.pod.url("/bank/"), Mode.APPEND)]
    )
    assert await world.status(world.bob, "POST", "/bank/", TRANSACTION) == 201
    assert await world.status(world.bob, "GET", "/bank/") == 403
    assert await world.status(world.bob, "PUT", "/bank/x", TRANSACTION) == 403
    assert await world.status(world.bob, "POST", "/", TRANSACTION) == 403
    status, headers, _ = await world.call(world.alice, "GET", "/bank/")
    assert status == 200 and headers["WAC-Allow"].startswith('user="read write append control"')
    await service(world).withdraw("/", id, alice)
    assert await world.status(world.bob, "POST", "/bank/", TRANSACTION) == 403


async def test_an_ended_grant_is_refused_at_once(world: World) -> None:
    assert await world.status(world.alice, "PUT", "/bank/", "") == 201
    id = await ask(world, Mode.APPEND, 1.5)
    await service(world).approve("/", id, world.alice.webid)
    assert await world.status(world.bob, "POST", "/bank/", TRANSACTION) == 201
    await asyncio.sleep(1.6)
    assert await world.status(world.bob, "POST", "/bank/", TRANSACTION) == 403
