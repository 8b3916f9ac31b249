"""Limits, persistence across restarts, and the command line's start and stop."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import aiohttp

from pod_server.http.handlers import STORE
from pod_server.settings import Settings
from pod_server.storage.file import FileBackend
from tests.conftest import BACKENDS, Pod, free_socket, running_pod


async def test_body_over_limit_is_413_and_stores_nothing(tmp_path: Path, backend_name: str) -> None:
    settings = Settings(max_body_size=1000, max_rdf_size=500, open=True)
    async with running_pod(tmp_path, BACKENDS[backend_name](tmp_path), settings) as pod:
        assert await pod.put("/big.bin", b"x" * 1001, "application/octet-stream") == 413
        assert await pod.put("/ok.bin", b"x" * 1000, "application/octet-stream") == 201
        assert await pod.put("/big.ttl", "<#a> <#b> 1." * 50, "text/turtle") == 413

        async def stream():  # type: ignore[no-untyped-def]  # no Content-Length: chunked
            for _ in range(20):
                yield b"y" * 100

        async with pod.request(
            "PUT",
            "/chunked.bin",
            data=stream(),
            headers={"Content-Type": "application/octet-stream"},
        ) as r:
            assert r.status == 413
        for path in ("/big.bin", "/big.ttl", "/chunked.bin"):
            async with pod.request("GET", path) as r:
                assert r.status == 404, path


async def test_data_and_metadata_survive_a_restart(tmp_path: Path) -> None:
    async with running_pod(tmp_path, FileBackend(tmp_path)) as pod:
        await pod.put("/keep/x.txt", "kept", "text/markdown")
        async with pod.request("HEAD", "/keep/x.txt") as r:
            etag, modified = r.headers["ETag"], r.headers["Last-Modified"]
    async with running_pod(tmp_path, FileBackend(tmp_path)) as pod:
        async with pod.request("GET", "/keep/x.txt") as r:
            assert await r.text() == "kept"
            assert r.headers["Content-Type"] == "text/markdown"
            assert r.headers["ETag"] == etag
            assert r.headers["Last-Modified"] == modified


async def _wait_until_up(url: str, proc: asyncio.subprocess.Process, within: float = 45) -> None:
    """Until ``url`` answers 200 (a loaded machine can take many seconds to start workers)."""
    deadline = asyncio.get_running_loop().time() + within
    async with aiohttp.ClientSession() as session:
        while asyncio.get_running_loop().time() < deadline:
            if proc.returncode is not None:
                raise AssertionError("server exited early")
            try:
                async with session.get(url) as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("server did not come up")


async def _start_cli(root: Path, port: int = 0) -> tuple[asyncio.subprocess.Process, str]:
    """``pod-server serve`` on ``root``; a restart gives the same ``port``: the storage
    keeps the base URL it was first served at and refuses another."""
    if not port:
        sock = free_socket()
        port = sock.getsockname()[1]
        sock.close()
    env = {**os.environ, "POD_ROOT": str(root), "POD_PORT": str(port), "POD_OPEN": "1"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pod_server",
        "serve",
        "--host",
        "127.0.0.1",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}/"
    await _wait_until_up(base, proc)
    return proc, base


async def test_crash_mid_upload_leaves_nothing_half_written(tmp_path: Path) -> None:
    root = tmp_path / "data"
    proc, base = await _start_cli(root)
    started = asyncio.Event()

    async def endless():  # type: ignore[no-untyped-def]
        for _ in range(10_000):
            yield b"z" * 65536
            started.set()
            await asyncio.sleep(0.001)

    async def upload() -> None:
        async with aiohttp.ClientSession() as session:
            headers = {"Content-Type": "application/octet-stream"}
            async with session.put(base + "dir/huge.bin", data=endless(), headers=headers):
                pass

    task = asyncio.create_task(upload())
    try:
        await asyncio.wait_for(started.wait(), 10)
        await asyncio.sleep(0.3)  # well into the body: some of it is on disk
        proc.kill()
        await proc.wait()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    proc, base = await _start_cli(root, int(base.rsplit(":", 1)[1].strip("/")))
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(base + "dir/huge.bin") as r:
                assert r.status == 404
            async with session.get(base, headers={"Accept": "text/turtle"}) as r:
                assert "dir/" not in await r.text()
    finally:
        proc.terminate()
        await proc.wait()
    leftovers = [p for p in (root / "blobs").rglob("*") if p.is_file()]
    assert leftovers == []  # the partial blob was collected on restart


async def test_cli_serves_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    proc, base = await _start_cli(tmp_path / "data")
    port = base.rsplit(":", 1)[1].rstrip("/")
    try:
        pod = Pod(base, aiohttp.ClientSession(), tmp_path)
        async with pod.session:
            assert await pod.put("/hello.txt", "hi", "text/plain") == 201
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 20) == 0
        out = (await proc.stdout.read()).decode()  # type: ignore[union-attr]
        assert f"http://127.0.0.1:{port}/" in out
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert (tmp_path / "data").is_dir()


async def test_cli_rejects_bad_settings(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pod_server",
        "serve",
        "--base-url",
        "ftp://x",
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate()
    assert proc.returncode == 2
    assert b"base URL" in err


async def test_quota_refuses_writes_past_the_limit(tmp_path: Path, backend_name: str) -> None:
    settings = Settings(open=True, quota=20_000)
    async with running_pod(tmp_path, BACKENDS[backend_name](tmp_path), settings) as pod:
        assert await pod.put("/a.bin", b"x" * 15_000, "application/octet-stream") == 201
        async with pod.request(
            "PUT",
            "/b.bin",
            data=b"y" * 10_000,
            headers={"Content-Type": "application/octet-stream"},
        ) as r:
            assert r.status == 413
            assert "quota" in (await r.text()).lower()
        async with pod.request("GET", "/b.bin") as r:
            assert r.status == 404
        # Replacing with something smaller, and deleting, always work.
        assert await pod.put("/a.bin", b"x" * 5_000, "application/octet-stream") == 204
        assert await pod.put("/b.bin", b"y" * 10_000, "application/octet-stream") == 201
        async with pod.request("DELETE", "/a.bin") as r:
            assert r.status == 204
        store = pod.app[STORE]  # type: ignore[index]
        assert (await store.usage("/")).used < 20_000
