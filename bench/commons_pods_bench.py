"""One round of a commons study over N pods hosted on real pod servers, many pods each.

    python bench/commons_pods_bench.py [-n 10000] [--servers 2] [--agents 2]
        [--postgres postgresql://127.0.0.1:5432/test] [--port 26100] [-p 64]

Set-up (not measured): ``--servers`` pod-server processes (our ``create_app``, multi-user;
with ``--postgres`` every second one keeps its pods in PostgreSQL, in a schema of its own
dropped at the end) each create their share of the N accounts and pods, with a year of
monthly electricity readings and a region in each pod, and the owner's opt-in: the
broker's consent request, given (the consent service, as the API calls it). The
authority publishes its approval key in its profile on the first server. ``--agents``
processes then run the owners' agents (``OwnerAgent`` on the SDK, one per pod, each
signed in as its owner with client credentials), served over HTTP as the broker reaches
them (``transport.agent_app``, one path per pod).

Measured: the broker (this process) runs one round, ``collect`` then ``release``, over all
N pods through HTTP, ``-p`` calls at a time: wall time and this process's CPU time (the
broker's, and in release the authority's, also timed on its own); the CPU the pod
servers and the agents' processes spent meanwhile. Each agent, for its pod, checks the
study (shape, approval against the authority's published key), finds the owner's opt-in,
asks its pod's SPARQL endpoint for the monthly sums, shares and encrypts, and records the
contribution in the owner's audit log: all real requests to the pod servers.

In the same run, for comparison, the same round with the pods simulated in this process
(``commons_bench.py``'s way: contributions made beforehand, no network): the broker's own
ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import math
import os
import random
import secrets
import signal
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from servers import Server, _drop_schema, _run_sync, _spawn

from apps.commons import approval, contribution, shares, study
from apps.commons.agent import OPT_IN_CONTAINER, OwnerAgent, opt_in_purposes
from apps.commons.authority import Authority
from apps.commons.broker import Broker, Contribution, Contributor, Offer
from apps.commons.proposals import ENERGY, monthly_consumption_by_region
from apps.commons.transport import answer, http_contributor

REGIONS = ("Bretagne", "Corse", "Grand Est", "Occitanie", "Normandie")
YEAR = 2025
HOST = "127.0.0.1"


def base_url(port: int) -> str:
    return f"http://{HOST}:{port}/"


def webid_of(port: int, name: str) -> str:
    return f"{base_url(port)}{name}/profile/card#me"


def readings(n: int) -> tuple[str, dict[str, Decimal]]:
    rng = random.Random(f"home-{n}")
    region = REGIONS[n % len(REGIONS)]
    base, heating = rng.uniform(150, 450), rng.uniform(0, 1200) if rng.random() < 0.5 else 0
    months = {}
    for m in range(1, 13):
        winter = (1 + math.cos(2 * math.pi * (m - 1) / 12)) / 2
        kwh = (base + heating * winter) * rng.uniform(0.8, 1.2)
        months[f"{YEAR}-{m:02d}"] = Decimal(f"{kwh:.3f}")
    return region, months


def pod_turtle(region: str, months: dict[str, Decimal]) -> bytes:
    lines = [
        f"@prefix energy: <{ENERGY}> .",
        "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .",
        f'<#home> <http://schema.org/addressRegion> "{region}" .',
    ]
    for month, kwh in sorted(months.items()):
        lines.append(
            f'<#m{month}> a energy:LoadCurvePoint ; energy:at "{month}-15T00:00:00+01:00"'
            f'^^xsd:dateTime ; energy:consumption "{kwh}"^^xsd:decimal .'
        )
    return ("\n".join(lines) + "\n").encode()


# -- role "host": a pod server that first creates its pods -----------------------------


async def host(opts: argparse.Namespace) -> None:
    from argon2 import PasswordHasher

    from pod_server.access.modes import Mode
    from pod_server.app import create_app, open_backend
    from pod_server.auth.agent import Agent
    from pod_server.consent.model import AccessRequest, Target
    from pod_server.http.handlers import STORE
    from pod_server.http.keys import CONSENT
    from pod_server.idp import accounts
    from pod_server.idp.routes import IDP
    from pod_server.pods.hosting import add_user, user_credentials
    from pod_server.settings import Settings
    from pod_server.storage.file import FileBackend

    # Set-up only: passwords hashed cheaply (nobody signs in with them).
    accounts.PASSWORDS._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    root = Path(opts.root)
    settings = Settings(
        multiuser=True, root=root, port=opts.port, base_url=base_url(opts.port), host=HOST
    )
    if opts.storage:
        settings = replace(settings, storage=opts.storage)
        backend = open_backend(settings)
    else:
        backend = FileBackend(root)
    app = create_app(settings, backend)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, HOST, opts.port).start()
    store, state, consent = app[STORE], app[IDP].state, app[CONSENT]
    study_iri, broker = opts.study, opts.broker
    made: list[dict[str, Any]] = []
    gate = asyncio.Semaphore(4)

    async def account(name: str) -> dict[str, Any]:
        await add_user(store, state, name, f"{name}@bench.invalid", "a long enough passphrase")
        return await user_credentials(store, state, name, "commons-bench")

    async def pod(n: int) -> None:
        async with gate:
            name = f"h{n:05d}"
            creds = await account(name)
            region, months = readings(n)
            await store.create_internal(f"/{name}/energy-{YEAR}", pod_turtle(region, months))
            await store.create_internal(f"/{name}/{OPT_IN_CONTAINER}about", b"<#a> <#b> <#c> .")
            root_path = f"/{name}/"
            ask = AccessRequest(
                recipient=broker,
                targets=(Target(store.url(root_path + OPT_IN_CONTAINER), Mode.APPEND),),
                purposes=(study_iri, "https://w3id.org/dpv#PublicBenefit"),
                data=(),
                until=datetime.now(UTC) + timedelta(days=30),
            )
            record = await consent.request(root_path, Agent(webid=broker), ask)
            await consent.approve(root_path, record.id, creds["webid"])
            made.append({**creds, "n": n, "storage": store.url(root_path)})

    if opts.parties:
        for name in ("broker", "authority", "body"):
            made.append({**(await account(name)), "party": name})
    await asyncio.gather(*(pod(n) for n in range(opts.first, opts.first + opts.count)))
    out = Path(opts.out)
    out.with_suffix(".tmp").write_text(json.dumps(made))
    out.with_suffix(".tmp").rename(out)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await runner.cleanup()


# -- role "agents": the owners' agents for a slice of the pods --------------------------


async def agents(opts: argparse.Namespace) -> None:
    from client import PodClient
    from client.transport import AiohttpTransport

    owners = json.loads(Path(opts.creds).read_text())
    shared = AiohttpTransport()  # one connection pool for all the owners' clients
    served: dict[str, OwnerAgent] = {}
    gate = asyncio.Semaphore(16)

    async def sign_in(owner: dict[str, Any]) -> None:
        async with gate:
            client = PodClient(transport=shared)
            await client.login_client_credentials(
                owner["issuer"], owner["client_id"], owner["client_secret"]
            )
            served[str(owner["n"])] = OwnerAgent(client, owner["storage"])

    await asyncio.gather(*(sign_in(o) for o in owners))

    async def handle(request: web.Request) -> web.StreamResponse:
        agent = served.get(request.match_info["n"])
        if agent is None:
            raise web.HTTPNotFound()
        return await answer(agent, request)

    app = web.Application()
    app.router.add_post("/pod/{n}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, HOST, opts.port).start()
    Path(opts.out).write_text("ready")
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await runner.cleanup()
    await shared.aclose()


# -- the broker's round (this process) --------------------------------------------------


def wait_for(path: Path, processes: list[Server], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        for server in processes:
            if server.proc.poll() is not None:
                raise RuntimeError(f"{server.name} exited:\n{server.log_tail()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{path.name} not ready after {timeout:.0f} s")
        time.sleep(0.5)


class Timed:
    """Wall and CPU time of this process, and CPU of the processes given, over a block."""

    def __init__(self, others: list[Server]) -> None:
        self.others = others

    def __enter__(self) -> Timed:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        self.other_cpu = [s.cpu_seconds() for s in self.others]
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu
        self.other_cpu = [
            s.cpu_seconds() - c for s, c in zip(self.others, self.other_cpu, strict=True)
        ]


def timed_authority(authority: Authority) -> list[float]:
    spent = [0.0]
    original = authority.aggregate

    def aggregate(*a: Any, **k: Any) -> Any:
        before = time.process_time()
        try:
            return original(*a, **k)
        finally:
            spent[0] += time.process_time() - before

    authority.aggregate = aggregate  # type: ignore[method-assign]
    return spent


def a_broker(
    proposed: study.Study, keys: dict[str, Any], work: Path, opts: argparse.Namespace
) -> tuple[Broker, list[float]]:
    authority = Authority(
        proposed.authority, keys["authority"], keys["published"], work / "authority.log"
    )
    spent = timed_authority(authority)
    broker = Broker(
        proposed.broker,
        keys["broker"],
        authority,
        work / "broker.journal",
        parallel=opts.parallel,
        timeout=120,
        retries=1,
        deadline=7200,
    )
    return broker, spent


async def on_servers(opts: argparse.Namespace, work: Path) -> dict[str, Any]:

    from client import PodClient

    hosts: list[Server] = []
    workers: list[Server] = []
    broker_webid = webid_of(opts.port, "broker")
    study_iri = base_url(opts.port) + "body/studies/grid#study"
    try:
        started = time.perf_counter()
        per = [
            opts.pods // opts.servers + (i < opts.pods % opts.servers) for i in range(opts.servers)
        ]
        first = 0
        for i, count in enumerate(per):
            port = opts.port + i
            place = work / f"host{i}"
            (place / "root").mkdir(parents=True)
            argv = [sys.executable, __file__, "host", "--root", str(place / "root")]
            argv += ["--port", str(port), "--first", str(first), "--count", str(count)]
            argv += [
                "--study",
                study_iri,
                "--broker",
                broker_webid,
                "--out",
                str(place / "pods.json"),
            ]
            schema = None
            if opts.postgres and i % 2 == 1:
                schema = f"bench_commons_{secrets.token_hex(4)}"
                argv += ["--storage", f"{opts.postgres}?schema={schema}"]
            if i == 0:
                argv.append("--parties")
            server = _spawn(f"pod server {i}", argv, base_url(port), place)
            if schema is not None:
                dsn = opts.postgres
                server.cleanups.append(lambda d=dsn, s=schema: _run_sync(_drop_schema(d, s)))
            hosts.append(server)
            first += count
        made: list[dict[str, Any]] = []
        for i in range(opts.servers):
            wait_for(work / f"host{i}" / "pods.json", hosts, 24 * 3600)
            made += json.loads((work / f"host{i}" / "pods.json").read_text())
        parties = {m["party"]: m for m in made if "party" in m}
        pods = [m for m in made if "party" not in m]
        print(
            f"set-up: {len(pods)} pods on {opts.servers} servers in "
            f"{time.perf_counter() - started:.0f} s",
            flush=True,
        )

        # The authority publishes its approval key; the body's study, approved.
        signing = approval.new_signing_key("authority-2026")
        keys = {
            "broker": shares.new_key("broker-enc"),
            "authority": shares.new_key("authority-enc"),
        }
        keys["published"] = [signing.export_public(as_dict=True)]
        authority = parties["authority"]
        async with PodClient() as client:
            await client.login_client_credentials(
                authority["issuer"], authority["client_id"], authority["client_secret"]
            )
            await approval.publish_in_profile(client, authority["webid"], signing)
        proposed = the_study(
            study_iri, parties["body"]["webid"], authority["webid"], broker_webid, keys
        )
        assert opt_in_purposes(proposed)[0] == study_iri
        token, turtle = approval.approve(proposed, signing), study.turtle(proposed)

        # The owners' agents, signed in, in --agents processes.
        started = time.perf_counter()
        where: dict[str, str] = {}
        for j in range(opts.agents):
            port = opts.port + 50 + j
            place = work / f"agents{j}"
            place.mkdir()
            mine = pods[j :: opts.agents]
            (place / "owners.json").write_text(json.dumps(mine))
            argv = [sys.executable, __file__, "agents", "--creds", str(place / "owners.json")]
            argv += ["--port", str(port), "--out", str(place / "ready")]
            workers.append(_spawn(f"agents {j}", argv, base_url(port), place))
            for owner in mine:
                where[owner["storage"]] = f"{base_url(port)}pod/{owner['n']}"
        for j in range(opts.agents):
            wait_for(work / f"agents{j}" / "ready", workers, 24 * 3600)
        print(f"agents signed in: {time.perf_counter() - started:.0f} s", flush=True)

        broker, authority_cpu = a_broker(proposed, keys, work, opts)
        connector = aiohttp.TCPConnector(limit=opts.parallel)
        timeout = aiohttp.ClientTimeout(total=None, sock_read=120)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            # Pods in an order that mixes servers and agent processes (the broker asks in
            # its order, ``parallel`` at a time), as a broker's list of opted-in pods is.
            order = sorted(where, key=lambda s: hashlib.sha256(s.encode()).digest())
            callers: dict[str, Contributor] = {
                s: http_contributor(session, where[s]) for s in order
            }
            with Timed(hosts + workers) as collect:
                got = await broker.collect(proposed, turtle, token, "r1", callers)
        with Timed(hosts + workers) as release:
            released = broker.release(proposed, token, "r1")
        left = broker.journal.of("left-out", round="r1")
        return {
            "pods": len(pods),
            "contributions": got,
            "left_out": len(left),
            "left_out_reasons": sorted({r["reason"][:60] for r in left})[:5],
            "cells": f"{sum(not c.suppressed for c in released.cells)}/{len(released.cells)}",
            "collect": collect,
            "release": release,
            "authority_cpu": authority_cpu[0],
            "servers": len(hosts),
            "agents": len(workers),
            "journal_mb": (work / "broker.journal").stat().st_size / 1e6,
        }
    finally:
        for server in workers + hosts:
            server.stop()


def the_study(
    iri: str, body: str, authority: str, broker: str, keys: dict[str, Any]
) -> study.Study:
    return monthly_consumption_by_region(
        iri,
        body,
        authority,
        broker,
        year=YEAR,
        regions=REGIONS,
        broker_key=keys["broker"].export_public(as_dict=True),
        authority_key=keys["authority"].export_public(as_dict=True),
        upper_kwh=Decimal(2500),
        start=date.today() - timedelta(days=1),
        end=date.today() + timedelta(days=30),
    )


async def in_process(opts: argparse.Namespace, work: Path) -> dict[str, Any]:
    """The ceiling: the same round, pods simulated here (contributions made beforehand)."""
    keys = {"broker": shares.new_key("broker-enc"), "authority": shares.new_key("authority-enc")}
    signing = approval.new_signing_key("authority-2026")
    keys["published"] = [signing.export_public(as_dict=True)]
    proposed = the_study(
        "https://body.example/studies/grid#study",
        "https://body.example/#me",
        "https://authority.example/#me",
        "https://broker.example/#me",
        keys,
    )
    token, turtle = approval.approve(proposed, signing), study.turtle(proposed)
    context = f"{proposed.iri} r1"
    callers: dict[str, Contributor] = {}
    for n in range(opts.pods):
        region, months = readings(n)
        first, second = shares.split(contribution.vector(region, months, proposed.statistic))
        made = Contribution(
            shares.encrypt(first, proposed.broker_key, context),
            shares.encrypt(second, proposed.authority_key, context),
        )

        async def answer_with(offer: Offer, made: Contribution = made) -> Contribution:
            await asyncio.sleep(0)
            return made

        callers[f"pod-{n}"] = answer_with
    place = work / "in-process"
    place.mkdir()
    broker, authority_cpu = a_broker(proposed, keys, place, opts)
    with Timed([]) as collect:
        got = await broker.collect(proposed, turtle, token, "r1", callers)
    with Timed([]) as release:
        broker.release(proposed, token, "r1")
    return {
        "pods": opts.pods,
        "contributions": got,
        "collect": collect,
        "release": release,
        "authority_cpu": authority_cpu[0],
        "journal_mb": (place / "broker.journal").stat().st_size / 1e6,
    }


def report(real: dict[str, Any], ceiling: dict[str, Any]) -> None:
    c, r = real["collect"], real["release"]
    print(
        f"\n{real['pods']} pods on {real['servers']} pod servers, agents in {real['agents']} "
        f"processes: {real['contributions']} contributions, {real['left_out']} left out "
        f"{real['left_out_reasons']}, cells released {real['cells']}"
    )
    print(
        "| phase | wall s | broker CPU s (this process) | pod servers CPU s | agents CPU s "
        "| in-process ceiling: wall s | CPU s |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    k = real["servers"]
    for name, mine, ceil in (
        ("collect", c, ceiling["collect"]),
        ("release", r, ceiling["release"]),
    ):
        print(
            f"| {name} | {mine.wall:.1f} | {mine.cpu:.1f} | {sum(mine.other_cpu[:k]):.1f} | "
            f"{sum(mine.other_cpu[k:]):.1f} | {ceil.wall:.1f} | {ceil.cpu:.1f} |"
        )
    print(
        f"| round | {c.wall + r.wall:.1f} | {c.cpu + r.cpu:.1f} | "
        f"{sum(c.other_cpu[:k]) + sum(r.other_cpu[:k]):.1f} | "
        f"{sum(c.other_cpu[k:]) + sum(r.other_cpu[k:]):.1f} | "
        f"{ceiling['collect'].wall + ceiling['release'].wall:.1f} | "
        f"{ceiling['collect'].cpu + ceiling['release'].cpu:.1f} |"
    )
    print(
        f"authority's share of release CPU: {real['authority_cpu']:.1f} s (ceiling "
        f"{ceiling['authority_cpu']:.1f} s); broker journal {real['journal_mb']:.0f} MB"
    )
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (2-core machine, shared)")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    roles = parser.add_subparsers(dest="role")
    h = roles.add_parser("host")
    for name in ("--root", "--study", "--broker", "--out"):
        h.add_argument(name, required=True)
    h.add_argument("--storage", default="")
    h.add_argument("--parties", action="store_true")
    for name in ("--port", "--first", "--count"):
        h.add_argument(name, type=int, required=True)
    a = roles.add_parser("agents")
    a.add_argument("--creds", required=True)
    a.add_argument("--out", required=True)
    a.add_argument("--port", type=int, required=True)
    parser.add_argument("-n", "--pods", type=int, default=10_000)
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--agents", type=int, default=2)
    parser.add_argument(
        "--postgres", default="", help="postgresql://... (no schema): odd servers on it"
    )
    parser.add_argument("--port", type=int, default=26100, help="first server's port")
    parser.add_argument("-p", "--parallel", type=int, default=64)
    opts = parser.parse_args()
    if opts.role == "host":
        return await host(opts)
    if opts.role == "agents":
        return await agents(opts)
    with tempfile.TemporaryDirectory(prefix="bench-commons-") as tmp:
        real = await on_servers(opts, Path(tmp))
        ceiling = await in_process(opts, Path(tmp))
    report(real, ceiling)


if __name__ == "__main__":
    asyncio.run(main())
