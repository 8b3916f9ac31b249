"""The pod browser's smaller forms through a real server, with the page session cookie:
rename a document (copy then delete, the API's access checks, never over an existing
name), stop sharing an item separately (unless it locks the owner out), and deleting a
folder that is not empty (a page saying so, with the count)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from rdflib import Graph

from client import PodClientError
from pod_server.ui import rename_folder
from tests.integration.test_admin_pages import ops  # noqa: F401 (a fixture)
from tests.integration.test_consent_pages import World, sign_in

ACL = "@prefix acl: <http://www.w3.org/ns/auth/acl#>.\n"
DC = "http://purl.org/dc/terms/"


def rule(name: str, who: str, target: str, modes: str, default: bool = False) -> str:
    inherit = f" acl:default <{target}>;" if default else ""
    return (
        f"<#{name}> a acl:Authorization; acl:agent <{who}>; acl:accessTo <{target}>;{inherit}"
        f" acl:mode {modes}.\n"
    )


@pytest.fixture
async def alice(ops: World) -> AsyncIterator[World]:  # noqa: F811
    """The same server, the browser signed in as alice (a pod owner)."""
    ops.pod.session.cookie_jar.clear()
    await sign_in(ops, "alice@example.org")
    yield ops


async def form_post(w: World, path: str, action: str, **fields: str) -> tuple[int, str, str]:
    """Post a page's form (its CSRF token taken from the page first)."""
    csrf = await w.csrf("/alice/")
    async with w.pod.request(
        "POST",
        f"{path}?ui={action}",
        data={"csrf": csrf, **fields},
        headers=w.own,
        allow_redirects=False,
    ) as r:
        return r.status, r.headers.get("Location", ""), await r.text()


async def exists(w: World, path: str) -> bool:
    return await w.alice.exists(w.pod.url(path))


async def test_rename_a_file_and_a_document(alice: World) -> None:
    w = alice
    await w.alice.put(w.pod.url("/alice/docs/a.txt"), "hello", "text/plain")
    page = await w.page("/alice/docs/a.txt")
    assert 'action="?ui=rename"' in page and 'value="a.txt"' in page
    status, location, _ = await form_post(w, "/alice/docs/a.txt", "rename", name="b c.txt")
    assert status == 303 and location.startswith(w.pod.url("/alice/docs/b%20c.txt"))
    assert "Renamed to b c.txt" in await w.page(location.removeprefix(w.pod.base))
    assert (await w.alice.get(w.pod.url("/alice/docs/b%20c.txt"))).body == b"hello"
    assert not await exists(w, "/alice/docs/a.txt")
    await w.alice.put(w.pod.url("/alice/docs/d.ttl"), '<#x> <#y> "z".', "text/turtle")
    status, _, _ = await form_post(w, "/alice/docs/d.ttl", "rename", name="e.ttl")
    assert status == 303
    body = (await w.alice.get(w.pod.url("/alice/docs/e.ttl"), accept="text/turtle")).body
    assert len(Graph().parse(data=body, format="turtle")) == 1


async def test_rename_refuses_an_existing_name_and_bad_names(alice: World) -> None:
    w = alice
    await w.alice.put(w.pod.url("/alice/docs/a.txt"), "one", "text/plain")
    await w.alice.put(w.pod.url("/alice/docs/c.txt"), "two", "text/plain")
    await w.alice.put(w.pod.url("/alice/docs/sub/x.txt"), "three", "text/plain")
    status, _, page = await form_post(w, "/alice/docs/a.txt", "rename", name="c.txt")
    assert status == 409 and "already in this folder" in page and "Not renamed" in page
    assert f'href="{w.pod.url("/alice/docs/a.txt")}">Back to a.txt<' in page
    status, _, page = await form_post(w, "/alice/docs/a.txt", "rename", name="sub")
    assert status == 409  # a folder of that name
    for bad in ("", "x/y", "..", "a.txt", "a.txt.acl"):
        status, _, _ = await form_post(w, "/alice/docs/a.txt", "rename", name=bad)
        assert status == 400, bad
    status, _, _ = await form_post(w, "/alice/", "rename", name="other")
    assert status == 400  # the pod's top folder
    assert (await w.alice.get(w.pod.url("/alice/docs/a.txt"))).body == b"one"
    assert (await w.alice.get(w.pod.url("/alice/docs/c.txt"))).body == b"two"
    own = ACL + rule(
        "me", w.webid["alice"], w.pod.url("/alice/docs/a.txt"), "acl:Read, acl:Write, acl:Control"
    )
    await w.alice.put(w.pod.url("/alice/docs/a.txt.acl"), own, "text/turtle")
    status, _, page = await form_post(w, "/alice/docs/a.txt", "rename", name="z.txt")
    assert status == 409 and "stop sharing it separately" in page
    assert await exists(w, "/alice/docs/a.txt") and not await exists(w, "/alice/docs/z.txt")


async def test_rename_a_folder_with_everything_in_it(alice: World) -> None:
    """A folder is copied whole under its new name (links inside it follow it, its
    descriptions too), then the old one is gone; an item inside with its own sharing
    settings, or an existing name, stops it before anything is written."""
    w = alice
    old, new = w.pod.url("/alice/trip/"), w.pod.url("/alice/holiday 2026/")
    await w.alice.put(old + "notes.txt", "sun", "text/plain")
    await w.alice.put(old + "days/one.ttl", f'<#d> <{DC}title> "Day one"; <{DC}next> <two.ttl>.')
    await w.alice.put(old + "days/two.ttl", f'<#d> <{DC}title> "Day two".')
    await w.alice.put(old + "days/one.ttl.meta", f'<one.ttl> <{DC}creator> "me".', "text/turtle")
    page = await w.page("/alice/trip/")
    assert 'action="?ui=rename"' in page and 'value="trip"' in page
    status, location, _ = await form_post(w, "/alice/trip/", "rename", name="holiday 2026")
    assert status == 303 and location.startswith(
        w.pod.url("/alice/holiday%202026/?note=renamed&name=")
    )
    assert "Renamed to holiday 2026" in await w.page(location.removeprefix(w.pod.base))
    assert not await exists(w, "/alice/trip/")
    moved = w.pod.url("/alice/holiday%202026/")
    assert (await w.alice.get(moved + "notes.txt")).body == b"sun"
    body = (await w.alice.get(moved + "days/one.ttl", accept="text/turtle")).body
    graph = Graph().parse(data=body, format="turtle", publicID=moved + "days/one.ttl")
    assert {str(o) for o in graph.objects()} >= {moved + "days/two.ttl", "Day one"}
    meta = (await w.alice.get(moved + "days/one.ttl.meta", accept="text/turtle")).body
    assert b"me" in meta
    del new
    # Refused, nothing written: an item with its own ACL inside, an existing name.
    await w.alice.put(old + "a.txt", "a", "text/plain")
    await w.alice.put(old + "sub/b.txt", "b", "text/plain")
    own = ACL + rule("me", w.webid["alice"], old + "sub/", "acl:Read, acl:Write, acl:Control")
    await w.alice.put(old + "sub/.acl", own, "text/turtle")
    status, _, page = await form_post(w, "/alice/trip/", "rename", name="elsewhere")
    assert status == 409 and "sub has its own sharing settings" in page
    assert not await exists(w, "/alice/elsewhere/") and await exists(w, "/alice/trip/a.txt")
    await w.alice.delete(old + "sub/.acl")
    status, _, page = await form_post(w, "/alice/trip/", "rename", name="holiday 2026")
    assert status == 409 and "already in this folder" in page
    assert await exists(w, "/alice/trip/sub/b.txt")


async def test_an_item_changed_while_its_folder_is_copied_is_kept(
    alice: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file written between the copy and the deletes is not lost: it stays in the old
    folder (with the folders above it), and the page says how many stayed."""
    w = alice
    old = w.pod.url("/alice/moving/")
    await w.alice.put(old + "a.txt", "a", "text/plain")
    await w.alice.put(old + "sub/b.txt", "b", "text/plain")
    copy = rename_folder._copy

    async def copy_then_change(*args: object) -> dict[str, str]:
        copied = await copy(*args)  # type: ignore[arg-type]
        await w.alice.put(old + "sub/b.txt", "b, changed", "text/plain")
        return copied

    monkeypatch.setattr(rename_folder, "_copy", copy_then_change)
    status, location, _ = await form_post(w, "/alice/moving/", "rename", name="moved")
    assert status == 303 and "note=renamed_kept&n=1" in location
    page = await w.page(location.removeprefix(w.pod.base))
    assert "except 1 item(s) changed while it was being copied" in page
    assert (await w.alice.get(old + "sub/b.txt")).body == b"b, changed"  # kept
    assert not await exists(w, "/alice/moving/a.txt")  # the rest moved
    assert (await w.alice.get(w.pod.url("/alice/moved/sub/b.txt"))).body == b"b"


async def test_a_folder_too_large_to_rename_here(
    alice: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = alice
    monkeypatch.setattr(rename_folder, "MAX_ITEMS", 3)
    for name in ("a", "b", "c", "d"):
        await w.alice.put(w.pod.url(f"/alice/big/{name}.txt"), name, "text/plain")
    status, _, page = await form_post(w, "/alice/big/", "rename", name="huge")
    assert status == 409 and "more than 3 items" in page
    assert not await exists(w, "/alice/huge/") and await exists(w, "/alice/big/d.txt")


async def test_rename_needs_what_the_api_needs(alice: World) -> None:
    w = alice
    # Bob may read a public document of alice's, and nothing more.
    w.pod.session.cookie_jar.clear()
    await sign_in(w, "bob@example.org")
    assert 'action="?ui=rename"' not in await w.page("/alice/profile/card")
    csrf = await w.csrf("/bob/")
    async with w.pod.request(
        "POST",
        "/alice/profile/card?ui=rename",
        data={"csrf": csrf, "name": "mine"},
        headers=w.own,
        allow_redirects=False,
    ) as r:
        assert r.status == 403
    assert await exists(w, "/alice/profile/card") and not await exists(w, "/alice/profile/mine")
    # A form without the token does nothing either.
    async with w.pod.request(
        "POST", "/bob/profile/card?ui=rename", data={"name": "x"}, headers=w.own
    ) as r:
        assert r.status == 403


async def test_stop_sharing_separately(alice: World) -> None:
    w = alice
    item = w.pod.url("/alice/docs/f.txt")
    await w.alice.put(item, "f", "text/plain")
    own = ACL + rule("me", w.webid["alice"], item, "acl:Read, acl:Write, acl:Control")
    own += rule("bob", w.webid["bob"], item, "acl:Read")
    await w.alice.put(item + ".acl", own, "text/turtle")
    assert (await w.bank.get(item)).body == b"f"  # bob reads it through its own ACL
    page = await w.page("/alice/docs/f.txt?ui=sharing")
    assert "Stop sharing separately" in page
    status, location, _ = await form_post(w, "/alice/docs/f.txt", "follow")
    assert status == 303 and location.endswith("?ui=sharing&note=follows_folder")
    assert "follows its folder" in await w.page("/alice/docs/f.txt?ui=sharing&note=follows_folder")
    assert not await exists(w, "/alice/docs/f.txt.acl")
    with pytest.raises(PodClientError):
        await w.bank.get(item)  # the folder does not share it with bob
    status, _, _ = await form_post(w, "/alice/docs/f.txt", "follow")
    assert status == 400  # it already follows its folder
    status, _, _ = await form_post(w, "/alice/", "follow")
    assert status == 400  # the pod's root has no folder to follow


async def test_stop_sharing_separately_refuses_to_lock_the_owner_out(alice: World) -> None:
    w = alice
    folder, item = w.pod.url("/alice/locked/"), w.pod.url("/alice/locked/g.txt")
    await w.alice.put(item, "g", "text/plain")
    me = w.webid["alice"]
    await w.alice.put(
        item + ".acl", ACL + rule("me", me, item, "acl:Read, acl:Write, acl:Control"), "text/turtle"
    )
    only_read = ACL + rule("me", me, folder, "acl:Read, acl:Control", default=True)
    await w.alice.put(folder + ".acl", only_read, "text/turtle")
    status, _, page = await form_post(w, "/alice/locked/g.txt", "follow")
    assert status == 409 and "would take away your access" in page
    assert await exists(w, "/alice/locked/g.txt.acl")


async def test_a_folder_that_is_not_empty_says_so(alice: World) -> None:
    w = alice
    for name in ("a.txt", "b.txt", "sub/c.txt"):
        await w.alice.put(w.pod.url(f"/alice/full/{name}"), "x", "text/plain")
    page = await w.page("/alice/full/?ui=delete", 409)
    assert "This folder is not empty" in page and "It holds 3 item(s)" in page
    status, _, page = await form_post(w, "/alice/full/", "delete")
    assert status == 409 and "Empty it first" in page
    assert await exists(w, "/alice/full/a.txt")
    await w.alice.put(w.pod.url("/alice/empty/x.txt"), "x", "text/plain")
    await w.alice.delete(w.pod.url("/alice/empty/x.txt"))
    await w.page("/alice/empty/?ui=delete")
    status, location, _ = await form_post(w, "/alice/empty/", "delete")
    assert status == 303 and "note=deleted" in location
    assert not await exists(w, "/alice/empty/")
