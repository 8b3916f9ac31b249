"""Fixtures shared by every test package."""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from hypothesis import settings
from yarl import URL

from pod_server.app import create_app, open_backend
from pod_server.settings import Settings, with_env
from pod_server.storage.base import Backend
from pod_server.storage.file import FileBackend
from pod_server.storage.memory import MemoryBackend
from tests.unit.storage.pg_support import postgres_backend, schema_for, session_dsn

# Hypothesis profiles (tests/integration/test_fuzz.py). "ci", the default, is bounded and
# derandomized so every run draws the same examples; "long" (--hypothesis-profile=long,
# see bench/fuzz.sh) explores afresh and keeps failures in .hypothesis/ to replay them.
settings.register_profile(
    "ci", max_examples=400, deadline=None, derandomize=True, database=None, print_blob=True
)
settings.register_profile(
    "long",
    max_examples=int(os.environ.get("POD_FUZZ_EXAMPLES", "20000")),
    deadline=None,
    print_blob=True,
)
settings.load_profile("ci")

# Requests the fuzz tests drew and sent in all (checks included), per backend.
FUZZ_REQUESTS = pytest.StashKey[dict[str, tuple[int, int]]]()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    counts = config.stash.get(FUZZ_REQUESTS, {})
    if counts:
        each = ", ".join(f"{name}: {drawn}" for name, (drawn, _) in sorted(counts.items()))
        drawn = sum(d for d, _ in counts.values())
        sent = sum(s for _, s in counts.values())
        terminalreporter.write_line(
            f"fuzz: {drawn} generated requests ({each}); {sent} sent with the checks' own"
        )


BACKENDS: dict[str, Callable[[Path], Backend]] = {
    "file": lambda root: FileBackend(root),
    "memory": lambda root: MemoryBackend(),
    # A schema per root in a per-session database; skips without PostgreSQL (fails in CI).
    "postgres": postgres_backend,
}


@dataclass
class Pod:
    """A running pod server on loopback and an HTTP client pointed at it."""

    base: str
    session: aiohttp.ClientSession
    root: Path
    app: web.Application | None = None

    def url(self, path: str) -> str:
        return self.base + path.lstrip("/")

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """``path`` is sent exactly as written (no client-side normalisation)."""
        url = URL(self.url(path), encoded=True) if "%" in path or ".." in path else self.url(path)
        return self.session.request(method, url, **kwargs)

    async def put(self, path: str, body: str | bytes, ctype: str = "text/turtle", **kw: Any) -> int:
        async with self.request("PUT", path, data=body, headers={"Content-Type": ctype, **kw}) as r:
            return r.status


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@asynccontextmanager
async def running_pod(
    root: Path,
    backend: Backend,
    settings: Settings | None = None,
    sock: socket.socket | None = None,
) -> AsyncIterator[Pod]:
    sock = sock or free_socket()
    port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}/"
    # Storage-core tests run against an open server; access tests pass their own settings.
    settings = replace(settings or Settings(open=True), root=root, port=port, base_url=base)
    # Notification tests tune the server through POD_NOTIFY_* as a host would: read them.
    settings = with_env(settings, os.environ, prefix="notify_")
    app = create_app(settings, backend)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    try:
        async with aiohttp.ClientSession() as session:
            yield Pod(base, session, root, app)
    finally:
        await runner.cleanup()


def deployed(kind: str, root: Path, settings: Settings) -> tuple[Settings, Backend]:
    """``settings`` pointed at the storage ``kind`` ("file" or "postgres") names, and a
    backend for it. On PostgreSQL everything lives there (identity provider state and
    notifications too), as a deployment has it; servers made with the same ``root``
    share one schema, like processes (or hosts) of one deployment."""
    if kind == "file":
        return settings, FileBackend(root)
    url = f"{session_dsn()}?schema={schema_for(str(root))}"
    settings = replace(settings, storage=url)
    return settings, open_backend(settings)


@pytest.fixture(params=["file", "postgres"])
def storage(request: pytest.FixtureRequest) -> str:
    """The deployable storages, for tests of a whole deployment (see ``deployed``)."""
    return str(request.param)


@pytest.fixture(params=sorted(BACKENDS))
def backend_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def pod(tmp_path: Path, backend_name: str) -> AsyncIterator[Pod]:
    async with running_pod(tmp_path, BACKENDS[backend_name](tmp_path)) as running:
        yield running
