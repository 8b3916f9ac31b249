"""A person's sign-in at the identity provider, recorded in the audit log of each storage
their WebIDs own on this server (``Action.SIGN_IN``), so their pod's activity shows when
they signed in. Called by the provider after a successful sign-in (``Provider.on_sign_in``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from pod_server.audit.entry import Action, AuditEntry
from pod_server.storage.base import Backend

log = logging.getLogger(__name__)

# ``storage_of(webid) -> storage root URL or None`` (``pods.hosting.storage_of``).
StorageOf = Callable[[str], Awaitable[str | None]]
# ``local_path(url) -> path on this server or None``.
LocalPath = Callable[[str], str | None]
# ``owners_of(root) -> the storage's owners`` (``AccessPolicy.owners_of``).
OwnersOf = Callable[[str], Awaitable[frozenset[str]]]
SignedIn = Callable[[list[str]], Awaitable[None]]


def sign_in_recorder(
    backend: Backend, storage_of: StorageOf, local_path: LocalPath, owners_of: OwnersOf
) -> SignedIn:
    """``record(webids)``: one SIGN_IN entry per storage the WebIDs own (a storage that
    merely is where a WebID would be placed, not owned by it, records nothing). A failure
    is logged, never fails the sign-in (the person did sign in; the log says what it can)."""

    async def record(webids: list[str]) -> None:
        entries = []
        for webid in webids:
            url = await storage_of(webid)
            root = local_path(url) if url else None
            if url is None or root is None or webid not in await owners_of(root):
                continue
            entries.append(AuditEntry(root, Action.SIGN_IN, url, 200, agent=webid).mutation())
        if not entries:
            return
        try:
            await backend.apply([], entries)
        except Exception as err:  # the storage is down: the sign-in still stands
            log.error("Recording a sign-in in the audit log failed: %s", err)

    return record
