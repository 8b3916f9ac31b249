"""Inrupt's JavaScript SDKs, the most used Solid clients, against our server.

Skipped where Node or the packages are missing; never in CI, which installs them
(``.ci/run`` runs ``npm ci`` in tests/js).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path

import pytest

from pod_server.http.handlers import STORE
from pod_server.pods.hosting import add_user, user_credentials
from pod_server.settings import Settings
from pod_server.state import DB_NAME, SqliteState
from pod_server.storage.file import FileBackend
from tests.conftest import running_pod

JS = Path(__file__).parent.parent / "js"


def _missing() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed"
    for package in ("solid-client", "solid-client-authn-node", "solid-client-notifications"):
        if not (JS / "node_modules" / "@inrupt" / package).is_dir():
            return "run `npm ci` in tests/js to install the Inrupt SDKs"
    return None


@pytest.fixture
def node_ready() -> None:
    reason = _missing()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the JavaScript SDK test: {reason}")
        pytest.skip(reason)


async def test_inrupt_sdks_log_in_read_write_and_share(tmp_path: Path, node_ready: None) -> None:
    settings = Settings(multiuser=True)
    async with running_pod(tmp_path, FileBackend(tmp_path), settings) as pod:
        store = pod.app[STORE]  # type: ignore[index]
        async with SqliteState(tmp_path / DB_NAME) as state:
            user = await add_user(store, state, "alice", "alice@example.org", "a long passphrase")
            made = await user_credentials(store, state, "alice", "node sdk")
        proc = await asyncio.create_subprocess_exec(
            "node",
            str(JS / "sdk_check.mjs"),
            made["issuer"],
            made["client_id"],
            made["client_secret"],
            made["pod"],
            cwd=JS,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()[-2000:]
    result = json.loads(out.decode().strip().splitlines()[-1])
    assert result["loggedIn"] is True and result["webId"] == user.webid
    assert result["nameAfterCreate"] == "Alice"
    assert result["nameAfterUpdate"] == "Alice B"
    assert result["fileText"] == "hello pod"
    assert result["contained"] == [
        pod.url("/alice/sdk/hello.txt"),
        pod.url("/alice/sdk/profile.ttl"),
    ]
    assert result["publicAccess"]["read"] is True
    assert result["anonymousRead"] == 200
    assert result["afterDelete"] == 404


async def test_inrupt_notifications_sdk_discovers_the_websocket_by_itself(
    tmp_path: Path, node_ready: None
) -> None:
    """WebsocketNotification.connect() with no endpoint: from the topic's origin's
    /.well-known/solid (a multi-user server's own, readable by anyone) to the gateway, a
    channel and its WebSocket, authenticated with the SDK's session."""
    async with running_pod(tmp_path, FileBackend(tmp_path), Settings(multiuser=True)) as pod:
        store = pod.app[STORE]  # type: ignore[index]
        async with SqliteState(tmp_path / DB_NAME) as state:
            await add_user(store, state, "alice", "alice@example.org", "a long passphrase")
            made = await user_credentials(store, state, "alice", "notifications")
        topic = pod.url("/alice/live.ttl")
        proc = await asyncio.create_subprocess_exec(
            "node",
            str(JS / "notifications_check.mjs"),
            made["issuer"],
            made["client_id"],
            made["client_secret"],
            topic,
            cwd=JS,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()[-2000:]
    result = json.loads(out.decode().strip().splitlines()[-1])
    assert result["loggedIn"] is True
    assert (result["created"], result["updated"]) == (201, 204)
    assert result["gateway"] == pod.url("/.well-known/notifications/gateway")
    notification = result["notification"]
    assert (notification["type"], notification["object"]) == ("Update", topic)
