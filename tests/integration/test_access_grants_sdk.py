"""Inrupt's Access Grants SDK (``@inrupt/solid-client-access-grants``) against our server.

Skipped where Node or the package is missing; CI installs it (``npm ci`` in tests/js).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from pod_server.consent.model import Status
from pod_server.http.handlers import STORE
from pod_server.http.keys import CONSENT
from pod_server.pods.hosting import add_user, user_credentials
from pod_server.settings import Settings
from pod_server.state import DB_NAME, SqliteState
from pod_server.storage.file import FileBackend
from tests.conftest import running_pod

JS = Path(__file__).parent.parent / "js"


@pytest.fixture
def grants_sdk() -> None:
    reason = None
    if shutil.which("node") is None:
        reason = "node is not installed"
    elif not (JS / "node_modules" / "@inrupt" / "solid-client-access-grants").is_dir():
        reason = "run `npm ci` in tests/js to install the Inrupt SDKs"
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the Access Grants SDK test: {reason}")
        pytest.skip(reason)


@pytest.mark.timeout(170)
async def test_request_approve_use_revoke_with_the_inrupt_sdk(
    tmp_path: Path, grants_sdk: None
) -> None:
    async with running_pod(tmp_path, FileBackend(tmp_path), Settings(multiuser=True)) as pod:
        store = pod.app[STORE]  # type: ignore[index]
        async with SqliteState(tmp_path / DB_NAME) as state:
            alice = await add_user(store, state, "alice", "alice@example.org", "a long passphrase")
            bob = await add_user(store, state, "bob", "bob@example.org", "another passphrase")
            owner = await user_credentials(store, state, "alice", "owner")
            requester = await user_credentials(store, state, "bob", "requester")
        proc = await asyncio.create_subprocess_exec(
            "node",
            str(JS / "access_grants_check.mjs"),
            owner["issuer"],
            owner["client_id"],
            owner["client_secret"],
            requester["client_id"],
            requester["client_secret"],
            owner["pod"],
            cwd=JS,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(proc.communicate(), 150)
        except TimeoutError:
            proc.kill()
            out, err = await proc.communicate()
            pytest.fail("the SDK script hung after: " + err.decode()[-1500:])
        assert proc.returncode == 0, err.decode()[-3000:]
        result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
        consent = pod.app[CONSENT]  # type: ignore[index]
        stored = await consent.records("/alice/")
    print(json.dumps(result, indent=1))
    assert result["endpoint"] == pod.url("/.well-known/vc/")
    assert result["requestSeenByOwner"] == result["requestId"]
    assert result["grantFetched"] == result["grantId"]
    assert result["valid"] == []
    assert result["grantsForNote"] == [result["grantId"]]
    assert result["fileText"] == "a shared note"
    assert result["datasetName"] == "one"
    assert "error" in result["writeWithReadGrant"]
    assert "error" in result["otherHolder"]
    assert result["alteredValid"] >= 1
    assert result["forgedValid"] >= 1 and "error" in result["forgedUse"]
    assert result["expired"] == ["a shared note", "refused"]
    assert result["written"] == "two"
    assert "SolidAccessDenial" in result["denial"]
    assert result["cancelled"] == "not approvable"
    # The partial, the write and the direct grant (the brief one has expired by then).
    assert result["activeGrants"] == 3
    # Six requests then (the direct grant's included), two a page, followed by next Links.
    assert result["pagedRequests"] == [2, 2, 2]
    # The client reads the origin's /.well-known/solid, which on a multi-user server
    # describes no storage (the single-user test checks the advertisement).
    assert result["managementUi"] is None
    assert result["redirects"] == {"sameRequest": True, "sameGrant": True}
    assert result["issuedDirectly"] == "a shared note"
    assert "error" in result["afterRevoke"]
    assert result["validAfterRevoke"] >= 1
    # The grants are consent records like any other: the first one is withdrawn.
    by_status = {r.id: r.status for r in stored}
    first = result["grantId"].rstrip("/").split("/")[-2]
    assert by_status[first] is Status.WITHDRAWN
    assert alice.webid and bob.webid
