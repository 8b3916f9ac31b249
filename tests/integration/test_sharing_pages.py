"""The sharing page and the profile card through a real server: a person who controls a
resource sees who has access in plain words, gives and removes access with the page's
forms (CSRF-checked, written through the same store and access policy as the API, so the
API then answers accordingly), and cannot lock themselves out; browsers get a profile
card, RDF clients the profile's Turtle.
"""

from __future__ import annotations

import json
import time
from html import unescape
from pathlib import Path

import aiohttp
from rdflib import Graph

from pod_server.http.keys import IDP, STORE
from pod_server.idp.minting import Grant, access_token
from pod_server.storage.base import LogQuery
from tests.conftest import Pod
from tests.integration.test_hosting import PASSWORD, Client, credentials, host  # noqa: F401
from tests.integration.test_idp import Forms
from tests.integration.test_pages import NAV
from tests.unit.auth.helpers import make_issuer_key, thumbprint

ACL_PREFIX = "@prefix acl: <http://www.w3.org/ns/auth/acl#>.\n"


async def _sign_in(pod: Pod, session: aiohttp.ClientSession, email: str) -> None:
    async with session.get(pod.url("/idp/login")) as r:
        (form,) = Forms(await r.text()).forms
    data = {**form.fields, "email": email, "password": PASSWORD}
    async with session.post(pod.url(form.action), data=data, allow_redirects=False) as r:
        assert r.status == 303


async def _page(session: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with session.get(url, headers=NAV, allow_redirects=False) as r:
        return r.status, await r.text()


async def _post(
    session: aiohttp.ClientSession, pod: Pod, url: str, fields: dict[str, str]
) -> tuple[int, str, str]:
    own = {"Origin": pod.base.rstrip("/")}
    async with session.post(url, data=fields, headers=own, allow_redirects=False) as r:
        return r.status, r.headers.get("Location", ""), await r.text()


async def _csrf(session: aiohttp.ClientSession, url: str) -> str:
    status, page = await _page(session, url + "?ui=sharing")
    assert status == 200, page
    return Forms(page).forms[-1].fields["csrf"]


async def _acl(session: aiohttp.ClientSession, url: str) -> Graph:
    headers = {"Sec-Fetch-Site": "same-origin"}  # the page's own link to the data
    async with session.get(url + ".acl?format=turtle", headers=headers) as r:
        assert r.status == 200
        return Graph().parse(data=await r.text(), format="turtle", publicID=url + ".acl")


async def _api(pod: Pod, root: Path, name: str) -> Client:
    made = await credentials(root, pod.base, name)
    client = Client(pod, make_issuer_key("ES256"))
    await client.get_token(
        {"grant_type": "client_credentials"}, basic=(made["client_id"], made["client_secret"])
    )
    return client


async def test_share_with_a_person_then_revoke(host: tuple[Pod, Path]) -> None:  # noqa: F811
    pod, root = host
    alice_api, bob_api = await _api(pod, root, "alice"), await _api(pod, root, "bob")
    assert await alice_api.call("PUT", "/alice/notes/plan.ttl", "<#a> <#b> 1.") == 201
    doc = pod.url("/alice/notes/plan.ttl")
    bob = pod.url("/bob/profile/card#me")
    alice = pod.session
    await _sign_in(pod, alice, "alice@example.org")

    status, page = await _page(alice, doc)
    assert status == 200 and f'href="{doc}?ui=sharing">Sharing<' in page
    status, page = await _page(alice, doc + "?ui=sharing")
    assert status == 200 and "Sharing of plan.ttl" in page
    assert "it follows those of the folder " + pod.url("/alice/") in page  # inherited
    assert f'href="{pod.url("/alice/")}?ui=sharing"' in page
    assert pod.url("/alice/profile/card#me") in page
    assert "can see, can edit, can manage sharing (and everything inside)" not in page
    assert "can see, can edit, can manage sharing" in page

    csrf = await _csrf(alice, doc)
    form = {"csrf": csrf, "kind": "person", "who": bob, "level": "see"}
    status, location, _ = await _post(alice, pod, doc + "?ui=share", form)
    assert status == 303 and location == doc + "?ui=sharing&note=shared"
    acl = await _acl(alice, doc)
    assert len(list(acl.subjects(None, None))) >= 2  # the copied owner rule and bob's
    status, page = await _page(alice, location)
    assert "Access given." in page and "This item has its own sharing settings" in page
    assert f'<a href="{bob}">{bob}</a></td>\n<td>can see</td>' in page
    assert "copied from the folder" in page
    assert await bob_api.call("GET", "/alice/notes/plan.ttl") == 200
    assert await bob_api.call("PUT", "/alice/notes/plan.ttl", "<#a> <#b> 2.") == 403
    assert await alice_api.call("GET", "/alice/notes/plan.ttl") == 200  # nobody lost access

    # Bob in his own browser session reads the page of the document.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as bobs:
        await _sign_in(pod, bobs, "bob@example.org")
        status, page = await _page(bobs, doc)
        assert status == 200 and "?ui=sharing" not in page  # no Control: no link
        status, page = await _page(bobs, doc + "?ui=sharing")
        assert status == 403
        # Raising the level replaces the rule; then removing it takes the access away.
        form = {"csrf": csrf, "kind": "person", "who": bob, "level": "edit"}
        assert (await _post(alice, pod, doc + "?ui=share", form))[0] == 303
        assert await bob_api.call("PUT", "/alice/notes/plan.ttl", "<#a> <#b> 2.") in (200, 204)
        form = {"csrf": csrf, "kind": "person", "who": bob}
        status, location, _ = await _post(alice, pod, doc + "?ui=unshare", form)
        assert status == 303 and location.endswith("note=unshared")
        assert (await _page(bobs, doc))[0] == 403
        assert await bob_api.call("GET", "/alice/notes/plan.ttl") == 403
        status, _, page = await _post(alice, pod, doc + "?ui=unshare", form)
        assert status == 404 and "Nothing to remove" in page


async def test_everyone_groups_origins_and_french(host: tuple[Pod, Path]) -> None:  # noqa: F811
    pod, root = host
    alice_api = await _api(pod, root, "alice")
    assert await alice_api.call("PUT", "/alice/photos/a.ttl", "<#a> <#b> 1.") == 201
    folder = pod.url("/alice/photos/")
    alice = pod.session
    await _sign_in(pod, alice, "alice@example.org")
    csrf = await _csrf(alice, folder)
    group = pod.url("/alice/friends.ttl#group")
    for form in (
        {"kind": "everyone", "who": "", "level": "see"},
        {"kind": "group", "who": group, "level": "add"},
        {"kind": "signed_in", "who": "ignored", "level": "see", "origin": "https://App.example/"},
    ):
        status, _, page = await _post(alice, pod, folder + "?ui=share", {"csrf": csrf, **form})
        assert status == 303, page
    status, page = await _page(alice, folder + "?ui=sharing")
    assert "Everyone, even without signing in</td>\n<td>can see (and everything inside)" in page
    assert f'Members of the group <a href="{group}">' in page
    assert "can see, can add (and everything inside)" in page
    assert "only through the app(s) at https://app.example" in page
    async with aiohttp.ClientSession() as anonymous:
        async with anonymous.get(folder + "a.ttl", headers={"Accept": "text/turtle"}) as r:
            assert r.status == 200  # everyone can see what is inside
    # A document in the folder inherits: its page says from where, with a link.
    status, page = await _page(alice, folder + "a.ttl?ui=sharing")
    assert f"the folder {folder} (inherited)" in page
    assert f'href="{folder}?ui=sharing">change it there<' in page
    assert page.count('action="?ui=unshare"') == 0  # inherited rules are changed there
    status, page = await _page(alice, folder + "?ui=sharing&lang=fr")
    assert '<html lang="fr">' in page and "Partage de photos" in page
    assert "Tout le monde, même sans se connecter" in page and "peut voir" in page


APP_ID = "https://budget.example/id"
CLIENT_CONDITION = "http://www.w3.org/ns/auth/acl#ClientCondition"
ACL_CONDITION = "http://www.w3.org/ns/auth/acl#condition"


async def _through_app(pod: Pod, webid: str, client_id: str) -> Client:
    """A DPoP-bound token of this server's provider for ``webid`` signed in to ``client_id``
    (what an app's authorization-code sign-in ends with)."""
    provider = pod.app[IDP]  # type: ignore[index]
    key = make_issuer_key("ES256")
    grant = Grant(provider.issuer, webid, client_id, thumbprint(key), "openid webid")
    client = Client(pod, key)
    client.token = access_token(await provider.keys.signer(), grant, time.time(), 300)
    return client


async def test_share_with_an_app_by_its_client_id(host: tuple[Pod, Path]) -> None:  # noqa: F811
    """Alice gives an app (its client id) "can see and add" on a folder: Bob signed in to
    that app reads and adds there, Bob through another app is refused; the page names the
    app, in French too; removed, the app is refused again. Bad client ids get a clear page."""
    pod, root = host
    alice_api = await _api(pod, root, "alice")
    assert await alice_api.call("PUT", "/alice/budget/a.ttl", "<#a> <#b> 1.") == 201
    folder = pod.url("/alice/budget/")
    bob = pod.url("/bob/profile/card#me")
    via_app = await _through_app(pod, bob, APP_ID)
    via_other = await _through_app(pod, bob, "https://other.example/id")
    assert await via_app.call("GET", "/alice/budget/a.ttl") == 403
    alice = pod.session
    await _sign_in(pod, alice, "alice@example.org")
    csrf = await _csrf(alice, folder)
    form = {"csrf": csrf, "kind": "app", "who": APP_ID, "level": "add"}
    status, _, page = await _post(alice, pod, folder + "?ui=share", form)
    assert status == 303, page
    status, page = await _page(alice, folder + "?ui=sharing")
    assert f'The app <a href="{APP_ID}">{APP_ID}</a></td>\n<td>can see, can add' in page
    assert await via_app.call("GET", "/alice/budget/a.ttl") == 200
    assert await via_app.call("POST", "/alice/budget/", "<#b> <#c> 2.") == 201
    assert await via_app.call("PUT", "/alice/budget/a.ttl", "<#a> <#b> 3.") == 403  # no edit
    assert await via_other.call("GET", "/alice/budget/a.ttl") == 403
    bob_script = await _api(pod, root, "bob")
    assert await bob_script.call("GET", "/alice/budget/a.ttl") == 403  # not the app
    status, page = await _page(alice, folder + "?ui=sharing&lang=fr")
    page = unescape(page)
    assert f'L\'application <a href="{APP_ID}">' in page and "peut voir, peut ajouter" in page
    acl_url = folder + ".acl"
    auth = {"Authorization": f"DPoP {alice_api.token}", "DPoP": alice_api.proof("HEAD", acl_url)}
    async with pod.session.head(acl_url, headers=auth) as r:  # WAC draft: condition discovery
        assert r.status == 200
        assert f'<{CLIENT_CONDITION}>; rel="{ACL_CONDITION}"' in r.headers["Link"]
    # No "manage sharing" for an app; a client id must be an address.
    await _page(alice, folder + "?ui=sharing&lang=en")  # the choice is remembered: back
    for bad, says in (
        ({"kind": "app", "who": APP_ID, "level": "manage"}, "not the management of sharing"),
        ({"kind": "app", "who": "budget", "level": "see"}, "Client ID Document"),
    ):
        status, _, page = await _post(alice, pod, folder + "?ui=share", {"csrf": csrf, **bad})
        assert status == 400 and says in page
    form = {"csrf": csrf, "kind": "app", "who": APP_ID}
    assert (await _post(alice, pod, folder + "?ui=unshare", form))[0] == 303
    assert await via_app.call("GET", "/alice/budget/a.ttl") == 403
    status, page = await _page(alice, folder + "?ui=sharing")
    assert APP_ID not in page


async def test_consent_rules_are_shown_and_not_removed_here(host: tuple[Pod, Path]) -> None:  # noqa: F811
    pod, root = host
    alice_api = await _api(pod, root, "alice")
    doc = pod.url("/alice/health.ttl")
    record = pod.url("/alice/.well-known/consent/abc")
    org = "https://clinic.example/profile#org"
    assert await alice_api.call("PUT", "/alice/health.ttl", "<#a> <#b> 1.") == 201
    acl = (
        ACL_PREFIX + "@prefix c: <https://w3id.org/solid-pods/vocab/consent#>.\n"
        "@prefix xsd: <http://www.w3.org/2001/XMLSchema#>.\n"
        f"<#owner> a acl:Authorization; acl:agent <{pod.url('/alice/profile/card#me')}>;"
        f" acl:accessTo <{doc}>; acl:mode acl:Read, acl:Write, acl:Control.\n"
        f"<#c> a acl:Authorization; acl:agent <{org}>; acl:accessTo <{doc}>; acl:mode acl:Read;"
        f' c:grantedBy <{record}>; c:until "2099-01-31T12:00:00+00:00"^^xsd:dateTime.\n'
        f"<#old> a acl:Authorization; acl:agent <{org}>; acl:accessTo <{doc}>; acl:mode acl:Write;"
        f' c:grantedBy <{record}2>; c:until "2001-01-31T12:00:00+00:00"^^xsd:dateTime.\n'
    )
    assert await alice_api.call("PUT", "/alice/health.ttl.acl", acl) == 201
    ended = acl.replace("<#c>", "<#old>").replace("2099-01-31", "2001-01-31")
    ended = ended.split("\n<#owner>")[0] + "\n" + ended.split("\n", 3)[-1].split("\n", 1)[1]
    alice = pod.session
    await _sign_in(pod, alice, "alice@example.org")
    status, page = await _page(alice, doc + "?ui=sharing")
    assert f"your consent to {org} until 2099-01-31 12:00" in page
    assert f'<a href="{record}">see the consent</a>' in page
    assert "which ended on 2001-01-31 12:00 (it no longer gives access)" in page
    assert page.count('action="?ui=unshare"') == 1  # the owner's rule only
    csrf = Forms(page).forms[-1].fields["csrf"]
    form = {"csrf": csrf, "kind": "person", "who": org}
    status, _, page = await _post(alice, pod, doc + "?ui=unshare", form)
    assert status == 409 and "withdraw the consent" in page
    assert f"<{org}>" in (await _acl(alice, doc)).serialize(format="nt")


async def test_the_owner_cannot_lock_themselves_out(host: tuple[Pod, Path]) -> None:  # noqa: F811
    pod, _ = host
    home = pod.url("/alice/")
    me = pod.url("/alice/profile/card#me")
    alice = pod.session
    await _sign_in(pod, alice, "alice@example.org")
    before = (await _acl(alice, home)).serialize(format="nt")
    csrf = await _csrf(alice, home)
    status, _, page = await _post(
        alice, pod, home + "?ui=unshare", {"csrf": csrf, "kind": "person", "who": me}
    )
    assert status == 409 and "take away your own access (can see, can edit)" in page
    form = {"csrf": csrf, "kind": "person", "who": me, "level": "see"}
    status, _, page = await _post(alice, pod, home + "?ui=share", form)
    assert status == 409 and "(can edit)" in page
    assert (await _acl(alice, home)).serialize(format="nt") == before  # nothing written
    form = {"csrf": csrf, "kind": "person", "who": me, "level": "manage"}
    assert (await _post(alice, pod, home + "?ui=share", form))[0] == 303  # keeps it all


async def test_the_owner_s_access_through_a_group_is_not_removed(host: tuple[Pod, Path]) -> None:  # noqa: F811
    """Alice reads and writes her pod only as a member of a group (a document in her pod):
    the page refuses to remove the group, naming it, and writes nothing."""
    pod, root = host
    alice_api = await _api(pod, root, "alice")
    home = pod.url("/alice/")
    me = pod.url("/alice/profile/card#me")
    group = pod.url("/alice/family#us")
    members = f"<#us> <http://www.w3.org/2006/vcard/ns#hasMember> <{me}>."
    assert await alice_api.call("PUT", "/alice/family", members) == 201
    root_acl = ACL_PREFIX + (
        f"<#family> a acl:Authorization; acl:agentGroup <{group}>; acl:accessTo <{home}>;"
        f" acl:default <{home}>; acl:mode acl:Read, acl:Write.\n"
        f"<#me> a acl:Authorization; acl:agent <{me}>; acl:accessTo <{home}>; acl:mode acl:Control."
    )  # a root ACL keeps someone named with Control
    assert await alice_api.call("PUT", "/alice/.acl", root_acl) in (201, 204)
    alice = pod.session
    await _sign_in(pod, alice, "alice@example.org")
    before = (await _acl(alice, home)).serialize(format="nt")
    csrf = await _csrf(alice, home)
    status, _, page = await _post(
        alice, pod, home + "?ui=unshare", {"csrf": csrf, "kind": "group", "who": group}
    )
    assert status == 409, page
    assert f"only as a member of the group {group}" in page and me in page
    assert "(can see, can edit)" in page
    assert (await _acl(alice, home)).serialize(format="nt") == before  # nothing written
    # Given the access herself first, the group may go.
    form = {"csrf": csrf, "kind": "person", "who": me, "level": "manage"}
    assert (await _post(alice, pod, home + "?ui=share", form))[0] == 303
    form = {"csrf": csrf, "kind": "group", "who": group}
    assert (await _post(alice, pod, home + "?ui=unshare", form))[0] == 303
    assert await alice_api.call("GET", "/alice/family") == 200


async def test_bad_input_forgery_and_no_control(host: tuple[Pod, Path]) -> None:  # noqa: F811
    pod, root = host
    alice_api = await _api(pod, root, "alice")
    assert await alice_api.call("PUT", "/alice/d.ttl", "<#a> <#b> 1.") == 201
    doc = pod.url("/alice/d.ttl")
    alice = pod.session
    await _sign_in(pod, alice, "alice@example.org")
    csrf = await _csrf(alice, doc)
    for fields, words in (
        ({"kind": "robot", "who": "https://x.example/#i", "level": "see"}, "to whom"),
        ({"kind": "person", "who": "bob", "level": "see"}, "full address"),
        ({"kind": "person", "who": "https://x.example/#i", "level": "own"}, "which access"),
        (
            {"kind": "person", "who": "https://x.example/#i", "level": "see", "origin": "ftp://a"},
            "app&#39;s address",
        ),
    ):
        status, _, page = await _post(alice, pod, doc + "?ui=share", {"csrf": csrf, **fields})
        assert status == 400 and words in page, page
    form = {"kind": "everyone", "level": "see"}
    assert (await _post(alice, pod, doc + "?ui=share", form))[0] == 403  # no token
    headers = {"Origin": "https://evil.example"}
    async with alice.post(doc + "?ui=share", data={"csrf": csrf, **form}, headers=headers) as r:
        assert r.status == 403
    status, _ = await _page(alice, doc + ".acl?ui=sharing")
    assert status == 400
    assert (await _page(alice, pod.url("/alice/missing.ttl?ui=sharing")))[0] == 404
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as bobs:
        await _sign_in(pod, bobs, "bob@example.org")
        status, page = await _page(bobs, doc + "?ui=sharing")
        assert status == 403 and "do not have access" in page
        bob_csrf = Forms((await _page(bobs, pod.url("/bob/")))[1]).forms[0].fields["csrf"]
        form = {"csrf": bob_csrf, "kind": "everyone", "level": "see"}
        assert (await _post(bobs, pod, doc + "?ui=share", form))[0] == 403
    async with aiohttp.ClientSession() as anonymous:
        async with anonymous.get(doc, headers={"Accept": "text/turtle"}) as r:
            assert r.status == 401  # none of the refused changes was written


async def test_profile_card_for_people_turtle_for_machines(host: tuple[Pod, Path]) -> None:  # noqa: F811
    pod, _ = host
    card = pod.url("/alice/profile/card")
    async with aiohttp.ClientSession() as anonymous:
        status, page = await _page(anonymous, card)
        assert status == 200 and "<h1>Profile of alice</h1>" in page
        assert f'<dt>Storage (pod)</dt><dd><a href="{pod.url("/alice/")}">' in page
        assert f'<dt>Inbox</dt><dd><a href="{pod.url("/alice/inbox/")}">' in page
        assert f'WebID: <a href="{card}#me">' in page
        for accept in ("text/turtle", "*/*", None):
            headers = {"Accept": accept} if accept else {}
            async with anonymous.get(card, headers=headers) as r:
                assert r.status == 200 and r.content_type == "text/turtle", accept
                graph = Graph().parse(data=await r.text(), format="turtle", publicID=card)
                assert len(graph) > 5
        status, page = await _page(anonymous, card + "?lang=fr")
        assert "Profil de alice" in page and "Boîte de réception" in page


async def test_profile_photo_from_this_server_only(host: tuple[Pod, Path]) -> None:  # noqa: F811
    pod, root = host
    alice_api = await _api(pod, root, "alice")
    other = pod.url("/alice/people/other")
    text = (
        "@prefix foaf: <http://xmlns.com/foaf/0.1/>.\n"
        "@prefix vcard: <http://www.w3.org/2006/vcard/ns#>.\n"
        "<> a foaf:PersonalProfileDocument; foaf:primaryTopic <#i>.\n"
        '<#i> foaf:name "Zoé <b>"; vcard:hasPhoto <{photo}>; foaf:knows <#friend>.\n'
        '<#friend> foaf:name "Yann".\n'
    )
    local = pod.url("/alice/people/z.png")
    assert await alice_api.call("PUT", "/alice/people/other", text.format(photo=local)) == 201
    async with aiohttp.ClientSession() as anonymous:
        status, page = await _page(anonymous, other)
        assert status == 401  # the profile is private: the page says so
    alice = pod.session
    await _sign_in(pod, alice, "alice@example.org")
    status, page = await _page(alice, other)
    assert status == 200 and "<h1>Profile of Zoé &lt;b&gt;</h1>" in page
    assert f'<img class="photo" src="{local}?format=raw" alt="Photo of Zoé &lt;b&gt;">' in page
    assert f'<a href="{other}#friend">Yann</a>' in page
    away = "https://cdn.example/z.png"
    assert await alice_api.call("PUT", "/alice/people/other", text.format(photo=away)) in (
        200,
        204,
    )
    status, page = await _page(alice, other)
    assert "<img" not in page and f'<a href="{away}">' in page  # nothing loaded from elsewhere
    assert '<span class="photo initial" aria-hidden="true">Z</span>' in page


async def test_what_others_do_through_the_pages_is_in_the_owner_s_log(
    host: tuple[Pod, Path],  # noqa: F811
) -> None:
    """The pages judge access themselves; what bob reads, makes or is refused through
    them is in alice's audit log, once each, writes in the write's own commit."""
    pod, root = host
    alice_api = await _api(pod, root, "alice")
    assert await alice_api.call("PUT", "/alice/notes/plan.ttl", "<#a> <#b> 1.") == 201
    folder, bob = pod.url("/alice/notes/"), pod.url("/bob/profile/card#me")
    await _sign_in(pod, pod.session, "alice@example.org")
    form = {"csrf": await _csrf(pod.session, folder), "kind": "person", "who": bob}
    assert (await _post(pod.session, pod, folder + "?ui=share", {**form, "level": "edit"}))[
        0
    ] == 303
    assert pod.app is not None
    backend = pod.app[STORE].backend

    async def bobs_entries() -> list[tuple[str, int, str]]:
        rows = await backend.log_page("/alice/", LogQuery(agent=bob))
        return [(json.loads(r.body)["action"], r.outcome, r.resource) for r in rows]

    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as bobs:
        await _sign_in(pod, bobs, "bob@example.org")
        assert (await _page(bobs, folder + "plan.ttl"))[0] == 200
        assert (await _page(bobs, pod.url("/alice/")))[0] == 403
        status, page = await _page(bobs, folder)
        assert status == 200
        csrf = Forms(page).forms[-1].fields["csrf"]
        made = await _post(bobs, pod, folder + "?ui=mkdir", {"csrf": csrf, "name": "ideas"})
        assert made[0] == 303, made
    assert await bobs_entries() == [
        ("Create", 201, folder + "ideas/"),
        ("View", 200, folder),
        ("View", 403, pod.url("/alice/")),
        ("View", 200, folder + "plan.ttl"),
    ]
