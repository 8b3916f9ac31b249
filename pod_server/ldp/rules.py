"""What the resource store asks of access control before it stores a document.

The store enforces two rules that belong to access control: an ACL document must be
usable (and must not lock everyone out of a storage root), and a client's write of a
storage root must keep who owns the storage. The rules themselves live in ``access/``;
the store takes them as this protocol (given by ``create_app``), so ``ldp/`` does not
import ``access/``, which reads documents through the store.
"""

from __future__ import annotations

from typing import Protocol

from rdflib import Graph


class DocumentRules(Protocol):
    def check_acl(
        self, graph: Graph, acl_url: str, subject_url: str, *, storage_root: bool
    ) -> None:
        """Raise a PodError (400, 409) for an ACL document that may not be stored."""

    def keep_owners(
        self, current: Graph | None, written: Graph, root_url: str, *, replace: bool
    ) -> Graph:
        """The graph a client's PUT (``replace``) or PATCH of a storage root may store;
        raise a PodError (409) when it would change the storage's owners."""
