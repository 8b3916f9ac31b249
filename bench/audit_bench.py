"""Audited access: what the owner-readable audit log costs, with auditing on vs off.

    python bench/audit_bench.py [-c 16] [-d 8] [--rounds 2] [--storage postgresql://...]

Two accounts on one multi-user server: alice owns a pod and gives bob Read and Write on
her ``shared/`` container (an ordinary ACL rule). Bob's requests are not the owner's, so
every one of them is audited: his reads are logged durably before the response is sent
(batched commits), his writes in the same transaction as the write. The same scenarios
run against the same server with ``POD_AUDIT=0`` (nothing logged), alternating on/off
``--rounds`` times so machine noise hits both; the best of each is kept and the ratio
audited/unaudited printed (the target is >= 0.8). Both identities log in for real with
client credentials and DPoP; proofs are signed before each run. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for conformance/

from auth_bench import PASSWORD, ProofSigner
from loadgen import Request, run_load
from scenarios import SMALL_TTL, TURTLE
from servers import BENCH, Server, _spawn, free_port, wait_ready

from conformance.auth import Credentials, Login

PROOFS = 30_000  # per scenario: more than either run reaches in the measured seconds


def _users(env: dict[str, str]) -> dict[str, Credentials]:
    cmd = [sys.executable, "-m", "pod_server", "user"]
    found = {}
    for name in ("alice", "bob"):
        subprocess.run(
            [*cmd, "add", name, "--email", f"{name}@bench.invalid", "--password-file", "-"],
            input=PASSWORD.encode(),
            env=env,
            check=True,
            capture_output=True,
        )
        made = json.loads(
            subprocess.run(
                [*cmd, "credentials", name], env=env, check=True, capture_output=True
            ).stdout
        )
        found[name] = Credentials(
            made["client_id"], made["client_secret"], made["issuer"], made["webid"]
        )
    return found


def start(storage: str, audit: bool) -> tuple[Server, dict[str, Credentials]]:
    workdir = Path(tempfile.mkdtemp(prefix="bench-audit-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    env = {**os.environ, "POD_BASE_URL": base, "POD_MULTIUSER": "1", "POD_AUDIT": "1"}
    env["POD_ROOT"] = str(workdir / "root")  # the data, or on PostgreSQL the signing key
    if storage:  # a schema of its own for each server, so each starts empty
        joiner = "&" if "?" in storage else "?"
        env["POD_STORAGE"] = f"{storage}{joiner}schema=bench_audit_{port}"
    users = _users(env)
    argv = [sys.executable, "-m", "pod_server", "serve", "--host", "127.0.0.1"]
    argv += ["--port", str(port)]
    saved = dict(os.environ)
    os.environ.update({**env, "POD_AUDIT": "1" if audit else "0"})
    try:
        server = _spawn("ours-audit" if audit else "ours-no-audit", argv, base, workdir)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    wait_ready(server)
    return server, users


async def fixtures(users: dict[str, Credentials]) -> tuple[Login, str]:
    """Alice's shared container with bob's rule and one small document; bob's login."""
    alice, bob = Login(users["alice"]), Login(users["bob"])
    storage = users["alice"].webid.split("profile/card")[0]
    shared = storage + "shared/"
    acl = (
        "@prefix acl: <http://www.w3.org/ns/auth/acl#>.\n"
        f"<#owner> a acl:Authorization; acl:agent <{users['alice'].webid}>;\n"
        f"  acl:accessTo <{shared}>; acl:default <{shared}>;\n"
        "  acl:mode acl:Read, acl:Write, acl:Control.\n"
        f"<#bob> a acl:Authorization; acl:agent <{users['bob'].webid}>;\n"
        f"  acl:accessTo <{shared}>; acl:default <{shared}>; acl:mode acl:Read, acl:Write.\n"
    )
    async with aiohttp.ClientSession() as http:
        await alice.log_in(http)
        await bob.log_in(http)
        for url, body in ((shared + "small.ttl", SMALL_TTL), (shared + ".acl", acl.encode())):
            headers = {"Content-Type": TURTLE, **alice.headers("PUT", url)}
            async with http.put(url, data=body, headers=headers) as r:
                assert r.status in (201, 204, 205), f"fixture PUT {url}: {r.status}"
    return bob, shared


async def measure(
    server: Server, bob: Login, shared: str, seconds: float, concurrency: int
) -> dict[str, dict[str, object]]:
    signer = ProofSigner(bob)
    auth = f"DPoP {bob.token}"
    doc = shared + "small.ttl"
    path = "/" + doc.split("/", 3)[3]
    reads = [
        Request("GET", path, (("Accept", TURTLE), ("Authorization", auth), ("DPoP", p)))
        for p in (signer.proof("GET", doc) for _ in range(PROOFS))
    ]
    stamp = int(time.time() * 1000)
    targets = [f"{shared}w-{stamp}-{i % 64}.ttl" for i in range(PROOFS)]
    writes = [
        Request(
            "PUT",
            "/" + url.split("/", 3)[3],
            (("Content-Type", TURTLE), ("Authorization", auth), ("DPoP", signer.proof("PUT", url))),
            SMALL_TTL,
        )
        for url in targets
    ]
    out = {}
    for name, reqs in (("get-small-audited", reads), ("put-small-audited", writes)):
        warm = 500
        result = await run_load(
            server.base_url,
            lambda i, reqs=reqs: reqs[i],
            concurrency=concurrency,
            seconds=seconds,
            max_requests=PROOFS - warm - concurrency,
            warmup_seconds=1.0,
            warmup_requests=warm,
        )
        out[name] = result.as_dict()
    return out


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-c", "--concurrency", type=int, default=16)
    parser.add_argument("-d", "--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=2, help="on/off alternations")
    parser.add_argument(
        "--storage", default="", help="postgresql://... without a schema (default: files)"
    )
    args = parser.parse_args()
    best: dict[str, dict[str, dict[str, object]]] = {"on": {}, "off": {}}
    for _ in range(args.rounds):
        for mode in ("on", "off"):
            server, users = await asyncio.to_thread(start, args.storage, mode == "on")
            try:
                bob, shared = await fixtures(users)
                got = await measure(server, bob, shared, args.seconds, args.concurrency)
            finally:
                server.stop()
            for name, r in got.items():
                kept = best[mode].get(name)
                if kept is None or float(r["req_per_s"]) > float(kept["req_per_s"]):  # type: ignore[arg-type]
                    best[mode][name] = r
    print(
        "| scenario | audited req/s | p50 ms | p99 ms | errors | unaudited req/s | p50 ms |"
        " p99 ms | errors | audited/unaudited |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, on in best["on"].items():
        off = best["off"][name]
        ratio = float(on["req_per_s"]) / float(off["req_per_s"])  # type: ignore[arg-type]
        print(
            f"| {name} | {on['req_per_s']} | {on['p50_ms']} | {on['p99_ms']} | {on['errors']} |"
            f" {off['req_per_s']} | {off['p50_ms']} | {off['p99_ms']} | {off['errors']} |"
            f" {ratio:.2f} |"
        )
    results = BENCH / "results"
    results.mkdir(exist_ok=True)
    (results / f"audit-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(
        json.dumps({"storage": args.storage or "files", **best}, indent=2)
    )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
