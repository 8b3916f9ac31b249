"""Consent decisions as store writes: each one a single atomic commit.

Records live at ``R.well-known/consent/<id>`` (R: the storage root), written only by the
server. ``consent/.acl`` gives the storage's owners Read (and by default, each record);
each record's own ``<id>.acl`` gives its owners and its recipient Read. A decision writes
the record, every ACL it changes and its audit entry in ONE ``store.commit``, with the
etag of each document it read as a precondition: if anyone changed one meanwhile (an
owner editing an ACL, another process deciding), the decision is made again from what is
stored now, so no concurrent edit is lost. Requests, decisions and withdrawals are then
announced to the requester's inbox (``inbox``); a failure there never fails the decision.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from rdflib import RDF, Graph, URIRef

from pod_server.access.acl import canonical_resource
from pod_server.access.owners import owners_in
from pod_server.audit.entry import Action, AuditEntry
from pod_server.consent import model, rules
from pod_server.consent.inbox import LdnInbox
from pod_server.consent.model import AccessRequest, ConsentRecord, Credential, Status, Target
from pod_server.consent.records import record_from_graph, record_turtle
from pod_server.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PodError,
    StaleState,
    Unauthorized,
)
from pod_server.ldp import paths
from pod_server.ldp.media_types import TURTLE
from pod_server.ldp.vocabulary import ACL
from pod_server.storage.base import (
    ABSENT,
    PRESENT,
    Delete,
    Expect,
    Meta,
    Mutation,
    Put,
    Staged,
    Touch,
)

if TYPE_CHECKING:
    from pod_server.auth import Agent
    from pod_server.ldp.store import ResourceStore

log = logging.getLogger("pod_server.consent")

CONSENT_DIR = ".well-known/consent/"
ATTEMPTS = 5  # a decision re-planned this often after concurrent edits before giving up
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


class Announcer(Protocol):
    """Tells a record's requester about it (``inbox.LdnInbox``)."""

    async def announce(self, record: ConsentRecord, status: Status) -> None: ...

    async def close(self) -> None: ...


@dataclass(slots=True)
class _Plan:
    """What one decision commits: its preconditions, then the final state of each document
    it writes (turned into mutations once, when the plan is complete)."""

    expects: list[Expect] = field(default_factory=list)
    first: list[Mutation] = field(default_factory=list)  # containers created on the way
    acls: dict[str, Graph] = field(default_factory=dict)  # ACL path -> its new graph
    gone: set[str] = field(default_factory=set)  # ACL paths to delete
    records: dict[str, ConsentRecord] = field(default_factory=dict)  # path -> new record
    created: set[str] = field(default_factory=set)  # paths new in their container

    def mutations(self, check_acl: Callable[[str, Graph], None]) -> list[Mutation]:
        out = list(self.first)
        for acl_path, graph in sorted(self.acls.items()):
            check_acl(acl_path, graph)  # refuses (before anything is written) an unusable ACL
            out.append(Put(acl_path, TURTLE, Staged.of(_turtle(graph))))
        out += [Delete(acl_path) for acl_path in sorted(self.gone)]
        for path, record in sorted(self.records.items()):
            out.append(Put(path, TURTLE, Staged.of(record_turtle(record))))
        out += [Touch(parent) for parent in sorted({paths.parent(p) or "/" for p in self.created})]
        return out


class ConsentService:
    """Consent requests and decisions over a resource store; one per server process."""

    def __init__(
        self,
        store: ResourceStore,
        clock: Clock = utcnow,
        inbox: Announcer | None = None,
        owner: str | None = None,
    ) -> None:
        """``owner``: the configured owner of a single-user storage (pods name theirs)."""
        self.store = store
        self.clock = clock
        self.inbox: Announcer = inbox if inbox is not None else LdnInbox(store)
        self._configured = frozenset({owner}) if owner and not store.multiuser else frozenset()
        self._pending: set[asyncio.Task[None]] = set()

    # -- reading -------------------------------------------------------------------------

    async def get(self, root: str, id: str) -> ConsentRecord:
        return (await self._read(root, id))[1]

    async def records(self, root: str) -> list[ConsentRecord]:
        """The storage's records, oldest request first (a damaged one is logged, skipped)."""
        self._check_root(root)
        found: list[ConsentRecord] = []
        container = root + CONSENT_DIR
        for meta in await self.store.backend.children(container):
            if meta.is_container or paths.is_auxiliary(meta.path):
                continue
            try:
                found.append(await self._parse(root, meta.path))
            except PodError as exc:
                log.warning("Skipping consent record %s: %s", meta.path, exc.message)
        return sorted(found, key=lambda r: (r.events[0].at, r.id))

    # -- the requester -------------------------------------------------------------------

    async def request(self, root: str, requester: Agent, req: AccessRequest) -> ConsentRecord:
        """Store a new request (``ConsentRequested``) from a signed-in requester."""
        self._check_root(root)
        if not requester.authenticated:
            raise Unauthorized("Sign in to request access")
        if req.recipient != requester.webid:
            raise Forbidden(
                f"A request asks access for its requester ({requester.webid}), not {req.recipient}"
            )
        req = replace(req, targets=tuple(self._local_target(root, t) for t in req.targets))
        owners = await self._owners(root)
        if not owners:
            raise Conflict("This storage has no owner to ask")
        id = record_id()
        path = root + CONSENT_DIR + id
        record = model.new_record(
            id, self.store.url(path), root, sorted(owners)[0], req, self.clock()
        )
        readers = [*sorted(owners), record.recipient]
        for _ in range(ATTEMPTS):
            plan = _Plan([Expect(path, ABSENT), Expect(path + paths.ACL_SUFFIX, ABSENT)])
            await self._plan_container(root, owners, plan)
            plan.records[path] = record
            plan.created.add(path)
            plan.acls[path + paths.ACL_SUFFIX] = _readers_acl(self.store.url(path), readers)
            mutations = plan.mutations(self.store.check_acl)
            mutations += _audit(record, Status.REQUESTED, record.recipient)
            try:
                await self.store.commit(plan.expects, mutations, under=root)
            except StaleState:
                continue
            self._announce(record, Status.REQUESTED)
            return record
        raise Conflict("The storage kept changing while the request was stored; try again")

    # -- the person --------------------------------------------------------------------------

    async def approve(
        self,
        root: str,
        id: str,
        by: str,
        granted: Iterable[Target] | None = None,
        until: datetime | None = None,
        credential: Credential | None = None,
    ) -> ConsentRecord:
        """Give consent (all, or ``granted``/``until`` for part) and write its WAC rules
        (``credential``: the Verifiable Credential that states the grant, if one does)."""
        # Targets in the server's canonical URL form, so they compare with the requested ones.
        wanted = None if granted is None else tuple(self._local_target(root, t) for t in granted)

        async def decide(record: ConsentRecord, plan: _Plan) -> ConsentRecord:
            await self._require_owner(root, by)
            decided = model.approve(record, by, self.clock(), wanted, until)
            if credential is not None:
                decided = replace(decided, credential=credential)
            return await self._plan_grant(root, decided, plan)

        return await self._decide(root, id, decide, Status.GIVEN, by)

    async def deny(self, root: str, id: str, by: str) -> ConsentRecord:
        async def decide(record: ConsentRecord, plan: _Plan) -> ConsentRecord:
            await self._require_owner(root, by)
            return model.deny(record, by, self.clock())

        return await self._decide(root, id, decide, Status.REFUSED, by)

    async def withdraw(self, root: str, id: str, by: str) -> ConsentRecord:
        """End a given consent now (an owner, or the recipient giving it up)."""

        async def decide(record: ConsentRecord, plan: _Plan) -> ConsentRecord:
            if by != record.recipient:
                await self._require_owner(root, by, "or the recipient ")
            decided = model.withdraw(record, by, self.clock())
            await self._plan_revoke(decided, plan)
            return decided

        return await self._decide(root, id, decide, Status.WITHDRAWN, by)

    async def cancel(self, root: str, id: str, by: str) -> ConsentRecord:
        """The requester takes back a pending request (recorded as withdrawn)."""

        async def decide(record: ConsentRecord, plan: _Plan) -> ConsentRecord:
            if by != record.recipient:
                raise Forbidden("Only the requester can cancel a pending request")
            return model.cancel(record, by, self.clock())

        return await self._decide(root, id, decide, Status.WITHDRAWN, by)

    async def expire(self, root: str, id: str, now: datetime | None = None) -> ConsentRecord:
        """Record that a consent reached its end and remove its rules."""
        at = now or self.clock()
        by = self.store.url(root)  # the server, acting for the storage

        async def decide(record: ConsentRecord, plan: _Plan) -> ConsentRecord:
            decided = model.expire(record, by, at)
            await self._plan_revoke(decided, plan)
            return decided

        return await self._decide(root, id, decide, Status.EXPIRED, by)

    async def expire_due(self, now: datetime | None = None) -> list[ConsentRecord]:
        """Expire every given consent past its end, in every storage (one commit each)."""
        at = now or self.clock()
        expired: list[ConsentRecord] = []
        for root in await self._roots():
            for record in await self.records(root):
                if not record.due(at):
                    continue
                try:
                    expired.append(await self.expire(root, record.id, at))
                except Conflict as exc:  # another process expired or withdrew it first
                    log.info("Consent %s not expired: %s", record.url, exc.message)
        return expired

    async def sweep(self, interval: float) -> None:
        """Run ``expire_due`` every ``interval`` seconds until cancelled."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.expire_due()
            except Exception:  # a bad sweep must not stop the next ones
                log.exception("Consent expiry sweep failed")

    async def settled(self) -> None:
        """Wait for the inbox announcements under way."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def close(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.settled(), 5)
        for task in list(self._pending):
            task.cancel()
        await self.inbox.close()

    # -- decisions --------------------------------------------------------------------------

    async def _decide(
        self,
        root: str,
        id: str,
        decide: Callable[[ConsentRecord, _Plan], Awaitable[ConsentRecord]],
        status: Status,
        by: str,
    ) -> ConsentRecord:
        for _ in range(ATTEMPTS):
            meta, record = await self._read(root, id)
            plan = _Plan([Expect(meta.path, meta.etag)])
            decided = await decide(record, plan)
            plan.records[meta.path] = decided
            mutations = plan.mutations(self.store.check_acl)
            mutations += _audit(decided, status, by)
            try:
                await self.store.commit(plan.expects, mutations, under=root)
            except StaleState:
                continue  # someone changed what this relied on: decide again on what is there
            self._announce(decided, status)
            return decided
        raise Conflict(f"Consent {id} kept changing while it was decided; try again")

    async def _plan_grant(self, root: str, record: ConsentRecord, plan: _Plan) -> ConsentRecord:
        """Add each granted target's rule to its own ACL (creating one with copies of the
        inherited rules if need be); outer targets first, so an inner one copies them."""
        order = sorted(range(len(record.granted)), key=lambda n: len(record.granted[n].url))
        for n in order:
            target = record.granted[n]
            path = self.store.local_path(target.url)
            if path is None or self.store.storage_root_of(path) != root:
                raise BadRequest(f"{target.url} is not in this storage")
            if await self.store.meta(path) is None:
                raise Conflict(
                    f"{target.url} does not exist; create it before granting access to it"
                )
            plan.expects.append(Expect(path, PRESENT))  # deleted meanwhile: decide again
            acl_path = path + paths.ACL_SUFFIX
            current = await self._acl(acl_path, plan)
            inherited = None if current is not None else await self._inherited(path, plan)
            plan.acls[acl_path] = rules.granted_acl(current, record, n, inherited)
        return await self._note_copies(record, plan)

    async def _note_copies(self, record: ConsentRecord, plan: _Plan) -> ConsentRecord:
        """A new ACL may hold copies of other consents' rules: each such record lists its
        copies (written in this same commit), so its withdrawal removes them too."""
        for graph in list(plan.acls.values()):
            for other_url, copies in rules.copied_grants(graph).items():
                if other_url == record.url:
                    record = replace(record, rules=tuple(sorted({*record.rules, *copies})))
                    continue
                other_path = self.store.local_path(other_url)
                if other_path is None or not other_path.startswith(record.root + CONSENT_DIR):
                    continue
                try:
                    meta, other = await self._read_path(record.root, other_path)
                except PodError:
                    continue  # not a record we can update: its copies end with their until
                if set(copies) <= set(other.rules):
                    continue
                plan.expects.append(Expect(meta.path, meta.etag))
                plan.records[meta.path] = replace(
                    other, rules=tuple(sorted({*other.rules, *copies}))
                )
        return record

    async def _plan_revoke(self, record: ConsentRecord, plan: _Plan) -> None:
        """Remove the record's rules (and their copies) from every ACL holding them."""
        for acl_url in rules.rule_acls(record):
            acl_path = self.store.local_path(acl_url)
            if acl_path is None:
                continue
            current = await self._acl(acl_path, plan)
            if current is None:
                continue  # the ACL is gone (its resource was deleted): nothing left to remove
            revoked = rules.revoked_acl(current, record.url)
            if len(revoked) == len(current):
                continue
            if len(revoked) == 0:
                # A consent made this ACL and nothing else is in it: inheritance resumes.
                plan.acls.pop(acl_path, None)
                plan.gone.add(acl_path)
                continue
            plan.acls[acl_path] = revoked

    async def _acl(self, acl_path: str, plan: _Plan) -> Graph | None:
        """An ACL as planned so far, else as stored (its etag becomes a precondition)."""
        if acl_path in plan.acls:
            return plan.acls[acl_path]
        meta, graph = await self.store.graph_of(acl_path)
        plan.expects.append(Expect(acl_path, meta.etag if meta is not None else ABSENT))
        return graph if meta is not None else None

    async def _inherited(self, path: str, plan: _Plan) -> rules.Inherited | None:
        for ancestor in paths.ancestors(path):
            acl_path = ancestor + paths.ACL_SUFFIX
            graph = await self._acl(acl_path, plan)
            if graph is not None:
                return rules.Inherited(graph, self.store.url(acl_path), self.store.url(ancestor))
        return None

    async def _plan_container(self, root: str, owners: frozenset[str], plan: _Plan) -> None:
        """Create ``R.well-known/consent/`` and its owners-only ACL on the first request."""
        well_known = root + CONSENT_DIR.split("/", 1)[0] + "/"
        container = root + CONSENT_DIR
        if await self.store.meta(container) is not None:
            plan.expects.append(Expect(container, PRESENT))
            return
        if await self.store.meta(well_known) is None:
            plan.expects.append(Expect(well_known, ABSENT))
            plan.first += [Put(well_known, TURTLE), Touch(root)]
        else:
            plan.expects.append(Expect(well_known, PRESENT))
            plan.first.append(Touch(well_known))
        plan.expects += [Expect(container, ABSENT), Expect(container + paths.ACL_SUFFIX, ABSENT)]
        plan.first.append(Put(container, TURTLE))
        acl = _readers_acl(self.store.url(container), sorted(owners), default=True)
        plan.acls[container + paths.ACL_SUFFIX] = acl

    # -- helpers ------------------------------------------------------------------------------

    async def _read(self, root: str, id: str) -> tuple[Meta, ConsentRecord]:
        self._check_root(root)
        if not _ID.fullmatch(id):
            raise NotFound(f"No consent record {id!r}")
        return await self._read_path(root, root + CONSENT_DIR + id)

    async def _read_path(self, root: str, path: str) -> tuple[Meta, ConsentRecord]:
        meta, graph = await self.store.graph_of(path)
        if meta is None:
            raise NotFound(f"No consent record at {self.store.url(path)}")
        return meta, record_from_graph(graph, self.store.url(path), root)

    async def _parse(self, root: str, path: str) -> ConsentRecord:
        return (await self._read_path(root, path))[1]

    def _check_root(self, root: str) -> None:
        if self.store.storage_root_of(root) != root:
            raise NotFound(f"No storage at {root}")

    def _local_target(self, root: str, target: Target) -> Target:
        path = self.store.local_path(canonical_resource(target.url))
        if path is None or self.store.storage_root_of(path) != root:
            raise BadRequest(f"{target.url} is not in this storage")
        if self.store.layout.is_well_known(path) or paths.is_auxiliary(path):
            raise BadRequest(
                f"{target.url} is managed by the server; access to it cannot be granted"
            )
        return Target(self.store.url(path), target.modes)

    async def owners(self, root: str) -> frozenset[str]:
        """The storage's owners (the people who decide on its consents)."""
        return await self._owners(root)

    async def roots(self) -> list[str]:
        return await self._roots()

    async def _owners(self, root: str) -> frozenset[str]:
        meta, graph = await self.store.graph_of(root)
        found = owners_in(graph, self.store.url(root)) if meta is not None else frozenset()
        return found | self._configured

    async def _require_owner(self, root: str, by: str, also: str = "") -> None:
        if by not in await self._owners(root):
            raise Forbidden(f"Only an owner of the storage {also}can decide on its consents")

    async def _roots(self) -> list[str]:
        if not self.store.multiuser:
            return ["/"]
        members = await self.store.backend.children("/")
        return [m.path for m in members if m.is_container and not m.path.startswith("/.")]

    def _announce(self, record: ConsentRecord, status: Status) -> None:
        async def send() -> None:
            try:
                await self.inbox.announce(record, status)
            except Exception:  # never fails the decision; the requester can read the record
                log.warning("Could not announce %s of %s", status.value, record.url, exc_info=True)

        task = asyncio.get_running_loop().create_task(send())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)


# Each status a decision records, as the audit log names it; a new request is "created".
_ACTIONS = {
    Status.REQUESTED: (Action.REQUEST, 201),
    Status.GIVEN: (Action.GRANT, 200),
    Status.REFUSED: (Action.REFUSE, 200),
    Status.WITHDRAWN: (Action.WITHDRAW, 200),
    Status.EXPIRED: (Action.EXPIRE, 200),
}


def _audit(record: ConsentRecord, status: Status, by: str) -> list[Mutation]:
    """The audit entry of a decision, committed with it (``by``: who decided; for an
    expiry, the storage itself)."""
    action, outcome = _ACTIONS[status]
    entry = AuditEntry(
        root=record.root,
        action=action,
        resource=record.url,
        outcome=outcome,
        agent=by,
        client=record.client,
        consent=record.url,
    )
    return [entry.mutation()]


def _readers_acl(url: str, readers: Sequence[str], *, default: bool = False) -> Graph:
    """An ACL giving ``readers`` Read on ``url`` (and, with ``default``, below it)."""
    g = Graph(bind_namespaces="none")
    g.bind("acl", str(ACL))
    node = URIRef(url + paths.ACL_SUFFIX + "#readers")
    g.add((node, RDF.type, ACL.Authorization))
    for reader in dict.fromkeys(readers):
        g.add((node, ACL.agent, URIRef(reader)))
    g.add((node, ACL.accessTo, URIRef(url)))
    if default:
        g.add((node, ACL.default, URIRef(url)))
    g.add((node, ACL.mode, ACL.Read))
    return g


def _turtle(graph: Graph) -> bytes:
    return graph.serialize(format="turtle", encoding="utf-8")


def record_id() -> str:
    """A new record's id: 128 random bits, URL-safe, never starting with "-" (a command
    line would read ``pod consent show -x...`` as an option)."""
    while True:
        id = secrets.token_urlsafe(16)
        if not id.startswith("-"):
            return id
