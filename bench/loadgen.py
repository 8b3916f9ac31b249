"""A small asyncio HTTP/1.1 load generator for loopback servers only.

Each of ``concurrency`` workers owns one keep-alive connection and sends requests back
to back (closed loop). A run is a warm-up followed by a measured phase; both stop at a
deadline or after a request budget, whichever comes first. Requests come from a
factory ``(seq) -> Request`` so a scenario can vary URLs and bodies per request.

The default client speaks HTTP/1.1 over raw asyncio streams with a minimal response
parser (Content-Length, chunked, or read-to-close). An aiohttp-based client is kept for
comparison (``--client aiohttp``); the raw one is faster, see bench/README.md.

CLI, for a quick look at one URL:  python bench/loadgen.py http://127.0.0.1:8080/
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import socket
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


class NotLoopbackError(ValueError):
    """Raised for any target outside 127.0.0.0/8 and ::1."""


@dataclass(frozen=True)
class Target:
    """Where requests go: a loopback address resolved once, plus the Host header."""

    host: str  # numeric address we connect to
    port: int
    host_header: str
    base_path: str  # path prefix of the base URL, always ending in "/"

    @property
    def origin(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


def loopback_target(url: str) -> Target:
    """Parse ``url`` and refuse it unless every address it names is loopback."""
    parts = urlsplit(url)
    if parts.scheme != "http":
        raise NotLoopbackError(f"only plain http:// loopback targets are allowed: {url!r}")
    name = parts.hostname or ""
    if name.lower() in LOOPBACK_NAMES:
        # Resolve, but still check: a tampered hosts file must not send us elsewhere.
        infos = socket.getaddrinfo(name, parts.port or 80, type=socket.SOCK_STREAM)
        addrs = [str(info[4][0]) for info in infos]
    else:
        addrs = [name]
    for addr in addrs:
        try:
            ok = ipaddress.ip_address(addr).is_loopback
        except ValueError:
            ok = False
        if not ok:
            raise NotLoopbackError(f"refusing non-loopback target {url!r} ({addr})")
    host_header = parts.netloc.rsplit("@", 1)[-1]
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return Target(addrs[0], parts.port or 80, host_header, path)


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # absolute path, e.g. "/bench/small.ttl"
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


Factory = Callable[[int], Request]
Sender = Callable[[Request], Awaitable[tuple[int, int]]]  # -> (status, body bytes)


class ProtocolError(Exception):
    """The server's bytes did not parse as an HTTP/1.1 response."""


# --------------------------------------------------------------------------- raw client


def encode_request(target: Target, req: Request) -> bytes:
    lines = [f"{req.method} {req.path} HTTP/1.1", f"Host: {target.host_header}"]
    lines += [f"{k}: {v}" for k, v in req.headers]
    if req.body or req.method in ("PUT", "POST", "PATCH"):
        lines.append(f"Content-Length: {len(req.body)}")
    head = "\r\n".join(lines) + "\r\n\r\n"
    return head.encode("latin-1") + req.body


async def read_response(reader: asyncio.StreamReader, method: str) -> tuple[int, bool, int]:
    """Read one response; return (status, keep_alive, body bytes). The body is dropped."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status_line = lines[0].split(" ", 2)
    if len(status_line) < 2 or not status_line[0].startswith("HTTP/1."):
        raise ProtocolError(f"bad status line {lines[0][:80]!r}")
    status = int(status_line[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
    keep_alive = headers.get("connection", "").lower() != "close" and status_line[0] != "HTTP/1.0"
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return status, keep_alive, 0
    if "chunked" in headers.get("transfer-encoding", "").lower():
        size = await read_chunked(reader)
    elif "content-length" in headers:
        size = len(await reader.readexactly(int(headers["content-length"])))
    else:  # no framing: the body runs to the end of the connection
        size = len(await reader.read())
        keep_alive = False
    return status, keep_alive, size


async def read_chunked(reader: asyncio.StreamReader) -> int:
    total = 0
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers, then blank line
                pass
            return total
        await reader.readexactly(size + 2)  # chunk data + CRLF
        total += size


class RawConnection:
    """One keep-alive connection; reconnects lazily after a close or an error."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(self, req: Request) -> tuple[int, int]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(
                self.target.host, self.target.port, limit=1 << 20
            )
        assert self.reader is not None
        try:
            self.writer.write(encode_request(self.target, req))
            status, keep_alive, size = await read_response(self.reader, req.method)
        except BaseException:
            self.close()
            raise
        if not keep_alive:
            self.close()
        return status, size

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class RawClient:
    def __init__(self, target: Target) -> None:
        self.target = target
        self.conns: list[RawConnection] = []

    def sender(self) -> Sender:
        conn = RawConnection(self.target)
        self.conns.append(conn)
        return conn.send

    async def close(self) -> None:
        for conn in self.conns:
            conn.close()


# ----------------------------------------------------------------------- aiohttp client


class AiohttpClient:
    """Same interface over aiohttp, kept to show the raw client is the faster one."""

    def __init__(self, target: Target, concurrency: int) -> None:
        import aiohttp  # only needed for this client

        self.target = target
        connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
        self.session = aiohttp.ClientSession(
            connector=connector, auto_decompress=False, skip_auto_headers=("User-Agent",)
        )

    def sender(self) -> Sender:
        async def send(req: Request) -> tuple[int, int]:
            async with self.session.request(
                req.method,
                self.target.origin + req.path,
                headers={"Host": self.target.host_header, **dict(req.headers)},
                data=req.body or None,
                allow_redirects=False,
            ) as resp:
                return resp.status, len(await resp.read())

        return send

    async def close(self) -> None:
        await self.session.close()


Client = RawClient | AiohttpClient


def make_client(kind: str, target: Target, concurrency: int) -> Client:
    return AiohttpClient(target, concurrency) if kind == "aiohttp" else RawClient(target)


# ----------------------------------------------------------------------------- running


@dataclass
class Result:
    requests: int  # completed attempts, including errors
    ok: int
    errors: int
    seconds: float
    req_per_s: float  # successful responses per second
    p50_ms: float
    p99_ms: float
    first_errors: list[str]  # the first few error statuses / exception names
    error_kinds: dict[str, int]
    client_cpu: float  # generator CPU time / wall time; near 1.0 means it is the limit
    body_bytes: int  # mean response body size of successful requests

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class _Tally:
    latencies: list[float] = field(default_factory=list)  # of successful requests
    errors: Counter[str] = field(default_factory=Counter)
    first_errors: list[str] = field(default_factory=list)
    body_bytes: int = 0  # of successful responses: a sanity check on what came back

    def error(self, kind: str) -> None:
        self.errors[kind] += 1
        if len(self.first_errors) < 5:
            self.first_errors.append(kind)


class _Seq:
    """Shared request counter; keeps numbering across warm-up and measurement."""

    def __init__(self) -> None:
        self.next = 0


async def _worker(
    send: Sender,
    factory: Factory,
    seq: _Seq,
    last: int,
    deadline: float,
    tally: _Tally,
) -> None:
    clock = time.perf_counter
    while seq.next < last and clock() < deadline:
        req = factory(seq.next)
        seq.next += 1
        start = clock()
        try:
            status, size = await send(req)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            tally.error(type(exc).__name__)
            await asyncio.sleep(0.01)  # don't spin on a dead server
            continue
        except Exception as exc:  # aiohttp's errors and ProtocolError; still an error
            tally.error(type(exc).__name__)
            continue
        if 200 <= status < 400:
            tally.latencies.append(clock() - start)
            tally.body_bytes += size
        else:
            tally.error(str(status))


async def _phase(
    senders: list[Sender],
    factory: Factory,
    seq: _Seq,
    seconds: float,
    max_requests: int,
) -> tuple[_Tally, float, float]:
    tally = _Tally()
    start = time.perf_counter()
    cpu0 = time.process_time()
    last = seq.next + max_requests
    workers = [
        asyncio.create_task(_worker(s, factory, seq, last, start + seconds, tally)) for s in senders
    ]
    # Requests in flight at the deadline may finish; a hung one is cancelled after a grace.
    done, pending = await asyncio.wait(workers, timeout=seconds + 30)
    for task in pending:
        task.cancel()
        tally.error("Timeout")
    for task in done:
        task.result()  # surface bugs in the worker itself
    wall = time.perf_counter() - start
    return tally, wall, (time.process_time() - cpu0) / wall if wall else 0.0


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, round(q * (len(sorted_values) - 1)))
    return sorted_values[index] * 1000


async def run_load(
    url: str,
    factory: Factory,
    *,
    concurrency: int = 16,
    seconds: float = 10.0,
    max_requests: int = 1_000_000,
    warmup_seconds: float = 2.0,
    warmup_requests: int = 100_000,
    client: str = "raw",
) -> Result:
    """Warm up, then measure ``factory``'s requests against the loopback ``url``."""
    target = loopback_target(url)
    conn = make_client(client, target, concurrency)
    try:
        senders = [conn.sender() for _ in range(concurrency)]
        seq = _Seq()
        if warmup_seconds > 0 and warmup_requests > 0:
            await _phase(senders, factory, seq, warmup_seconds, warmup_requests)
        tally, wall, cpu = await _phase(senders, factory, seq, seconds, max_requests)
    finally:
        await conn.close()
    lat = sorted(tally.latencies)
    n_err = sum(tally.errors.values())
    return Result(
        requests=len(lat) + n_err,
        ok=len(lat),
        errors=n_err,
        seconds=round(wall, 3),
        req_per_s=round(len(lat) / wall, 1) if wall else 0.0,
        p50_ms=round(_percentile(lat, 0.50), 2),
        p99_ms=round(_percentile(lat, 0.99), 2),
        first_errors=tally.first_errors,
        error_kinds=dict(tally.errors),
        client_cpu=round(cpu, 2),
        body_bytes=tally.body_bytes // len(lat) if lat else 0,
    )


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="GET one loopback URL under load.")
    parser.add_argument("url")
    parser.add_argument("-c", "--concurrency", type=int, default=16)
    parser.add_argument("-d", "--seconds", type=float, default=5.0)
    parser.add_argument("-n", "--max-requests", type=int, default=1_000_000)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--client", choices=("raw", "aiohttp"), default="raw")
    parser.add_argument("-H", "--header", action="append", default=[], help="'Name: value'")
    args = parser.parse_args(argv)
    try:
        loopback_target(args.url)  # fail early, with a plain message
    except NotLoopbackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    path = urlsplit(args.url).path or "/"
    headers = tuple(tuple(h.split(":", 1)) for h in args.header)
    req = Request("GET", path, tuple((k.strip(), v.strip()) for k, v in headers))
    result = asyncio.run(
        run_load(
            args.url,
            lambda _i: req,
            concurrency=args.concurrency,
            seconds=args.seconds,
            max_requests=args.max_requests,
            warmup_seconds=args.warmup,
            client=args.client,
        )
    )
    for key, value in result.as_dict().items():
        print(f"{key:12} {value}")
    return 0 if result.errors == 0 else 1


if __name__ == "__main__":
    sys.exit(_main())
