"""`serve --workers 2`: two processes on one port; killing one loses no acknowledged write."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from conformance.runner import Outcome, run_suite
from pod_server import workers
from pod_server.settings import Settings
from pod_server.workers import Supervisor
from tests.conftest import free_socket
from tests.integration.test_server_lifecycle import _wait_until_up
from tests.unit.storage.pg_support import schema_for, session_dsn


@dataclass
class Served:
    base: str
    proc: asyncio.subprocess.Process

    def workers(self) -> list[int]:
        """The supervisor's worker processes (spawned: they run multiprocessing.spawn)."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == self.proc.pid and b"spawn_main" in cmdline:
                found.append(int(entry.name))
        return sorted(found)


def _storage_env(kind: str, root: Path) -> dict[str, str]:
    if kind == "file":
        return {}
    return {"POD_STORAGE": f"{session_dsn()}?schema={schema_for(str(root))}"}


def free_port() -> int:
    sock = free_socket()
    port = int(sock.getsockname()[1])
    sock.close()
    return port


def pod_env(root: Path, port: int, settings: dict[str, str]) -> dict[str, str]:
    return {**os.environ, "POD_ROOT": str(root), "POD_PORT": str(port), **settings}


async def start_server(
    root: Path, settings: dict[str, str], stderr: int | None, port: int | None = None
) -> Any:
    """``pod-server serve`` on a (free) loopback port, configured by POD_* variables."""
    port = port or free_port()
    env = pod_env(root, port, settings)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pod_server",
        "serve",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=stderr,
    )
    return proc, port


@asynccontextmanager
async def serving(
    root: Path,
    kind: str,
    workers: int = 2,
    settings: dict[str, str] | None = None,
    port: int | None = None,
) -> AsyncIterator[Served]:
    settings = settings if settings is not None else {"POD_OPEN": "1"}
    settings = {**settings, "POD_WORKERS": str(workers), **_storage_env(kind, root)}
    # The server's log goes to a file beside its data, for the reader of a failure.
    log = (root / "server.log").open("wb")
    proc, port = await start_server(root, settings, log.fileno(), port)
    served = Served(f"http://127.0.0.1:{port}/", proc)
    try:
        # The discovery document answers 200 in every layout (a private root says 401).
        await _wait_until_up(served.base + ".well-known/openid-configuration", proc)
        await _until(lambda: len(served.workers()) == workers, "workers did not start")
        yield served
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(proc.wait(), 40)
        log.close()


async def _until(condition: object, message: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, message
        await asyncio.sleep(0.1)


@pytest.mark.parametrize("kind", ["file", "postgres"])
async def test_killing_a_worker_mid_load_loses_no_acknowledged_write(
    tmp_path: Path, kind: str
) -> None:
    async with serving(tmp_path, kind) as served:
        first = served.workers()
        acknowledged: dict[str, str] = {}
        failures = 0
        stop = asyncio.Event()
        # A new connection per request, so the kernel spreads them over both workers.
        connector = aiohttp.TCPConnector(force_close=True)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def writer(n: int) -> None:
                nonlocal failures
                i = 0
                while not stop.is_set():
                    path, body = f"w{n}-{i}.txt", f"body {n} {i}"
                    i += 1
                    try:
                        async with session.put(
                            served.base + path, data=body, headers={"Content-Type": "text/plain"}
                        ) as r:
                            if r.status == 201:
                                acknowledged[path] = body
                    except (TimeoutError, aiohttp.ClientError):
                        failures += 1  # in flight on the killed worker: not acknowledged

            tasks = [asyncio.create_task(writer(n)) for n in range(8)]
            await _until(lambda: len(acknowledged) >= 100, "no writes before the kill")
            try:
                os.kill(first[0], signal.SIGKILL)
            except ProcessLookupError:
                log = (tmp_path / "server.log").read_text()
                pytest.fail(f"worker {first[0]} of {first} ended before the kill:\n{log}")
            before = len(acknowledged)
            # The survivor keeps serving while the supervisor starts a replacement.
            await _until(lambda: len(acknowledged) >= before + 200, "nothing served after kill")
            await _until(
                lambda: len(served.workers()) == 2 and first[0] not in served.workers(),
                "the killed worker was not replaced",
            )
            stop.set()
            await asyncio.gather(*tasks)
            missing = []
            for path, body in acknowledged.items():
                async with session.get(served.base + path) as r:
                    if r.status != 200 or await r.text() != body:
                        missing.append((path, r.status))
        assert not missing, f"{len(missing)} acknowledged writes lost: {missing[:5]}"
        assert len(acknowledged) > 300
    # The one worker that died is the one killed (not one that failed to start beside it).
    exits = [
        line for line in (tmp_path / "server.log").read_text().splitlines() if "exited" in line
    ]
    assert len(exits) == 1 and f"(pid {first[0]}) exited with status -9" in exits[0], exits


async def test_a_bad_database_url_stops_the_server_before_any_worker(tmp_path: Path) -> None:
    """A bad database URL is found before workers are started: one line, status 1."""
    bad = {
        "POD_WORKERS": "2",
        "POD_STORAGE": "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1",
    }
    proc, _ = await start_server(tmp_path, bad, asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 1
    assert err.decode().strip().splitlines() == [
        "pod-server: cannot reach PostgreSQL at nobody@127.0.0.1:1/none: connection refused"
    ]


def _dies_at_start(_settings: Settings) -> None:
    sys.exit(3)


def test_a_worker_that_cannot_start_stops_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers that die right after they start: the supervisor gives up (status 1)
    instead of restarting them forever."""
    # "Right after": a spawned process's imports alone can take seconds on a busy machine.
    monkeypatch.setattr(workers, "EARLY_DEATH_SECONDS", 40.0)
    assert Supervisor(Settings(), _dies_at_start, 1, grace=1.0).run() == 1


async def test_workers_stop_on_sigterm(tmp_path: Path) -> None:
    async with serving(tmp_path, "file") as served:
        workers = served.workers()
        served.proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(served.proc.wait(), 40) == 0
        assert not any(Path(f"/proc/{pid}").exists() for pid in workers)


async def test_the_conformance_suite_passes_against_two_workers_on_postgresql(
    tmp_path: Path,
) -> None:
    """Black box: two processes behind one port, everything in PostgreSQL. Sign-in, tokens,
    DPoP replay, ACLs and notifications must work whichever worker a request reaches."""
    port = free_port()
    settings = {"POD_MULTIUSER": "1", "POD_BASE_URL": f"http://127.0.0.1:{port}/"}
    env = pod_env(tmp_path, port, {**settings, **_storage_env("postgres", tmp_path)})
    files = {}
    for name in ("alice", "bob"):
        user = [sys.executable, "-m", "pod_server", "user"]
        add = await asyncio.create_subprocess_exec(
            *user, "add", name, "--email", f"{name}@example.org", "--password-file", "-",
            env=env, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        await add.communicate(b"a long passphrase\n")
        assert add.returncode == 0
        made = await asyncio.create_subprocess_exec(
            *user, "credentials", name, env=env, stdout=asyncio.subprocess.PIPE
        )
        out, _ = await made.communicate()
        files[name] = tmp_path / f"{name}.json"
        files[name].write_bytes(out)
    async with serving(tmp_path, "postgres", settings=settings, port=port) as served:
        run = await run_suite(
            served.base,
            alice_credentials=str(files["alice"]),
            bob_credentials=str(files["bob"]),
            profile="ours",
        )
    problems = [f"{r.check.id} [{r.outcome.value}]: {r.message}" for r in run.problems]
    assert not problems, "\n".join(problems)
    assert run.count()[Outcome.PASSED] >= 400, run.summary_line()
