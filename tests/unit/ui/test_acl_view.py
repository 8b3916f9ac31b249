"""The sharing page's pure logic: ACL graphs read as plain entries (own, inherited,
groups, everyone, signed in, origins, consents), grants and revokes, and the refusal of a
change that would lock a person out."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from rdflib import Graph, URIRef

from pod_server.access.acl import compile_acl
from pod_server.access.evaluate import granted_modes
from pod_server.access.modes import Mode
from pod_server.consent.rules import Inherited
from pod_server.ui import acl_view
from pod_server.ui.acl_view import Before, Kind, Refusal, Scope, Who

BASE = "https://pod.example/alice/"
ME = BASE + "profile/card#me"
BOB = "https://bob.example/card#me"
DOC = BASE + "notes/plan.ttl"
FOLDER = BASE + "notes/"
NOW = datetime(2030, 1, 1, tzinfo=UTC).timestamp()
PREFIXES = """@prefix acl: <http://www.w3.org/ns/auth/acl#>.
@prefix foaf: <http://xmlns.com/foaf/0.1/>.
@prefix c: <https://w3id.org/solid-pods/vocab/consent#>.
@prefix xsd: <http://www.w3.org/2001/XMLSchema#>.
"""


def acl(text: str, url: str = DOC + ".acl") -> Graph:
    return Graph().parse(data=PREFIXES + text, format="turtle", publicID=url)


def owner_rule(target: str, default: bool = False) -> str:
    extra = f"; acl:default <{target}>" if default else ""
    return (
        f"<#owner> a acl:Authorization; acl:agent <{ME}>; acl:accessTo <{target}>{extra};"
        " acl:mode acl:Read, acl:Write, acl:Control.\n"
    )


def test_own_rules_in_plain_entries() -> None:
    graph = acl(
        owner_rule(DOC)
        + f"<#pub> a acl:Authorization; acl:agentClass foaf:Agent; acl:accessTo <{DOC}>;"
        " acl:mode acl:Read.\n"
        f"<#auth> a acl:Authorization; acl:agentClass acl:AuthenticatedAgent;"
        f" acl:accessTo <{DOC}>; acl:mode acl:Append.\n"
        f"<#grp> a acl:Authorization; acl:agentGroup <{BASE}groups#friends>, <{BASE}g#b>;"
        f" acl:accessTo <{DOC}>; acl:mode acl:Write; acl:origin <https://App.example/>.\n"
        f"<#other> a acl:Authorization; acl:agent <{BOB}>; acl:accessTo <{BASE}x>;"
        " acl:mode acl:Read.\n"
        f"<#untyped> acl:agent <{BOB}>; acl:accessTo <{DOC}>; acl:mode acl:Read.\n"
    )
    found = {(e.who, e.rule.rsplit("#", 1)[1]): e for e in acl_view.entries(graph, DOC)}
    assert set(found) == {
        (Who(Kind.PERSON, ME), "owner"),
        (Who(Kind.EVERYONE), "pub"),
        (Who(Kind.SIGNED_IN), "auth"),
        (Who(Kind.GROUP, BASE + "g#b"), "grp"),
        (Who(Kind.GROUP, BASE + "groups#friends"), "grp"),
    }  # not the rule for another resource, nor the untyped one (access control ignores it)
    owner = found[(Who(Kind.PERSON, ME), "owner")]
    assert owner.modes == Mode.READ | Mode.WRITE | Mode.APPEND | Mode.CONTROL
    assert owner.scope is Scope.ITEM and owner.editable and not owner.copied
    group = found[(Who(Kind.GROUP, BASE + "g#b"), "grp")]
    assert group.origins == ("https://app.example",)
    words = acl_view.mode_keys(group.modes)
    assert words == ["mode_write"]  # Append is part of edit
    assert acl_view.mode_keys(found[(Who(Kind.SIGNED_IN), "auth")].modes) == ["mode_append"]


def test_folder_scopes() -> None:
    graph = acl(
        owner_rule(FOLDER, default=True)
        + f"<#inside> a acl:Authorization; acl:agent <{BOB}>; acl:default <{FOLDER}>;"
        " acl:mode acl:Read.\n",
        FOLDER + ".acl",
    )
    scopes = {e.who.iri: e.scope for e in acl_view.entries(graph, FOLDER)}
    assert scopes == {ME: Scope.ITEM_AND_CONTENTS, BOB: Scope.CONTENTS}


def test_inherited_rules_are_the_folders_defaults() -> None:
    graph = acl(
        owner_rule(FOLDER, default=True)
        + f"<#only> a acl:Authorization; acl:agent <{BOB}>; acl:accessTo <{FOLDER}>;"
        " acl:mode acl:Read.\n",
        FOLDER + ".acl",
    )
    found = acl_view.entries(graph, DOC, inherited_from=FOLDER)
    assert [e.who for e in found] == [Who(Kind.PERSON, ME)]  # not the folder-only rule
    assert found[0].inherited_from == FOLDER and not found[0].editable
    assert found[0].scope is Scope.ITEM
    below = acl_view.entries(graph, FOLDER + "sub/", inherited_from=FOLDER)
    assert below[0].scope is Scope.ITEM_AND_CONTENTS


def test_consent_rules_name_their_record_and_end() -> None:
    record = BASE + ".well-known/consent/abc"
    graph = acl(
        f"<#c> a acl:Authorization; acl:agent <{BOB}>; acl:accessTo <{DOC}>; acl:mode acl:Read;"
        f' c:grantedBy <{record}>; c:until "2031-02-03T04:05:00+00:00"^^xsd:dateTime.\n'
    )
    (entry,) = acl_view.entries(graph, DOC)
    assert entry.consent == record and not entry.editable
    assert entry.until == datetime(2031, 2, 3, 4, 5, tzinfo=UTC)
    with pytest.raises(Refusal) as refused:
        acl_view.revoke(graph, Who(Kind.PERSON, BOB), DOC)
    assert (refused.value.key, refused.value.status) == ("consent_rule", 409)
    # A grant to the same person adds the page's rule and leaves the consent's alone.
    granted = acl_view.grant(graph, Who(Kind.PERSON, BOB), Mode.READ, DOC, DOC + ".acl")
    kinds = sorted((e.consent is not None) for e in acl_view.entries(granted, DOC))
    assert kinds == [False, True]


def test_grant_adds_a_rule_and_replaces_the_level() -> None:
    graph = acl(owner_rule(DOC))
    bob = Who(Kind.PERSON, BOB)
    once = acl_view.grant(graph, bob, acl_view.LEVELS["see"], DOC, DOC + ".acl", token="t1")
    twice = acl_view.grant(once, bob, acl_view.LEVELS["edit"], DOC, DOC + ".acl", token="t2")
    entries = [e for e in acl_view.entries(twice, DOC) if e.who == bob]
    assert [(e.rule, e.modes) for e in entries] == [
        (DOC + ".acl#share-t2", Mode.READ | Mode.WRITE | Mode.APPEND)
    ]
    assert len(graph) == len(acl(owner_rule(DOC)))  # the input is not changed
    folder = acl_view.grant(
        acl(owner_rule(FOLDER, True), FOLDER + ".acl"),
        Who(Kind.EVERYONE),
        Mode.READ,
        FOLDER,
        FOLDER + ".acl",
        origin="https://app.example",
    )
    (public,) = [e for e in acl_view.entries(folder, FOLDER) if e.who.kind is Kind.EVERYONE]
    assert public.scope is Scope.ITEM_AND_CONTENTS and public.origins == ("https://app.example",)


def test_revoke_takes_the_subject_off_a_shared_rule() -> None:
    graph = acl(
        f"<#both> a acl:Authorization; acl:agent <{ME}>, <{BOB}>; acl:accessTo <{DOC}>;"
        " acl:mode acl:Read.\n"
        f"<#bob> a acl:Authorization; acl:agent <{BOB}>; acl:accessTo <{DOC}>;"
        " acl:mode acl:Write.\n"
    )
    after = acl_view.revoke(graph, Who(Kind.PERSON, BOB), DOC)
    assert [(e.who.iri, e.rule.rsplit("#")[1]) for e in acl_view.entries(after, DOC)] == [
        (ME, "both")
    ]
    assert (URIRef(DOC + ".acl#bob"), None, None) not in after  # a rule naming nobody goes
    with pytest.raises(Refusal) as refused:
        acl_view.revoke(after, Who(Kind.PERSON, BOB), DOC)
    assert (refused.value.key, refused.value.status) == ("not_found_rule", 404)
    public = acl(
        f"<#p> a acl:Authorization; acl:agentClass foaf:Agent, acl:AuthenticatedAgent;"
        f" acl:accessTo <{DOC}>; acl:mode acl:Read.\n"
    )
    left = acl_view.revoke(public, Who(Kind.EVERYONE), DOC)
    assert [e.who for e in acl_view.entries(left, DOC)] == [Who(Kind.SIGNED_IN)]


def test_starting_acl_copies_the_inherited_rules() -> None:
    folder_acl = acl(owner_rule(FOLDER, True), FOLDER + ".acl")
    inherited = Inherited(folder_acl, FOLDER + ".acl", FOLDER)
    start = acl_view.starting_acl(None, inherited, DOC)
    (copy,) = acl_view.entries(start, DOC)
    assert copy.who == Who(Kind.PERSON, ME) and copy.copied and copy.editable
    assert copy.modes == Mode.READ | Mode.WRITE | Mode.APPEND | Mode.CONTROL
    assert len(acl_view.starting_acl(None, None, DOC)) == 0
    own = acl(owner_rule(DOC))
    assert len(acl_view.starting_acl(own, inherited, DOC)) == len(own)


def test_lock_out_of_the_storage_root_is_refused() -> None:
    root_acl = acl(owner_rule(BASE, True), BASE + ".acl")
    before = Before(root_acl)
    me = Who(Kind.PERSON, ME)
    for after, lost in (
        (acl_view.revoke(root_acl, me, BASE), Mode.READ | Mode.WRITE),
        (acl_view.grant(root_acl, me, Mode.READ, BASE, BASE + ".acl"), Mode.WRITE),
    ):
        with pytest.raises(Refusal) as refused:
            acl_view.lock_out(before, after, BASE, is_root=True, owners={ME}, viewer=ME, now=NOW)
        assert refused.value.key == "lock_out" and refused.value.modes & lost == lost
    # Access through everyone signed in still counts as theirs.
    public = acl_view.grant(
        root_acl, Who(Kind.SIGNED_IN), Mode.READ | Mode.WRITE, BASE, BASE + ".acl"
    )
    acl_view.lock_out(
        before,
        acl_view.revoke(public, me, BASE),
        BASE,
        is_root=True,
        owners={ME},
        viewer=ME,
        now=NOW,
    )
    # Below the root, an owner may take their own rules away: they keep Control anyway.
    doc_acl = acl(owner_rule(DOC))
    acl_view.lock_out(
        Before(doc_acl),
        acl_view.revoke(doc_acl, me, DOC),
        DOC,
        is_root=False,
        owners={ME},
        viewer=ME,
        now=NOW,
    )
    # Other people's access may go, on the root too.
    with_bob = acl_view.grant(root_acl, Who(Kind.PERSON, BOB), Mode.READ, BASE, BASE + ".acl")
    acl_view.lock_out(
        Before(with_bob),
        acl_view.revoke(with_bob, Who(Kind.PERSON, BOB), BASE),
        BASE,
        is_root=True,
        owners={ME},
        viewer=ME,
        now=NOW,
    )


def test_a_non_owner_cannot_take_their_own_control_away() -> None:
    graph = acl(
        owner_rule(DOC) + f"<#bob> a acl:Authorization; acl:agent <{BOB}>; acl:accessTo <{DOC}>;"
        " acl:mode acl:Read, acl:Control.\n"
    )
    after = acl_view.revoke(graph, Who(Kind.PERSON, BOB), DOC)
    with pytest.raises(Refusal) as refused:
        acl_view.lock_out(
            Before(graph), after, DOC, is_root=False, owners={ME}, viewer=BOB, now=NOW
        )
    assert refused.value.key == "lock_out_control"
    # Inherited Control counts as what they had.
    folder = acl(
        f"<#bob> a acl:Authorization; acl:agent <{BOB}>; acl:default <{FOLDER}>;"
        " acl:mode acl:Read, acl:Control.\n",
        FOLDER + ".acl",
    )
    start = acl_view.starting_acl(None, Inherited(folder, FOLDER + ".acl", FOLDER), DOC)
    with pytest.raises(Refusal):
        acl_view.lock_out(
            Before(folder, FOLDER),
            acl_view.revoke(start, Who(Kind.PERSON, BOB), DOC),
            DOC,
            is_root=False,
            owners={ME},
            viewer=BOB,
            now=NOW,
        )


GROUP = "https://pod.example/alice/groups#family"


def root_lock_out(
    before: Before, after: Graph, groups: acl_view.Groups = acl_view.NO_GROUPS
) -> None:
    """The lock-out check of a change to the owner's storage root, by the owner."""
    acl_view.lock_out(
        before, after, BASE, is_root=True, owners={ME}, viewer=ME, now=NOW, groups=groups
    )


def test_an_owner_whose_access_is_only_through_a_group_is_not_locked_out() -> None:
    """The owner reads and writes the root only as a member of a group: removing that
    group (or lowering it to "can see") is refused, naming the group; with the owner given
    the access directly first, or with the owner not a member, the change is allowed."""
    root_acl = acl(
        f"<#family> a acl:Authorization; acl:agentGroup <{GROUP}>; acl:accessTo <{BASE}>;"
        f" acl:default <{BASE}>; acl:mode acl:Read, acl:Write.\n",
        BASE + ".acl",
    )
    family = Who(Kind.GROUP, GROUP)
    members = {GROUP: frozenset({ME, BOB})}
    for after, lost in (
        (acl_view.revoke(root_acl, family, BASE), Mode.READ | Mode.WRITE),
        (acl_view.grant(root_acl, family, Mode.READ, BASE, BASE + ".acl"), Mode.WRITE),
    ):
        with pytest.raises(Refusal) as refused:
            root_lock_out(Before(root_acl), after, members)
        assert refused.value.key == "lock_out_group"
        assert refused.value.values["group"] == GROUP and refused.value.values["person"] == ME
        assert refused.value.modes & lost == lost
    # Without knowing the members the access could not be seen (what the check missed).
    root_lock_out(Before(root_acl), acl_view.revoke(root_acl, family, BASE))
    # The owner given the access directly first: the group may go.
    direct = acl_view.grant(root_acl, Who(Kind.PERSON, ME), Mode.READ | Mode.WRITE, BASE, BASE)
    root_lock_out(Before(direct), acl_view.revoke(direct, family, BASE), members)
    # A group the owner is not in may go too.
    root_lock_out(Before(direct), acl_view.revoke(direct, family, BASE), {GROUP: frozenset({BOB})})
    assert acl_view.groups_named(root_acl, None, direct) == {GROUP}


def test_a_sharer_whose_control_comes_through_a_group_keeps_it() -> None:
    graph = acl(
        owner_rule(DOC) + f"<#g> a acl:Authorization; acl:agentGroup <{GROUP}>;"
        f" acl:accessTo <{DOC}>; acl:mode acl:Read, acl:Control.\n"
    )
    after = acl_view.revoke(graph, Who(Kind.GROUP, GROUP), DOC)
    with pytest.raises(Refusal) as refused:
        acl_view.lock_out(
            Before(graph),
            after,
            DOC,
            is_root=False,
            owners={ME},
            viewer=BOB,
            now=NOW,
            groups={GROUP: frozenset({BOB})},
        )
    assert refused.value.key == "lock_out_control_group"


APP_ID = "https://app.example/id"


def test_sharing_with_an_app_by_its_client_id() -> None:
    """An app is given access as everyone signed in through a client condition naming it:
    shown as the app, evaluated only for requests through it, removed whole."""
    graph = acl(owner_rule(FOLDER, True), FOLDER + ".acl")
    app = Who(Kind.APP, APP_ID)
    after = acl_view.grant(graph, app, Mode.READ | Mode.APPEND, FOLDER, FOLDER + ".acl")
    (shown,) = [e for e in acl_view.entries(after, FOLDER) if e.who.kind is Kind.APP]
    assert shown.who == app and shown.modes == Mode.READ | Mode.APPEND and shown.editable
    assert shown.scope is Scope.ITEM_AND_CONTENTS and shown.clients == ()
    compiled = compile_acl(after, FOLDER + ".acl")
    inside = FOLDER + "x.ttl"
    for client, expected in ((APP_ID, Mode.READ | Mode.APPEND), ("https://other/id", Mode(0))):
        got = granted_modes(
            compiled,
            inside,
            default_for=FOLDER,
            agent_webid=BOB,
            authenticated=True,
            origin=None,
            groups={},
            now=NOW,
            client_id=client,
        )
        assert got == expected
    # Raising the level replaces the app's rule; removing it leaves no condition behind.
    raised = acl_view.grant(after, app, Mode.READ | Mode.WRITE, FOLDER, FOLDER + ".acl")
    assert [e.modes for e in acl_view.entries(raised, FOLDER) if e.who == app] == [
        Mode.READ | Mode.WRITE | Mode.APPEND
    ]
    removed = acl_view.revoke(raised, app, FOLDER)
    assert len(removed) == len(graph)
    assert not [e for e in acl_view.entries(removed, FOLDER) if e.who.kind is Kind.APP]
    # Everyone signed in is not the app: removing it leaves the app's rule alone.
    with pytest.raises(Refusal):
        acl_view.revoke(after, Who(Kind.SIGNED_IN), FOLDER)
    with pytest.raises(Refusal) as refused:
        acl_view.grant(graph, app, acl_view.LEVELS["manage"], FOLDER, FOLDER + ".acl")
    assert refused.value.key == "app_no_manage"


def test_an_inherited_app_rule_keeps_its_condition_when_copied() -> None:
    """The first change below a folder starts from a copy of its rules: an app's rule must
    stay limited to the app, never become "everyone signed in"."""
    graph = acl_view.grant(
        acl(owner_rule(FOLDER, True), FOLDER + ".acl"),
        Who(Kind.APP, APP_ID),
        Mode.READ,
        FOLDER,
        FOLDER + ".acl",
    )
    start = acl_view.starting_acl(None, Inherited(graph, FOLDER + ".acl", FOLDER), DOC)
    apps = [e for e in acl_view.entries(start, DOC) if e.who.kind is Kind.APP]
    assert [e.who.iri for e in apps] == [APP_ID]
    assert not [e for e in acl_view.entries(start, DOC) if e.who.kind is Kind.SIGNED_IN]


def test_a_person_s_rule_limited_to_an_app_names_the_app() -> None:
    graph = acl(
        f"<#r> a acl:Authorization; acl:agent <{BOB}>; acl:accessTo <{DOC}>; acl:mode acl:Read;"
        f" acl:condition [ a acl:ClientCondition; acl:client <{APP_ID}> ].\n"
    )
    (entry,) = acl_view.entries(graph, DOC)
    assert entry.who == Who(Kind.PERSON, BOB) and entry.clients == (APP_ID,)


@pytest.mark.parametrize(
    ("kind", "iri", "expected"),
    [
        ("person", " https://bob.example/card#me ", Who(Kind.PERSON, BOB)),
        ("group", "http://g.example/g#x", Who(Kind.GROUP, "http://g.example/g#x")),
        ("everyone", "whatever", Who(Kind.EVERYONE)),
        ("signed_in", "", Who(Kind.SIGNED_IN)),
        ("app", " https://app.example/id ", Who(Kind.APP, "https://app.example/id")),
    ],
)
def test_parse_who(kind: str, iri: str, expected: Who) -> None:
    assert acl_view.parse_who(kind, iri) == expected


@pytest.mark.parametrize(
    ("kind", "iri", "key"),
    [
        ("robot", BOB, "bad_kind"),
        ("person", "", "bad_webid"),
        ("person", "bob", "bad_webid"),
        ("person", "ftp://bob.example/", "bad_webid"),
        ("person", "https:///nohost", "bad_webid"),
        ("group", "https://g.example/a b", "bad_webid"),
        ("person", "https://x.example/<script>", "bad_webid"),
        ("app", "", "bad_client_id"),
        ("app", "my-app", "bad_client_id"),
    ],
)
def test_parse_who_refuses(kind: str, iri: str, key: str) -> None:
    with pytest.raises(Refusal) as refused:
        acl_view.parse_who(kind, iri)
    assert refused.value.key == key and refused.value.status == 400


def test_parse_level_and_origin() -> None:
    assert acl_view.parse_level("add") == Mode.READ | Mode.APPEND
    assert acl_view.parse_origin("") is None
    assert acl_view.parse_origin(" HTTPS://App.Example:8443/ ") == "https://app.example:8443"
    for bad in ("app.example", "ftp://a.example", "https://a.example/path", "https://"):
        with pytest.raises(Refusal):
            acl_view.parse_origin(bad)
    with pytest.raises(Refusal):
        acl_view.parse_level("owner")
    with pytest.raises(Refusal):
        acl_view.grant(Graph(), Who(Kind.EVERYONE), Mode(0), DOC, DOC + ".acl")
    with pytest.raises(ValueError):
        Who(Kind.PERSON)
