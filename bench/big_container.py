"""A container with 100,000 children: paged listing latency, and quota cost vs pod size.

    python bench/big_container.py                      # ours on PostgreSQL and on files
    python bench/big_container.py --peer               # and the peer (CSS 7.2, file root)
    python bench/big_container.py -n 20000 --storage file

Ours: the server runs with a quota (so every write checks it); 200 sequential 1 KB PUTs
are timed on the empty pod, then 100,000 children are written into /big/ straight
through the storage backend from this process (the server's own interface, in batches
of 1,000: over HTTP it would take minutes), the PUTs are timed again, and the first,
a middle and the last page (``?page-size=100``) and the whole listing are fetched 20 times
each. The peer gets the same 100,000 files written into its file root, and one GET of
the container with a 60 s timeout. Latencies are measured at the client over loopback,
an upper bound of the server's time. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scenarios import SMALL_TTL, TURTLE
from servers import Server, start_ours, start_peer, wait_ready

from pod_server.storage.base import Backend, Put, Staged, Touch

PG = "postgresql://postgres@127.0.0.1:5432/test"
BATCH = 1_000
QUOTA = 10 * 1024**3


def child(i: int) -> str:
    return f"child-{i:06d}.txt"


def backend_for(server: Server, kind: str) -> Backend:
    if kind == "postgres":
        from pod_server.storage.pg_url import split_schema
        from pod_server.storage.postgres import PostgresBackend

        dsn, schema = split_schema(server.storage)
        return PostgresBackend(dsn, schema=schema)
    from pod_server.storage.file import FileBackend

    return FileBackend(server.workdir / "root")


async def populate(backend: Backend, n: int) -> float:
    started = time.perf_counter()
    await backend.start()
    try:
        for first in range(0, n, BATCH):
            puts = [
                Put(f"/big/{child(i)}", "text/plain", Staged.of(b"x"))
                for i in range(first, min(first + BATCH, n))
            ]
            await backend.apply([], [*puts, Touch("/big/")])
    finally:
        await backend.close()
    return time.perf_counter() - started


async def timed_gets(http: aiohttp.ClientSession, url: str, times: int) -> list[float]:
    out = []
    for _ in range(times):
        t = time.perf_counter()
        async with http.get(url, headers={"Accept": TURTLE}) as r:
            await r.read()
            assert r.status == 200, f"{url}: {r.status}"
        out.append((time.perf_counter() - t) * 1000)
    return out


async def timed_puts(
    http: aiohttp.ClientSession, base: str, prefix: str, times: int
) -> list[float]:
    out = []
    for i in range(times):
        t = time.perf_counter()
        url = f"{base}{prefix}/doc-{i % 16}.ttl"
        async with http.put(url, data=SMALL_TTL, headers={"Content-Type": TURTLE}) as r:
            assert r.status in (201, 204, 205), f"{url}: {r.status}"
        out.append((time.perf_counter() - t) * 1000)
    return out


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def row(what: str, ms: list[float]) -> str:
    return f"| {what} | {p(ms, 0.5)} | {p(ms, 0.99)} | {len(ms)} |"


async def measure_ours(kind: str, n: int) -> list[str]:
    storage = PG if kind == "postgres" else ""
    server = start_ours(storage=storage, extra=("--quota", str(QUOTA)))
    lines = [f"**ours, {kind}**, {n:,} children", "", "| request | p50 ms | p99 ms | n |"]
    lines.append("| --- | --- | --- | --- |")
    try:
        await asyncio.to_thread(wait_ready, server)
        base = server.base_url
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as http:
            async with http.put(base + "big/seed.txt", data=b"x") as r:
                assert r.status == 201, r.status
            lines.append(row("PUT 1 KB, pod nearly empty", await timed_puts(http, base, "w", 200)))
            took = await populate(backend_for(server, kind), n)
            print(f"  {kind}: {n:,} children written in {took:.1f} s", file=sys.stderr)
            lines.append(row(f"PUT 1 KB, pod of {n:,}", await timed_puts(http, base, "w", 200)))
            pages = {
                "first page (100)": f"{base}big/?page-size=100",
                "middle page (100)": f"{base}big/?page-size=100&after={child(n // 2)}",
                "last page (100)": f"{base}big/?page-size=100&after={child(n - 50)}",
            }
            for what, url in pages.items():
                lines.append(row(f"GET {what}", await timed_gets(http, url, 20)))
            whole = await timed_gets(http, f"{base}big/", 1)  # built, cached if it fits
            again = await timed_gets(http, f"{base}big/", 5)
            lines.append(row("GET whole listing, first time", whole))
            lines.append(row("GET whole listing, again", again))
    finally:
        server.stop()
    return lines


async def measure_peer(n: int) -> list[str]:
    server = start_peer()
    lines = [f"**peer (CSS 7.2, file root)**, {n:,} children", ""]
    try:
        await asyncio.to_thread(wait_ready, server)
        big = server.workdir / "root" / "big"
        big.mkdir(parents=True, exist_ok=True)
        for i in range(n):
            (big / child(i)).write_bytes(b"x")
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
            t = time.perf_counter()
            try:
                async with http.get(server.base_url + "big/", headers={"Accept": TURTLE}) as r:
                    await r.read()
                    status = str(r.status)
            except TimeoutError:
                status = "no answer"
            took = (time.perf_counter() - t) * 1000
        lines.append(f"GET whole listing (the peer does not page): {status} after {took:,.0f} ms")
    finally:
        server.stop()
    return lines


async def main_async(args: argparse.Namespace) -> None:
    kinds = ["postgres", "file"] if args.storage == "both" else [args.storage]
    out: list[str] = []
    for kind in kinds:
        out += [*await measure_ours(kind, args.n), ""]
    if args.peer:
        out += [*await measure_peer(args.n), ""]
    print("\n".join(out))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100_000, help="children of /big/")
    parser.add_argument("--storage", choices=("both", "postgres", "file"), default="both")
    parser.add_argument("--peer", action="store_true")
    asyncio.run(main_async(parser.parse_args()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
