"""`--storage postgresql://...`: the command line runs the server on PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import aiohttp

from pod_server.app import open_backend
from pod_server.settings import Settings
from pod_server.storage.file import FileBackend
from pod_server.storage.postgres import PostgresBackend
from tests.conftest import free_socket
from tests.integration.test_server_lifecycle import _wait_until_up
from tests.unit.storage.pg_support import session_dsn


def test_settings_choose_the_backend(tmp_path: Path) -> None:
    assert isinstance(open_backend(Settings(root=tmp_path)), FileBackend)
    assert isinstance(
        open_backend(Settings(storage="postgresql://x@127.0.0.1/db")), PostgresBackend
    )


async def cli(*args: str, env: dict[str, str]) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pod_server",
        *args,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


async def test_db_upgrade_then_serve_on_postgresql(tmp_path: Path) -> None:
    dsn = session_dsn()
    env = {"POD_STORAGE": dsn, "POD_ROOT": str(tmp_path)}
    for _ in range(2):  # idempotent
        status, out = await cli("db", "upgrade", env=env)
        assert status == 0, out
        assert "schema at version" in out
    status, out = await cli("db", "upgrade", env={"POD_ROOT": str(tmp_path)})
    assert status == 2 and "postgresql://" in out
    sock = free_socket()  # one port: the storage keeps the base URL it was first served at
    port = sock.getsockname()[1]
    sock.close()
    for round_ in range(2):  # the data outlives the process: it is in PostgreSQL
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "pod_server",
            "serve",
            "--open",
            "--port",
            str(port),
            env={**os.environ, **env, "POD_ROOT": str(tmp_path / f"r{round_}")},
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}/"
        try:
            await _wait_until_up(base, proc)
            async with aiohttp.ClientSession() as session:
                if round_ == 0:
                    headers = {"Content-Type": "text/plain"}
                    async with session.put(
                        base + "kept.txt", data="in postgres", headers=headers
                    ) as r:
                        assert r.status in (201, 204)
                async with session.get(base + "kept.txt") as r:
                    assert await r.text() == "in postgres"
        finally:
            proc.terminate()
            await proc.wait()
