"""The consent service over a real resource store (memory and file backends)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from rdflib import RDF, Graph, URIRef

from pod_server.access.modes import Mode
from pod_server.access.policy import AccessPolicy
from pod_server.access.rules import AccessRules
from pod_server.access.seed import root_acl
from pod_server.auth import Agent
from pod_server.consent import model, service
from pod_server.consent.inbox import LdnInbox
from pod_server.consent.model import AccessRequest, ConsentRecord, Status, Target
from pod_server.consent.service import ConsentService
from pod_server.consent.vocab import CONSENT
from pod_server.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized
from pod_server.ldp.conditions import NONE
from pod_server.ldp.store import Limits, ResourceStore
from pod_server.ldp.vocabulary import AS as AS2
from pod_server.pods.provision import provision
from pod_server.settings import Settings, SettingsError, validate
from pod_server.storage.base import Backend, Expect, Meta, Mutation
from pod_server.storage.file import FileBackend
from pod_server.storage.memory import MemoryBackend
from tests.unit.ldp.test_store import body

BASE = "https://pod.example/"
ALICE = BASE + "profile/card#me"
BANK = "https://bank.example/id#me"
ENERGY = "https://energy.example/id#me"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
ALL = Mode.READ | Mode.WRITE | Mode.APPEND | Mode.CONTROL


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def seconds(self) -> float:
        return self.now.timestamp()


class Announcements:
    def __init__(self) -> None:
        self.sent: list[tuple[str, Status]] = []

    async def announce(self, record: ConsentRecord, status: Status) -> None:
        self.sent.append((record.id, status))

    async def close(self) -> None:
        pass


class World:
    def __init__(self, store: ResourceStore) -> None:
        self.store = store
        self.clock = Clock()
        self.inbox = Announcements()
        self.service = ConsentService(store, self.clock, self.inbox, owner=ALICE)
        self.policy = AccessPolicy(store, owner=ALICE, clock=self.clock.seconds)

    async def modes(self, who: str, path: str) -> Mode:
        return await self.policy.modes(Agent(webid=who), None, path)

    async def ask(self, *targets: Target, who: str = BANK, days: int | None = 90) -> ConsentRecord:
        until = None if days is None else T0 + timedelta(days=days)
        request = AccessRequest(who, targets, ("https://w3id.org/dpv#ServiceProvision",), (), until)
        return await self.service.request("/", Agent(webid=who), request)

    async def acl(self, path: str) -> Graph | None:
        meta, graph = await self.store.graph_of(path)
        return graph if meta is not None else None


@pytest.fixture(params=["memory", "file"])
async def world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[World]:
    backend: Backend = MemoryBackend() if request.param == "memory" else FileBackend(tmp_path)
    await backend.start()
    store = ResourceStore(backend, BASE, Limits(1 << 20, 1 << 20), rules=AccessRules())
    await store.ensure_root(root_acl(ALICE, open_access=False))
    for container in ("/bank/", "/energy/", "/inbox/"):
        await store.put(container, body(""), NONE)
    await store.put("/energy/meter", body("<#m> <http://example.org/kWh> 3 ."), NONE)
    world = World(store)
    yield world
    await world.service.close()
    await backend.close()


def bank_rule(acl: Graph | None) -> set[URIRef]:
    assert acl is not None
    return {s for s in acl.subjects(CONSENT.grantedBy, None) if isinstance(s, URIRef)}


async def test_a_request_is_stored_with_its_acls_and_announced(world: World) -> None:
    record = await world.ask(Target(BASE + "bank/", Mode.APPEND))
    assert record.status is Status.REQUESTED and record.subject == ALICE
    assert record.url == BASE + ".well-known/consent/" + record.id
    assert await world.service.get("/", record.id) == record
    assert await world.service.records("/") == [record]
    path = "/.well-known/consent/" + record.id
    # The recipient and the owner read the record; nobody else does, and nobody writes it.
    assert await world.modes(BANK, path) == Mode.READ
    assert Mode.READ in await world.modes(ALICE, path)
    assert await world.modes(ENERGY, path) == Mode(0)
    assert Mode.READ in await world.modes(ALICE, "/.well-known/consent/")
    await world.service.settled()
    assert world.inbox.sent == [(record.id, Status.REQUESTED)]
    # Asking grants nothing yet.
    assert await world.modes(BANK, "/bank/") == Mode(0)


async def test_bad_requests_store_nothing(world: World) -> None:
    def ask(target: str, who: str = BANK, recipient: str = BANK) -> object:
        request = AccessRequest(recipient, (Target(target, Mode.READ),), (), (), None)
        return world.service.request("/", Agent(webid=who), request)

    with pytest.raises(BadRequest, match="not in this storage"):
        await ask("https://elsewhere.example/bank/")
    with pytest.raises(BadRequest, match="managed by the server"):
        await ask(BASE + ".well-known/consent/")
    with pytest.raises(BadRequest, match="managed by the server"):
        await ask(BASE + "bank/.acl")
    with pytest.raises(Forbidden, match="not https://energy"):
        await ask(BASE + "bank/", recipient=ENERGY)
    with pytest.raises(Unauthorized):
        await world.service.request(
            "/", Agent(), AccessRequest(BANK, (Target(BASE, Mode.READ),), (), (), None)
        )
    assert await world.store.meta("/.well-known/consent/") is None
    with pytest.raises(NotFound):
        await world.service.get("/", "nope")
    with pytest.raises(NotFound):
        await world.service.get("/", "../bank")


async def test_approval_gives_append_not_read_and_the_owner_keeps_access(world: World) -> None:
    record = await world.ask(Target(BASE + "bank/", Mode.APPEND))
    world.clock.now = T0 + timedelta(hours=1)
    given = await world.service.approve("/", record.id, ALICE)
    assert given.status is Status.GIVEN
    assert await world.service.get("/", record.id) == given
    assert given.rules == (BASE + f"bank/.acl#consent-{record.id}-0",)
    assert await world.modes(BANK, "/bank/") == Mode.APPEND
    assert await world.modes(BANK, "/bank/2026-01") == Mode.APPEND
    assert await world.modes(ENERGY, "/bank/") == Mode(0)
    # The new ACL copied the root's inherited owner rule: alice keeps everything.
    assert await world.modes(ALICE, "/bank/") == ALL
    assert await world.modes(ALICE, "/bank/2026-01") == ALL
    assert await world.modes(BANK, "/energy/") == Mode(0)
    await world.service.settled()
    assert world.inbox.sent[-1] == (record.id, Status.GIVEN)


async def test_partial_approval(world: World) -> None:
    record = await world.ask(
        Target(BASE + "bank/", Mode.READ | Mode.APPEND), Target(BASE + "energy/", Mode.READ)
    )
    part = [Target("https://POD.example/energy/%6Deter", Mode.READ)]  # canonical: energy/meter
    given = await world.service.approve(
        "/", record.id, ALICE, granted=part, until=T0 + timedelta(days=7)
    )
    assert given.granted == (Target(BASE + "energy/meter", Mode.READ),)
    assert given.until == T0 + timedelta(days=7)
    assert await world.modes(BANK, "/energy/meter") == Mode.READ
    assert await world.modes(BANK, "/energy/") == Mode(0)
    assert await world.modes(BANK, "/bank/") == Mode(0)
    assert await world.acl("/bank/.acl") is None
    with pytest.raises(Conflict):
        await world.service.approve("/", record.id, ALICE)


async def test_a_wider_grant_or_a_missing_target_writes_nothing(world: World) -> None:
    record = await world.ask(
        Target(BASE + "bank/", Mode.APPEND), Target(BASE + "new/", Mode.APPEND)
    )
    with pytest.raises(BadRequest, match="Cannot grant Read"):
        await world.service.approve(
            "/", record.id, ALICE, granted=[Target(BASE + "bank/", Mode.READ)]
        )
    with pytest.raises(Conflict, match="does not exist"):
        await world.service.approve("/", record.id, ALICE)
    assert await world.acl("/bank/.acl") is None
    assert (await world.service.get("/", record.id)).status is Status.REQUESTED


async def test_only_owners_decide(world: World) -> None:
    record = await world.ask(Target(BASE + "bank/", Mode.APPEND))
    with pytest.raises(Forbidden, match="Only an owner"):
        await world.service.approve("/", record.id, BANK)
    with pytest.raises(Forbidden):
        await world.service.deny("/", record.id, ENERGY)
    await world.service.approve("/", record.id, ALICE)
    with pytest.raises(Forbidden, match="or the recipient"):
        await world.service.withdraw("/", record.id, ENERGY)
    withdrawn = await world.service.withdraw("/", record.id, BANK)  # the recipient gives it up
    assert withdrawn.events[-1].by == BANK


async def test_deny_writes_no_rule(world: World) -> None:
    record = await world.ask(Target(BASE + "bank/", Mode.APPEND))
    denied = await world.service.deny("/", record.id, ALICE)
    assert denied.status is Status.REFUSED
    assert await world.acl("/bank/.acl") is None
    assert await world.modes(BANK, "/bank/") == Mode(0)
    with pytest.raises(Conflict, match="is ConsentRefused"):
        await world.service.approve("/", record.id, ALICE)


async def test_withdrawal_removes_the_rules_at_once_and_leaves_the_rest(world: World) -> None:
    record = await world.ask(Target(BASE + "bank/", Mode.APPEND))
    await world.service.approve("/", record.id, ALICE)
    before = await world.acl("/bank/.acl")
    assert bank_rule(before)
    withdrawn = await world.service.withdraw("/", record.id, ALICE)
    assert withdrawn.status is Status.WITHDRAWN
    after = await world.acl("/bank/.acl")
    assert after is not None and not bank_rule(after)
    assert len(after) > 0  # the copied owner rule stays
    assert await world.modes(BANK, "/bank/") == Mode(0)
    assert await world.modes(ALICE, "/bank/") == ALL
    await world.service.settled()
    assert [s for _, s in world.inbox.sent] == [Status.REQUESTED, Status.GIVEN, Status.WITHDRAWN]


async def test_an_ended_grant_is_refused_before_the_sweeper_runs(world: World) -> None:
    record = await world.ask(Target(BASE + "bank/", Mode.APPEND), days=30)
    await world.service.approve("/", record.id, ALICE)
    world.clock.now = T0 + timedelta(days=30) - timedelta(seconds=1)
    assert await world.modes(BANK, "/bank/") == Mode.APPEND
    world.clock.now = T0 + timedelta(days=30)
    assert await world.modes(BANK, "/bank/") == Mode(0)
    assert bank_rule(await world.acl("/bank/.acl"))  # still there: only the sweeper removes it


async def test_the_sweeper_records_expiry_and_removes_the_rules(world: World) -> None:
    assert await world.service.expire_due(T0 + timedelta(days=1000)) == []  # no record yet
    short = await world.ask(Target(BASE + "bank/", Mode.APPEND), days=30)
    long = await world.ask(Target(BASE + "energy/", Mode.READ), days=90)
    endless = await world.ask(Target(BASE + "energy/meter", Mode.READ), who=ENERGY, days=None)
    pending = await world.ask(Target(BASE + "bank/", Mode.READ), who=ENERGY, days=10)
    for record in (short, long, endless):
        await world.service.approve("/", record.id, ALICE)
    assert await world.service.expire_due(T0 + timedelta(days=29)) == []
    expired = await world.service.expire_due(T0 + timedelta(days=31))
    assert [r.id for r in expired] == [short.id]
    stored = await world.service.get("/", short.id)
    assert stored.status is Status.EXPIRED and stored.events[-1].by == BASE
    assert not bank_rule(await world.acl("/bank/.acl"))
    assert (await world.service.get("/", long.id)).status is Status.GIVEN
    assert (await world.service.get("/", pending.id)).status is Status.REQUESTED
    assert bank_rule(await world.acl("/energy/.acl"))
    assert await world.service.expire_due(T0 + timedelta(days=32)) == []
    with pytest.raises(Conflict):
        await world.service.expire("/", long.id, T0 + timedelta(days=1))


async def test_a_concurrent_acl_edit_is_not_lost(world: World) -> None:
    record = await world.ask(Target(BASE + "bank/", Mode.APPEND))
    # The owner's own ACL for bank/ exists, then changes while the approval commits.
    owner_acl = (
        "@prefix acl: <http://www.w3.org/ns/auth/acl#>.\n"
        f"<#owner> a acl:Authorization; acl:agent <{ALICE}>; acl:accessTo <./>;"
        " acl:default <./>; acl:mode acl:Read, acl:Write, acl:Control.\n"
    )
    await world.store.put("/bank/.acl", body(owner_acl), NONE)
    real_commit = world.store.commit
    calls = 0

    async def interfering(
        expects: Sequence[Expect], mutations: Sequence[Mutation], under: str
    ) -> Mapping[str, Meta]:
        nonlocal calls
        calls += 1
        if calls == 1:
            edited = owner_acl + (
                f"<#energy> a acl:Authorization; acl:agent <{ENERGY}>; acl:accessTo <./>;"
                " acl:mode acl:Read.\n"
            )
            await world.store.put("/bank/.acl", body(edited), NONE)
        return await real_commit(expects, mutations, under)

    world.store.commit = interfering  # type: ignore[method-assign]
    await world.service.approve("/", record.id, ALICE)
    assert calls == 2  # the first commit was refused as stale, the decision made again
    assert await world.modes(ENERGY, "/bank/") == Mode.READ  # the concurrent edit survived
    assert await world.modes(BANK, "/bank/") == Mode.APPEND
    assert await world.modes(ALICE, "/bank/") == ALL


async def test_nested_grants_list_their_copies_so_withdrawal_removes_them(world: World) -> None:
    outer = await world.ask(Target(BASE + "bank/", Mode.APPEND))
    await world.service.approve("/", outer.id, ALICE)
    await world.store.put("/bank/2026/", body(""), NONE)
    inner = await world.ask(Target(BASE + "bank/2026/", Mode.READ), who=ENERGY)
    await world.service.approve("/", inner.id, ALICE)
    # bank/2026/ got its own ACL, with a copy of the bank's rule: the bank keeps Append.
    assert await world.modes(BANK, "/bank/2026/") == Mode.APPEND
    assert await world.modes(ENERGY, "/bank/2026/") == Mode.READ
    assert await world.modes(ALICE, "/bank/2026/") == ALL
    updated = await world.service.get("/", outer.id)
    copies = {rule for rule in updated.rules if rule.startswith(BASE + "bank/2026/.acl#")}
    assert copies == {BASE + "bank/2026/.acl#inherited-0"}  # the outer record lists its copy
    await world.service.withdraw("/", outer.id, ALICE)
    assert await world.modes(BANK, "/bank/2026/") == Mode(0)
    assert await world.modes(BANK, "/bank/") == Mode(0)
    assert await world.modes(ENERGY, "/bank/2026/") == Mode.READ


async def test_a_local_inbox_receives_the_notification(world: World) -> None:
    profile = f"<#me> <http://www.w3.org/ns/ldp#inbox> <{BASE}inbox/> ."
    await world.store.put("/org/card", body(profile), NONE)
    org = BASE + "org/card#me"
    service = ConsentService(world.store, world.clock, LdnInbox(world.store), owner=ALICE)
    request = AccessRequest(org, (Target(BASE + "bank/", Mode.APPEND),), (), (), None)
    record = await service.request("/", Agent(webid=org), request)
    await service.approve("/", record.id, ALICE)
    await service.settled()
    members = await world.store.backend.children("/inbox/")
    kinds = set()
    for meta in members:
        _, graph = await world.store.graph_of(meta.path)
        kinds |= set(graph.objects(None, RDF.type))
        assert (None, AS2.object, URIRef(record.url)) in graph
    assert kinds == {AS2.Offer, AS2.Accept}
    await service.close()


async def test_an_unreachable_inbox_is_logged_and_the_decision_stands(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    service = ConsentService(world.store, world.clock, LdnInbox(world.store, timeout=2), ALICE)
    nowhere = "http://127.0.0.1:9/profile#me"
    request = AccessRequest(nowhere, (Target(BASE + "bank/", Mode.APPEND),), (), (), None)
    with caplog.at_level(logging.WARNING, logger="pod_server.consent"):
        record = await service.request("/", Agent(webid=nowhere), request)
        await service.settled()
    assert (await service.get("/", record.id)).status is Status.REQUESTED
    assert "Could not announce ConsentRequested" in caplog.text
    await service.close()


def test_model_rule_iris_match_the_acl_documents() -> None:
    assert model.rule_iri("x", 2, BASE + "a/") == BASE + "a/.acl#consent-x-2"


async def test_pods_of_a_multi_user_server_each_keep_their_own_records() -> None:
    store = ResourceStore(
        MemoryBackend(), BASE, Limits(1 << 20, 1 << 20), rules=AccessRules(), multiuser=True
    )
    await store.ensure_root()
    carol = "https://carol.example/#me"
    await provision(store, "alice", "https://issuer.example/", ALICE)
    await provision(store, "carol", "https://issuer.example/", carol)
    await store.put("/alice/bank/", body(""), NONE)
    clock = Clock()
    service = ConsentService(store, clock, Announcements(), owner=ALICE)  # ignored: pods
    policy = AccessPolicy(store, clock=clock.seconds)
    request = AccessRequest(
        BANK, (Target(BASE + "alice/bank/", Mode.APPEND),), (), (), T0 + timedelta(days=1)
    )
    record = await service.request("/alice/", Agent(webid=BANK), request)
    assert record.url == BASE + "alice/.well-known/consent/" + record.id
    with pytest.raises(BadRequest, match="not in this storage"):
        await service.request("/carol/", Agent(webid=BANK), request)
    with pytest.raises(NotFound):
        await service.get("/carol/", record.id)
    with pytest.raises(NotFound):
        await service.records("/")
    with pytest.raises(Forbidden):
        await service.approve("/alice/", record.id, carol)
    await service.approve("/alice/", record.id, ALICE)
    assert await policy.modes(Agent(webid=BANK), None, "/alice/bank/") == Mode.APPEND
    assert await service.records("/carol/") == []
    expired = await service.expire_due(T0 + timedelta(days=2))
    assert [r.id for r in expired] == [record.id]
    assert await policy.modes(Agent(webid=BANK), None, "/alice/bank/") == Mode(0)
    await service.close()


async def test_a_remote_inbox_gets_an_ldn_post(world: World) -> None:
    received: list[tuple[str, bytes]] = []

    async def profile(request: web.Request) -> web.Response:
        inbox = str(request.url.with_path("/inbox/"))
        turtle = f"<#me> <http://www.w3.org/ns/ldp#inbox> <{inbox}> ."
        return web.Response(text=turtle, content_type="text/turtle")

    async def inbox(request: web.Request) -> web.Response:
        received.append((request.content_type, await request.read()))
        return web.Response(status=201)

    app = web.Application()
    app.router.add_get("/profile", profile)
    app.router.add_post("/inbox/", inbox)
    async with TestServer(app) as server:
        org = str(server.make_url("/profile")) + "#me"
        service = ConsentService(world.store, world.clock, LdnInbox(world.store), ALICE)
        request = AccessRequest(org, (Target(BASE + "bank/", Mode.APPEND),), (), (), None)
        record = await service.request("/", Agent(webid=org), request)
        await service.deny("/", record.id, ALICE)
        await service.settled()
        await service.close()
    assert [kind for kind, _ in received] == ["text/turtle", "text/turtle"]
    kinds = {}
    for _, data in received:  # the two announcements run concurrently: any order
        note = Graph().parse(data=data, format="turtle", publicID="urn:x:n")
        kinds[note.value(URIRef("urn:x:n"), RDF.type)] = note
    assert set(kinds) == {AS2.Offer, AS2.Reject}
    assert kinds[AS2.Reject].value(URIRef("urn:x:n"), AS2.actor) == URIRef(ALICE)
    assert kinds[AS2.Offer].value(URIRef("urn:x:n"), AS2.object) == URIRef(record.url)


async def test_the_periodic_sweep_expires_what_is_due(world: World) -> None:
    record = await world.ask(Target(BASE + "bank/", Mode.APPEND), days=1)
    await world.service.approve("/", record.id, ALICE)
    world.clock.now = T0 + timedelta(days=2)
    sweeper = asyncio.create_task(world.service.sweep(0.01))
    try:
        for _ in range(500):
            if (await world.service.get("/", record.id)).status is Status.EXPIRED:
                break
            await asyncio.sleep(0.01)
    finally:
        sweeper.cancel()
    assert (await world.service.get("/", record.id)).status is Status.EXPIRED


@pytest.mark.parametrize("seconds", [0, -1, float("nan")])
def test_the_sweep_interval_must_be_positive(seconds: float) -> None:
    with pytest.raises(SettingsError, match="consent sweep"):
        validate(Settings(consent_sweep_seconds=seconds))


def test_record_ids_never_look_like_command_line_options(monkeypatch: pytest.MonkeyPatch) -> None:
    draws = iter(["-starts-with-a-dash", "_fine-id"])
    monkeypatch.setattr(service.secrets, "token_urlsafe", lambda _n: next(draws))
    assert service.record_id() == "_fine-id"
