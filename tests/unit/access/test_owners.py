"""The storage owner's implicit Control, and the owners kept through writes of the root."""

from __future__ import annotations

import pytest
from rdflib import Graph, URIRef

from pod_server.access import Mode
from pod_server.access.owners import kept_owners, owner_modes, owners_in
from pod_server.errors import Conflict

ROOT = "https://pod.example/alice/"
ALICE = "https://alice.example/profile#me"
BOB = "https://bob.example/profile#me"
OWNER = "http://www.w3.org/ns/solid/terms#owner"
TITLE = "http://purl.org/dc/terms/title"


def graph(turtle: str) -> Graph:
    return Graph().parse(data=turtle, format="turtle", publicID=ROOT)


def owned_by(*webids: str, extra: str = "") -> Graph:
    return graph("".join(f"<> <{OWNER}> <{w}>.\n" for w in webids) + extra)


def test_owner_modes_give_control_to_owners_only() -> None:
    owners = frozenset({ALICE, BOB})
    assert owner_modes(ALICE, owners) is Mode.CONTROL
    assert owner_modes(BOB, owners) is Mode.CONTROL
    assert owner_modes("https://carol.example/#me", owners) == Mode(0)
    assert owner_modes(None, owners) == Mode(0)  # anonymous
    assert owner_modes(ALICE, frozenset()) == Mode(0)  # a storage with no owner known


def test_owners_in_reads_only_iri_owners_of_the_root() -> None:
    found = graph(
        f'<> <{OWNER}> <{ALICE}>, "not a webid".\n<other/> <{OWNER}> <{BOB}>.\n'
        f"<> <{OWNER}> _:someone.\n"
    )
    assert owners_in(found, ROOT) == {ALICE}
    assert owners_in(Graph(), ROOT) == frozenset()


def test_creating_a_root_may_name_its_owners() -> None:
    body = owned_by(ALICE)
    assert kept_owners(None, body, ROOT, replace=True) is body


def test_put_without_owners_keeps_the_current_ones() -> None:
    body = graph(f'<> <{TITLE}> "Mine".')
    stored = kept_owners(owned_by(ALICE), body, ROOT, replace=True)
    assert owners_in(stored, ROOT) == {ALICE}
    assert (URIRef(ROOT), URIRef(TITLE), None) in stored
    assert owners_in(body, ROOT) == frozenset()  # the body itself is left as it was


def test_put_naming_the_same_owners_is_fine() -> None:
    body = owned_by(ALICE, extra=f'<> <{TITLE}> "Mine".')
    assert kept_owners(owned_by(ALICE), body, ROOT, replace=True) is body


@pytest.mark.parametrize(
    ("before", "after", "replace"),
    [
        ((ALICE,), (BOB,), True),  # PUT naming someone else
        ((ALICE,), (ALICE, BOB), True),  # PUT adding an owner
        ((), (BOB,), True),  # PUT claiming a storage with no owner
        ((ALICE,), (BOB,), False),  # PATCH replacing the owner
        ((ALICE,), (ALICE, BOB), False),  # PATCH adding an owner
        ((ALICE,), (), False),  # PATCH removing the owner
    ],
)
def test_owners_cannot_be_changed_by_a_client_write(
    before: tuple[str, ...], after: tuple[str, ...], replace: bool
) -> None:
    with pytest.raises(Conflict, match="owners"):
        kept_owners(owned_by(*before), owned_by(*after), ROOT, replace=replace)


def test_patch_leaving_the_owners_alone_is_fine() -> None:
    after = owned_by(ALICE, extra=f'<> <{TITLE}> "Mine".')
    assert kept_owners(owned_by(ALICE), after, ROOT, replace=False) is after
