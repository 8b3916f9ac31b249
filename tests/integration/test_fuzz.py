"""Property-based fuzzing of the HTTP surface of a running pod server (issue 15).

Hypothesis draws raw requests (tests/fuzz_strategies.py); each is sent unnormalised to a
server on loopback with an open single-user storage, on the file backend and on
PostgreSQL. For every request: no 5xx; no response shows the content of the sentinel
files that lie beside the storage root; a refused request (4xx), and any GET, HEAD or
OPTIONS, changes nothing (neither the target, by status, ETag and body, nor any resource
in the storage). After the run the server still answers, and nothing appeared outside
the root. ``--hypothesis-profile=long`` (registered in tests/conftest.py) runs longer;
see bench/fuzz.sh.
"""

from __future__ import annotations

import asyncio
import difflib
import secrets
import threading
import time
from collections.abc import AsyncIterator, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from pprint import pformat
from typing import Any, TypeVar

import aiohttp
import pytest
from hypothesis import event, given, settings
from yarl import URL

from pod_server.access.seed import root_acl
from pod_server.http.handlers import STORE
from pod_server.ldp import paths
from pod_server.ldp.conditions import Conditions
from pod_server.ldp.store import Body
from pod_server.storage.base import Backend
from tests.conftest import BACKENDS, FUZZ_REQUESTS, Pod, running_pod
from tests.fuzz_strategies import CURRENT_ETAG, SENTINEL_NAME, WRITES, Request, requests

T = TypeVar("T")

# The storage every example starts from (and returns to, as far as ACLs go).
SEED: tuple[tuple[str, str, bytes], ...] = (
    ("/f/", "text/turtle", b""),
    ("/f/doc.ttl", "text/turtle", b"<#a> <#b> <#c>."),
    ("/f/bin", "application/octet-stream", bytes(range(256))),
    ("/f/sub/", "text/turtle", b""),
    ("/f/sub/x.jsonld", "application/ld+json", b'{"@id": "#x", "http://example.org/p": 1}'),
    ("/f/doc.ttl.meta", "text/turtle", b"<doc.ttl> <#note> 1."),
)
CONTAINER_LINK = '<http://www.w3.org/ns/ldp#BasicContainer>; rel="type"'
ROOT_ACL = (root_acl(None, True) or "").encode()


class LiveServer:
    """A pod server and its client on an event loop in a thread of their own, so the
    synchronous Hypothesis test drives them one request at a time."""

    def __init__(self, root: Path, backend: Backend, token: str) -> None:
        self.root = root
        self.token = token  # the sentinels' content: no response may show it
        self.backend = backend
        self.sent = 0  # every request, the checks' own included
        self.drawn = 0  # the requests Hypothesis drew
        self.log: list[Any] = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self._pod_cm = running_pod(root, backend)
        self.pod: Pod = self.run(self._pod_cm.__aenter__())

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        try:
            self.run(self._pod_cm.__aexit__(None, None, None))
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()

    async def send(
        self,
        method: str,
        raw_path: str,
        headers: Any = (),
        body: bytes | None = None,
        chunked: bool = False,
    ) -> tuple[int, dict[str, str], bytes]:
        """One request exactly as given: no path normalisation, no added Content-Type."""
        self.sent += 1
        data: Any = body
        if chunked and body is not None:
            data = _chunks(body)
        self.log.append((time.time(), method, raw_path, list(headers), (body or b"")[:200]))
        del self.log[:-8]
        url = URL(self.pod.base.rstrip("/") + raw_path, encoded=True)
        async with self.pod.session.request(
            method,
            url,
            headers=list(headers),
            data=data,
            skip_auto_headers=("Content-Type", "Accept", "Accept-Encoding", "User-Agent"),
            allow_redirects=False,
        ) as r:
            return r.status, dict(r.headers), await r.read()

    async def snapshot(self, raw_path: str) -> tuple[int, str | None, bytes]:
        status, hdrs, body = await self.send("GET", raw_path)
        return status, hdrs.get("ETag"), body

    async def tree(self) -> dict[str, tuple[str, int, str]]:
        """Every resource in the storage, read from the backend: path -> (etag, size, type).
        Auxiliary resources are listed among the children of their container."""
        out: dict[str, tuple[str, int, str]] = {}
        root = await self.backend.meta("/")
        todo = [] if root is None else [root]
        while todo:
            meta = todo.pop()
            out[meta.path] = (meta.etag, meta.size, meta.content_type)
            if meta.is_container:
                todo.extend(await self.backend.children(meta.path))
        return out

    async def restore_access(self) -> None:
        """Undo what a successful write did to ACLs, so one example cannot lock the rest
        out: the root ACL back as seeded, every other ACL gone (the store is used
        directly, below access control)."""
        assert self.pod.app is not None
        store = self.pod.app[STORE]
        acls = [p for p in await self.tree() if p.endswith(paths.ACL_SUFFIX) and p != "/.acl"]
        for acl in acls:
            await store.delete(acl, Conditions())
        current = b""
        if await self.backend.meta("/.acl") is not None:
            stored = await self.backend.read("/.acl")
            try:
                current = await stored.read_all()
            finally:
                stored.close()
        if current != ROOT_ACL:
            await store.put("/.acl", _body(ROOT_ACL, "text/turtle"), Conditions())

    async def seed(self) -> None:
        for path, media, data in SEED:
            headers = [("Content-Type", media)]
            if path.endswith("/"):
                headers.append(("Link", CONTAINER_LINK))
            status, _, _ = await self.send("PUT", path, headers, data or None)
            assert status in (201, 204), (path, status)


async def _chunks(data: bytes, size: int = 100) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def _body(data: bytes, media: str) -> Body:
    return Body(media, _chunks(data), len(data), media)


@dataclass
class Fuzzed:
    server: LiveServer
    root: Path
    sentinels: dict[Path, str]  # beside the root: path -> content


@pytest.fixture(scope="module", params=["file", "postgres"])
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Fuzzed]:
    """One server for all examples of a storage, so state builds up as a client's would."""
    # The storage root is a subdirectory; sentinels lie beside it, where no request may reach.
    base = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    token = f"SENTINEL-{secrets.token_hex(8)}"
    sentinels = {base / name: token for name in (SENTINEL_NAME, "storage.acl", "f")}
    for file, content in sentinels.items():
        file.write_text(content)
    root = base / "storage"
    root.mkdir()
    server = LiveServer(root, BACKENDS[request.param](root), token)
    try:
        server.run(server.seed())
        yield Fuzzed(server, root, sentinels)
    finally:
        server.close()
        counts = request.config.stash.setdefault(FUZZ_REQUESTS, {})
        drawn, sent = counts.get(request.param, (0, 0))
        counts[request.param] = (drawn + server.drawn, sent + server.sent)


def _headers(req: Request, etag: str | None) -> list[tuple[str, str]]:
    """The drawn headers, with the target's current ETag put in where asked for."""
    tag = etag or '"none"'
    return [(k, v.replace(CURRENT_ETAG, tag)) for k, v in req.headers]


async def _check(server: LiveServer, req: Request) -> int:
    """Send one drawn request and check the properties; its status."""
    server.drawn += 1
    before = await server.snapshot(req.path)
    tree_before = await server.tree()
    try:
        headers = _headers(req, before[1])
        status, _, body = await server.send(req.method, req.path, headers, req.body, req.chunked)
    except aiohttp.ClientResponseError as err:
        # aiohttp's HTTP parser refuses a request line or header past its limits (8190 bytes)
        # before any of our code runs, with a 400 that has a body even for HEAD, which the
        # client then cannot read. Anything else is a failure.
        if req.method.upper() != "HEAD" or err.status != 400:
            raise
        status, body = err.status, b""
    recent = "\nlast requests:\n" + pformat(server.log)
    assert status < 500, (status, body[:500])
    assert server.token.encode() not in body
    if req.method.upper() in ("GET", "HEAD", "OPTIONS") or 400 <= status < 500:
        after = await server.snapshot(req.path)
        assert after == before, _diff(before, after) + recent
        tree_after = await server.tree()
        assert tree_after == tree_before, _diff(tree_before, tree_after) + recent
    if req.method.upper() in WRITES and 200 <= status < 300:
        await server.restore_access()
    return status


def _diff(before: Any, after: Any) -> str:
    """What changed, line by line, for the failure message."""
    lines = difflib.unified_diff(
        pformat(before).splitlines(), pformat(after).splitlines(), lineterm=""
    )
    return "\n".join(lines)


# Real round trips: about 50 ms an example on PostgreSQL, so the limit follows the profile.
@pytest.mark.timeout(120 + settings.default.max_examples)
@given(req=requests())
def test_requests_fail_cleanly_and_stay_inside(live: Fuzzed, req: Request) -> None:
    status = live.server.run(_check(live.server, req))
    event(f"{req.method.upper()} {status // 100}xx")  # --hypothesis-show-statistics


def test_after_fuzzing_it_answers_and_nothing_is_outside_the_root(live: Fuzzed) -> None:
    """Runs after the fuzz test on the same server (module fixture, file order)."""
    status, _, _ = live.server.run(live.server.send("GET", "/"))
    assert status == 200
    base = live.root.parent
    outside = {p for p in base.rglob("*") if live.root not in p.parents and p != live.root}
    assert outside == set(live.sentinels)
    for file, content in live.sentinels.items():
        assert file.read_text() == content
