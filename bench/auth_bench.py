"""Authenticated get-small: a 1 KB GET with WAC and a DPoP-bound token, ours vs the peer.

    python bench/auth_bench.py [--peer] [-c 16] [-d 10]

Ours runs in the multi-user layout with an open server root (so the open get-small runs
on the same server, for the "authenticated >= 70% of open" target) and an account alice
whose pod only she can read; the peer runs the Community Solid Server 7.2 with its
standard WAC + Solid-OIDC account configuration (conformance/peer/css-accounts.json).
Each identity logs in for real through its server's token endpoint (client credentials
with DPoP, the conformance suite's client). DPoP proofs are signed before the run, one
per request with a unique jti, so the generator measures the server and not its own
signing. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for conformance/

from loadgen import Request, run_load
from scenarios import SMALL_TTL, TURTLE
from servers import BENCH, PEER_BIN, Server, _spawn, ensure_peer, free_port, wait_ready

from conformance.auth import Credentials, Login
from conformance.peer.provision import provision

PASSWORD = "bench passphrase, long enough"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class ProofSigner:
    """Mints ES256 DPoP proofs quickly (cryptography directly, no JOSE library overhead)."""

    def __init__(self, login: Login) -> None:
        # Reuse the key the token is bound to (cnf.jkt): export it from the login's JWK.
        pem = login.key.export_to_pem(private_key=True, password=None)
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        self.key = load_pem_private_key(pem, password=None)
        public = login.key.export_public(as_dict=True)
        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": public}
        self.head = _b64(json.dumps(header, separators=(",", ":")).encode())
        self.ath = _b64(hashlib.sha256(login.token.encode()).digest())

    def proof(self, method: str, url: str) -> str:
        claims = {"htm": method, "htu": url, "iat": int(time.time()), "jti": str(uuid.uuid4())}
        claims["ath"] = self.ath
        body = _b64(json.dumps(claims, separators=(",", ":")).encode())
        signing_input = f"{self.head}.{body}".encode()
        der = self.key.sign(signing_input, ec.ECDSA(hashes.SHA256()))  # type: ignore[union-attr]
        r, s = decode_dss_signature(der)
        return f"{self.head}.{body}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def _env(root: Path, base: str) -> dict[str, str]:
    return {**os.environ, "POD_ROOT": str(root), "POD_BASE_URL": base, "POD_MULTIUSER": "1"}


async def start_ours_with_alice() -> tuple[Server, Credentials]:
    workdir = Path(tempfile.mkdtemp(prefix="bench-auth-ours-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    root = workdir / "root"
    env = _env(root, base)
    cmd = [sys.executable, "-m", "pod_server", "user"]
    subprocess.run(
        [*cmd, "add", "alice", "--email", "alice@bench.invalid", "--password-file", "-"],
        input=PASSWORD.encode(),
        env=env,
        check=True,
        capture_output=True,
    )
    made = json.loads(
        subprocess.run(
            [*cmd, "credentials", "alice"], env=env, check=True, capture_output=True
        ).stdout
    )
    argv = [
        sys.executable,
        "-m",
        "pod_server",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--root",
        str(root),
        "--base-url",
        base,
        "--multiuser",
        "--open",
    ]
    server = _spawn("ours", argv, base, workdir)
    await asyncio.to_thread(wait_ready, server)  # wait_ready runs its own event loop
    return server, Credentials(
        made["client_id"], made["client_secret"], made["issuer"], made["webid"]
    )


async def start_peer_with_alice() -> tuple[Server, Credentials]:
    ensure_peer()
    workdir = Path(tempfile.mkdtemp(prefix="bench-auth-peer-"))
    port = free_port()
    base = f"http://localhost:{port}/"  # CSS verifies WebIDs only over https or localhost
    config = BENCH.parent / "conformance" / "peer" / "css-accounts.json"
    argv = [
        "node",
        "--require",
        str(BENCH / "peer" / "loopback.js"),
        str(PEER_BIN),
        "-c",
        str(config),
        "-f",
        str(workdir / "root"),
        "-p",
        str(port),
        "-b",
        base,
        "-l",
        "warn",
    ]
    server = _spawn("peer", argv, base, workdir)
    await asyncio.to_thread(wait_ready, server)
    made = await provision(base, "alice")
    return server, Credentials(
        made["client_id"], made["client_secret"], made["issuer"], made["webid"]
    )


async def measure(
    server: Server, creds: Credentials, *, open_path: str | None, seconds: float, concurrency: int
) -> dict[str, dict[str, object]]:
    login = Login(creds)
    async with aiohttp.ClientSession() as http:
        await login.log_in(http)
        storage = creds.webid.split("profile/card")[0]
        doc = storage + "bench/small.ttl"
        async with http.put(
            doc, data=SMALL_TTL, headers={"Content-Type": TURTLE, **login.headers("PUT", doc)}
        ) as r:
            assert r.status in (201, 204, 205), f"fixture PUT: {r.status} {await r.text()}"
        if open_path is not None:
            async with http.put(
                server.base_url + open_path, data=SMALL_TTL, headers={"Content-Type": TURTLE}
            ) as r:
                assert r.status in (201, 204, 205), f"open fixture PUT: {r.status}"
    results: dict[str, dict[str, object]] = {}
    if open_path is not None:
        req = Request("GET", "/" + open_path, (("Accept", TURTLE),))
        plain = await run_load(
            server.base_url, lambda _i: req, concurrency=concurrency, seconds=seconds
        )
        results["get-small"] = plain.as_dict()
    signer = ProofSigner(login)
    count = 40_000 if open_path is not None else 6_000  # the peer will not get near 6,000 in 10 s
    path = "/" + doc.split("/", 3)[3]
    auth = f"DPoP {login.token}"
    started = time.time()
    proofs = [signer.proof("GET", doc) for _ in range(count)]
    print(f"  {count} proofs signed in {time.time() - started:.1f} s", file=sys.stderr)
    reqs = [
        Request("GET", path, (("Accept", TURTLE), ("Authorization", auth), ("DPoP", p)))
        for p in proofs
    ]
    warm = 1_000
    result = await run_load(
        server.base_url,
        lambda i: reqs[i],
        concurrency=concurrency,
        seconds=seconds,
        max_requests=count - warm - concurrency,
        warmup_seconds=1.0,
        warmup_requests=warm,
    )
    results["get-small-auth"] = result.as_dict()
    return results


def _row(name: str, r: dict[str, object]) -> str:
    return f"| {name} | {r['req_per_s']} | {r['p50_ms']} | {r['p99_ms']} | {r['errors']} |"


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--peer", action="store_true", help="also measure the peer")
    parser.add_argument("-c", "--concurrency", type=int, default=16)
    parser.add_argument("-d", "--seconds", type=float, default=10.0)
    args = parser.parse_args()
    out: dict[str, dict[str, dict[str, object]]] = {}
    server, creds = await start_ours_with_alice()
    try:
        out["ours"] = await measure(
            server,
            creds,
            open_path="bench/small.ttl",
            seconds=args.seconds,
            concurrency=args.concurrency,
        )
    finally:
        server.stop()
    if args.peer:
        server, creds = await start_peer_with_alice()
        try:
            out["peer"] = await measure(
                server, creds, open_path=None, seconds=args.seconds, concurrency=args.concurrency
            )
        finally:
            server.stop()
    print("| run | req/s | p50 ms | p99 ms | errors |\n| --- | --- | --- | --- | --- |")
    for who, results in out.items():
        for name, r in results.items():
            print(_row(f"{who} {name}", r))
    ours = out["ours"]
    print(
        f"\nours authenticated / ours open: "
        f"{float(ours['get-small-auth']['req_per_s']) / float(ours['get-small']['req_per_s']):.2f}"
    )  # type: ignore[arg-type]
    if "peer" in out:
        ratio = float(ours["get-small-auth"]["req_per_s"]) / float(
            out["peer"]["get-small-auth"]["req_per_s"]
        )  # type: ignore[arg-type]
        print(f"ours authenticated / peer authenticated: {ratio:.1f}")
    results_dir = BENCH / "results"
    results_dir.mkdir(exist_ok=True)
    (results_dir / f"auth-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(
        json.dumps(out, indent=2)
    )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
