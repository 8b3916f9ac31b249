"""Browser tests: Debian's Chromium, driven by Playwright, against a real pod server.

Chromium is the one on PATH (``chromium``), never a browser Playwright downloads. Without
it or the ``playwright`` package these tests are skipped with the reason, except under CI
(the ``CI`` environment variable set), where they fail: CI installs both.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.conftest import free_socket
from tests.e2e.loopback import http

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

START_TIMEOUT = 30.0


def _missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(reason + " -- CI must provide it", pytrace=False)
    pytest.skip(reason)


@dataclass
class Server:
    """A ``pod-server serve --multiuser`` process on loopback."""

    base: str
    root: Path

    def url(self, path: str) -> str:
        return self.base + path.lstrip("/")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(tmp_path_factory) as running:
        yield running


@contextmanager
def serving(
    tmp_path_factory: pytest.TempPathFactory, extra: Callable[[str], list[str]] | None = None
) -> Iterator[Server]:
    """A server process; ``extra(base)``: more flags for ``serve``, given its base URL."""
    root = tmp_path_factory.mktemp("pod")
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()  # the server binds it again at once; nothing else here takes ports
    log = (root.parent / f"{root.name}.log").open("wb")
    command = [sys.executable, "-m", "pod_server.cli", "serve", "--multiuser"]
    command += ["--root", str(root / "data"), "--host", "127.0.0.1", "--port", str(port)]
    running = Server(f"http://127.0.0.1:{port}/", root)
    command += extra(running.base) if extra else []
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_until_up(running, process)
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_until_up(server: Server, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the pod server exited with {process.returncode}", pytrace=False)
        try:
            status, _, _ = http("GET", server.url(".well-known/openid-configuration"))
        except OSError:
            status = 0
        if status == 200:
            return
        time.sleep(0.2)
    pytest.fail(f"the pod server did not answer within {START_TIMEOUT} s", pytrace=False)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        _missing("no chromium on PATH (Debian: apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile: no cookies, as a new visitor."""
    fresh = browser.new_context()
    fresh.set_default_timeout(15_000)
    try:
        yield fresh
    finally:
        fresh.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


SCREENS = Path(__file__).resolve().parent / "screens"  # gitignored


@pytest.fixture(scope="session")
def screens() -> Path:
    """Where screenshots of every page go, to be looked at after a run: ``tests/e2e/screens``
    (gitignored), or ``POD_E2E_SCREENS``."""
    chosen = Path(os.environ.get("POD_E2E_SCREENS") or SCREENS)
    chosen.mkdir(parents=True, exist_ok=True)
    return chosen
