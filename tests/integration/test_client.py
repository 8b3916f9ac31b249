"""The Python SDK (``client/``) against real servers on loopback.

The same scenarios run against our pod server (a multi-user host with two accounts,
in a thread of its own) and, when it is installed, the Community Solid Server 7.2
(started as conformance/peer.sh starts it, accounts made by conformance.peer.provision).
Login flows, refresh, persistence, logout, the code flow's forms and the archive are
tested against ours.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import socket
import stat
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import aiohttp
import pytest
from rdflib import Graph, Literal, Namespace, URIRef

from client import (
    AUTHENTICATED,
    PUBLIC,
    AiohttpTransport,
    AuthenticationError,
    Conflict,
    ConnectionFailed,
    Forbidden,
    IncompleteTransfer,
    NotFound,
    PodClient,
    PreconditionFailed,
    ProfileStore,
    Request,
    Response,
    Subject,
    Unauthorized,
)
from client import archive as archives
from client.auth import Session
from client.rdf import n3_patch
from pod_server.http.handlers import STORE
from pod_server.pods.hosting import add_user, user_credentials
from pod_server.settings import Settings
from pod_server.state import DB_NAME, SqliteState
from pod_server.storage.file import FileBackend
from tests.conftest import running_pod
from tests.integration.test_idp import Forms

REPO = Path(__file__).resolve().parents[2]
CSS_BIN = REPO / "bench/.peer/node_modules/@solid/community-server/bin/server.js"
PASSWORD = "a long enough passphrase"
SCHEMA = Namespace("http://schema.org/")


# -- servers ------------------------------------------------------------------------------
@dataclass
class Server:
    """A server with two accounts, ``alice`` and ``bob``, and their client credentials."""

    kind: str
    base: str
    creds: dict[str, dict[str, str]]

    def pod(self, name: str = "alice") -> str:
        return self.creds[name]["webid"].split("profile/card")[0]

    async def client(self, name: str = "alice", **kw: Any) -> PodClient:
        c = self.creds[name]
        pod = PodClient(**kw)
        await pod.login_client_credentials(c["issuer"], c["client_id"], c["client_secret"])
        return pod


class Host:
    """Our pod server, multi-user, in a thread with its own event loop, so tests (and the
    CLI's own ``asyncio.run``) can use it from any loop."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self.server: Server | None = None

    def __enter__(self) -> Server:
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        if not self.ready.wait(60) or self.error or self.server is None:
            raise RuntimeError(f"the pod server did not start: {self.error!r}")
        return self.server

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(30)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:
            self.error = exc
            self.ready.set()

    async def _main(self) -> None:
        self.loop, self.stop = asyncio.get_running_loop(), asyncio.Event()
        backend = FileBackend(self.root)
        async with running_pod(self.root, backend, Settings(multiuser=True)) as pod:
            store = pod.app[STORE]  # type: ignore[index]
            creds = {}
            async with SqliteState(self.root / DB_NAME) as state:
                for name in ("alice", "bob"):
                    await add_user(store, state, name, f"{name}@example.org", PASSWORD)
                    creds[name] = await user_credentials(store, state, name, "sdk tests")
            self.server = Server("pod-server", pod.base, creds)
            self.ready.set()
            await self.stop.wait()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def css_missing() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed, so the Community Solid Server cannot run"
    if not CSS_BIN.is_file():
        return "the Community Solid Server is not installed: run bench/peer/install.sh"
    return None


class Css:
    """CSS 7.2 with accounts, started as conformance/peer.sh starts it (loopback only);
    alice and bob get pods and client credentials through its account API, by
    conformance.peer.provision. Launched early (it takes seconds to boot) and waited for
    only when a CSS test needs it."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.port = _free_port()
        self.base = f"http://localhost:{self.port}/"  # CSS takes http WebIDs on localhost only
        self.log = open(work / "css.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                "node",
                "--require",
                str(REPO / "bench/peer/loopback.js"),
                str(CSS_BIN),
                "-c",
                str(REPO / "conformance/peer/css-accounts.json"),
                "-f",
                str(work / "data"),
                "-p",
                str(self.port),
                "-b",
                self.base,
                "-l",
                "warn",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.server: Server | None = None

    def ready(self) -> Server:
        if self.server is not None:
            return self.server
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(self.base, timeout=1).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    log = (self.work / "css.log").read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"CSS did not start: {log}") from None
                time.sleep(0.2)

        from conformance.peer.provision import provision  # the peer's own account script

        async def both() -> list[dict[str, str]]:
            return list(await asyncio.gather(*(provision(self.base, n) for n in ("alice", "bob"))))

        alice, bob = asyncio.run(both())
        self.server = Server("css", self.base, {"alice": alice, "bob": bob})
        return self.server

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


@pytest.fixture(scope="module", autouse=True)
def css_boot(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Css | None]:
    """Start CSS when this run has CSS tests, so it boots while the others run."""
    wanted = any(
        "css" in getattr(item, "fixturenames", ()) and item.module is request.module
        for item in request.session.items
    )
    if not wanted or css_missing() is not None:
        yield None
        return
    peer = Css(tmp_path_factory.mktemp("css"))
    try:
        yield peer
    finally:
        peer.stop()


@pytest.fixture(scope="module")
def ours(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with Host(tmp_path_factory.mktemp("host")) as server:
        yield server


@pytest.fixture(scope="module")
def css(css_boot: Css | None) -> Server:
    reason = css_missing()
    if reason is not None or css_boot is None:
        pytest.skip(reason or "CSS was not started")
    return css_boot.ready()


class Recorder(AiohttpTransport):
    """The real transport, keeping every request it sends."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[Request] = []

    async def send(self, request: Request) -> Response:
        self.sent.append(request)
        return await super().send(request)


def unique(prefix: str) -> str:
    return f"{prefix}-{os.urandom(4).hex()}"


# -- shared scenarios: run on both servers (test_on_our_server, test_on_css) ---------------------------------------------------------
async def scenario_client_credentials_session(server: Server, tmp_path: Path) -> None:
    async with await server.client() as pod:
        assert pod.webid == server.creds["alice"]["webid"]
        assert pod.session is not None and pod.session.token_type.lower() == "dpop"
        storages = await pod.storages()
        assert storages == [server.pod()]
        listed = await pod.list(server.pod())
        assert any(e.url == server.pod() + "profile/" and e.is_container for e in listed)


async def scenario_resources_etags_and_conflicts(server: Server, tmp_path: Path) -> None:
    base = server.pod() + unique("res") + "/"
    async with await server.client() as one, await server.client() as two:
        made = await one.put(base + "note.txt", "first", "text/plain")
        assert made.status in (201, 204, 205)
        got = await one.get(base + "note.txt")
        assert got.text() == "first" and got.content_type == "text/plain" and got.etag
        assert (await one.head(base + "note.txt")).etag == got.etag
        await two.get(base + "note.txt")  # both have read the same version
        await one.put(base + "note.txt", "second", "text/plain")  # If-Match: the read ETag
        with pytest.raises(PreconditionFailed) as caught:
            await two.put(base + "note.txt", "lost update", "text/plain")
        assert caught.value.status == 412 and "changed" in (caught.value.hint or "")
        assert (await one.get(base + "note.txt")).text() == "second"
        await two.put(base + "note.txt", "on purpose", "text/plain", if_match=None)
        assert (await one.get(base + "note.txt")).text() == "on purpose"
        with pytest.raises(PreconditionFailed):
            await one.put(base + "note.txt", "x", "text/plain", create_only=True)
        made_url = await one.post(base, "<#a> <#b> <#c>.", "text/turtle", slug="posted")
        assert made_url.startswith(base) and "posted" in made_url
        await one.delete(made_url)
        assert not await one.exists(made_url)
        with pytest.raises(NotFound) as missing:
            await one.get(base + "nothing-here")
        assert missing.value.status == 404 and missing.value.url == base + "nothing-here"
        await one.delete_tree(base)


async def scenario_graphs_minimal_patch_and_conflicts(server: Server, tmp_path: Path) -> None:
    url = server.pod() + unique("graph") + "/card.ttl"
    recorder = Recorder()
    async with (
        await server.client(transport=recorder) as pod,
        await server.client() as other,
    ):
        me = URIRef(url + "#me")
        graph = Graph()
        graph.add((me, SCHEMA.name, Literal("Alice")))
        graph.add((me, SCHEMA.email, Literal("a@example.org")))
        await pod.save_graph(url, graph)  # never read: created, never overwritten
        with pytest.raises(PreconditionFailed):
            await other.save_graph(url, graph)

        graph = await pod.read_graph(url)
        assert set(graph) == {
            (me, SCHEMA.name, Literal("Alice")),
            (me, SCHEMA.email, Literal("a@example.org")),
        }
        graph.set((me, SCHEMA.name, Literal("Alice B")))
        recorder.sent.clear()
        await pod.save_graph(url, graph)
        (patch,) = [r for r in recorder.sent if r.method == "PATCH"]
        assert patch.headers["Content-Type"] == "text/n3" and patch.headers.get("If-Match")
        body = patch.body.decode()  # type: ignore[union-attr]
        assert '"Alice B"' in body and '"Alice"' in body and "a@example.org" not in body
        assert await pod.save_graph(url, graph) is None  # nothing changed, nothing sent
        assert set(await other.read_graph(url)) == set(graph)

        stale = await other.read_graph(url)
        graph.add((me, SCHEMA.age, Literal(30)))
        await pod.save_graph(url, graph)
        stale.add((me, SCHEMA.age, Literal(31)))
        with pytest.raises(PreconditionFailed):  # other's version is gone
            await other.save_graph(url, stale)

        missing = n3_patch([(me, SCHEMA.name, Literal("Nobody"))], [])
        with pytest.raises(Conflict) as caught:
            await pod.patch(url, missing, if_match=None)
        assert caught.value.status == 409

        doc = {
            "@context": {"@vocab": "http://schema.org/"},
            "@id": "#thing",
            "name": "A thing",
        }
        await pod.write_jsonld(url.replace("card", "thing"), doc)
        back = await pod.read_jsonld(url.replace("card", "thing"), {"@vocab": "http://schema.org/"})
        assert back["name"] == "A thing" and back["@id"].endswith("thing.ttl#thing")
        await pod.delete_tree(url.rsplit("/", 1)[0] + "/")


async def scenario_streaming_large_files(server: Server, tmp_path: Path) -> None:
    base = server.pod() + unique("big") + "/"
    data = os.urandom(3 * 1024 * 1024 + 123)
    (tmp_path / "big.bin").write_bytes(data)
    seen: list[int] = []
    async with await server.client() as pod:
        await pod.upload(base + "big.bin", tmp_path / "big.bin", progress=seen.append)
        assert sum(seen) == len(data) and len(seen) > 1  # sent in chunks
        got = await pod.download(base + "big.bin", tmp_path / "back.bin")
        assert got.size == len(data) and got.sha256 == hashlib.sha256(data).hexdigest()
        assert (tmp_path / "back.bin").read_bytes() == data
        streamed = b"".join([c async for c in pod.stream(base + "big.bin")])
        assert streamed == data
        await pod.delete_tree(base)


async def scenario_containers_tree_operations(server: Server, tmp_path: Path) -> None:
    base = server.pod() + unique("tree") + "/"
    local = tmp_path / "local"
    (local / "sub" / "deeper").mkdir(parents=True)
    (local / "a.ttl").write_text("<#a> <#b> <#c>.")
    (local / "sub" / "b.txt").write_text("bee")
    (local / "sub" / "deeper" / "c with space.bin").write_bytes(b"\x00\x01" * 500)
    async with await server.client() as pod:
        assert await pod.create_container(base) is True
        assert await pod.create_container(base) is False
        summary = await pod.upload_tree(local, base + "copy/")
        assert summary.files == 3
        listed = {e.name: e for e in await pod.list(base + "copy/")}
        assert set(listed) == {"a.ttl", "sub/"}
        assert listed["sub/"].is_container and not listed["a.ttl"].is_container
        assert listed["a.ttl"].size is not None and listed["a.ttl"].modified is not None
        walked = [c async for c, _ in pod.walk(base + "copy/")]
        assert walked == [base + "copy/", base + "copy/sub/", base + "copy/sub/deeper/"]
        back = await pod.download_tree(base + "copy/", tmp_path / "back")
        assert back.files == 3
        assert (tmp_path / "back" / "sub" / "deeper" / "c with space.bin").read_bytes() == (
            b"\x00\x01" * 500
        )
        asked: list[list[str]] = []

        def refuse(urls: list[str]) -> bool:
            asked.append(urls)
            return False

        assert await pod.delete_tree(base, confirm=refuse) == 0
        assert len(asked[0]) == 7 and await pod.exists(base + "copy/a.ttl")

        async def accept(urls: list[str]) -> bool:
            return True

        assert await pod.delete_tree(base, confirm=accept) == 7
        assert not await pod.exists(base)


async def scenario_access_grant_revoke_and_owner_control(server: Server, tmp_path: Path) -> None:
    base = server.pod() + unique("shared") + "/"
    doc = base + "doc.ttl"
    bob_id = server.creds["bob"]["webid"]
    alice_id = server.creds["alice"]["webid"]
    async with (
        await server.client() as alice,
        await server.client("bob") as bob,
        PodClient() as anonymous,
    ):
        await alice.put(doc, "<#a> <#b> <#c>.")
        with pytest.raises(Forbidden) as denied:
            await bob.get(doc)
        assert f"signed in as {bob_id}" in (denied.value.hint or "")
        assert "needs Read" in (denied.value.hint or "")
        inherited = await alice.effective_acl(doc)
        assert inherited.inherited and "Control" in inherited.modes_of(alice_id)

        await alice.grant(base, bob_id, "read")  # inherited by doc.ttl
        assert (await bob.get(doc)).text()
        who = await alice.who_can(doc)
        assert who[Subject.agent(bob_id)] == {"Read"}
        assert "Control" in who[Subject.agent(alice_id)]  # the owner kept Control
        with pytest.raises(Forbidden) as denied:
            await bob.put(doc, "<#x> <#y> <#z>.", if_match=None)
        assert "needs Write" in (denied.value.hint or "")

        await alice.grant(doc, bob_id, ["read", "write"], inherit=False)  # own ACL now
        await bob.put(doc, "<#x> <#y> <#z>.", if_match=None)
        own = await alice.effective_acl(doc)
        assert not own.inherited and "Control" in own.modes_of(alice_id)
        assert await alice.revoke(doc, bob_id, "write") == 1
        with pytest.raises(Forbidden):
            await bob.put(doc, "<#x> <#y> <#w>.", if_match=None)
        assert (await bob.get(doc)).status == 200
        await alice.revoke(doc, bob_id)
        with pytest.raises(Forbidden):
            await bob.get(doc)

        with pytest.raises(Unauthorized) as anon:
            await anonymous.get(doc)
        assert "not signed in" in (anon.value.hint or "")
        await alice.grant(doc, PUBLIC, "read")
        assert (await anonymous.get(doc)).status == 200
        await alice.revoke(doc, PUBLIC)
        await alice.grant(doc, AUTHENTICATED, "read")
        assert (await bob.get(doc)).status == 200
        with pytest.raises(Unauthorized):
            await anonymous.get(doc)

        with pytest.raises(Conflict, match="leaves nobody with Control"):
            await alice.revoke(doc, alice_id, "control")
        await alice.grant(doc, bob_id, "control")
        with pytest.raises(Conflict, match="Control away from you"):
            await alice.revoke(doc, alice_id)
        assert "Control" in (await alice.effective_acl(doc)).modes_of(alice_id)
        await alice.delete_tree(base)


async def scenario_groups(server: Server, tmp_path: Path) -> None:
    base = server.pod() + unique("group") + "/"
    bob_id = server.creds["bob"]["webid"]
    async with await server.client() as alice, await server.client("bob") as bob:
        group = base + "friends.ttl"
        await alice.put(
            group,
            f"<#friends> a <http://www.w3.org/2006/vcard/ns#Group>;\n"
            f"  <http://www.w3.org/2006/vcard/ns#hasMember> <{bob_id}>.",
        )
        await alice.put(base + "photo.txt", "a photo", "text/plain")
        await alice.grant(group, PUBLIC, "read", inherit=False)  # servers must read it
        await alice.grant(base + "photo.txt", Subject.group(group + "#friends"), "read")
        assert (await bob.get(base + "photo.txt")).text() == "a photo"
        who = await alice.who_can(base + "photo.txt")
        assert who[Subject.group(group + "#friends")] == {"Read"}
        await alice.delete_tree(base)


async def scenario_discovery_and_type_indexes(server: Server, tmp_path: Path) -> None:
    alice_id = server.creds["alice"]["webid"]
    async with await server.client() as pod, PodClient() as anonymous:
        profile = await anonymous.profile(alice_id)
        assert profile.webid == alice_id and server.base.rstrip("/") in profile.issuers[0]
        assert await pod.find_storage(server.pod() + "a/b/c") == server.pod()
        # From a public document: our pod roots are owner-only (anonymous HEAD: 401), so
        # the storage description linked from the document names the root. CSS roots are
        # public-read; made private, CSS 7.2 links only its server root's description from
        # a pod's resources, so nothing there names the pod root to others.
        folder = server.pod() + unique("shared") + "/"
        await pod.put(folder + "note.txt", "for anyone", "text/plain")
        await pod.grant(folder + "note.txt", PUBLIC, "read")
        assert await anonymous.find_storage(folder + "note.txt") == server.pod()
        await pod.delete_tree(folder)
        if server.kind == "css":
            return  # CSS profiles name no inbox or type indexes
        assert profile.inbox == server.pod() + "inbox/"
        assert profile.public_type_index and profile.private_type_index
        notes = server.pod() + unique("notes") + "/"
        reg = await pod.register_type("http://schema.org/NoteDigitalDocument", notes)
        assert reg.containers == (notes,) and not reg.private
        again = await pod.register_type("http://schema.org/NoteDigitalDocument", notes)
        assert again.id == reg.id
        secret = server.pod() + "settings/diary.ttl"
        await pod.register_type("http://schema.org/Diary", secret, private=True)
        assert await pod.lookup_type("http://schema.org/NoteDigitalDocument") == [notes]
        assert await pod.lookup_type("http://schema.org/Diary") == [secret]
        # The private index is private: others see only the public one.
        found = await anonymous.lookup_type("http://schema.org/NoteDigitalDocument", alice_id)
        assert found == [notes]
        assert await anonymous.lookup_type("http://schema.org/Diary", alice_id) == []


SCENARIOS = [
    scenario_client_credentials_session,
    scenario_resources_etags_and_conflicts,
    scenario_graphs_minimal_patch_and_conflicts,
    scenario_streaming_large_files,
    scenario_containers_tree_operations,
    scenario_access_grant_revoke_and_owner_control,
    scenario_groups,
    scenario_discovery_and_type_indexes,
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__[9:])
async def test_on_our_server(ours: Server, scenario: Any, tmp_path: Path) -> None:
    await scenario(ours, tmp_path)


# -- our server: sign-in flows, persistence, logout, vocabularies, archives ----------------
def browser_for(email: str, password: str = PASSWORD, decision: str = "allow") -> Any:
    """An ``open_browser`` hook that does what a person does: sign in, then consent."""

    async def open_browser(url: str) -> None:
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as http:
            async with http.get(url, allow_redirects=False) as r:
                (form,) = Forms(await r.text()).forms
            data = {**form.fields, "email": email, "password": password}
            async with http.post(urljoin(url, form.action), data=data, allow_redirects=False) as r:
                assert r.status == 303, await r.text()
                consent_url = urljoin(url, r.headers["Location"])
            async with http.get(consent_url, allow_redirects=False) as r:
                (form,) = Forms(await r.text()).forms
            fields = {**form.fields, "decision": decision}
            async with http.post(
                urljoin(url, form.action), data=fields, allow_redirects=False
            ) as r:
                back = r.headers["Location"]
            async with http.get(back) as r:  # the browser lands on the loopback redirect
                assert r.status == 200

    return open_browser


async def test_code_flow_with_pkce_refresh_and_logout(ours: Server, tmp_path: Path) -> None:
    store = ProfileStore(tmp_path / "sessions")
    async with PodClient.from_profile("person", store=store) as pod:
        assert pod.session is None
        session = await pod.login_browser(ours.base, open_browser=browser_for("alice@example.org"))
        assert session.kind == "authorization_code" and session.refresh_token
        assert pod.webid == ours.creds["alice"]["webid"]
        assert (await pod.get(ours.pod() + "settings/prefs.ttl")).status == 200
        saved = store.path("person")
        assert stat.S_IMODE(saved.stat().st_mode) == 0o600
        assert stat.S_IMODE(saved.parent.stat().st_mode) == 0o700

        first_refresh, first_token = session.refresh_token, session.access_token
        await session.renew(pod.transport, force=True)  # the refresh grant, rotated
        assert session.refresh_token != first_refresh and session.access_token != first_token
        on_disk = json.loads(saved.read_text())
        assert on_disk["refresh_token"] == session.refresh_token  # persisted on renewal
        assert (await pod.get(ours.pod() + "settings/prefs.ttl")).status == 200
        last_refresh = session.refresh_token

    async with PodClient.from_profile("person", store=store) as again:  # a later run
        assert again.webid == ours.creds["alice"]["webid"]
        assert (await again.get(ours.pod() + "settings/prefs.ttl")).status == 200
        assert await again.logout() is True
        assert not saved.exists() and again.session is None
        stolen = Session.from_dict({**on_disk, "refresh_token": last_refresh})
        with pytest.raises(Unauthorized, match="could not be renewed"):
            await stolen.renew(again.transport, force=True)  # revoked at logout


async def test_code_flow_denied(ours: Server) -> None:
    async with PodClient() as pod:
        with pytest.raises(AuthenticationError) as caught:
            await pod.login_browser(
                ours.base, open_browser=browser_for("bob@example.org", decision="deny")
            )
        assert caught.value.error == "access_denied"
        with pytest.raises(AuthenticationError, match="no sign-in within"):
            await pod.login_browser(ours.base, open_browser=lambda url: None, timeout=0.3)


async def test_client_credentials_renewal_before_expiry(ours: Server) -> None:
    offset = [0.0]
    async with await ours.client(clock=lambda: time.time() + offset[0]) as pod:
        session = pod.session
        assert session is not None and session.refresh_token is None
        first = session.access_token
        offset[0] = session.expires_at - time.time() - 10  # 10 s before expiry
        assert session.needs_renewal()
        assert (await pod.get(ours.pod() + "settings/prefs.ttl")).status == 200
        assert session.access_token != first and not session.needs_renewal()


async def test_bad_credentials_and_unreachable_server(ours: Server) -> None:
    c = ours.creds["alice"]
    async with PodClient() as pod:
        with pytest.raises(AuthenticationError) as caught:
            await pod.login_client_credentials(c["issuer"], c["client_id"], "wrong")
        assert caught.value.error == "invalid_client" and caught.value.status == 401
        with pytest.raises(AuthenticationError, match="OpenID configuration"):
            await pod.login_client_credentials(ours.pod(), c["client_id"], "x")
        with pytest.raises(ConnectionFailed) as down:
            await pod.get(f"http://127.0.0.1:{_free_port()}/x")
        assert "cannot connect" in str(down.value) and down.value.status is None
        with pytest.raises(ConnectionFailed, match="TLS failed"):
            await pod.get(ours.base.replace("http://", "https://"))  # TLS to a plain server


async def test_jsonld_with_a_vocabulary_context(ours: Server) -> None:
    context = ours.base + "vocab/bank/context.jsonld"
    url = ours.pod() + unique("bank") + "/account.ttl"
    async with await ours.client() as pod:
        doc = {"@context": context, "@id": "#acc", "@type": "CurrentAccount", "iban": "FR76"}
        await pod.write_jsonld(url, doc)
        graph = await pod.read_graph(url)
        assert len(graph) == 2 and any(str(p).endswith("bank#iban") for p in graph.predicates())
        back = await pod.read_jsonld(url, context)
        assert back["@context"] == context
        kind = back.get("@type") or back.get("type")
        assert back["iban"] == "FR76" and kind in ("CurrentAccount", ["CurrentAccount"])
        assert (back.get("@id") or back.get("id", "")).endswith("account.ttl#acc")
        await pod.delete_tree(url.rsplit("/", 1)[0] + "/")


class Flaky(AiohttpTransport):
    """Fails with a dropped connection at the ``n``-th PUT."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n

    async def send(self, request: Request) -> Response:
        if request.method == "PUT":
            self.n -= 1
            if self.n == 0:
                raise ConnectionFailed("connection reset", url=request.url, method="PUT")
        return await super().send(request)


async def test_archive_round_trip_and_interrupted_import(ours: Server, tmp_path: Path) -> None:
    base = ours.pod() + unique("exp") + "/"
    async with await ours.client() as pod:
        await pod.put(base + "notes/a.ttl", f"<#a> <#link> <{base}notes/b.txt>.")
        await pod.put(base + "notes/b.txt", "bee", "text/plain")
        await pod.put(base + "photo.bin", os.urandom(70_000), "application/octet-stream")
        await pod.create_container(base + "empty/")
        await pod.put(base + "notes/a.ttl.meta", '<a.ttl> <http://purl.org/dc/terms/title> "A".')
        await pod.grant(base + "notes/", PUBLIC, "read")
        report = await archives.export_archive(pod, base, tmp_path / "pod.tar.gz")
        # Every resource has a description (empty unless written, as on the reference
        # server); only a.ttl's says something, and the export keeps only that one.
        assert report.verified and report.counts == {
            "container": 3, "rdf": 1, "file": 2, "meta": 1, "acl": 1,
        }  # fmt: skip
        manifest = archives.verify_archive(tmp_path / "pod.tar.gz")
        assert manifest["source"] == base

        target = ours.pod() + unique("imp") + "/"
        flaky = Flaky(4)
        async with await ours.client(transport=flaky) as failing:
            with pytest.raises(IncompleteTransfer) as stopped:
                await archives.import_archive(failing, tmp_path / "pod.tar.gz", target)
        assert "INCOMPLETE" in str(stopped.value) and stopped.value.done < stopped.value.total
        done = await archives.import_archive(pod, tmp_path / "pod.tar.gz", target)  # re-run
        assert done.verified and not done.problems
        graph = await pod.read_graph(target + "notes/a.ttl")
        assert {str(o) for o in graph.objects()} == {target + "notes/b.txt"}  # rebased
        who = await pod.who_can(target + "notes/b.txt")
        assert who[PUBLIC] == {"Read"}  # the ACL came along, rebased
        meta = await pod.read_graph(target + "notes/a.ttl.meta")
        assert len(meta) == 1
        assert await pod.list(target + "empty/") == []
        await pod.delete_tree(base)
        await pod.delete_tree(target)


# -- the same scenarios on the Community Solid Server, last (it boots meanwhile) -----------
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__[9:])
async def test_on_css(css: Server, scenario: Any, tmp_path: Path) -> None:
    await scenario(css, tmp_path)
