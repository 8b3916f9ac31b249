"""The storage backend contract: a small, dumb store of resources.

All Solid/LDP rules (containment, auxiliary resources, slugs, conditional requests,
content negotiation) live above this, in ``pod_server.ldp``. A backend only stores
and returns what it is told, atomically.

Identifiers are canonical, percent-encoded absolute paths (see ``ldp.paths``):
``/`` is the root, a path ending in ``/`` is a container, anything else a document.

Contract every backend honours (``tests/unit/storage`` runs one suite over each):

- ``meta(path)`` returns the stored :class:`Meta` or ``None`` when absent.
- ``read(path)`` returns a :class:`Stored` or raises ``NotFound``.
- ``children(path)`` lists the direct members of a container (documents and containers,
  auxiliary ones included) ordered by path; it never synthesises ``ldp:contains``.
- ``stage(chunks, limit)`` consumes a body stream into the backend before commit,
  raising ``PayloadTooLarge`` (and keeping nothing) past ``limit`` bytes.
- ``apply(expects, mutations)`` checks every :class:`Expect` and applies every mutation
  in one atomic, durable step, or raises ``StaleState`` and changes nothing. It returns
  the new :class:`Meta` of every path written or touched. After it returns, a crash
  loses nothing; if it raises or the process dies before it returns, nothing is visible.
- A backend never checks Solid rules (``a`` vs ``a/``, parents existing); that is
  ``ldp``'s job, which it makes race-free with ``Expect`` preconditions.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

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


class Backend(Protocol):
    """The storage contract; see the module docstring."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def meta(self, path: str) -> Meta | None: ...

    async def read(self, path: str) -> Stored: ...

    async def children(self, path: str) -> list[Meta]: ...

    async def stage(self, chunks: AsyncIterator[bytes], limit: int) -> Staged: ...

    async def discard(self, staged: Staged) -> None: ...

    async def apply(
        self, expects: Sequence[Expect], mutations: Sequence[Mutation]
    ) -> Mapping[str, Meta]: ...
