"""The pure parts of rename, "stop sharing separately" and the non-empty folder page."""

from __future__ import annotations

import time

import pytest
from rdflib import Graph

from pod_server.consent.rules import Inherited
from pod_server.errors import BadRequest
from pod_server.storage.base import Meta
from pod_server.ui import i18n
from pod_server.ui.acl_view import Refusal
from pod_server.ui.emptying import COUNT_UP_TO, count_text, visible_count
from pod_server.ui.rename import BadName, target_path
from pod_server.ui.rename_folder import moved, rebased
from pod_server.ui.stop_sharing import follow_check

FOLDER = "https://pod.example/alice/docs/"
ITEM = FOLDER + "f.txt"
ALICE = "https://pod.example/alice/profile/card#me"
BOB = "https://bob.example/#me"
PREFIX = "@prefix acl: <http://www.w3.org/ns/auth/acl#>.\n"


def acl(*rules: tuple[str, str, str, bool]) -> Graph:
    text = PREFIX
    for n, (who, target, modes, default) in enumerate(rules):
        inherit = f" acl:default <{target}>;" if default else ""
        text += (
            f"<#r{n}> a acl:Authorization; acl:agent <{who}>; acl:accessTo <{target}>;"
            f"{inherit} acl:mode {modes}.\n"
        )
    return Graph().parse(data=text, format="turtle", publicID=ITEM + ".acl")


def folder(*rules: tuple[str, str, bool]) -> Inherited:
    graph = acl(*[(who, FOLDER, modes, default) for who, modes, default in rules])
    return Inherited(graph, FOLDER + ".acl", FOLDER)


ALL = "acl:Read, acl:Write, acl:Control"


@pytest.mark.parametrize(
    ("name", "expected"),
    [("b.txt", "/a/b.txt"), ("b c.txt", "/a/b%20c.txt"), (" x ", "/a/x"), ("é", "/a/%C3%A9")],
)
def test_the_new_name_beside_the_old(name: str, expected: str) -> None:
    assert target_path("/a/old.txt", name) == expected


@pytest.mark.parametrize("name", ["", "  ", "x/y", ".", "..", "old.txt", "b.acl", "b.meta"])
def test_names_that_are_refused(name: str) -> None:
    with pytest.raises(BadName) as refused:
        target_path("/a/old.txt", name)
    for lang in ("en", "fr"):  # said in words, in both languages
        assert refused.value.key in i18n.MESSAGES[lang]


@pytest.mark.parametrize(
    ("name", "expected"),
    [("other", "/a/other/"), ("other/", "/a/other/"), ("deux mots", "/a/deux%20mots/")],
)
def test_a_folder_stays_a_folder(name: str, expected: str) -> None:
    assert target_path("/a/sub/", name) == expected


@pytest.mark.parametrize("name", ["sub", "sub/", "x/y", "", "..", "b.acl"])
def test_folder_names_that_are_refused(name: str) -> None:
    with pytest.raises(BadRequest):
        target_path("/a/sub/", name)


def test_the_pod_s_top_folder_is_not_renamed() -> None:
    with pytest.raises(BadRequest):
        target_path("/", "other")


def test_where_each_item_of_a_renamed_folder_goes() -> None:
    assert moved("/a/sub/", "/a/sub/", "/a/new/") == "/a/new/"
    assert moved("/a/sub/x/y.ttl", "/a/sub/", "/a/new/") == "/a/new/x/y.ttl"
    with pytest.raises(ValueError):
        moved("/a/other/y.ttl", "/a/sub/", "/a/new/")


def test_links_inside_a_renamed_folder_follow_it() -> None:
    old, new = "https://pod.example/a/sub/", "https://pod.example/a/new/"
    body = (
        b"<#me> <http://xmlns.com/foaf/0.1/knows> <other.ttl#it>, <https://pod.example/a/sub/y.ttl>, <https://else.example/>;"
        b' <http://purl.org/dc/terms/title> "sub/x".'
    )
    out = rebased(body, "text/turtle", old + "x/doc.ttl", old, new)
    graph = Graph().parse(data=out, format="turtle", publicID=new + "x/doc.ttl")
    objects = {str(o) for o in graph.objects()}
    assert new + "x/other.ttl#it" in objects and new + "y.ttl" in objects
    assert "https://else.example/" in objects
    assert "sub/x" in objects  # a literal is not an IRI: kept
    assert {str(s) for s in graph.subjects()} == {new + "x/doc.ttl#me"}
    assert rebased(b"not turtle {", "text/turtle", old + "d", old, new) == b"not turtle {"
    assert rebased(b"", "text/turtle", old + "d", old, new) == b""


def test_following_a_folder_that_gives_the_owner_the_same() -> None:
    own = acl((ALICE, ITEM, ALL, False), (BOB, ITEM, "acl:Read", False))
    follow_check(
        own, folder((ALICE, ALL, True)), ITEM, owners=[ALICE], viewer=ALICE, now=time.time()
    )


def test_refused_when_the_owner_would_lose_write() -> None:
    own = acl((ALICE, ITEM, ALL, False))
    read_only = folder((ALICE, "acl:Read, acl:Control", True))
    with pytest.raises(Refusal) as refused:
        follow_check(own, read_only, ITEM, owners=[ALICE], viewer=ALICE, now=time.time())
    assert refused.value.key == "follow_lock_out" and refused.value.status == 409


def test_following_counts_access_through_a_group() -> None:
    """The folder gives the owner Write only through a group: following it keeps her
    access when she is a member, and is refused when she is not."""
    group = "https://pod.example/alice/family#us"
    own = acl((ALICE, ITEM, ALL, False))
    text = PREFIX + (
        f"<#g> a acl:Authorization; acl:agentGroup <{group}>; acl:accessTo <{FOLDER}>;"
        f" acl:default <{FOLDER}>; acl:mode acl:Read, acl:Write.\n"
    )
    graph = Graph().parse(data=text, format="turtle", publicID=FOLDER + ".acl")
    above = Inherited(graph, FOLDER + ".acl", FOLDER)
    now = time.time()
    member = {group: frozenset({ALICE})}
    follow_check(own, above, ITEM, owners=[ALICE], viewer=ALICE, now=now, groups=member)
    with pytest.raises(Refusal):
        follow_check(own, above, ITEM, owners=[ALICE], viewer=ALICE, now=now)


def test_refused_when_nothing_above_has_rules() -> None:
    with pytest.raises(Refusal) as refused:
        follow_check(acl(), None, ITEM, owners=[ALICE], viewer=ALICE, now=time.time())
    assert refused.value.key == "follow_nothing"


def test_a_sharer_who_is_not_an_owner_keeps_control() -> None:
    own = acl((ALICE, ITEM, ALL, False), (BOB, ITEM, "acl:Read, acl:Control", False))
    without_bob = folder((ALICE, ALL, True))
    with pytest.raises(Refusal) as refused:
        follow_check(own, without_bob, ITEM, owners=[ALICE], viewer=BOB, now=time.time())
    assert refused.value.key in ("follow_lock_out", "lock_out_control")
    # A folder rule that is not inherited (no acl:default) does not count for the item.
    not_inherited = folder((ALICE, ALL, False))
    with pytest.raises(Refusal):
        follow_check(own, not_inherited, ITEM, owners=[ALICE], viewer=ALICE, now=time.time())


def test_counting_what_a_folder_holds() -> None:
    def meta(path: str) -> Meta:
        return Meta(path, "text/plain", 1, "e", 0.0)

    members = [meta("/f/a.txt"), meta("/f/.acl"), meta("/f/sub/"), meta("/f/a.txt.meta")]
    assert visible_count(members) == 2
    assert count_text(3) == "3" and count_text(COUNT_UP_TO + 1) == f"{COUNT_UP_TO}+"
