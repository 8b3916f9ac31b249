"""Announcing a consent's changes to its requester's inbox (Linked Data Notifications).

The inbox is the ``ldp:inbox`` of the requester's WebID profile. One on this server is
written directly (a new member of the inbox container, in one commit); any other gets an
LDN ``POST`` of an Activity Streams 2.0 notification, with a timeout. The caller logs
failures: a decision never depends on its announcement.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC
from typing import TYPE_CHECKING

import aiohttp
from rdflib import RDF, XSD, Graph, Literal, URIRef

from pod_server.consent.model import ConsentRecord, Status
from pod_server.ldp import paths
from pod_server.ldp.media_types import TURTLE
from pod_server.ldp.vocabulary import AS as AS2
from pod_server.ldp.vocabulary import LDP
from pod_server.storage.base import ABSENT, PRESENT, Expect, Put, Staged, Touch

if TYPE_CHECKING:
    from pod_server.ldp.store import ResourceStore

log = logging.getLogger("pod_server.consent")

LDP_INBOX = LDP.inbox
MAX_PROFILE_BYTES = 1 << 20

# What each status change is, as an activity on the record.
ACTIVITIES = {
    Status.REQUESTED: AS2.Offer,
    Status.GIVEN: AS2.Accept,
    Status.REFUSED: AS2.Reject,
    Status.WITHDRAWN: AS2.Undo,
    Status.EXPIRED: AS2.Remove,
}
SUMMARIES = {
    Status.REQUESTED: "Access request received",
    Status.GIVEN: "Access granted",
    Status.REFUSED: "Access refused",
    Status.WITHDRAWN: "Consent withdrawn",
    Status.EXPIRED: "Consent expired",
}


def notification(record: ConsentRecord, status: Status) -> Graph:
    """The AS2 activity announcing ``status`` of ``record`` (``<>``: the notification)."""
    g = Graph(bind_namespaces="none")
    g.bind("as", str(AS2))
    me = URIRef("")
    event = record.events[-1]
    g.add((me, RDF.type, ACTIVITIES[status]))
    g.add((me, AS2.actor, URIRef(event.by)))
    g.add((me, AS2.object, URIRef(record.url)))
    g.add((me, AS2.target, URIRef(record.recipient)))
    g.add((me, AS2.summary, Literal(SUMMARIES[status], lang="en")))
    g.add((me, AS2.published, Literal(event.at.astimezone(UTC).isoformat(), datatype=XSD.dateTime)))
    return g


class LdnInbox:
    """Finds the requester's inbox and delivers a notification to it."""

    def __init__(self, store: ResourceStore, timeout: float = 10.0) -> None:
        self.store = store
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def announce(self, record: ConsentRecord, status: Status) -> None:
        inbox = await self.inbox_of(record.recipient)
        if inbox is None:
            log.info("%s names no ldp:inbox: %s not announced", record.recipient, record.url)
            return
        body = notification(record, status).serialize(format="turtle", encoding="utf-8")
        local = self.store.local_path(inbox)
        if local is not None:
            await self._deliver_locally(local, body)
        else:
            await self._post(inbox, body)

    async def inbox_of(self, webid: str) -> str | None:
        local = self.store.local_path(webid)
        if local is not None:
            _, graph = await self.store.graph_of(local)
        else:
            graph = await self._fetch_profile(webid)
        found = graph.value(URIRef(webid), LDP_INBOX)
        return str(found) if isinstance(found, URIRef) else None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _deliver_locally(self, inbox: str, body: bytes) -> None:
        if not paths.is_container(inbox):
            raise ValueError(f"the inbox {inbox} is not a container")
        member = inbox + "consent-" + secrets.token_hex(8)
        mutations = [Put(member, TURTLE, Staged.of(body)), Touch(inbox)]
        await self.store.commit([Expect(inbox, PRESENT), Expect(member, ABSENT)], mutations, inbox)

    async def _post(self, inbox: str, body: bytes) -> None:
        session = self._client()
        headers = {"Content-Type": TURTLE}
        async with session.post(inbox, data=body, headers=headers) as response:
            if response.status >= 300:
                raise RuntimeError(f"{inbox} answered {response.status}")

    async def _fetch_profile(self, webid: str) -> Graph:
        session = self._client()
        # Turtle only: parsing JSON-LD could make this server fetch remote contexts.
        headers = {"Accept": TURTLE}
        async with session.get(webid.split("#", 1)[0], headers=headers) as response:
            if response.status != 200:
                raise RuntimeError(f"{webid} answered {response.status}")
            data = await response.content.read(MAX_PROFILE_BYTES + 1)
            if len(data) > MAX_PROFILE_BYTES:
                raise RuntimeError(f"{webid}: profile larger than {MAX_PROFILE_BYTES} bytes")
        return Graph().parse(data=data, format="turtle", publicID=webid.split("#", 1)[0])

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session
