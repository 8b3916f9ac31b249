"""The owner's pages through a real server and the page session cookie: an organisation's
request is answered in part from the requests page (the WAC rule says what was ticked),
refused, withdrawn; the activity page filters the audit log and names each agent; the
account page makes and revokes client credentials, exports a pod, and deletes the account
with its pods, credentials and audit log.
"""

from __future__ import annotations

import io
import re
import tarfile
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from urllib.parse import quote

import aiohttp
import pytest
from rdflib import Graph, URIRef

from client import Forbidden, PodClient, PodClientError
from pod_server.audit.entry import Action, AuditEntry
from pod_server.http.keys import IDP, STORE
from pod_server.ldp.vocabulary import ACL
from pod_server.pods.hosting import add_user, pod_owner, user_credentials
from pod_server.settings import Settings
from pod_server.state.base import Consent, RefreshFamily
from pod_server.storage.base import LogQuery
from pod_server.storage.file import FileBackend
from tests.conftest import Pod, running_pod
from tests.integration.test_idp import Forms
from tests.unit.http.test_negotiation import CHROMIUM_NAVIGATION

PASSWORD = "a long enough passphrase"
NAV = {"Accept": CHROMIUM_NAVIGATION, "Sec-Fetch-Mode": "navigate"}
DATA_RETURN = "https://w3id.org/solid-pods/vocab/consent#DataReturn"


@dataclass
class World:
    pod: Pod  # its session is alice's browser (cookies kept)
    alice: PodClient
    bank: PodClient
    energy: PodClient
    webid: dict[str, str]
    box: str  # alice's storage URL

    @property
    def own(self) -> dict[str, str]:
        return {"Origin": self.pod.base.rstrip("/")}

    async def page(self, path: str, status: int = 200) -> str:
        async with self.pod.request("GET", path, headers=NAV, allow_redirects=False) as r:
            text = await r.text()
            assert r.status == status, (path, r.status, text[:500])
            return text

    async def csrf(self, path: str = "/alice/") -> str:
        return Forms(await self.page(path)).forms[-1].fields["csrf"]

    async def post(
        self, path: str, data: list[tuple[str, str]] | dict[str, str]
    ) -> aiohttp.ClientResponse:
        async with self.pod.request(
            "POST", path, data=data, headers=self.own, allow_redirects=False
        ) as r:
            await r.read()
            return r


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    settings = Settings(multiuser=True)
    async with (
        running_pod(tmp_path, FileBackend(tmp_path), settings) as server,
        AsyncExitStack() as stack,
    ):
        store, state = server.app[STORE], server.app[IDP].state  # type: ignore[index]
        clients, webid = {}, {}
        for name in ("alice", "bank", "energy"):
            await add_user(store, state, name, f"{name}@example.org", PASSWORD)
            made = await user_credentials(store, state, name, "tests")
            client = await stack.enter_async_context(PodClient())
            await client.login_client_credentials(
                made["issuer"], made["client_id"], made["client_secret"]
            )
            clients[name], webid[name] = client, made["webid"]
        await server.session.close()
        server.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        async with server.session:
            w = World(
                server,
                clients["alice"],
                clients["bank"],
                clients["energy"],
                webid,
                server.url("/alice/"),
            )
            await sign_in(w, "alice@example.org")
            yield w


async def sign_in(w: World, email: str) -> None:
    async with w.pod.session.get(w.pod.url("/idp/login")) as r:
        (form,) = Forms(await r.text()).forms
    data = {**form.fields, "email": email, "password": PASSWORD}
    async with w.pod.session.post(w.pod.url(form.action), data=data, allow_redirects=False) as r:
        assert r.status == 303


async def acl_of(w: World, path: str) -> Graph:
    """The ACL of a container of alice's (an empty graph when it has none of its own)."""
    url = w.box + path + ".acl"
    if not await w.alice.exists(url):
        return Graph()
    body = (await w.alice.get(url, accept="text/turtle")).body
    return Graph().parse(data=body, format="turtle", publicID=url)


def record_id(url: str) -> str:
    return url.rsplit("/", 1)[-1]


async def test_approve_part_of_a_request_from_the_page(world: World) -> None:
    w = world
    await w.alice.create_container(w.box + "bank/")
    await w.alice.create_container(w.box + "notes/")
    asked = await w.bank.request_access(
        w.webid["alice"],
        [(w.box + "bank/", ["Read", "Append"]), (w.box + "notes/", ["Read"])],
        purpose=DATA_RETURN,
        until=timedelta(days=90),
        note="Your statements",
    )
    page = unescape(await w.page("/alice/?ui=requests"))
    assert "bank asks for access" in page  # the name its profile gives
    assert "see and add to bank/" in page and "see notes/" in page
    assert "Your statements" in page and "Return of personal data" in page  # its label
    # Only "add to bank/" ticked, and an earlier end than asked.
    end = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    data = [
        ("csrf", await w.csrf()),
        ("id", record_id(asked)),
        ("access", "Append " + w.box + "bank/"),
        ("until", end),
        ("decision", "approve"),
    ]
    response = await w.post("/alice/?ui=decide", data)
    assert response.status == 303 and "note=approved" in response.headers["Location"]
    page = unescape(await w.page(response.headers["Location"].replace(w.pod.base, "/")))
    assert "Access given to bank." in page and "add to bank/" in page
    # The WAC rule: append only, on bank/ only, until the chosen day.
    acl = await acl_of(w, "bank/")
    rules = list(acl.subjects(ACL.agent, URIRef(w.webid["bank"])))
    assert len(rules) == 1
    assert set(acl.objects(rules[0], ACL.mode)) == {ACL.Append}
    assert URIRef(w.webid["bank"]) not in set((await acl_of(w, "notes/")).objects())
    await w.bank.post(w.box + "bank/", "<#t> <#amount> 12.")  # allowed now
    with pytest.raises(Forbidden):
        await w.bank.get(w.box + "bank/")  # reading was not ticked
    # The grant is listed as active, with a link to what the bank did; withdraw it.
    assert "Withdraw access" in page and "agent=" in page
    data = [("csrf", await w.csrf()), ("id", record_id(asked)), ("decision", "withdraw")]
    response = await w.post("/alice/?ui=decide", data)
    assert response.status == 303 and "note=withdrawn" in response.headers["Location"]
    acl = await acl_of(w, "bank/")
    assert not list(acl.subjects(ACL.agent, URIRef(w.webid["bank"])))
    page = unescape(await w.page("/alice/?ui=requests"))
    assert "withdrawn" in page and "No request is waiting" in page


async def test_deny_and_bad_decisions(world: World) -> None:
    w = world
    await w.alice.create_container(w.box + "energy/")
    asked = await w.energy.request_access(
        w.webid["alice"], [w.box + "energy/"], "Append", DATA_RETURN
    )
    csrf = await w.csrf()
    base = [("csrf", csrf), ("id", record_id(asked))]
    # Nothing ticked is not "everything": refused, nothing decided.
    response = await w.post("/alice/?ui=decide", [*base, ("decision", "approve")])
    assert response.status == 422
    # More than was asked: refused by the consent model.
    wider = ("access", "Write " + w.box + "energy/")
    assert (
        await w.post("/alice/?ui=decide", [*base, wider, ("decision", "approve")])
    ).status == 400
    bad = [("csrf", csrf), ("id", "../x"), ("decision", "deny")]
    assert (await w.post("/alice/?ui=decide", bad)).status == 422
    unknown = [("csrf", csrf), ("id", "nosuchrecord"), ("decision", "deny")]
    assert (await w.post("/alice/?ui=decide", unknown)).status == 404
    # No token, or another site: nothing done.
    assert (await w.post("/alice/?ui=decide", [*base[1:], ("decision", "deny")])).status == 403
    async with w.pod.request(
        "POST",
        "/alice/?ui=decide",
        data=[*base, ("decision", "deny")],
        headers={"Origin": "https://evil.example"},
        allow_redirects=False,
    ) as r:
        assert r.status == 403
    assert "energy asks for access" in unescape(await w.page("/alice/?ui=requests"))
    response = await w.post("/alice/?ui=decide", [*base, ("decision", "deny")])
    assert response.status == 303 and "note=denied" in response.headers["Location"]
    page = unescape(await w.page("/alice/?ui=requests"))
    assert "No request is waiting" in page and "refused" in page
    with pytest.raises(Forbidden):
        await w.energy.post(w.box + "energy/", "<#a> <#b> 1.")


async def test_only_the_owner_sees_the_pages(world: World) -> None:
    w = world
    await w.page("/bank/?ui=requests", 403)
    await w.page("/bank/?ui=activity", 403)
    await w.page("/alice/notes/?ui=requests", 404)
    async with aiohttp.ClientSession() as stranger:
        async with stranger.get(w.pod.url("/alice/?ui=activity"), headers=NAV) as r:
            assert r.status == 401 and "/idp/login?return=" in await r.text()
    csrf = await w.csrf()
    response = await w.post("/bank/?ui=decide", [("csrf", csrf), ("id", "x"), ("decision", "deny")])
    assert response.status == 403


async def test_activity_filters_and_the_organisations_view(world: World) -> None:
    w = world
    await w.alice.create_container(w.box + "bank/")
    await w.alice.create_container(w.box + "energy/")
    asked = await w.bank.request_access(w.webid["alice"], [w.box + "bank/"], "Append", DATA_RETURN)
    await w.alice.approve(asked)
    await w.bank.post(w.box + "bank/", "<#t> <#amount> 12.", slug="jan.ttl")
    with pytest.raises(Forbidden):
        await w.energy.post(w.box + "energy/", "<#t> <#kwh> 3.")
    page = unescape(await w.page("/alice/?ui=activity"))
    assert "bank added jan.ttl to bank/ — allowed" in page
    assert "energy tried to add to energy/ — refused" in page
    assert "alice signed in — allowed" in page  # the owner's sign-in, from the IdP
    page = unescape(await w.page("/alice/?ui=activity&outcome=refused"))
    assert "energy tried to add" in page and "bank added" not in page
    page = unescape(await w.page("/alice/?ui=activity&resource=bank/&outcome=allowed"))
    assert (
        "bank added jan.ttl" in page
        and "energy" not in page.split("<main", 1)[1].split("</form>", 1)[1]
    )
    agent = w.webid["bank"]
    page = unescape(await w.page("/alice/?ui=activity&agent=" + agent.replace("#", "%23")))
    assert "What bank did in your pod" in page and "bank added jan.ttl" in page
    assert "energy tried" not in page
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    page = unescape(await w.page(f"/alice/?ui=activity&since={tomorrow}"))
    assert "Nothing matches." in page
    today = datetime.now(UTC).date().isoformat()
    page = unescape(await w.page(f"/alice/?ui=activity&until={today}&lang=fr"))
    assert "bank a ajouté jan.ttl dans bank/ — autorisé" in page
    await w.page("/alice/?ui=activity&since=yesterday", 400)
    # Paged: 50 lines a page, the older ones one link away.
    for _ in range(52):
        with pytest.raises(Forbidden):
            await w.energy.get(w.box + "energy/")
    page = unescape(await w.page("/alice/?ui=activity&lang=en"))
    assert page.count("energy tried to look at energy/") == 50
    older = re.search(r'<a href="([^"]+)" rel="next">Older</a>', page)
    assert older is not None and "before=" in older.group(1)
    page = unescape(await w.page(older.group(1).replace(w.pod.base, "/")))
    assert page.count("energy tried to look at energy/") == 2 and "bank added jan.ttl" in page
    # The requests page links each grant to what its recipient did.
    page = unescape(await w.page("/alice/?ui=requests"))
    assert "ui=activity&agent=" + quote(agent, safe="") in page


async def test_account_credentials_export_and_deletion(world: World) -> None:
    w = world
    page = await w.page("/idp/account/settings")
    assert "Your pod: access, apps and data" in page and w.box + "?ui=requests" in page
    csrf = Forms(page).forms[-1].fields["csrf"]
    async with w.pod.request(
        "POST",
        "/idp/account/settings",
        data={"csrf": csrf, "do": "create_credentials", "label": "backup script"},
        headers=w.own,
    ) as r:
        made = await r.text()
    client_id = re.search(r'id="made-id">([^<]+)<', made).group(1)  # type: ignore[union-attr]
    secret = re.search(r'id="made-secret">([^<]+)<', made).group(1)  # type: ignore[union-attr]
    async with PodClient() as script:
        await script.login_client_credentials(w.pod.base, client_id, secret)
        assert script.webid == w.webid["alice"]
    page = await w.page("/idp/account/settings")
    assert client_id in page and "backup script" in page
    response = await w.post(
        "/idp/account/settings", {"csrf": csrf, "do": "revoke_credentials", "client_id": client_id}
    )
    assert response.status == 303
    assert client_id not in await w.page("/idp/account/settings")
    async with PodClient() as script:
        with pytest.raises(PodClientError):
            await script.login_client_credentials(w.pod.base, client_id, secret)
    # Someone else's credentials cannot be revoked from here.
    bank_made = await user_credentials(w.pod.app[STORE], w.pod.app[IDP].state, "bank", "x")  # type: ignore[index]
    response = await w.post(
        "/idp/account/settings",
        {"csrf": csrf, "do": "revoke_credentials", "client_id": bank_made["client_id"]},
    )
    assert response.status == 404
    # The export: a pod archive with alice's profile in it.
    await w.alice.create_container(w.box + "notes/")
    async with w.pod.request(
        "POST",
        "/idp/account/settings",
        data={"csrf": csrf, "do": "export", "pod": "alice"},
        headers=w.own,
    ) as r:
        assert r.status == 200 and "attachment" in r.headers["Content-Disposition"]
        data = await r.read()
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        names = tar.getnames()
    assert "manifest.json" in names and "data/profile/card" in names
    rows = await w.pod.app[STORE].backend.log_page("/alice/", LogQuery())  # type: ignore[index]
    entries = [AuditEntry.parse(row.body) for row in rows]
    assert any(e.action is Action.EXPORT and e.agent == w.webid["alice"] for e in entries)
    async with w.pod.request(
        "POST",
        "/idp/account/settings",
        data={"csrf": csrf, "do": "export", "pod": "bank"},
        headers=w.own,
    ) as r:
        assert r.status == 404  # not hers
    # Deletion: the password again, and the box ticked.
    page = unescape(await w.page("/idp/account/delete"))
    assert "audit logs are erased with them" in page and w.box in page
    assert (
        await w.post("/idp/account/delete", {"csrf": csrf, "password": "wrong", "confirm": "yes"})
    ).status == 401
    assert (await w.post("/idp/account/delete", {"csrf": csrf, "password": PASSWORD})).status == 400
    assert (
        await w.post("/idp/account/delete", {"password": PASSWORD, "confirm": "yes"})
    ).status == 403
    store, state = w.pod.app[STORE], w.pod.app[IDP].state  # type: ignore[index]
    assert await store.backend.log_page("/alice/", LogQuery())
    response = await w.post(
        "/idp/account/delete", {"csrf": csrf, "password": PASSWORD, "confirm": "yes"}
    )
    assert response.status == 200
    assert await pod_owner(store, "alice") is None
    assert await state.find_account("alice@example.org") is None
    assert await state.webid_owner(w.webid["alice"]) is None
    assert await store.backend.log_page("/alice/", LogQuery()) == []
    assert await pod_owner(store, "bank") is not None  # nobody else's
    assert await store.backend.meta("/alice/") is None
    async with w.pod.request("GET", "/idp/account/settings", allow_redirects=False) as r:
        assert r.status == 303  # signed out: to the sign-in page


async def test_sign_out_of_an_app_and_everywhere(world: World) -> None:
    w = world
    state = w.pod.app[IDP].state  # type: ignore[index]
    account_id = await state.webid_owner(w.webid["alice"])
    app = "https://app.example/id"
    now = datetime.now(UTC).timestamp()
    await state.remember_consent(Consent(account_id, app, "openid webid", w.webid["alice"], now))
    family = RefreshFamily(
        "fam1", app, account_id, w.webid["alice"], "openid", "jkt", now, now + 600
    )
    await state.add_refresh_token(family, "rt1", now + 600)
    page = unescape(await w.page("/idp/account/settings"))
    assert app in page and "Sign out of this app" in page
    csrf = Forms(page).forms[-1].fields["csrf"]
    response = await w.post(
        "/idp/account/settings", {"csrf": csrf, "do": "forget_app", "client_id": app}
    )
    assert response.status == 303
    assert await state.list_consents(account_id) == []
    assert (await state.get_refresh_token("rt1")).family.revoked
    # What the app may do is nothing now, for the tokens it still holds.
    grant = await w.pod.app[IDP].app_grants.get(w.webid["alice"], app)  # type: ignore[index]
    assert grant is not None and not grant.full and grant.targets == ()
    page = unescape(await w.page(response.headers["Location"]))
    assert "Signed out of " + app in page and "You have not signed in to any app" in page
    # Another browser signs in; this one ends that sign-in only.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as other:
        elsewhere = World(replace(w.pod, session=other), w.alice, w.bank, w.energy, w.webid, w.box)
        await sign_in(elsewhere, "alice@example.org")
        await elsewhere.page("/idp/account/settings")
        page = unescape(await w.page("/idp/account/settings"))
        assert page.count('name="session"') == 2 and page.count("(this browser)") == 1
        items = [item for item in page.split("<li>") if 'name="session"' in item]
        others = [
            re.search(r'name="session" value="([^"]+)"', item).group(1)  # type: ignore[union-attr]
            for item in items
            if "(this browser)" not in item
        ]
        assert len(others) == 1
        ended = await w.post(
            "/idp/account/settings", {"csrf": csrf, "do": "end_session", "session": others[0]}
        )
        assert ended.status == 303 and "note=session_ended" in ended.headers["Location"]
        await elsewhere.page("/idp/account/settings", 303)  # signed out there
        await w.page("/idp/account/settings")  # not here
        bad = await w.post(
            "/idp/account/settings", {"csrf": csrf, "do": "end_session", "session": "x" * 43}
        )
        assert bad.status == 404
    # Sign out everywhere: this browser too.
    response = await w.post("/idp/account/settings", {"csrf": csrf, "do": "signout_all"})
    assert response.status == 303
    async with w.pod.request("GET", "/idp/account/settings", allow_redirects=False) as r:
        assert r.status == 303 and "/idp/login" in r.headers["Location"]
