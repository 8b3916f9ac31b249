"""Start, poll for readiness and stop the servers under test, all on loopback.

Each server runs in its own session (process group) with its output in a log file, so
stopping it stops everything it spawned, and a failed start can show why.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loadgen import loopback_target, read_response

BENCH = Path(__file__).resolve().parent
PEER_INSTALL = BENCH / "peer" / "install.sh"
PEER_START = BENCH / "peer" / "start.sh"
PEER_BIN = BENCH / ".peer" / "node_modules" / "@solid" / "community-server" / "bin" / "server.js"


CLK_TCK = os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds spent by everything on the machine (all cores), from /proc/stat."""
    try:
        first = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in first[1:9])
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def free_port() -> int:
    """A free loopback port: any, or the first free one of ``BENCH_PORTS`` ("22000-22999")
    when several people share the machine and each has a range of ports."""
    first, _, last = os.environ.get("BENCH_PORTS", "").partition("-")
    candidates = range(int(first), int(last or first) + 1) if first else [0]
    for port in candidates:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise RuntimeError(f"no free port in BENCH_PORTS={os.environ['BENCH_PORTS']}")


@dataclass
class Server:
    name: str
    base_url: str
    proc: subprocess.Popen[bytes]
    workdir: Path  # temp dir holding the log (and the data root, if any)
    cleanups: list[Callable[[], None]] = field(default_factory=list)  # run by stop()
    storage: str = ""  # ours: the --storage it was given (with the schema chosen for it)

    @property
    def log(self) -> Path:
        return self.workdir / "server.log"

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def cpu_seconds(self) -> float:
        """CPU time used so far by the server's processes (its worker processes included:
        everything in its session), 0 once they are gone."""
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == self.proc.pid:  # session id: we started it with a new one
                total += int(fields[11]) + int(fields[12])  # utime + stime
        return total / CLK_TCK

    def stop(self) -> None:
        """SIGTERM the server's process group, SIGKILL it if it lingers; remove temp dirs."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        for cleanup in self.cleanups:
            cleanup()
        self.cleanups.clear()
        shutil.rmtree(self.workdir, ignore_errors=True)


def _spawn(name: str, argv: list[str], base_url: str, workdir: Path) -> Server:
    loopback_target(base_url)  # never start something we would then refuse to load
    log = (workdir / "server.log").open("wb")
    proc = subprocess.Popen(
        argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
    )
    log.close()  # the child holds its own copy
    return Server(name, base_url, proc, workdir)


def start_ceiling() -> Server:
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="bench-ceiling-"))
    argv = [sys.executable, str(BENCH / "ceiling.py"), "--port", str(port)]
    return _spawn("ceiling", argv, f"http://127.0.0.1:{port}/", workdir)


def start_ours(
    command: str = "pod-server", storage: str = "", workers: int = 1, extra: tuple[str, ...] = ()
) -> Server:
    """Our server on a fresh root; ``storage`` a postgresql:// URL puts it in a schema of
    its own (``bench_<random>``, dropped when the server stops)."""
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="bench-ours-"))
    base = f"http://127.0.0.1:{port}/"
    exe = shutil.which(command) or command
    argv = [exe, "serve", "--root", str(workdir / "root"), "--host", "127.0.0.1"]
    argv += ["--port", str(port), "--base-url", base, *_open_access_flag(exe)]
    schema = None
    if storage.startswith(("postgresql://", "postgres://")) and "schema=" not in storage:
        schema = f"bench_{secrets.token_hex(4)}"
        storage += ("&" if "?" in storage else "?") + f"schema={schema}"
    if storage:
        argv += ["--storage", storage]
    if workers > 1:
        argv += ["--workers", str(workers)]
    argv += extra
    (workdir / "root").mkdir()
    server = _spawn("ours", argv, base, workdir)
    server.storage = storage
    if schema is not None:
        dsn = storage.split("?", 1)[0]
        server.cleanups.append(lambda: _run_sync(_drop_schema(dsn, schema)))
    return server


def _run_sync(coro: Coroutine[Any, Any, None]) -> None:
    """Run ``coro`` to its end from sync code, even inside a running event loop."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coro).result()


async def _drop_schema(dsn: str, schema: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


def _open_access_flag(exe: str) -> list[str]:
    """``--open`` if our server has it: like the peer's file-root config, the benchmark
    needs a fresh root that lets anyone do anything (our default root has no ACL)."""
    try:
        out = subprocess.run(
            [exe, "serve", "--help"], capture_output=True, text=True, timeout=60
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    return ["--open"] if "--open" in out else []


def ensure_peer() -> None:
    if not PEER_BIN.exists():
        subprocess.run(["bash", str(PEER_INSTALL)], check=True)


def start_peer(base_host: str = "127.0.0.1") -> Server:
    ensure_peer()
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="bench-peer-"))
    base = f"http://{base_host}:{port}/"
    argv = ["bash", str(PEER_START), str(workdir / "root"), str(port), base]
    return _spawn("peer", argv, base, workdir)


async def _probe(base_url: str) -> int:
    target = loopback_target(base_url)
    reader, writer = await asyncio.open_connection(target.host, target.port)
    try:
        writer.write(
            f"GET {target.base_path} HTTP/1.1\r\nHost: {target.host_header}\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        status, _, _ = await read_response(reader, "GET")
        return status
    finally:
        writer.close()


def wait_ready(server: Server, timeout: float = 90.0) -> None:
    """Poll the base URL until any HTTP response comes back (the peer takes ~10 s)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(
                f"{server.name} exited with {server.proc.returncode}:\n{server.log_tail()}"
            )
        try:
            status = asyncio.run(asyncio.wait_for(_probe(server.base_url), 5))
        except (TimeoutError, OSError, asyncio.IncompleteReadError):
            time.sleep(0.25)
            continue
        if status < 500:
            return
        time.sleep(0.25)
    raise RuntimeError(f"{server.name} not ready after {timeout:.0f} s:\n{server.log_tail()}")
