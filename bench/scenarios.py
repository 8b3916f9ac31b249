"""Benchmark scenarios: fixtures to create first, and a request factory for each.

Everything lives under ``<base>/bench/`` and is created with plain HTTP PUTs, so the same
setup works on any Solid server with open access (ours, the peer). ``ceiling`` needs no
fixtures: it runs against bench/ceiling.py, which answers every path.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from loadgen import Factory, Request, Result, run_load

TURTLE = "text/turtle"
N_CHILDREN = 1_000  # list-container's size
N_PUT_SLOTS = 64  # put-small rotates over these documents, see _put_small()


def turtle_doc(size: int, triples: int) -> bytes:
    """Valid Turtle of exactly ``size`` bytes (relative IRIs, so any base works)."""
    head = "@prefix ex: <http://example.org/ns#>.\n<#doc> a ex:Doc;\n"
    tail = '  ex:pad "'
    body = head + "".join(f"  ex:p{i} <#o{i}>;\n" for i in range(triples)) + tail
    filler = size - len(body.encode()) - len('".\n')
    assert filler > 0
    return (body + "x" * filler + '".\n').encode()


SMALL_TTL = turtle_doc(1024, triples=10)
CHILD_TTL = turtle_doc(200, triples=2)
BINARY = bytes(range(256)) * 400  # 102,400 bytes


def bank_month() -> bytes:
    """About 300 transactions (180 KB of Turtle) from vocab/, with the canonical vocabulary
    IRIs: the shapes validate those on every server (CONSTRAINED_META names the local copy)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from vocab.bank_month import generate

    return generate(300).encode()


CONSTRAINED_META = b"<./> <http://www.w3.org/ns/ldp#constrainedBy> <../../vocab/bank/shapes>.\n"


def n3_insert_patch(value: str) -> bytes:
    return (
        "@prefix solid: <http://www.w3.org/ns/solid/terms#>. "
        f'_:p a solid:InsertDeletePatch; solid:inserts {{ <#s> <#p> "{value}" . }}.'
    ).encode()


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    fixtures: tuple[str, ...]  # names of FIXTURES entries this scenario needs
    make_factory: Callable[[str, str], Factory]  # (path prefix, run token) -> factory
    ours_only: bool = False  # measures a feature the peer does not have


def _get(path: str, accept: str) -> Callable[[str, str], Factory]:
    def make(prefix: str, _token: str) -> Factory:
        req = Request("GET", prefix + path, (("Accept", accept),))
        return lambda _i: req

    return make


def _put_small(prefix: str, _token: str) -> Factory:
    # Overwrite a rotating set of existing documents: the steady-state cost of an update,
    # without 16 workers queuing on one resource's lock, and without the pod growing.
    reqs = [
        Request("PUT", f"{prefix}bench/put/d{i}.ttl", (("Content-Type", TURTLE),), SMALL_TTL)
        for i in range(N_PUT_SLOTS)
    ]
    return lambda i: reqs[i % N_PUT_SLOTS]


def _post_container(prefix: str, token: str) -> Factory:
    # A new resource per request; the token keeps Slugs unique across runs.
    path = prefix + "bench/posts/"

    def make(i: int) -> Request:
        headers = (("Content-Type", TURTLE), ("Slug", f"p-{token}-{i}"))
        return Request("POST", path, headers, SMALL_TTL)

    return make


def _post_month(container: str) -> Callable[[str, str], Factory]:
    def make(prefix: str, token: str) -> Factory:
        path = f"{prefix}bench/{container}/"
        body = _month()

        def request(i: int) -> Request:
            headers = (("Content-Type", TURTLE), ("Slug", f"m-{token}-{i}"))
            return Request("POST", path, headers, body)

        return request

    return make


@cache
def _month() -> bytes:
    return bank_month()


def _patch_n3(prefix: str, token: str) -> Factory:
    # Each patch inserts one triple no earlier patch inserted, so every one is a real write.
    path = prefix + "bench/patch.ttl"
    headers = (("Content-Type", "text/n3"),)
    return lambda i: Request("PATCH", path, headers, n3_insert_patch(f"{token}-{i}"))


def _patch_distinct(prefix: str, token: str) -> Factory:
    # The same patch as patch-n3, rotating over 64 documents as put-small does: with 16
    # workers each request's document is one no other request in flight is patching, so
    # this measures the patch path itself rather than queuing on one resource's lock.
    headers = (("Content-Type", "text/n3"),)

    def make(i: int) -> Request:
        path = f"{prefix}bench/patches/d{i % N_PUT_SLOTS}.ttl"
        return Request("PATCH", path, headers, n3_insert_patch(f"{token}-{i}"))

    return make


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in [
        Scenario(
            "get-small", "GET a 1 KB Turtle document", ("small",), _get("bench/small.ttl", TURTLE)
        ),
        Scenario(
            "get-binary",
            "GET a 100 KB application/octet-stream document",
            ("binary",),
            _get("bench/binary.bin", "application/octet-stream"),
        ),
        Scenario(
            "put-small", "PUT 1 KB Turtle over one of 64 existing documents", ("put",), _put_small
        ),
        Scenario(
            "post-container",
            "POST 1 KB Turtle to a container with a unique Slug",
            ("posts",),
            _post_container,
        ),
        Scenario(
            "patch-n3",
            "N3 Patch inserting one unique triple into a document",
            ("patch",),
            _patch_n3,
        ),
        Scenario(
            "patch-distinct",
            "N3 Patch inserting one unique triple, rotating over 64 documents",
            ("patches",),
            _patch_distinct,
        ),
        Scenario(
            "list-container",
            f"GET a container holding {N_CHILDREN:,} children as Turtle",
            ("list",),
            _get("bench/list/", TURTLE),
        ),
        Scenario(
            "conneg-jsonld",
            "GET the 1 KB Turtle document as JSON-LD (Accept: application/ld+json)",
            ("small",),
            _get("bench/small.ttl", "application/ld+json"),
        ),
        Scenario(
            "ceiling", "bare aiohttp handler returning 1 KB (bench/ceiling.py)", (), _get("", "*/*")
        ),
        # Ours only (the peer validates nothing): the cost of SHACL validation on write.
        Scenario(
            "post-month",
            "POST a 300-transaction bank month (180 KB Turtle) to a plain container",
            ("months",),
            _post_month("months"),
        ),
        Scenario(
            "post-validated",
            "POST the same month to a container constrained by the bank shapes",
            ("validated",),
            _post_month("validated"),
            ours_only=True,
        ),
    ]
}


# ---------------------------------------------------------------------------- fixtures


def _puts(paths: list[str], ctype: str, body: bytes) -> Factory:
    reqs = [Request("PUT", p, (("Content-Type", ctype),), body) for p in paths]
    return lambda i: reqs[i]


FIXTURES: dict[str, Callable[[str], tuple[Factory, int]]] = {
    # name -> (prefix -> (factory, number of PUTs))
    "small": lambda pre: (_puts([pre + "bench/small.ttl"], TURTLE, SMALL_TTL), 1),
    "binary": lambda pre: (
        _puts([pre + "bench/binary.bin"], "application/octet-stream", BINARY),
        1,
    ),
    "put": lambda pre: (
        _puts([f"{pre}bench/put/d{i}.ttl" for i in range(N_PUT_SLOTS)], TURTLE, SMALL_TTL),
        N_PUT_SLOTS,
    ),
    # A seed child makes the server create the container itself (intermediate containers
    # on PUT are required by the Solid Protocol; PUT on a container URL is less uniform).
    "posts": lambda pre: (_puts([pre + "bench/posts/seed.ttl"], TURTLE, CHILD_TTL), 1),
    # Re-PUT each run, so the patch target starts small every time.
    "patch": lambda pre: (_puts([pre + "bench/patch.ttl"], TURTLE, b"<#s> <#p> 0 .\n"), 1),
    "patches": lambda pre: (
        _puts(
            [f"{pre}bench/patches/d{i}.ttl" for i in range(N_PUT_SLOTS)],
            TURTLE,
            b"<#s> <#p> 0 .\n",
        ),
        N_PUT_SLOTS,
    ),
    "months": lambda pre: (_puts([pre + "bench/months/seed.ttl"], TURTLE, CHILD_TTL), 1),
    "validated": lambda pre: (
        _puts([pre + "bench/validated/.meta"], TURTLE, CONSTRAINED_META),
        1,
    ),
    "list": lambda pre: (
        _puts([f"{pre}bench/list/c{i:04}.ttl" for i in range(N_CHILDREN)], TURTLE, CHILD_TTL),
        N_CHILDREN,
    ),
}


async def setup(base_url: str, prefix: str, names: set[str], concurrency: int = 16) -> None:
    """PUT the named fixtures, ``concurrency`` at a time; raise if any PUT fails."""
    for name in sorted(names):
        factory, count = FIXTURES[name](prefix)
        # The first PUT goes alone so that it, not 16 racing ones, creates the containers.
        await _put_all(base_url, name, factory, 1, 1)
        if count > 1:
            await _put_all(base_url, name, _skip_first(factory), count - 1, concurrency)


def _skip_first(factory: Factory) -> Factory:
    return lambda i: factory(i + 1)


async def _put_all(base_url: str, name: str, factory: Factory, count: int, conc: int) -> None:
    result: Result = await run_load(
        base_url,
        factory,
        concurrency=min(conc, count),
        seconds=300,
        max_requests=count,
        warmup_seconds=0,
    )
    if result.errors or result.ok != count:
        raise RuntimeError(
            f"fixture {name!r}: {result.errors} of {count} PUTs failed, "
            f"first: {result.first_errors}"
        )


def new_token() -> str:
    return secrets.token_hex(4)
