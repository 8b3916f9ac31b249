"""The Python client subscribes to a resource's changes on our server."""

from __future__ import annotations

import asyncio
from pathlib import Path

from client import PodClient
from pod_server.http.handlers import STORE
from pod_server.pods.hosting import add_user, user_credentials
from pod_server.settings import Settings
from pod_server.state import DB_NAME, SqliteState
from pod_server.storage.file import FileBackend
from tests.conftest import running_pod


async def test_subscribe_yields_changes_in_order(tmp_path: Path) -> None:
    async with running_pod(tmp_path, FileBackend(tmp_path), Settings(multiuser=True)) as pod:
        store = pod.app[STORE]  # type: ignore[index]
        async with SqliteState(tmp_path / DB_NAME) as state:
            await add_user(store, state, "alice", "alice@example.org", "a long passphrase")
            made = await user_credentials(store, state, "alice")
        doc = made["pod"] + "notes.ttl"
        async with PodClient() as client:
            await client.login_client_credentials(
                made["issuer"], made["client_id"], made["client_secret"]
            )
            await client.put(doc, b"<#a> <#b> 1.", content_type="text/turtle")
            seen: list[dict[str, object]] = []

            async def listen() -> None:
                async for note in client.subscribe(doc):
                    seen.append(note)
                    if len(seen) == 2:
                        return

            task = asyncio.create_task(listen())
            await asyncio.sleep(0.5)  # subscribed and connected
            await client.put(doc, b"<#a> <#b> 2.", content_type="text/turtle", if_match=None)
            await client.delete(doc)
            await asyncio.wait_for(task, 15)
    assert [n["type"] for n in seen] == ["Update", "Delete"]
    assert all(n["object"] == doc for n in seen)
