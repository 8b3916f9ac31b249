"""Notification fan-out: N WebSocket subscribers on one resource, time from write to delivery.

    python bench/notify_bench.py [--subscribers 1000] [--writes 50] [--procs 1] [--json FILE]

Starts ``pod-server serve --open`` on a free loopback port with a fresh root (its own
process), makes N WebSocketChannel2023 subscriptions on one document and connects them
(spread over ``--procs`` client processes), then PUTs the document ``--writes`` times, one
after the other, each once the previous one has reached every subscriber. For each write it
measures, on the machine's monotonic clock (shared by all processes):

- ``last``: from sending the PUT to the last subscriber receiving its notification,
- ``first``: from sending the PUT to the first subscriber receiving it,
- ``put``: the PUT's own response time,

and prints p50/p99 of each. Loopback only. The subscribers are clients in Python too: with
one client process, ``last`` includes the client's own work of reading N frames.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

CONTEXT = "https://www.w3.org/ns/solid/notification/v1"
TOPIC = "bench/doc.ttl"


def now() -> float:
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- the subscribers (worker processes) ----------------------------------------------------------


def worker(base: str, count: int, writes: int, ready: Any, results: Any) -> None:
    asyncio.run(_worker(base, count, writes, ready, results))


async def _worker(base: str, count: int, writes: int, ready: Any, results: Any) -> None:
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        sources = []
        gate = asyncio.Semaphore(32)

        async def subscribe() -> None:
            body = {"@context": [CONTEXT], "type": "WebSocketChannel2023", "topic": base + TOPIC}
            async with (
                gate,
                session.post(
                    base + ".well-known/notifications/WebSocketChannel2023",
                    data=json.dumps(body),
                    headers={"Content-Type": "application/ld+json"},
                ) as r,
            ):
                assert r.status == 200, await r.text()
                sources.append((await r.json())["receiveFrom"])

        await asyncio.gather(*(subscribe() for _ in range(count)))

        async def connect(url: str) -> aiohttp.ClientWebSocketResponse:
            async with gate:
                return await session.ws_connect(url, heartbeat=None, autoping=True)

        sockets = await asyncio.gather(*(connect(url) for url in sources))
        arrivals: list[list[float]] = [[] for _ in range(writes)]
        done = [asyncio.Event() for _ in range(writes)]

        async def receive(ws: aiohttp.ClientWebSocketResponse) -> None:
            for index in range(writes):
                message = await ws.receive()
                arrivals[index].append(now())
                assert message.type == aiohttp.WSMsgType.TEXT, message
                if len(arrivals[index]) == count:
                    done[index].set()

        readers = [asyncio.create_task(receive(ws)) for ws in sockets]
        ready.put(count)
        loop = asyncio.get_running_loop()
        for index in range(writes):
            await done[index].wait()
            stamps = arrivals[index]
            await loop.run_in_executor(None, results.put, (index, min(stamps), max(stamps)))
        await asyncio.gather(*readers)
        for ws in sockets:
            await ws.close()


# -- the writer (main process) -------------------------------------------------------------------


async def writer(base: str, writes: int, procs: int, results: Any) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {"last": [], "first": [], "put": []}
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession() as session:
        for index in range(writes):
            body = f"<#it> <#value> {index}.\n"
            sent = now()
            async with session.put(
                base + TOPIC, data=body, headers={"Content-Type": "text/turtle"}
            ) as r:
                assert r.status in (201, 204), r.status
            answered = now()
            reports = [await loop.run_in_executor(None, results.get) for _ in range(procs)]
            assert all(report[0] == index for report in reports), reports
            figures["put"].append(answered - sent)
            figures["first"].append(min(report[1] for report in reports) - sent)
            figures["last"].append(max(report[2] for report in reports) - sent)
            await asyncio.sleep(0.02)
    return figures


def start_server(root: Path, port: int) -> subprocess.Popen[bytes]:
    command = shutil.which("pod-server")
    args = [command] if command else [sys.executable, "-m", "pod_server"]
    env = {**os.environ, "POD_LOG_LEVEL": "warning"}
    return subprocess.Popen(
        [*args, "serve", "--root", str(root), "--host", "127.0.0.1", "--port", str(port), "--open"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(root.parent / "server.log", "wb"),
        start_new_session=True,
    )


async def wait_up(base: str, process: subprocess.Popen[bytes]) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(400):
            if process.poll() is not None:
                raise SystemExit("the server exited at start")
            try:
                async with session.head(base) as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.05)
    raise SystemExit("the server did not come up")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--writes", type=int, default=50)
    parser.add_argument("--procs", type=int, default=1, help="client processes for subscribers")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="notify-bench-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    server = start_server(scratch / "root", port)
    context = mp.get_context("spawn")
    ready, results = context.Queue(), context.Queue()
    workers: list[Any] = []
    try:
        asyncio.run(wait_up(base, server))
        asyncio.run(_prepare(base))
        shares = [args.subscribers // args.procs] * args.procs
        shares[0] += args.subscribers - sum(shares)
        for share in shares:
            process = context.Process(
                target=worker, args=(base, share, args.writes, ready, results)
            )
            process.start()
            workers.append(process)
        connected = sum(ready.get(timeout=120) for _ in workers)
        cpu_before = cpu_seconds(server.pid)
        started = now()
        figures = asyncio.run(writer(base, args.writes, len(workers), results))
        elapsed = now() - started
        server_cpu = (cpu_seconds(server.pid) - cpu_before) / elapsed
        for process in workers:
            process.join(timeout=30)
    finally:
        for process in workers:
            if process.is_alive():
                process.kill()
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(scratch, ignore_errors=True)
    summary = {
        name: {"p50_ms": percentile(v, 50) * 1000, "p99_ms": percentile(v, 99) * 1000}
        for name, v in figures.items()
    }
    print(
        f"{connected} WebSocket subscribers on one resource, {args.writes} writes, "
        f"{len(workers)} client process(es), {os.cpu_count()} CPUs"
    )
    for name, label in (
        ("last", "write -> last delivery "),
        ("first", "write -> first delivery"),
        ("put", "PUT response time      "),
    ):
        p50, p99 = summary[name]["p50_ms"], summary[name]["p99_ms"]
        print(f"  {label}  p50 {p50:7.1f} ms   p99 {p99:7.1f} ms")
    print(f"  server CPU during the writes: {server_cpu:.2f} cores")
    if args.json:
        record = {
            "subscribers": connected,
            "writes": args.writes,
            "client_processes": len(workers),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
            "server_cpu_cores": server_cpu,
            "summary": summary,
            "samples_ms": {k: [x * 1000 for x in v] for k, v in figures.items()},
        }
        Path(args.json).write_text(json.dumps(record, indent=1))


async def _prepare(base: str) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.put(
            base + TOPIC, data="<#it> <#value> -1.\n", headers={"Content-Type": "text/turtle"}
        ) as r,
    ):
        assert r.status in (201, 204), r.status


if __name__ == "__main__":
    main()
