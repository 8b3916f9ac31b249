"""Apps by client id: reading access needs from a Client ID Document, turning the person's
choice into a grant, and the limit a grant puts on the modes WAC gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pod_server.access.modes import NO_MODES, Mode
from pod_server.auth.agent import Agent
from pod_server.consent.apps import (
    AppGrant,
    AppGrants,
    NeedsError,
    choose,
    limit,
    parse_needs,
)
from pod_server.state import MemoryState, SqliteState

SAI = "http://www.w3.org/ns/solid/interop#"
POD = "https://pod.example/alice/"
WEBID = POD + "profile/card#me"
APP = "https://app.example/id"
RWA = Mode.READ | Mode.WRITE | Mode.APPEND
ALL = RWA | Mode.CONTROL


def document(*groups: Any, **extra: Any) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/solid/oidc-context.jsonld"],
        "client_id": APP,
        "interop:hasAccessNeedGroup": list(groups),
        **extra,
    }


def need(path: str, *modes: str, necessity: str | None = None, **extra: Any) -> dict[str, Any]:
    node: dict[str, Any] = {
        "@type": "interop:AccessNeed",
        "interop:accessMode": [f"acl:{m}" for m in modes],
        "consent:targetPath": path,
        **extra,
    }
    if necessity:
        node["interop:accessNecessity"] = f"interop:Access{necessity}"
    return node


def test_needs_in_groups_with_labels_necessity_and_modes() -> None:
    doc = document(
        {
            "skos:prefLabel": "Your money",
            "interop:accessNecessity": "interop:AccessRequired",
            "interop:hasAccessNeed": [
                need("bank/", "Read", **{"skos:prefLabel": "Bank statements"}),
                need("budget/", "Read", "Write", necessity="Optional"),
            ],
        },
        **{"consent:ownContainer": "apps/money/"},
    )
    needs = parse_needs(doc)
    assert needs.declared and needs.own_container == "apps/money/"
    bank, budget = needs.needs
    assert (bank.label, bank.modes, bank.target_path, bank.required) == (
        "Bank statements", Mode.READ, "bank/", True,
    )  # fmt: skip
    assert budget.label == "Your money"  # the group's label when the need has none
    assert budget.modes == Mode.READ | Mode.WRITE and not budget.required
    assert bank.key != budget.key


def test_full_iris_references_by_id_and_a_shape_tree() -> None:
    doc = {
        "client_id": APP,
        SAI + "hasAccessNeedGroup": {"@id": "#group"},
        "@graph": [
            {"@id": "#group", SAI + "hasAccessNeed": ["#n1", {"@id": "#n2"}]},
            {
                "@id": "#n1",
                SAI + "accessMode": {"@id": "http://www.w3.org/ns/auth/acl#Append"},
                "https://w3id.org/solid-pods/vocab/consent#targetPath": "bank/in",
                SAI + "accessNecessity": {"@id": SAI + "AccessOptional"},
            },
            {
                "@id": "#n2",
                SAI + "accessMode": "acl:Read",
                SAI + "registeredShapeTree": {"@id": "https://shapes.example/tree#Photos"},
            },
        ],
    }
    first, second = parse_needs(doc).needs
    assert first.modes == Mode.APPEND and first.target_path == "bank/in" and not first.required
    assert second.target_path is None and second.shape_tree == "https://shapes.example/tree#Photos"


def test_a_document_without_needs_declares_nothing() -> None:
    assert not parse_needs({"client_id": APP, "client_name": "x"}).declared


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (document(42), "object or an @id"),
        (document("#nowhere"), "not described in the document"),
        (document({"interop:hasAccessNeed": []}), "no interop:hasAccessNeed"),
        (document({"interop:hasAccessNeed": [need("bank/")]}), "names no accessMode"),
        (document({"interop:hasAccessNeed": [need("bank/", "Control")]}), "acl:Read, acl:Write"),
        (document({"interop:hasAccessNeed": [need("../bob/", "Read")]}), "not a path inside"),
        (document({"interop:hasAccessNeed": [need("/bank/", "Read")]}), "not a path inside"),
        (document({"interop:hasAccessNeed": [need("https://x.example/", "Read")]}), "not a path"),
        (document({"interop:hasAccessNeed": [need("", "Read")]}), "non-empty"),
        (
            document({"interop:hasAccessNeed": [{"interop:accessMode": "acl:Read"}]}),
            "neither consent:targetPath nor a shape tree",
        ),
        (
            document({"interop:hasAccessNeed": [need("a/", "Read", necessity="Sometimes")]}),
            "accessNecessity must be",
        ),
        (document(**{"consent:ownContainer": "apps/file"}), "ending in /"),
        (
            document({"interop:hasAccessNeed": [need(f"d{i}/", "Read") for i in range(40)]}),
            "more than 32",
        ),
    ],
)
def test_malformed_needs_are_refused_saying_why(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(NeedsError, match=message):
        parse_needs(doc)


def limited(*targets: tuple[str, Mode], until: float | None = None) -> AppGrant:
    return AppGrant(WEBID, APP, targets, False, until)


def test_limit_is_the_intersection_of_wac_and_the_grant() -> None:
    grant = limited((POD + "bank/", Mode.READ), (POD + "inbox/", Mode.APPEND))
    assert limit(ALL, POD + "bank/", grant) == Mode.READ
    assert limit(ALL, POD + "bank/2024/march.ttl", grant) == Mode.READ
    assert limit(Mode.APPEND, POD + "bank/x", grant) == NO_MODES  # WAC gave no Read
    assert limit(ALL, POD + "bankers/", grant) == NO_MODES  # a prefix, not a path below
    assert limit(ALL, POD, grant) == NO_MODES
    assert limit(ALL, "https://other.example/bank/", grant) == NO_MODES
    assert limit(ALL, POD + "inbox/m", grant) == Mode.APPEND
    assert limit(Mode.WRITE | Mode.APPEND, POD + "inbox/m", grant) == Mode.APPEND


def test_write_granted_implies_append_and_control_is_never_granted() -> None:
    grant = limited((POD + "notes/", Mode.WRITE))
    assert limit(Mode.APPEND, POD + "notes/a", grant) == Mode.APPEND
    assert limit(ALL, POD + "notes/a", grant) == Mode.WRITE | Mode.APPEND
    doc_grant = limited((POD + "card", Mode.READ))  # a document target covers itself only
    assert limit(ALL, POD + "card", doc_grant) == Mode.READ
    assert limit(ALL, POD + "card/x", doc_grant) == NO_MODES


def test_full_or_no_grant_changes_nothing_and_an_expired_one_gives_nothing() -> None:
    assert limit(ALL, POD, None) == ALL
    assert limit(ALL, POD, AppGrant(WEBID, APP, (), True)) == ALL
    grant = limited((POD + "bank/", Mode.READ), until=100.0)
    assert limit(ALL, POD + "bank/", grant, now=99.0) == Mode.READ
    assert limit(ALL, POD + "bank/", grant, now=100.0) == NO_MODES


def test_choose_all_part_own_container_or_full() -> None:
    needs = parse_needs(
        document(
            {
                "interop:hasAccessNeed": [
                    need("bank/", "Read"),
                    need("energy/", "Append", necessity="Optional"),
                ]
            },
            **{"consent:ownContainer": "apps/money/"},
        )
    )
    bank, energy = needs.needs
    own = (POD + "apps/money/", Mode.READ | Mode.WRITE)
    everything = choose(WEBID, APP, needs, POD, {bank.key, energy.key})
    assert everything.targets == (own, (POD + "bank/", Mode.READ), (POD + "energy/", Mode.APPEND))
    # The optional need unticked; the required one is granted whatever the form says.
    assert choose(WEBID, APP, needs, POD, set()).targets == (own, (POD + "bank/", Mode.READ))
    only_own = choose(WEBID, APP, needs, POD, {bank.key, energy.key}, own_only=True)
    assert only_own.targets == (own,) and not only_own.full
    assert choose(WEBID, APP, needs, POD, set(), full=True).full
    assert choose(WEBID, APP, needs, None, {energy.key}).targets == ()  # no pod here


async def test_grants_are_cached_briefly_and_a_save_here_is_seen_at_once() -> None:
    state = MemoryState()
    now = [0.0]
    grants = AppGrants(state, ttl=2.0, clock=lambda: now[0])
    agent = Agent(webid=WEBID, client_id=APP)
    assert await grants.limited(agent) is None and await grants.is_full_access(agent, "/")
    grant = limited((POD + "bank/", Mode.READ))
    await grants.save(grant)  # this process: seen at once
    assert await grants.limited(agent) == grant
    assert not await grants.is_full_access(agent, "/alice/")
    # Another process's choice: seen once the entry is older than the TTL.
    other = AppGrants(state, ttl=2.0, clock=lambda: now[0])
    await other.save(AppGrant(WEBID, APP, (), True))
    assert await grants.limited(agent) == grant
    now[0] = 2.5
    assert await grants.limited(agent) is None
    assert await grants.limited(Agent(webid=WEBID)) is None  # no client id: nothing to limit
    assert await grants.limited(Agent(client_id=APP)) is None  # anonymous


async def test_a_choice_made_in_one_process_binds_another_within_the_ttl(tmp_path: Path) -> None:
    """Two SqliteStates on one file stand for two server processes."""
    now = [0.0]
    async with SqliteState(tmp_path / "s.db") as one, SqliteState(tmp_path / "s.db") as two:
        here, there = (AppGrants(s, ttl=2.0, clock=lambda: now[0]) for s in (one, two))
        agent = Agent(webid=WEBID, client_id=APP)
        assert await there.limited(agent) is None  # full access, cached
        grant = limited((POD + "bank/", Mode.READ))
        await here.save(grant)
        assert await here.limited(agent) == grant
        now[0] = 2.0
        assert await there.limited(agent) == grant
