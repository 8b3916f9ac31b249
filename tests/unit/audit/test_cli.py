"""`pod-server audit ...`: which storage NAME means, and verify's exit codes on files."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from pod_server.audit.cli import UsageError, root_of
from pod_server.audit.entry import Action, AuditEntry
from pod_server.cli import main
from pod_server.settings import Settings
from pod_server.storage.file import FileBackend


def test_names() -> None:
    assert root_of("/", Settings()) == "/"
    assert root_of("alice", Settings(multiuser=True)) == "/alice/"
    for name, settings in [
        ("alice", Settings()),
        ("/", Settings(multiuser=True)),
        ("a/b", Settings(multiuser=True)),
        ("..", Settings(multiuser=True)),
    ]:
        with pytest.raises(UsageError):
            root_of(name, settings)


def test_verify_a_pod_of_a_multiuser_storage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async def fill() -> None:
        backend = FileBackend(tmp_path)
        await backend.start()
        entries = [AuditEntry("/alice/", Action.READ, f"http://x/{n}", 200) for n in range(4)]
        await backend.apply([], [e.mutation() for e in entries])
        await backend.close()

    asyncio.run(fill())
    argv = ["audit", "verify", "alice", "--multiuser", "--root", str(tmp_path)]
    assert main(argv) == 0
    assert "intact: entries 1 to 4" in capsys.readouterr().out
    with closing(sqlite3.connect(tmp_path / "index.sqlite3")) as conn:
        conn.execute("UPDATE audit_log SET outcome = 403 WHERE seq = 2")
        conn.commit()
    assert main(argv) == 1
    assert "entry 2: altered" in capsys.readouterr().out
    assert main(["audit", "verify", "alice", "--root", str(tmp_path)]) == 2
    assert main(["audit", "trim", "/", "--before", "soon", "--root", str(tmp_path)]) == 2
