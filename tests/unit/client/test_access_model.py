"""WAC: subjects, modes, rule edits, inheritance, and never locking the owner out."""

from __future__ import annotations

import pytest
from rdflib import Graph

from client import AUTHENTICATED, PUBLIC, Conflict, Response, Subject
from client.access import add_rule, parse_modes, remove_rule, rules_for
from tests.unit.client.helpers import POD, TURTLE, WEBID, FakeServer, client

BOB = "https://bob.example/card#me"
ROOT_ACL = f"""@prefix acl: <http://www.w3.org/ns/auth/acl#>.
<#owner> a acl:Authorization; acl:agent <{WEBID}>;
    acl:accessTo <./>; acl:default <./>; acl:mode acl:Read, acl:Write, acl:Control.
<#both> a acl:Authorization; acl:agent <{BOB}>, <https://carol.example/#me>;
    acl:default <./>; acl:mode acl:Read, acl:Write.
"""


def test_subjects_and_modes() -> None:
    assert Subject.parse("public") == PUBLIC and Subject.parse("Authenticated") == AUTHENTICATED
    assert Subject.parse(BOB) == Subject.agent(BOB)
    assert Subject.parse("group:https://h/g#x") == Subject.group("https://h/g#x")
    with pytest.raises(ValueError):
        Subject.parse("bob")
    assert parse_modes("read, Write") == {"Read", "Write"}
    assert parse_modes(["acl:Control", "http://www.w3.org/ns/auth/acl#Append"]) == {
        "Control",
        "Append",
    }
    assert parse_modes("rw") == {"Read", "Write"}
    with pytest.raises(ValueError):
        parse_modes("fly")


def test_rules_merge_and_split() -> None:
    acl = POD + ".acl"
    graph = Graph().parse(data=ROOT_ACL, format="turtle", publicID=acl)
    assert {r.id.rsplit("#")[-1] for r in rules_for(graph, POD)} == {"owner"}
    assert {r.id.rsplit("#")[-1] for r in rules_for(graph, POD + "x", POD)} == {"owner", "both"}
    add_rule(
        graph, acl, Subject.agent(WEBID), frozenset({"Append"}), frozenset({POD}), frozenset({POD})
    )
    owner = next(r for r in rules_for(graph, POD) if r.id.endswith("owner"))
    assert owner.modes == {"Read", "Write", "Control", "Append"}  # merged, no new rule
    # Bob loses Write: carol keeps her rule untouched, bob gets a rule of his own for Read.
    assert remove_rule(graph, acl, POD, Subject.agent(BOB), frozenset({"Write"})) == 1
    inherited = rules_for(graph, POD + "x", POD)
    bob_rules = [r for r in inherited if Subject.agent(BOB) in r.subjects]
    carol = [r for r in inherited if Subject.agent("https://carol.example/#me") in r.subjects]
    assert [r.modes for r in bob_rules] == [{"Read"}] and carol[0].modes == {"Read", "Write"}
    assert Subject.agent(BOB) not in carol[0].subjects


async def test_grant_on_a_resource_without_acl_copies_what_it_inherits() -> None:
    server = FakeServer()
    links = f'<{POD}doc.ttl.acl>; rel="acl"'
    server.on("HEAD", POD + "doc.ttl", Response(200, {"Link": links}))
    server.on("GET", POD + "doc.ttl.acl", Response(404))
    server.on("HEAD", POD, Response(200, {"Link": f'<{POD}.acl>; rel="acl"'}))
    server.on("GET", POD + ".acl", Response(200, TURTLE, ROOT_ACL))
    server.on("PUT", POD + "doc.ttl.acl", Response(201))
    async with client(server) as pod:
        effective = await pod.effective_acl(POD + "doc.ttl")
        assert effective.inherited and effective.acl_url == POD + ".acl"
        who = effective.who_can()
        assert who[Subject.agent(BOB)] == {"Read", "Write", "Append"}
        await pod.grant(POD + "doc.ttl", PUBLIC, "read")
    put = server.sent("PUT")[0]
    assert put.headers["If-None-Match"] == "*"
    written = Graph().parse(data=put.body, format="turtle", publicID=POD + "doc.ttl.acl")
    rules = rules_for(written, POD + "doc.ttl")
    modes = {s: r.modes for r in rules for s in r.subjects}
    assert modes[Subject.agent(WEBID)] >= {"Control"}  # the owner's Control came along
    assert modes[PUBLIC] == {"Read"} and modes[Subject.agent(BOB)] == {"Read", "Write"}
    assert all(not r.default for r in rules)  # a document's ACL has no acl:default


async def test_revoke_never_locks_the_owner_out() -> None:
    own = f"""@prefix acl: <http://www.w3.org/ns/auth/acl#>.
<#a> a acl:Authorization; acl:agent <{WEBID}>, <{BOB}>;
    acl:accessTo <{POD}doc.ttl>; acl:mode acl:Read, acl:Control."""
    server = FakeServer()
    server.on("HEAD", POD + "doc.ttl", Response(200, {"Link": f'<{POD}doc.ttl.acl>; rel="acl"'}))
    server.on("GET", POD + "doc.ttl.acl", Response(200, {**TURTLE, "ETag": '"a1"'}, own))
    server.on("PUT", POD + "doc.ttl.acl", Response(204))
    async with client(server) as pod:
        with pytest.raises(Conflict, match="away from you"):
            await pod.revoke(POD + "doc.ttl", WEBID, "control")
        assert await pod.revoke(POD + "doc.ttl", BOB) == 1
        assert await pod.revoke(POD + "doc.ttl", "https://nobody.example/#me") == 0
    (put,) = server.sent("PUT")
    assert put.headers["If-Match"] == '"a1"'
    written = Graph().parse(data=put.body, format="turtle", publicID=POD + "doc.ttl.acl")
    subjects = {s for r in rules_for(written, POD + "doc.ttl") for s in r.subjects}
    assert subjects == {Subject.agent(WEBID)}
