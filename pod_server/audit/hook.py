"""Which requests go into a storage's audit log, and how their entries are written.

Every request to a storage is logged except those by one of its owners through a
full-access app. Whether the caller owns the storage comes with its authorization (no
extra lookup); whether its app has full access is asked of ``is_full_access`` (by default
every app of an owner has). A write's entry is committed in the write's own transaction
(``log_for``); a read's is made durable through the :class:`AuditWriter` before its
response is sent (``before_send``); a refusal or other failure is logged with its status.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from pod_server.audit.entry import Action, AuditEntry, action_of
from pod_server.audit.writer import AuditWriter
from pod_server.auth import Agent
from pod_server.errors import NotModified, PodError
from pod_server.storage.base import Log

WRITES = frozenset({"PUT", "POST", "PATCH", "DELETE"})


class HasStatus(Protocol):
    @property
    def status(self) -> int: ...


R = TypeVar("R", bound=HasStatus)

# Whether ``agent``, an owner of the storage at ``root``, calls through a full-access app.
FullAccess = Callable[[Agent, str], Awaitable[bool]]


async def owner_has_full_access(agent: Agent, root: str) -> bool:
    """The default: every app an owner signs in to acts with the owner's full access."""
    return True


class Owners(Protocol):
    async def owns(self, agent: Agent, path: str) -> bool: ...


class Urls(Protocol):
    def url(self, path: str) -> str: ...
    def storage_root_of(self, path: str) -> str | None: ...


class AuditHook:
    """One per application: starts a :class:`RequestAudit` for each request to a storage."""

    def __init__(
        self,
        urls: Urls,
        owners: Owners,
        writer: AuditWriter,
        is_full_access: FullAccess = owner_has_full_access,
        enabled: bool = True,
    ) -> None:
        """``enabled`` False logs nothing (the ``audit`` setting: for measuring its cost)."""
        self.urls, self.owners, self.writer = urls, owners, writer
        self.is_full_access = is_full_access
        self.enabled = enabled

    def begin(self, method: str, path: str, agent: Agent) -> RequestAudit | None:
        """The audit of one request to ``path``; None outside any storage."""
        root = self.urls.storage_root_of(path)
        if not self.enabled or root is None or method == "OPTIONS":  # OPTIONS grants nothing
            return None
        return RequestAudit(self, method, root, path, agent)


class RequestAudit:
    """The audit of one request: undecided until its authorization says who is calling."""

    def __init__(self, hook: AuditHook, method: str, root: str, path: str, agent: Agent) -> None:
        self.hook, self.method, self.root, self.path, self.agent = hook, method, root, path, agent
        self.active: bool | None = None  # None: not decided yet
        self.consent: str | None = None  # the consent record the access relied on
        self.logged = False  # an entry went (or goes, with the write) into the log

    async def decide(self, is_owner: bool, consents: frozenset[str] = frozenset()) -> None:
        """Whether this request is logged, once its authorization says who is calling;
        ``consents``: the consent records its access relied on (the first is named)."""
        self.consent = min(consents, default=self.consent)
        if self.active is None:
            full = is_owner and await self.hook.is_full_access(self.agent, self.root)
            self.active = not full

    def log_for(self) -> Callable[[str, bool], Log] | None:
        """The entry-maker a write commits with (None when this request is not audited)."""
        if not self.active:
            return None

        def make(path: str, created: bool) -> Log:
            status = 201 if created else 204
            action = Action.DELETE if self.method == "DELETE" else action_of(self.method, status)
            if self.method == "PATCH" and not created:
                action = Action.UPDATE
            return self.entry(action, self.hook.urls.url(path), status).mutation()

        return make

    def entry(self, action: Action, resource: str, status: int) -> AuditEntry:
        return AuditEntry(
            root=self.root,
            action=action,
            resource=resource,
            outcome=status,
            agent=self.agent.webid,
            client=self.agent.client_id,
            consent=self.consent,
        )

    async def before_send(self, status: int) -> None:
        """Log a response about to be sent (durably), unless its write logged it already."""
        if self.active and not self.logged:
            self.logged = True
            entry = self.entry(action_of(self.method, status), self.resource, status)
            await self.hook.writer.append(entry)

    async def wrote(self, status: int) -> None:
        """A write finished: its entry went with it when it changed something."""
        if self.active and 200 <= status < 300:
            self.logged = True
            self.hook.writer.count(self.root)
        await self.before_send(status)

    async def failed(self, status: int) -> None:
        """A request ended in an error (refusals included): log it, deciding first if its
        authorization never did (one owner lookup, on this path only)."""
        if self.active is None:
            await self.decide(await self.hook.owners.owns(self.agent, self.path))
        await self.before_send(status)

    @property
    def resource(self) -> str:
        return self.hook.urls.url(self.path)


async def around(audit: RequestAudit, call: Callable[[], Awaitable[R]]) -> R:
    """Run a request's handler and log how it ended (see the module docstring)."""
    try:
        response = await call()
    except PodError as exc:
        await audit.failed(exc.status)
        raise
    except NotModified:
        await audit.failed(304)
        raise
    except Exception:  # the error middleware answers 500
        await audit.failed(500)
        raise
    if audit.method in WRITES:
        await audit.wrote(response.status)
    else:
        await audit.before_send(response.status)
    return response
