"""The optional access log, and malformed requests logged as one INFO line (no traceback)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp

from pod_server.cli import build_parser
from tests.conftest import free_socket
from tests.integration.test_server_lifecycle import _wait_until_up

REPO = Path(__file__).resolve().parents[2]
CLF = re.compile(
    r"^127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "
    r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/1\.1" (?P<status>\d{3}) (?P<bytes>\d+|-) '
    r"(?P<ms>\d+\.\d)$"
)


@asynccontextmanager
async def serve(root: Path, *args: str, **env: str) -> AsyncIterator[tuple[str, list[str]]]:
    """A ``pod-server serve`` process; yields its base URL and, once it has stopped, its
    stderr lines (the list is filled on the way out)."""
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("POD_")}
    environ.update(PYTHONPATH=str(REPO), **env)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pod_server.cli",
        "serve",
        "--open",
        "--root",
        str(root),
        "--port",
        str(port),
        *args,
        env=environ,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}/"
    lines: list[str] = []
    try:
        await _wait_until_up(base, proc)
        yield base, lines
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 40)
        lines += err.decode().splitlines()


async def _raw(base: str, data: bytes) -> bytes:
    host, port = base.removeprefix("http://").rstrip("/").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(data)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return answer


async def test_access_log_lines_in_common_log_format_with_duration(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    async with serve(tmp_path / "data", POD_ACCESS_LOG=str(log)) as (base, _stderr):
        async with aiohttp.ClientSession() as session:
            headers = {"Content-Type": "text/plain"}
            async with session.put(base + "notes/a.txt", data=b"hello", headers=headers) as r:
                assert r.status == 201
            async with session.get(base + "notes/a.txt?x=1") as r:
                assert await r.read() == b"hello"
            async with session.head(base + "notes/a.txt") as r:
                assert r.status == 200
            async with session.get(base + "missing") as r:
                assert r.status == 404
    entries = [CLF.match(line) for line in log.read_text().splitlines()]
    assert all(entries), log.read_text()
    seen = [(m["method"], m["path"], m["status"], m["bytes"]) for m in entries if m]
    assert ("PUT", "/notes/a.txt", "201", "-") in seen
    assert ("GET", "/notes/a.txt?x=1", "200", "5") in seen
    assert ("HEAD", "/notes/a.txt", "200", "-") in seen
    assert any(s[:3] == ("GET", "/missing", "404") and s[3] != "-" for s in seen)
    assert all(float(m["ms"]) >= 0 for m in entries if m)


async def test_malformed_requests_are_one_info_line_and_access_log_is_off_by_default(
    tmp_path: Path,
) -> None:
    garbage = [
        b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03 not http\r\n\r\n",  # TLS to plain HTTP
        b"GET\r\n\r\n",  # a request line with no target or version
        b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",  # a header without a colon
    ]
    async with serve(tmp_path / "data") as (base, stderr):
        for data in garbage:
            answer = await _raw(base, data)
            assert re.match(rb"HTTP/1\.[01] 400 ", answer), answer[:100]
        async with aiohttp.ClientSession() as session:
            async with session.get(base) as r:
                assert r.status == 200  # the server is unharmed
    text = "\n".join(stderr)
    assert "Traceback" not in text and " ERROR " not in text, text
    malformed = [line for line in stderr if "Malformed request from 127.0.0.1" in line]
    assert len(malformed) == len(garbage), text
    assert all(" INFO " in line for line in malformed)
    assert not any('"GET / HTTP/1.1"' in line for line in stderr)  # no access log


def test_access_log_flag() -> None:
    parser = build_parser()
    assert parser.parse_args(["serve", "--access-log"]).access_log == "-"
    assert parser.parse_args(["serve", "--access-log", "a.log"]).access_log == "a.log"
    assert parser.parse_args(["serve"]).access_log is None
