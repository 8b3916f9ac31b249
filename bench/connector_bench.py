"""A bank's connector pushing a month of statements to N customers' pods on one server.

    python bench/connector_bench.py [-n 200] [--months 1] [-c 8] [--format ofx]
        [--storage postgresql://...] [--port PORT]

The server runs in its own process (multi-user, files unless ``--storage``) with N
customers and the bank created in it; each customer signs in, makes a ``bank/`` container
whose members must pass the bank shapes (so every write is validated by the pod too).
Then, with the real connector (apps.connector) signed in as the bank:

1. ``ask``: the first run asks every customer for Append on their ``bank/``;
2. every customer approves (not timed);
3. ``push``: the second run writes each customer's month(s): parse OFX, map, validate
   with the vocab shapes, create-only N3 Patch, journal;
4. ``re-run``: a third run, which must write nothing.

Prints, for each run, pods/s, records/s, per-pod p50/p99 and the CPU seconds of the
server process and of the connector. Loopback only. On PostgreSQL (a DSN without a
schema) the server gets a schema of its own, dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PASSWORD = "a long enough bench passphrase"
DATA_RETURN = "https://w3id.org/solid-pods/vocab/consent#DataReturn"


# -- the server process ----------------------------------------------------------------------
async def serve(root: Path, port: int, count: int, storage: str) -> None:
    """Serve a multi-user pod server with ``count`` customers and a bank; their client
    credentials go to ``root/credentials.json`` once ready."""
    from aiohttp import web
    from argon2 import PasswordHasher

    from pod_server.app import create_app, open_backend
    from pod_server.http.handlers import STORE
    from pod_server.idp import accounts
    from pod_server.idp.routes import IDP
    from pod_server.pods.hosting import add_user, user_credentials
    from pod_server.settings import Settings
    from pod_server.storage.file import FileBackend

    # Setting up a thousand accounts with the real argon2 cost takes half an hour and is
    # not what is measured (everyone signs in with client credentials): a cheap hash.
    accounts.PASSWORDS._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    base = f"http://127.0.0.1:{port}/"
    settings = Settings(multiuser=True, root=root / "pods", port=port, base_url=base)
    if storage:
        from dataclasses import replace

        settings = replace(settings, storage=storage)
        backend = open_backend(settings)
    else:
        backend = FileBackend(root / "pods")
    app = create_app(settings, backend)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    store, state = app[STORE], app[IDP].state  # type: ignore[misc]
    made = {}
    for name in ["bank", *(f"c{n:05d}" for n in range(count))]:
        await add_user(store, state, name, f"{name}@bench.invalid", PASSWORD)
        made[name] = await user_credentials(store, state, name, "bench")
    (root / "credentials.json").write_text(json.dumps(made))
    await asyncio.Event().wait()


# -- the bench ---------------------------------------------------------------------------------
def cpu_seconds(pid: int) -> float:
    """User + system CPU of process ``pid`` so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_server(
    root: Path, count: int, storage: str, port: int = 0
) -> tuple[subprocess.Popen[bytes], dict]:  # type: ignore[type-arg]
    import socket

    if not port:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
    argv = [sys.executable, __file__, "--serve", str(root), "--port", str(port), "-n", str(count)]
    if storage:
        argv += ["--storage", storage]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    with (root / "server.log").open("wb") as log:  # the child keeps its own handle
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + 120 + count * 1.0
    while not (root / "credentials.json").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise SystemExit(f"the server did not start: see {root / 'server.log'}")
        time.sleep(0.2)
    return proc, json.loads((root / "credentials.json").read_text())


async def prepare_customers(made: dict, gate: int = 16) -> dict:  # type: ignore[type-arg]
    """Each customer signs in and makes a shape-constrained bank/ container."""
    import vocab
    from client import PodClient

    clients: dict = {}  # type: ignore[type-arg]
    sem = asyncio.Semaphore(gate)

    async def one(name: str) -> None:
        async with sem:
            client = PodClient()
            c = made[name]
            await client.login_client_credentials(c["issuer"], c["client_id"], c["client_secret"])
            box = c["pod"] + "bank/"
            await client.create_container(box)
            meta = (await client.head(box)).describedby
            body = (
                f"<{box}> <http://www.w3.org/ns/ldp#constrainedBy> <{vocab.shapes_iri('bank')}> ."
            )
            await client.put(meta, body, "text/turtle", if_match=None)  # type: ignore[arg-type]
            clients[name] = client

    await asyncio.gather(*(one(n) for n in made if n != "bank"))
    return clients


async def approve_all(clients: dict, gate: int = 8) -> None:  # type: ignore[type-arg]
    sem = asyncio.Semaphore(gate)

    from client.errors import Unauthorized

    async def one(client) -> None:  # type: ignore[no-untyped-def]
        async with sem:
            # A loaded server may time out reading a WebID profile (5 s) and then refuse
            # that WebID for 30 s: wait that long and try again.
            for attempt in range(6):
                try:
                    for record in await client.access_requests("requested"):
                        await client.approve(record.url)
                    return
                except Unauthorized:
                    if attempt == 5:
                        raise
                    await asyncio.sleep(31)

    await asyncio.gather(*(one(c) for c in clients.values()))


async def run_connector(made: dict, data: Path, journal: Path, concurrency: int):  # type: ignore[no-untyped-def, type-arg]
    from apps.connector.config import CustomerRef, OrgConfig
    from apps.connector.journal import Journal
    from apps.connector.push import Connector
    from client import PodClient

    bank = made["bank"]
    org = OrgConfig(
        name="Banque Bench",
        webid=bank["webid"],
        issuer=bank["issuer"],
        client_id=bank["client_id"],
        client_secret=bank["client_secret"],
        domain="bank",
        container="bank/",
        purpose=DATA_RETURN,
        concurrency=concurrency,
    )
    names = sorted(n for n in made if n != "bank")
    refs = [
        CustomerRef(f"C{i + 1:06d}", made[n]["webid"], made[n]["pod"]) for i, n in enumerate(names)
    ]
    log = Journal(journal)
    try:
        async with PodClient() as client:
            await client.login_client_credentials(org.issuer, org.client_id, org.client_secret)
            return await Connector(client, org, log).run(refs, data / "bank", progress=False)
    finally:
        log.close()


async def measured(name: str, server: int, run) -> dict:  # type: ignore[no-untyped-def, type-arg]
    """Run the connector once (``run()``), with the CPU the server and we spent on it."""
    server_cpu, own_cpu = cpu_seconds(server), time.process_time()
    summary = await run()
    server_cpu, own_cpu = cpu_seconds(server) - server_cpu, time.process_time() - own_cpu
    per = sorted(r.seconds for r in summary.results)
    q = statistics.quantiles(per, n=100) if len(per) > 1 else per * 99
    row = {
        "run": name,
        "pods": len(summary.results),
        "seconds": round(summary.seconds, 2),
        "pods_per_s": round(len(summary.results) / summary.seconds, 1),
        "records": summary.records,
        "records_per_s": round(summary.records / summary.seconds, 0),
        "p50_ms": round(q[49] * 1000),
        "p99_ms": round(q[98] * 1000),
        "server_cpu_s": round(server_cpu, 1),
        "connector_cpu_s": round(own_cpu, 1),
        "outcomes": summary.counts(),
    }
    print(
        f"| {name} | {row['pods']} | {row['seconds']} | {row['pods_per_s']} | "
        f"{row['records']} | {row['records_per_s']:.0f} | {row['p50_ms']} | {row['p99_ms']} | "
        f"{row['server_cpu_s']} | {row['connector_cpu_s']} | {row['outcomes']} |",
        flush=True,
    )
    return row


async def bench(args: argparse.Namespace) -> int:
    from apps.connector import synthetic

    work = Path(tempfile.mkdtemp(prefix="bench-connector-"))
    data = work / "data"
    synthetic.generate(
        data, args.customers, args.months, "2024-01", bank_format=args.format, energy=False
    )
    storage, schema = args.storage, None
    if storage and "schema=" not in storage:
        schema = f"bench_connector_{os.getpid()}"
        storage += ("&" if "?" in storage else "?") + f"schema={schema}"
    started = time.monotonic()
    proc, made = await asyncio.to_thread(
        start_server, work, args.customers, storage, args.port or 0
    )
    try:
        print(
            f"server with {args.customers} customers ready in {time.monotonic() - started:.0f} s",
            flush=True,
        )
        started = time.monotonic()
        clients = await prepare_customers(made)
        print(f"customers' bank/ made in {time.monotonic() - started:.0f} s", flush=True)
        print(
            "| run | pods | s | pods/s | records | records/s | p50 ms/pod | p99 ms/pod "
            "| server CPU s | connector CPU s | outcomes |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        journal = work / "journal.jsonl"

        def run():  # type: ignore[no-untyped-def]
            return run_connector(made, data, journal, args.concurrency)

        rows = [await measured("ask", proc.pid, run)]
        await approve_all(clients)
        rows.append(await measured("push", proc.pid, run))
        rows.append(await measured("re-run", proc.pid, run))
        for client in clients.values():
            await client.aclose()
    finally:
        proc.terminate()
        proc.wait(10)
        if schema is not None:
            from servers import _drop_schema  # bench/ is on the path of a bench script

            await _drop_schema(args.storage.split("?", 1)[0], schema)
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    (out / f"connector-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(
        json.dumps({"args": vars(args), "runs": rows}, indent=2)
    )
    pushed = rows[1]["outcomes"].get("pushed", 0)
    return 0 if pushed == args.customers and rows[2]["records"] == 0 else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", "--customers", type=int, default=200)
    parser.add_argument("--months", type=int, default=1)
    parser.add_argument("-c", "--concurrency", type=int, default=8)
    parser.add_argument("--format", choices=("ofx", "camt053", "csv"), default="ofx")
    parser.add_argument(
        "--storage", default="", help="postgresql://... (default: files); a schema is made"
    )
    parser.add_argument("--port", type=int, help="the server's port (default: a free one)")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve, args.port, args.customers, args.storage))
        return 0
    return asyncio.run(bench(args))


if __name__ == "__main__":
    sys.exit(main())
