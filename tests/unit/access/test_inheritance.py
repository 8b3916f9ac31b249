"""Own ACL (acl:accessTo) versus an ancestor's ACL (acl:default)."""

from __future__ import annotations

import pytest

from pod_server.access import Mode
from tests.unit.access._acls import ALICE, BOB, POD, compile_ttl, modes

# /shared/.acl: Alice controls the container itself; Bob may read and append to
# everything below it, but gets nothing on the container itself.
SHARED_ACL = compile_ttl(
    """
    <#owner> a acl:Authorization ;
        acl:agent <https://alice.example/profile#me> ;
        acl:accessTo <./> ;
        acl:mode acl:Read, acl:Write, acl:Control .
    <#bob> a acl:Authorization ;
        acl:agent <https://bob.example/profile#me> ;
        acl:default <./> ;
        acl:mode acl:Read, acl:Append .
    """,
    POD + "shared/.acl",
)
SHARED = POD + "shared/"


def test_own_acl_uses_access_to_rules() -> None:
    assert (
        modes(SHARED_ACL, SHARED, agent=ALICE)
        == Mode.READ | Mode.WRITE | Mode.APPEND | Mode.CONTROL
    )


def test_default_does_not_grant_on_the_container_itself() -> None:
    # WAC: acl:default applies to "a resource lower in the collection hierarchy".
    assert modes(SHARED_ACL, SHARED, agent=BOB) == Mode(0)


def test_access_to_does_not_reach_members() -> None:
    assert modes(SHARED_ACL, SHARED + "notes.ttl", default_for=SHARED, agent=ALICE) == Mode(0)


@pytest.mark.parametrize("member", ["notes.ttl", "deep/er/doc", "sub/"])
def test_default_applies_to_every_member_below(member: str) -> None:
    granted = modes(SHARED_ACL, SHARED + member, default_for=SHARED, agent=BOB)
    assert granted == Mode.READ | Mode.APPEND


def test_evaluating_as_inherited_for_the_container_itself_is_refused() -> None:
    with pytest.raises(ValueError, match="does not inherit"):
        modes(SHARED_ACL, SHARED, default_for=SHARED, agent=BOB)


@pytest.mark.parametrize(
    ("target", "default_for"),
    [
        (POD + "other/doc", SHARED),  # not below it
        (POD + "shared-not/doc", SHARED[:-1]),  # not a container URL
    ],
)
def test_default_for_must_be_an_ancestor_container(target: str, default_for: str) -> None:
    with pytest.raises(ValueError):
        modes(SHARED_ACL, target, default_for=default_for, agent=BOB)


def test_nearest_ancestor_wins_when_the_lookup_finds_it() -> None:
    # Root grants the public read on everything; /shared/private/.acl only lets
    # Alice in. The lookup finds the nearest ACL for /shared/private/x, and that
    # ACL alone decides: the root's public default is not added to it.
    root_acl = compile_ttl(
        """
        <#public> a acl:Authorization ;
            acl:agentClass foaf:Agent ; acl:default <./> ; acl:mode acl:Read .
        """,
        POD + ".acl",
    )
    private_acl = compile_ttl(
        """
        <#alice> a acl:Authorization ;
            acl:agent <https://alice.example/profile#me> ;
            acl:accessTo <./> ; acl:default <./> ; acl:mode acl:Read .
        """,
        POD + "shared/private/.acl",
    )
    private = POD + "shared/private/"
    target = private + "x"
    assert modes(root_acl, target, default_for=POD) == Mode.READ
    assert modes(private_acl, target, default_for=private) == Mode(0)
    assert modes(private_acl, target, default_for=private, agent=ALICE) == Mode.READ


def test_default_only_counts_for_that_container() -> None:
    # An ACL found at /shared/ may name other containers in acl:default; only the
    # rules for the container it belongs to are inherited from it.
    acl = compile_ttl(
        """
        <#elsewhere> a acl:Authorization ;
            acl:agentClass foaf:Agent ; acl:default </elsewhere/> ; acl:mode acl:Read .
        """,
        POD + "shared/.acl",
    )
    assert modes(acl, SHARED + "doc", default_for=SHARED) == Mode(0)


def test_write_grants_append() -> None:
    acl = compile_ttl(
        """
        <#w> a acl:Authorization ;
            acl:agentClass foaf:Agent ; acl:accessTo </doc> ; acl:mode acl:Write .
        """,
        POD + "doc.acl",
    )
    assert modes(acl, POD + "doc") == Mode.WRITE | Mode.APPEND


def test_resource_iris_compare_in_canonical_form() -> None:
    acl = compile_ttl(
        """
        <#a> a acl:Authorization ;
            acl:agentClass foaf:Agent ; acl:accessTo <café> ; acl:mode acl:Read .
        <#b> a acl:Authorization ;
            acl:agentClass foaf:Agent ; acl:default <HTTPS://POD.EXAMPLE/caf%c3%a9s/> ;
            acl:mode acl:Append .
        """,
        POD + "café.acl",
    )
    assert modes(acl, POD + "caf%C3%A9") == Mode.READ
    assert modes(acl, POD + "caf%C3%A9s/x", default_for=POD + "caf%C3%A9s/") == Mode.APPEND
