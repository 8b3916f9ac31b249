"""Limits, persistence across restarts, and the command line's start and stop."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import aiohttp

from pod_server.settings import Settings
from pod_server.storage.file import FileBackend
from tests.conftest import BACKENDS, Pod, free_socket, running_pod


async def test_body_over_limit_is_413_and_stores_nothing(tmp_path: Path, backend_name: str) -> None:
    settings = Settings(max_body_size=1000, max_rdf_size=500)
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


async def _wait_until_up(url: str, proc: asyncio.subprocess.Process) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            if proc.returncode is not None:
                raise AssertionError("server exited early")
            try:
                async with session.get(url) as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.05)
    raise AssertionError("server did not come up")


async def test_cli_serves_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    env = {**os.environ, "POD_ROOT": str(tmp_path / "data"), "POD_PORT": str(port)}
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
    try:
        base = f"http://127.0.0.1:{port}/"
        await _wait_until_up(base, proc)
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
