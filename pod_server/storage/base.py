"""The storage backend contract: a small, dumb store of resources.

All Solid/LDP rules (containment, auxiliary resources, slugs, conditional requests,
content negotiation) live above this, in ``pod_server.ldp``. A backend only stores
and returns what it is told, atomically.

Identifiers are canonical, percent-encoded absolute paths (see ``ldp.paths``):
``/`` is the root, a path ending in ``/`` is a container, anything else a document.

Contract every backend honours (``tests/unit/storage`` runs one suite over each):

- ``meta(path)`` returns the stored :class:`Meta` or ``None`` when absent; ``meta`` and
  ``metas`` reflect every ``apply`` committed, by any process or host, before the call
  (backends may cache, as long as they stay that exact: ``storage.meta_cache``).
- ``read(path)`` returns a :class:`Stored` or raises ``NotFound``.
- ``children(path)`` lists the direct members of a container (documents and containers,
  auxiliary ones included) ordered by path; it never synthesises ``ldp:contains``.
  ``children(path, after=p, limit=n)`` is one keyset page of that list: the first ``n``
  members whose path sorts after ``p`` (any string; ``None``: from the start; a ``limit`` of
  ``None``: no bound). The next page starts after the last path returned; a page shorter
  than ``limit`` is the last. Paths sort by code point (bytewise in UTF-8).
- ``stage(chunks, limit)`` consumes a body stream into the backend before commit,
  raising ``PayloadTooLarge`` (and keeping nothing) past ``limit`` bytes.
- ``apply(expects, mutations)`` checks every :class:`Expect` and applies every mutation
  in one atomic, durable step, or raises ``StaleState`` and changes nothing. It returns
  the new :class:`Meta` of every path written or touched. After it returns, a crash
  loses nothing; if it raises or the process dies before it returns, nothing is visible.
- ``apply(expects, mutations, quota)`` with a :class:`Quota` also counts the batch's byte
  delta under ``quota.root`` (Put: new size minus the path's current size, 0 if absent;
  Delete: minus its current size; Touch: 0) into that root's usage counter, in the same
  atomic step. A positive delta that would take usage past the effective limit (the root's
  own limit if set, else ``quota.default_limit``, else none) raises :class:`QuotaExceeded`
  (a ``PayloadTooLarge``) and changes nothing visible; a delta <= 0 is always allowed.
  Usage is the sum of ``Meta.size`` over every path under the root (the root itself,
  containers and auxiliary resources included). A root without a counter yet is counted
  once, inside that step, from what it holds; after that no write scans the pod. Every
  ``apply`` keeps every existing counter covering its paths exact, with or without a
  ``quota``; deleting a root drops its counter (it is recounted if it comes back).
- ``usage(root)`` returns the root's :class:`Usage` (counting it first if need be);
  ``set_limit(root, limit)`` sets or (with ``None``) removes the root's own limit.
- Audit logs (``pod_server.audit`` builds the entries; a backend only chains them):
  ``apply`` also takes :class:`Log` steps beside the mutations, appended in the same atomic
  step to the log of ``Log.root``. The backend numbers them per root (``seq`` 1, 2, ... with
  no gap) and chains them, ``hash = link_hash(prev, seq, body)`` with ``prev`` the hash of
  the entry before (``GENESIS`` for the first), under the same lock as the write, so that
  several processes (or hosts) keep one chain per root. Logs never count against quotas and
  are not resources (no ``Meta``). ``log_page(root, query)`` is one page of entries, newest
  first, filtered (:class:`LogQuery`; keyset ``before`` a seq); ``log_rows(root, after,
  limit)`` the raw rows in seq order (for verification); ``log_state(root)`` its head and
  its anchor (the last seq and hash removed by ``log_trim``, else 0 and ``GENESIS``);
  ``log_trim(before, root=None)`` removes (of one root, or of all) the oldest entries up to
  the first one at or after ``before`` (POSIX seconds): always a prefix of the chain, and
  the anchor moves to the last one removed so that the rest still verifies.
  ``add_checkpoint``/``checkpoints`` keep signed :class:`Checkpoint` s.
- A backend never checks Solid rules (``a`` vs ``a/``, parents existing); that is
  ``ldp``'s job, which it makes race-free with ``Expect`` preconditions.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from pod_server.errors import PayloadTooLarge

CHUNK_SIZE = 64 * 1024


@dataclass(frozen=True, slots=True)
class Meta:
    """What the store knows about one resource, without its body."""

    path: str
    content_type: str
    size: int
    etag: str  # opaque token of [0-9a-z], unquoted; changes on every write or touch
    modified: float  # POSIX seconds

    @property
    def is_container(self) -> bool:
        return self.path.endswith("/")


class Stored(Protocol):
    """A resource's metadata and a way to read its body (once or by ranges)."""

    meta: Meta

    def close(self) -> None:
        """Release what the reader holds (an open file); call when done reading."""
        ...

    async def read_all(self) -> bytes: ...

    def iter_range(self, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Yield bytes ``start`` up to (excluding) ``end`` in chunks."""
        ...


@dataclass(slots=True)
class Staged:
    """A body taken into the backend before commit: small ones in memory, large ones aside."""

    size: int
    data: bytes | None = None  # the whole body when small
    blob: str | None = None  # backend-specific handle of a large body

    @classmethod
    def of(cls, data: bytes) -> Staged:
        return cls(size=len(data), data=data)


ABSENT = "\0absent"  # Expect.etag value meaning "must not exist"
PRESENT = "\0present"  # Expect.etag value meaning "must exist, any version"


@dataclass(frozen=True, slots=True)
class Expect:
    """A precondition checked inside the atomic step: ``path`` is absent, present or at ``etag``."""

    path: str
    etag: str  # ABSENT, PRESENT or a stored etag


@dataclass(frozen=True, slots=True)
class Put:
    """Create or replace a resource (a container when ``path`` ends in ``/``)."""

    path: str
    content_type: str
    body: Staged = field(default_factory=lambda: Staged.of(b""))


@dataclass(frozen=True, slots=True)
class Delete:
    """Remove one resource (never recursive: ``ldp`` lists what goes)."""

    path: str


@dataclass(frozen=True, slots=True)
class Touch:
    """Give an existing container a new etag and modification time (its members changed)."""

    path: str


Mutation = Put | Delete | Touch

GENESIS = bytes(32)  # the "previous hash" of a root's first audit entry


def link_hash(prev: bytes, seq: int, body: bytes) -> bytes:
    """One link of an audit chain: the entry's canonical ``body`` at ``seq`` after ``prev``."""
    return hashlib.sha256(prev + seq.to_bytes(8, "big") + body).digest()


@dataclass(frozen=True, slots=True)
class Log:
    """Append one entry to the audit log of the storage at ``root`` (see the contract).

    ``body`` is the entry's canonical bytes (what is hashed); the other fields repeat
    parts of it as columns for filtering only (readers render ``body``)."""

    root: str
    body: bytes
    at: float
    resource: str
    outcome: int
    agent: str | None = None


@dataclass(frozen=True, slots=True)
class LogRow:
    """One stored audit entry, as the backend keeps it."""

    root: str
    seq: int
    at: float
    agent: str | None
    resource: str
    outcome: int
    body: bytes
    prev: bytes
    hash: bytes


@dataclass(frozen=True, slots=True)
class LogQuery:
    """Which entries of a log to list: all filters optional, newest first."""

    agent: str | None = None  # exactly this WebID
    resource: str | None = None  # URLs starting with this
    since: float | None = None  # at >= since
    until: float | None = None  # at < until
    outcomes: tuple[int, int] | None = None  # lowest and highest status, inclusive
    before: int | None = None  # seq < before (keyset paging)
    limit: int = 100


@dataclass(frozen=True, slots=True)
class LogState:
    """A log's head (last seq and hash; 0 and the anchor when empty) and anchor."""

    seq: int = 0
    hash: bytes = GENESIS
    anchor_seq: int = 0
    anchor_hash: bytes = GENESIS


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signature over a log's state at ``seq`` (``hash``): ``key`` names the public key."""

    root: str
    seq: int
    hash: bytes
    at: float
    key: str
    signature: bytes


def split_logs(steps: Sequence[Mutation | Log]) -> tuple[list[Mutation], list[Log]]:
    """A batch's resource mutations and its audit entries, each in order."""
    mutations: list[Mutation] = []
    logs: list[Log] = []
    for step in steps:
        if isinstance(step, Log):
            check_root(step.root)
            logs.append(step)
        else:
            mutations.append(step)
    return mutations, logs


def check_root(root: str) -> None:
    """A quota root is a container path: ``/`` or ``/.../``."""
    if not (isinstance(root, str) and root.startswith("/") and root.endswith("/")):
        raise ValueError(f"A quota root must be a container path, not {root!r}")


def check_page(after: str | None, limit: int | None) -> None:
    """The keyset-pagination arguments of ``Backend.children``."""
    if after is not None and not isinstance(after, str):
        raise TypeError(f"A page's 'after' must be a path or None, not {after!r}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise ValueError(f"A page's limit must be a non-negative int or None, not {limit!r}")


def check_limit(limit: int | None) -> None:
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise ValueError(f"A byte limit must be a non-negative int or None, not {limit!r}")


@dataclass(frozen=True, slots=True)
class Quota:
    """What ``apply`` counts a batch against: the byte usage of everything under ``root``."""

    root: str  # the storage root (a container path) whose usage these mutations count against
    default_limit: int | None  # bytes; None = unlimited unless the root has its own limit set

    def __post_init__(self) -> None:
        check_root(self.root)
        check_limit(self.default_limit)


@dataclass(frozen=True, slots=True)
class Usage:
    """A root's counted bytes and its own limit (``None``: no override, the default applies)."""

    used: int
    limit: int | None


class QuotaExceeded(PayloadTooLarge):
    """413: a write would take a root past its byte limit; nothing was changed."""

    def __init__(self, root: str, needed: int, used: int, limit: int) -> None:
        self.root, self.needed, self.used, self.limit = root, needed, used, limit
        self.free = max(0, limit - used)
        super().__init__(
            f"Storage quota exceeded: this write needs {needed} bytes but the pod has"
            f" {self.free} of {limit} bytes free"
        )


class Backend(Protocol):
    """The storage contract; see the module docstring."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def meta(self, path: str) -> Meta | None: ...

    async def metas(self, paths: Sequence[str]) -> dict[str, Meta]:
        """The Meta of each of ``paths`` that exists, in one lookup (ACL discovery asks
        for a resource's and all its ancestors' ACLs at once)."""
        ...

    async def read(self, path: str) -> Stored: ...

    async def children(
        self, path: str, after: str | None = None, limit: int | None = None
    ) -> list[Meta]: ...

    async def stage(self, chunks: AsyncIterator[bytes], limit: int) -> Staged: ...

    async def discard(self, staged: Staged) -> None: ...

    async def apply(
        self,
        expects: Sequence[Expect],
        mutations: Sequence[Mutation | Log],
        quota: Quota | None = None,
    ) -> Mapping[str, Meta]: ...

    async def log_page(self, root: str, query: LogQuery) -> list[LogRow]: ...

    async def log_rows(self, root: str, after: int = 0, limit: int = 1000) -> list[LogRow]: ...

    async def log_state(self, root: str) -> LogState: ...

    async def log_trim(self, before: float, root: str | None = None) -> int:
        """Remove entries older than ``before``; return how many went."""
        ...

    async def add_checkpoint(self, checkpoint: Checkpoint) -> None: ...

    async def checkpoints(self, root: str) -> list[Checkpoint]:
        """A root's checkpoints in seq order."""
        ...

    async def usage(self, root: str) -> Usage: ...

    async def set_limit(self, root: str, limit: int | None) -> None: ...

    async def limits(self) -> dict[str, int]:
        """Every root's own limit, as ``set_limit`` recorded them (for copying a storage)."""
        ...
