"""Authorization of one request: find the effective ACL in the store, then apply WAC.

The pure rules live in ``access.evaluate``; this module only does what needs I/O:
ACL resource discovery (WAC "ACL Resource Discovery": the resource's own ACL, else the
nearest ancestor container's ACL, whose ``acl:default`` rules then apply), compiling
and caching ACLs (keyed by path and etag, so any write to an ``.acl`` invalidates its
entry, in every process, without messages), and fetching group documents.

An app the person limited (``consent.apps``) is held to its grant on top of WAC: the
``app_limits`` callable gives the grant for a request's agent (WebID and client id), and
the caller's modes become WAC's modes intersected with the grant's, plus the public's
(so WAC-Allow shows the limit too).

It also learns the owners of the storage holding the target (``access.owners``): the
storage root's metadata comes in the same query as the ACLs', and its owners are cached
by the root's etag the same way, so knowing them costs no query in the common case.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

from rdflib import Graph

from pod_server.access.acl import CompiledAcl, compile_acl
from pod_server.access.evaluate import (
    Decision,
    consents_used,
    decide,
    granted_modes,
    group_members,
    groups_referenced,
    required_modes,
)
from pod_server.access.modes import NO_MODES, Mode
from pod_server.access.owners import owner_modes, owners_in
from pod_server.access.suspension import suspended_since
from pod_server.errors import Forbidden, PodError, Suspended, Unauthorized
from pod_server.ldp import paths
from pod_server.storage.base import Meta

if TYPE_CHECKING:
    from pod_server.auth import Agent
    from pod_server.ldp.patch import Patch

GroupFetcher = Callable[[str], Awaitable[Graph | None]]


class AppLimit(Protocol):
    """What the person let one app do (``consent.apps.AppGrant``)."""

    def limit(self, modes: Mode, url: str) -> Mode: ...


# The limit on the agent's app, or None when it acts with all of the person's access.
AppLimits = Callable[["Agent"], Awaitable[AppLimit | None]]


class Documents(Protocol):
    """What the policy reads: the resource store's identifiers and documents."""

    multiuser: bool

    def url(self, path: str) -> str: ...
    def local_path(self, url: str) -> str | None: ...
    def storage_root_of(self, path: str) -> str | None: ...
    async def metas(self, paths: Sequence[str]) -> dict[str, Meta]: ...
    async def graph_of(self, path: str) -> tuple[Meta | None, Graph]: ...


MODE_NAMES = {
    Mode.READ: "Read",
    Mode.WRITE: "Write",
    Mode.APPEND: "Append",
    Mode.CONTROL: "Control",
}


@dataclass(frozen=True, slots=True)
class Access:
    """What the caller and the public may do on the request's target (for WAC-Allow)."""

    user: Mode
    public: Mode
    # The target's metadata, read in the same lookup as its ACLs (None: it did not exist
    # then): lets a read skip a second query (see ResourceStore.get).
    target: Meta | None = None
    # The storage's owners when the target is its root, for Link rel=solid:owner.
    owners: frozenset[str] = frozenset()
    # Whether the caller is an owner of the storage holding the target (for the audit log;
    # learnt with the owner's Control, so it costs nothing).
    is_owner: bool = False
    # The consent records whose rules this access relied on (for the audit log).
    consents: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class _RootFacts:
    owners: frozenset[str]
    suspended: bool


@dataclass(frozen=True, slots=True)
class _Effective:
    acl: CompiledAcl
    default_for: str | None  # None: the resource's own ACL; else the ancestor's URL


class AccessPolicy:
    """WAC over a resource store; one per server process."""

    def __init__(
        self,
        store: Documents,
        fetch_group: GroupFetcher | None = None,
        challenge: Callable[[Agent], str] | None = None,
        cache_size: int = 4096,
        owner: str | None = None,
        app_limits: AppLimits | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``owner``: the configured owner of a single-user storage (``--owner``); pods
        name theirs in their roots. ``app_limits``: the grants of limited apps. ``clock``:
        the time rules with an end are compared to."""
        self.store = store
        self._fetch_group = fetch_group
        self._challenge = challenge
        self._cache: OrderedDict[tuple[str, str], CompiledAcl] = OrderedDict()
        self._cache_size = cache_size
        self._configured = frozenset({owner}) if owner and not store.multiuser else frozenset()
        # What a storage root says: its owners and whether its host suspended it.
        self._owner_cache: OrderedDict[tuple[str, str], _RootFacts] = OrderedDict()
        self._app_limits = app_limits
        self._clock = clock

    async def authorize(
        self,
        agent: Agent,
        origin: str | None,
        method: str,
        path: str,
        *,
        target_exists: bool | None = None,
        patch: Patch | None = None,
    ) -> Access:
        """Allow, or raise 401/403 naming the modes that were missing. ``target_exists``
        None: whether the target exists is read in the same lookup as its ACLs."""
        aux = paths.aux_subject(path)
        subject = aux[1] if aux else path
        is_acl = aux is not None and aux[0] == paths.ACL_SUFFIX
        found: dict[str, Meta] = {}
        root = self.store.storage_root_of(subject)
        also = (path, root) if root else (path,)
        effective = await self._effective(subject, also=also, found=found)
        if root is not None:
            await self._check_active(root, found.get(root))
        if target_exists is None:
            target_exists = path in found
        required = required_modes(
            method,
            target_exists=target_exists or aux is not None,  # an .acl/.meta is not a member
            is_acl=is_acl,
            # Any patch may insert; asking for Append costs nothing, as Write implies it.
            patch_inserts=patch is not None,
            patch_deletes=patch is not None and patch.deletes,
            patch_where=patch is not None and patch.has_where,
        )
        user = await self._modes(effective, subject, agent, origin)
        owned = await self._owner_modes(agent, root, found)
        user |= owned
        app = await self._app_limits(agent) if self._app_limits and agent.authenticated else None
        public: Mode | None = None
        if app is not None:
            public = await self._modes(effective, subject, None, origin)
            user = app.limit(user, self.store.url(subject)) | public
        parent_modes = NO_MODES
        parent_effective: _Effective | None = None
        parent = paths.parent(subject)
        if parent is None:  # the storage root has no container; the store refuses what needs one
            required = replace(required, parent=NO_MODES)
        elif required.parent:
            parent_effective = await self._effective(parent)
            parent_modes = await self._modes(parent_effective, parent, agent, origin)
            if app is not None:
                parent_public = await self._modes(parent_effective, parent, None, origin)
                parent_modes = app.limit(parent_modes, self.store.url(parent)) | parent_public
        verdict = decide(required, user, parent_modes, agent.authenticated)
        if verdict is not Decision.ALLOW:
            raise self._refusal(verdict, agent, required.target | required.parent, subject)
        if public is None:
            public = (
                user
                if not agent.authenticated
                else await self._modes(effective, subject, None, origin)
            )
        owners = await self._owners(path, found.get(path)) if path == root else frozenset()
        consents = frozenset()
        if not owned and agent.authenticated:
            consents = await self._consents(effective, subject, agent, origin, required.target)
            if parent is not None and required.parent:
                consents |= await self._consents(
                    parent_effective, parent, agent, origin, required.parent
                )
        return Access(
            user, public, found.get(path), owners, is_owner=bool(owned), consents=consents
        )

    async def modes(self, agent: Agent | None, origin: str | None, path: str) -> Mode:
        """The modes ``agent`` (None: the public) has on ``path``."""
        found: dict[str, Meta] = {}
        root = self.store.storage_root_of(path)
        effective = await self._effective(path, also=(root,) if root else (), found=found)
        if root is not None and (await self._root_facts(root, found.get(root))).suspended:
            return NO_MODES
        granted = await self._modes(effective, path, agent, origin)
        if agent is None:
            return granted
        granted |= await self._owner_modes(agent, root, found)
        app = await self._app_limits(agent) if self._app_limits and agent.authenticated else None
        if app is None:
            return granted
        public = await self._modes(effective, path, None, origin)
        return app.limit(granted, self.store.url(path)) | public

    async def owners_of(self, root: str) -> frozenset[str]:
        """The owners of the storage at ``root`` (cached by the root's etag, as above)."""
        found = await self.store.metas([root])
        return await self._owners(root, found.get(root))

    def sign_in_required(self, agent: Agent, what: str) -> Unauthorized:
        """The 401 for an anonymous caller of a server service, with the usual challenge."""
        headers = {"WWW-Authenticate": self._challenge(agent)} if self._challenge else {}
        reason = f" ({agent.reason})" if agent.reason else ""
        return Unauthorized(f"Sign in to do this: {what}{reason}", headers=headers)

    async def owns(self, agent: Agent, path: str) -> bool:
        """Whether ``agent`` is an owner of the storage holding ``path`` (one lookup)."""
        root = self.store.storage_root_of(path)
        if not agent.authenticated or root is None:
            return False
        found = await self.store.metas([root])
        if (await self._root_facts(root, found.get(root))).suspended:
            return False
        return bool(await self._owner_modes(agent, root, found))

    async def check_active(self, root: str | None) -> None:
        """Refuse (``Suspended``) anything about a storage its host suspended."""
        if root is not None:
            found = await self.store.metas([root])
            await self._check_active(root, found.get(root))

    async def suspended(self, root: str) -> bool:
        """Whether the host suspended the storage at ``root`` (``access.suspension``)."""
        found = await self.store.metas([root])
        return (await self._root_facts(root, found.get(root))).suspended

    # -- internals ---------------------------------------------------------------------

    def _refusal(self, verdict: Decision, agent: Agent, needed: Mode, subject: str) -> PodError:
        names = " and ".join(MODE_NAMES[m] for m in MODE_NAMES if m in needed) or "access"
        url = self.store.url(subject)
        if verdict is Decision.UNAUTHENTICATED:
            return self.sign_in_required(agent, f"it needs {names} on {url}")
        return Forbidden(f"{agent.webid} does not have {names} on {url}")

    async def _modes(
        self, effective: _Effective | None, path: str, agent: Agent | None, origin: str | None
    ) -> Mode:
        if effective is None:
            return NO_MODES  # no ACL anywhere above: nobody may do anything
        groups = await self._groups(effective.acl) if effective.acl.groups else {}
        authenticated = agent is not None and agent.authenticated
        return granted_modes(
            effective.acl,
            self.store.url(path),
            default_for=effective.default_for,
            agent_webid=agent.webid if authenticated and agent is not None else None,
            authenticated=authenticated,
            origin=origin,
            groups=groups,
            now=self._clock(),
            client_id=agent.client_id if authenticated and agent is not None else None,
        )

    async def _consents(
        self,
        effective: _Effective | None,
        path: str,
        agent: Agent,
        origin: str | None,
        needed: Mode,
    ) -> frozenset[str]:
        """The consent records whose rules gave ``agent`` what it needed on ``path``."""
        if effective is None or not effective.acl.consented or agent.webid is None:
            return frozenset()
        groups = await self._groups(effective.acl) if effective.acl.groups else {}
        return consents_used(
            effective.acl,
            self.store.url(path),
            needed,
            default_for=effective.default_for,
            agent_webid=agent.webid,
            origin=origin,
            groups=groups,
            now=self._clock(),
            client_id=agent.client_id,
        )

    async def _owner_modes(self, agent: Agent, root: str | None, found: dict[str, Meta]) -> Mode:
        """Control for the owner of the storage ``root`` (read from ``found``)."""
        if not agent.authenticated or root is None:
            return NO_MODES  # skip the owner lookup: only a signed-in owner gains anything
        return owner_modes(agent.webid, await self._owners(root, found.get(root)))

    async def _owners(self, root: str, meta: Meta | None) -> frozenset[str]:
        return (await self._root_facts(root, meta)).owners

    async def _check_active(self, root: str, meta: Meta | None) -> None:
        """Refuse every request to a suspended storage, whoever makes it."""
        if (await self._root_facts(root, meta)).suspended:
            raise Suspended(
                f"The storage {self.store.url(root)} is suspended by this server's operator;"
                " nobody can use it until they resume it"
            )

    async def _root_facts(self, root: str, meta: Meta | None) -> _RootFacts:
        if meta is None:
            return _RootFacts(self._configured, False)
        key = (root, meta.etag)
        hit = self._owner_cache.get(key)
        if hit is not None:
            self._owner_cache.move_to_end(key)
            return hit
        read, graph = await self.store.graph_of(root)
        url = self.store.url(root)
        facts = _RootFacts(
            owners_in(graph, url) | self._configured, suspended_since(graph, url) is not None
        )
        if read is not None:  # cache under the version actually read
            self._owner_cache[(root, read.etag)] = facts
            while len(self._owner_cache) > self._cache_size:
                self._owner_cache.popitem(last=False)
        return facts

    async def _effective(
        self, path: str, also: Sequence[str] = (), found: dict[str, Meta] | None = None
    ) -> _Effective | None:
        """WAC ACL discovery: the resource's own ACL, else the nearest ancestor's. ``also``
        is looked up in the same query, into ``found`` (with the ACLs that exist)."""
        candidates = [path, *paths.ancestors(path)]
        wanted = [c + paths.ACL_SUFFIX for c in candidates]
        found = found if found is not None else {}
        found.update(await self.store.metas([*wanted, *also]))
        for depth, candidate in enumerate(candidates):
            acl_path = candidate + paths.ACL_SUFFIX
            meta = found.get(acl_path)
            if meta is None:
                continue
            acl = await self._compiled(acl_path, meta.etag)
            return _Effective(acl, None if depth == 0 else self.store.url(candidate))
        return None

    async def _compiled(self, acl_path: str, etag: str) -> CompiledAcl:
        key = (acl_path, etag)
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        meta, graph = await self.store.graph_of(acl_path)
        acl = compile_acl(graph, self.store.url(acl_path))
        if meta is not None:  # cache under the version actually read
            self._cache[(acl_path, meta.etag)] = acl
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return acl

    async def group_members(self, acl: CompiledAcl) -> dict[str, frozenset[str]]:
        """The members of each group ``acl`` names, as its evaluation sees them (the
        sharing page's lock-out check needs them before it writes a new ACL)."""
        return await self._groups(acl) if acl.groups else {}

    async def _groups(self, acl: CompiledAcl) -> dict[str, frozenset[str]]:
        members: dict[str, frozenset[str]] = {}
        for document in groups_referenced(acl):
            graph = await self._group_document(document)
            for group in acl.groups:
                if graph is not None and group.startswith(document):
                    members[group] = group_members(graph, group)
        return members

    async def _group_document(self, url: str) -> Graph | None:
        local = self.store.local_path(url)
        if local is not None:
            try:
                return (await self.store.graph_of(local))[1]
            except PodError:
                return None  # not RDF, or unreadable: a group with no members
        return await self._fetch_group(url) if self._fetch_group else None
