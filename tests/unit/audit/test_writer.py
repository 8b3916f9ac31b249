"""Batched durable appends, and who the request hook logs."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from pod_server.audit.entry import Action, AuditEntry
from pod_server.audit.hook import AuditHook
from pod_server.audit.signing import load_or_create
from pod_server.audit.writer import AuditWriter, Checkpoints
from pod_server.auth import Agent
from pod_server.errors import ServiceUnavailable
from pod_server.storage.base import Expect, Log, Meta, Mutation, Quota
from pod_server.storage.memory import MemoryBackend

ROOT = "/alice/"


def entry(n: int) -> AuditEntry:
    return AuditEntry(ROOT, Action.READ, f"http://pod/alice/{n}", 200, at=float(n))


class CountingBackend(MemoryBackend):
    def __init__(self, fail: bool = False) -> None:
        super().__init__()
        self.batches: list[int] = []
        self.fail = fail

    async def apply(
        self,
        expects: Sequence[Expect],
        steps: Sequence[Mutation | Log],
        quota: Quota | None = None,
    ) -> Mapping[str, Meta]:
        await asyncio.sleep(0.01)  # a commit takes a while: others gather meanwhile
        if self.fail:
            raise OSError("disk full")
        self.batches.append(len(steps))
        return await super().apply(expects, steps, quota)


async def test_concurrent_entries_share_transactions() -> None:
    backend = CountingBackend()
    writer = AuditWriter(backend)
    await asyncio.gather(*(writer.append(entry(n)) for n in range(50)))
    assert sum(backend.batches) == 50
    assert len(backend.batches) <= 3  # the first alone, then the rest together
    assert [r.seq for r in await backend.log_rows(ROOT)] == list(range(1, 51))


async def test_a_caller_gone_keeps_its_entry_and_the_others_answers() -> None:
    backend = CountingBackend()
    writer = AuditWriter(backend)
    gone = asyncio.create_task(writer.append(entry(1)))
    stays = [asyncio.create_task(writer.append(entry(n))) for n in (2, 3)]
    await asyncio.sleep(0)
    gone.cancel()
    await asyncio.gather(*stays)
    await writer.close()
    assert gone.cancelled()
    assert sorted(r.at for r in await backend.log_rows(ROOT)) == [1.0, 2.0, 3.0]


async def test_a_failed_batch_fails_every_caller_with_503() -> None:
    writer = AuditWriter(CountingBackend(fail=True))
    results = await asyncio.gather(
        *(writer.append(entry(n)) for n in range(3)), return_exceptions=True
    )
    assert all(isinstance(r, ServiceUnavailable) for r in results)


async def test_checkpoints_every_n_entries(tmp_path: Path) -> None:
    backend = MemoryBackend()
    checkpoints = Checkpoints(backend, load_or_create(tmp_path), every=4)
    writer = AuditWriter(backend, checkpoints)
    for n in range(9):
        await writer.append(entry(n))
    await asyncio.sleep(0.01)
    signed = await backend.checkpoints(ROOT)
    assert [cp.seq for cp in signed] == [4, 8]
    assert all(checkpoints.key.check(cp) for cp in signed)
    assert checkpoints.due() == [ROOT]


class Urls:
    def url(self, path: str) -> str:
        return "http://pod" + path

    def storage_root_of(self, path: str) -> str | None:
        return "/" + path.split("/")[1] + "/" if path.count("/") > 1 else None


class Owners:
    def __init__(self) -> None:
        self.asked = 0

    async def owns(self, agent: Agent, path: str) -> bool:
        self.asked += 1
        return agent.webid == "https://alice/#me"


@pytest.mark.parametrize("full_access, logged", [(True, 0), (False, 1)])
async def test_owner_requests_are_logged_only_through_limited_apps(
    full_access: bool, logged: int
) -> None:
    backend = MemoryBackend()

    async def is_full_access(agent: Agent, root: str) -> bool:
        return full_access

    owners = Owners()
    hook = AuditHook(Urls(), owners, AuditWriter(backend), is_full_access)
    audit = hook.begin("GET", "/alice/doc", Agent("https://alice/#me", client_id="https://app/"))
    assert audit is not None
    await audit.decide(is_owner=True)
    await audit.before_send(200)
    rows = await backend.log_rows(ROOT)
    assert len(rows) == logged and owners.asked == 0


async def test_others_reads_writes_and_failures() -> None:
    backend = MemoryBackend()
    owners = Owners()
    hook = AuditHook(Urls(), owners, AuditWriter(backend))
    bob = Agent("https://bob/#me", client_id="https://app/")
    assert hook.begin("GET", "/", bob) is None  # outside any storage
    assert hook.begin("OPTIONS", "/alice/doc", bob) is None
    read = hook.begin("GET", "/alice/doc", bob)
    assert read is not None
    await read.decide(is_owner=False)
    await read.before_send(200)
    await read.before_send(200)  # once per request
    write = hook.begin("PUT", "/alice/new", bob)
    assert write is not None
    await write.decide(is_owner=False)
    make = write.log_for()
    assert make is not None
    await backend.apply([], [make("/alice/new", True)])
    await write.wrote(201)  # went with the write: not again
    refused = hook.begin("DELETE", "/alice/doc", bob)
    assert refused is not None
    await refused.failed(403)  # never authorized: the owners are asked
    assert owners.asked == 1
    bodies = [AuditEntry.parse(r.body) for r in await backend.log_rows(ROOT)]
    assert [(e.action, e.outcome, e.client) for e in bodies] == [
        (Action.READ, 200, "https://app/"),
        (Action.CREATE, 201, "https://app/"),
        (Action.DELETE, 403, "https://app/"),
    ]
