"""``pod-server query reindex`` and ``verify`` (issue 22), on files and PostgreSQL: a
document changed behind the server's back under the same etag keeps answering from the
engines' copies until ``reindex`` gives it a new etag; ``verify`` loads a pod into a fresh
engine and exits 1 naming a document the engine cannot hold as storage has it. With two
server processes on one storage, one reindex reaches both."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

import pytest

from pod_server.cli import main
from pod_server.settings import Settings
from tests.conftest import deployed, running_pod
from tests.integration.test_audit import tamper
from tests.integration.test_query import EX, World, doc, fill, rows, world

AMOUNT = f"SELECT ?v WHERE {{ ?s <{EX}amount> ?v }}"


def cli(w: World | None, root: Path, *args: str, settings: Settings | None = None) -> int:
    chosen = w.settings if w else settings
    argv = ["query", *args, "--root", str(root)] + (["--multiuser"] if w else [])
    if chosen and chosen.storage:
        argv += ["--storage", chosen.storage]
    return main(argv)


async def amounts(w: World) -> set[str]:
    return {row["v"] for row in await rows(w.bob, w.endpoint, AMOUNT)}


async def test_reindex_reloads_and_verify_compares(
    tmp_path: Path, storage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "pods"
    async with world(root, storage) as w:
        await fill(w)
        assert await amounts(w) == {"1", "10", "20"}  # shared/ and public/: now in the engine
        behind = SimpleNamespace(settings=w.settings, pod=SimpleNamespace(root=root))
        # The bytes change, the etag does not (a restore behind the server's back).
        same_size = doc("p1", 11, "Energy").encode()
        update = "UPDATE resources SET body = ? WHERE path = ?"
        await tamper(behind, [(update, (same_size, "/alice/shared/jan"))])  # type: ignore[arg-type]
        assert await amounts(w) == {
            "1",
            "10",
            "20",
        }  # the copy under that etag: what reindex is for
        assert await asyncio.to_thread(cli, w, root, "verify", "alice") == 0
        assert "exactly what storage holds" in capsys.readouterr().out
        assert await asyncio.to_thread(cli, w, root, "reindex", "alice") == 0
        assert "will be reloaded" in capsys.readouterr().out
        assert await amounts(w) == {"1", "11", "20"}
        # Storage holding a document no engine can read as its type: verify says which.
        broken = b"<#p1> <broken"
        await tamper(behind, [(update, (broken, "/alice/shared/feb"))])  # type: ignore[arg-type]
        assert await asyncio.to_thread(cli, w, root, "verify", "alice") == 1
        out = capsys.readouterr().out
        assert "/alice/shared/feb" in out and "/alice/shared/jan" not in out
        # Bad names: a usage error, nothing done.
        assert await asyncio.to_thread(cli, w, root, "verify", "../x") == 2
        assert await asyncio.to_thread(cli, w, root, "reindex") == 0  # every storage


async def test_reindex_reaches_every_server_of_a_deployment(tmp_path: Path, storage: str) -> None:
    """Two server processes' engines (one storage): both hold a copy; one reindex, both
    reload (the new etags are what each compares before a query)."""
    settings_a, backend_a = deployed(storage, tmp_path, Settings(open=True))
    settings_b, backend_b = deployed(storage, tmp_path, Settings(open=True))
    async with (
        running_pod(tmp_path, backend_a, settings_a) as a,
        running_pod(tmp_path, backend_b, settings_b) as b,
    ):
        assert await a.put("/d.ttl", f"<#x> <{EX}amount> 1 .") == 201

        async def seen() -> list[set[str]]:
            return [
                {r["v"] for r in await rows(s.session, s.url(".well-known/sparql"), AMOUNT)}
                for s in (a, b)
            ]

        assert await seen() == [{"1"}, {"1"}]
        behind = SimpleNamespace(settings=settings_a, pod=SimpleNamespace(root=tmp_path))
        update = "UPDATE resources SET body = ? WHERE path = ?"
        await tamper(behind, [(update, (f"<#x> <{EX}amount> 2 .".encode(), "/d.ttl"))])  # type: ignore[arg-type]
        assert await seen() == [{"1"}, {"1"}]
        assert (
            await asyncio.to_thread(cli, None, tmp_path, "reindex", "/", settings=settings_a) == 0
        )
        assert await seen() == [{"2"}, {"2"}]
