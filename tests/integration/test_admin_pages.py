"""The operator pages through a real server, with the page session cookie: accounts and
pods with their sizes (never their content), quotas, suspend and resume (refused to the
owner and everyone else while suspended, across processes and on both storages), delete;
everyone who is not an operator refused. Also ``pod-server user suspend|resume|quota``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from client import PodClient, PodClientError
from pod_server.app import create_app
from pod_server.http.keys import IDP, STORE
from pod_server.pods.hosting import add_user, user_credentials
from pod_server.pods.operator import set_suspended
from pod_server.settings import Settings
from pod_server.storage.file import FileBackend
from tests.conftest import Pod, deployed, free_socket, running_pod
from tests.integration.test_consent_pages import NAV, PASSWORD, World, sign_in
from tests.integration.test_hosting import cli, host  # noqa: F401 (a fixture)
from tests.integration.test_idp import Forms

ADMIN = "/idp/admin"
SECRET = "a line only alice may read"


@pytest.fixture
async def ops(tmp_path: Path) -> AsyncIterator[World]:
    """A multi-user server whose operator is ``op``; the browser is signed in as op. The
    world's clients: ``alice`` (a pod owner), ``bank`` (bob), ``energy`` (op)."""
    sock = free_socket()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    settings = Settings(multiuser=True, admin=f"{base}op/profile/card#me")
    async with (
        running_pod(tmp_path, FileBackend(tmp_path), settings, sock) as server,
        AsyncExitStack() as stack,
    ):
        store, state = server.app[STORE], server.app[IDP].state  # type: ignore[index]
        clients, webid = {}, {}
        for name in ("alice", "bob", "op"):
            await add_user(store, state, name, f"{name}@example.org", PASSWORD)
            made = await user_credentials(store, state, name, "tests")
            client = await stack.enter_async_context(PodClient())
            await client.login_client_credentials(
                made["issuer"], made["client_id"], made["client_secret"]
            )
            clients[name], webid[name] = client, made["webid"]
        await clients["alice"].put(server.url("/alice/notes.txt"), SECRET, "text/plain")
        await server.session.close()
        server.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        async with server.session:
            w = World(
                server,
                clients["alice"],
                clients["bob"],
                clients["op"],
                webid,
                server.url("/alice/"),
            )
            await sign_in(w, "op@example.org")
            yield w


async def act(w: World, do: str, name: str, **more: str) -> aiohttp.ClientResponse:
    return await w.post(ADMIN, {"csrf": await w.csrf(ADMIN), "do": do, "name": name, **more})


async def status_of(w: World, path: str, **headers: str) -> int:
    """What anyone (no cookie, no token) gets for ``path``."""
    async with aiohttp.ClientSession() as anonymous:
        async with anonymous.get(w.pod.url(path), headers=headers) as r:
            return r.status


async def test_the_operator_sees_accounts_pods_and_sizes_not_content(ops: World) -> None:
    page = await ops.page(ADMIN)
    for name in ("alice", "bob", "op"):
        assert f'id="pod-{name}"' in page and f"{name}@example.org" in page
    assert ops.webid["alice"] in page
    assert "bytes" in page or "KB" in page  # sizes, counted not read
    assert SECRET not in page and "notes.txt" not in page
    assert '<a href="/idp/admin">Operator</a>' in await ops.page("/op/")  # in the header
    french = await ops.page(ADMIN + "?lang=fr")
    assert "Comptes" in french and "Suspendre alice" in french


async def test_people_who_are_not_operators_are_refused(ops: World) -> None:
    async with ops.pod.request("GET", ADMIN, headers=NAV, allow_redirects=False) as r:
        assert r.status == 200
    csrf = await ops.csrf(ADMIN)
    ops.pod.session.cookie_jar.clear()
    async with ops.pod.request("GET", ADMIN, headers=NAV, allow_redirects=False) as r:
        assert r.status == 303 and "/idp/login?return=" in r.headers["Location"]
    await sign_in(ops, "bob@example.org")
    await ops.page(ADMIN, 403)
    assert "/idp/admin" not in await ops.page("/bob/")
    own = await ops.csrf("/idp/account/settings")  # a token of bob's own, from his page
    for do in ("suspend", "quota", "delete"):
        form = {"csrf": own, "do": do, "name": "alice", "quota": "1", "confirm": "yes"}
        assert (await ops.post(ADMIN, form)).status == 403
    assert await status_of(ops, "/alice/profile/card", Accept="text/turtle") == 200
    assert await ops.pod.app[STORE].meta("/alice/")  # type: ignore[index]
    # A form of another site, or without the token, does nothing even for an operator.
    ops.pod.session.cookie_jar.clear()
    await sign_in(ops, "op@example.org")
    bad = await ops.post(ADMIN, {"csrf": csrf + "x", "do": "suspend", "name": "alice"})
    assert bad.status == 403
    async with ops.pod.request(
        "POST",
        ADMIN,
        data={"csrf": await ops.csrf(ADMIN), "do": "suspend", "name": "alice"},
        headers={"Origin": "https://evil.example"},
        allow_redirects=False,
    ) as r:
        assert r.status == 403
    assert "Resume alice" not in await ops.page(ADMIN)
    assert Forms(await ops.page(ADMIN)).forms


async def test_a_suspended_pod_is_refused_to_its_owner_and_everyone_until_resumed(
    ops: World,
) -> None:
    r = await act(ops, "suspend", "alice")
    assert r.status == 303 and "note=suspended_note" in r.headers["Location"]
    page = await ops.page(ADMIN + "?note=suspended_note&name=alice")
    assert ">suspended<" in page and "Resume alice" in page
    # The owner's app, another person's, the public: all refused, with a clear reason.
    for client in (ops.alice, ops.bank):
        with pytest.raises(PodClientError) as refused:
            await client.get(ops.pod.url("/alice/notes.txt"))
        assert refused.value.status == 403
    with pytest.raises(PodClientError):
        await ops.alice.put(ops.pod.url("/alice/new.txt"), "x", "text/plain")
    assert await status_of(ops, "/alice/profile/card", Accept="text/turtle") == 403
    async with aiohttp.ClientSession() as anonymous:
        async with anonymous.get(ops.pod.url("/alice/")) as got:
            assert "suspended" in await got.text()
    assert await status_of(ops, "/bob/profile/card", Accept="text/turtle") == 200
    # Its services too: an access request to it is refused before anything else.
    async with aiohttp.ClientSession() as anonymous:
        for pod, status in (("alice", 403), ("bob", 401)):
            async with anonymous.post(
                ops.pod.url(f"/{pod}/.well-known/access-requests"), data=b"x"
            ) as got:
                assert got.status == status, pod
    # Alice's own browser: the pod's pages and her owner's pages say it is suspended.
    ops.pod.session.cookie_jar.clear()
    await sign_in(ops, "alice@example.org")
    for path in ("/alice/", "/alice/notes.txt", "/alice/?ui=requests", "/alice/?ui=activity"):
        assert "This pod is suspended" in await ops.page(path, 403)
    await ops.page(ADMIN, 403)  # and she cannot resume it herself
    ops.pod.session.cookie_jar.clear()
    await sign_in(ops, "op@example.org")
    assert (
        (await act(ops, "suspend", "alice"))
        .headers["Location"]
        .endswith("note=unchanged_note&name=alice")
    )
    r = await act(ops, "resume", "alice")
    assert r.status == 303 and "note=resumed_note" in r.headers["Location"]
    assert (await ops.alice.get(ops.pod.url("/alice/notes.txt"))).body == SECRET.encode()
    assert await status_of(ops, "/alice/profile/card", Accept="text/turtle") == 200


async def test_an_owner_cannot_suspend_their_own_pod_by_writing_its_root(ops: World) -> None:
    turtle = '<> <urn:pod-server:suspendedSince> "2020-01-01".'
    with pytest.raises(PodClientError) as refused:
        await ops.alice.put(ops.box, turtle, "text/turtle")
    assert refused.value.status == 409
    with pytest.raises(PodClientError) as refused:
        await ops.alice.patch(
            ops.box,
            f'INSERT DATA {{ <{ops.box}> <urn:pod-server:suspendedSince> "x" }}',
            "application/sparql-update",
        )
    assert refused.value.status == 409
    assert await status_of(ops, "/alice/profile/card", Accept="text/turtle") == 200


async def test_setting_a_quota(ops: World) -> None:
    r = await act(ops, "quota", "alice", quota="20 KB")
    assert r.status == 303 and "note=quota_note" in r.headers["Location"]
    assert "The quota of alice is now 20.0 KB" in await ops.page(r.headers["Location"])
    store = ops.pod.app[STORE]  # type: ignore[index]
    assert (await store.usage("/alice/")).limit == 20_000
    with pytest.raises(PodClientError) as refused:
        await ops.alice.put(ops.pod.url("/alice/big.bin"), b"x" * 30_000, "application/x-big")
    assert refused.value.status == 413
    for bad in ("lots", "-5", "1 XB", "99999999999 TB"):
        r = await act(ops, "quota", "alice", quota=bad)
        assert r.status == 400, bad
    assert (await store.usage("/alice/")).limit == 20_000  # nothing half-done
    r = await act(ops, "quota", "alice", quota="")
    assert r.status == 303 and (await store.usage("/alice/")).limit is None
    await ops.alice.put(ops.pod.url("/alice/big.bin"), b"x" * 30_000, "application/x-big")
    r = await act(ops, "quota", "nobody", quota="1")
    assert r.status == 404
    r = await act(ops, "explode", "alice")
    assert r.status == 400


async def test_deleting_a_pod_asks_first_then_removes_it_and_its_account(ops: World) -> None:
    page = await ops.page(ADMIN + "?delete=bob")
    assert "bob@example.org" in page and 'name="confirm"' in page
    await ops.page(ADMIN + "?delete=nobody", 404)
    r = await act(ops, "delete", "bob")  # not confirmed: the question again
    assert r.status == 200
    store, state = ops.pod.app[STORE], ops.pod.app[IDP].state  # type: ignore[index]
    assert await store.meta("/bob/") is not None
    r = await act(ops, "delete", "bob", confirm="yes")
    assert r.status == 303 and "note=pod_deleted_note" in r.headers["Location"]
    assert await store.meta("/bob/") is None and await store.meta("/bob/profile/card") is None
    assert await state.find_account("bob@example.org") is None
    assert 'id="pod-bob"' not in await ops.page(ADMIN)
    assert await status_of(ops, "/bob/profile/card", Accept="text/turtle") in (401, 404)


async def test_the_command_line_suspends_a_pod_a_running_server_serves(
    host: tuple[Pod, Path],  # noqa: F811
) -> None:
    pod, root = host
    assert await status_of_pod(pod, "/alice/profile/card") == 200
    status, out, err = await cli(root, pod.base, "suspend", "alice")
    assert status == 0 and "Suspended alice" in out, err
    assert await status_of_pod(pod, "/alice/profile/card") == 403  # another process wrote it
    assert await status_of_pod(pod, "/bob/profile/card") == 200
    status, out, _ = await cli(root, pod.base, "suspend", "alice")
    assert status == 0 and "already" in out
    status, out, err = await cli(root, pod.base, "resume", "alice")
    assert status == 0 and "Resumed alice" in out, err
    assert await status_of_pod(pod, "/alice/profile/card") == 200
    status, out, err = await cli(root, pod.base, "quota", "alice", "2MB")
    assert status == 0 and "2000000 bytes" in out, err
    status, _, err = await cli(root, pod.base, "quota", "alice", "much")
    assert status == 1 and "Not a size" in err
    status, _, err = await cli(root, pod.base, "suspend", "nobody")
    assert status == 1 and "No pod named 'nobody'" in err


async def status_of_pod(pod: Pod, path: str) -> int:
    async with aiohttp.ClientSession() as anonymous:
        async with anonymous.get(pod.url(path), headers={"Accept": "text/turtle"}) as r:
            return r.status


async def test_suspension_is_seen_by_every_server_of_a_deployment(
    tmp_path: Path, storage: str
) -> None:
    settings_a, backend_a = deployed(storage, tmp_path, Settings(multiuser=True))
    async with running_pod(tmp_path, backend_a, settings_a) as a:
        # B: a second process of the deployment, behind the same public URL as A.
        same = replace(settings_a, storage="", root=tmp_path, base_url=a.base)
        settings_b, backend_b = deployed(storage, tmp_path, same)
        runner = web.AppRunner(create_app(settings_b, backend_b), access_log=None)
        await runner.setup()
        try:
            sock = free_socket()
            await web.SockSite(runner, sock).start()
            b = Pod(f"http://127.0.0.1:{sock.getsockname()[1]}/", a.session, tmp_path)
            store, state = a.app[STORE], a.app[IDP].state  # type: ignore[index]
            await add_user(store, state, "carol", "carol@example.org", PASSWORD)
            path = "/carol/profile/card"
            assert await status_of_pod(b, path) == 200  # B has read (and cached) the root
            assert await set_suspended(store, "carol", True)
            assert await status_of_pod(b, path) == 403 and await status_of_pod(a, path) == 403
            assert await set_suspended(store, "carol", False)
            assert await status_of_pod(b, path) == 200
        finally:
            await runner.cleanup()
