"""Waiting for customers' consent decisions: woken by the organisation's inbox, with
polling as the fallback.

A customer's pod announces each decision on a consent record to the requester's inbox
(Linked Data Notifications: an Activity Streams ``Accept``/``Reject``/``Undo`` whose
``as:object`` is the record). The watch subscribes to that inbox once per run (Solid
Notifications, ``WebSocketChannel2023``, through ``client.subscribe``), reads each new
member and wakes whoever waits on the record it names. A waiter always re-reads the
record itself (the inbox is a hint, not the truth), and wakes anyway every ``poll``
seconds: without notifications (none offered, the socket drops, an announcement lost)
waiting degrades to polling, never to a hang.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict

import aiohttp
from rdflib import URIRef

from client import PodClient
from client.errors import PodClientError

log = logging.getLogger("apps.connector")

AS_OBJECT = URIRef("https://www.w3.org/ns/activitystreams#object")
# Notification types that mean "a member appeared in (or changed under) the inbox".
_NEW = frozenset({"Add", "Create", "Update"})


class InboxWatch:
    """Wakes waiters on consent records named by new members of ``inbox``."""

    def __init__(self, client: PodClient, inbox: str, *, retry: float = 5.0) -> None:
        self.client, self.inbox, self.retry = client, inbox, retry
        self._events: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()  # set while a subscription is open
        self.woken = 0  # waiters woken by a notification (for the summary and tests)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._listen())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def wait(self, record: str, timeout: float) -> bool:
        """Wait until ``record`` is named in the inbox or ``timeout`` passes; True when
        a notification woke us."""
        event = self._events[record]
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            return False
        finally:
            event.clear()
        self.woken += 1
        return True

    def wake(self, record: str) -> None:
        # Kept set until waited on: a decision heard just before its waiter starts
        # waiting is not lost.
        self._events[record].set()

    async def _listen(self) -> None:
        while True:
            try:
                async for note in self.client.subscribe(self.inbox, self.connected):
                    await self._handle(note)
            except PodClientError as exc:
                log.info("no notifications from %s (%s): polling", self.inbox, exc)
            except (OSError, ValueError, aiohttp.ClientError) as exc:  # closed, bad message
                log.info("notification channel on %s closed (%s)", self.inbox, exc)
            self.connected.clear()
            await asyncio.sleep(self.retry)

    async def _handle(self, note: dict[str, object]) -> None:
        kinds = note.get("type")
        kinds = set(kinds) if isinstance(kinds, list) else {kinds}
        member = note.get("object")
        if not kinds & _NEW or not isinstance(member, str) or member == self.inbox:
            return
        try:
            graph = await self.client.read_graph(member)
        except PodClientError as exc:  # deleted meanwhile, or not RDF: not ours
            log.debug("cannot read %s: %s", member, exc)
            return
        for record in graph.objects(None, AS_OBJECT):
            self.wake(str(record))
