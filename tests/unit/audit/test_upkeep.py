"""The periodic upkeep: retention and checkpoints of the logs appended to."""

from __future__ import annotations

from pathlib import Path

from pod_server.audit.chain import verify
from pod_server.audit.entry import Action, AuditEntry
from pod_server.audit.signing import load_or_create
from pod_server.audit.upkeep import DAY, Upkeep
from pod_server.audit.writer import AuditWriter, Checkpoints
from pod_server.storage.memory import MemoryBackend

ROOT = "/"
NOW = 100 * DAY


async def test_old_entries_expire_and_the_rest_is_signed(tmp_path: Path) -> None:
    backend = MemoryBackend()
    key = load_or_create(tmp_path)
    checkpoints = Checkpoints(backend, key, every=0, clock=lambda: NOW)
    writer = AuditWriter(backend, checkpoints)
    for age in (40, 31, 29, 1):
        await writer.append(AuditEntry(ROOT, Action.READ, "http://x/", 200, at=NOW - age * DAY))
    upkeep = Upkeep(backend, checkpoints, retention_days=30, clock=lambda: NOW)
    assert await upkeep.run_once() == 2
    assert [r.seq for r in await backend.log_rows(ROOT)] == [3, 4]
    (cp,) = await backend.checkpoints(ROOT)
    assert cp.seq == 4 and key.check(cp)
    assert checkpoints.due() == []
    rows, state = await backend.log_rows(ROOT), await backend.log_state(ROOT)
    assert verify(rows, state, [cp], key.check).ok


async def test_zero_retention_keeps_everything(tmp_path: Path) -> None:
    backend = MemoryBackend()
    checkpoints = Checkpoints(backend, load_or_create(tmp_path), every=0)
    await AuditWriter(backend, checkpoints).append(
        AuditEntry(ROOT, Action.READ, "http://x/", 200, at=0.0)
    )
    assert await Upkeep(backend, checkpoints, retention_days=0).run_once() == 0
    assert len(await backend.log_rows(ROOT)) == 1
