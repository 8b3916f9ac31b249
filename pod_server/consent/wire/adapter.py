"""The consent service behind the wire's port: protocol-shaped requests in, records out.

The wire parses each protocol into a ``ParsedRequest``; the model knows none of them and
takes an ``AccessRequest`` of ``Target``s. This is the one place the two meet.
"""

from __future__ import annotations

from datetime import datetime

from pod_server.auth import Agent
from pod_server.consent.model import AccessRequest, Target
from pod_server.consent.records import record_turtle
from pod_server.consent.service import ConsentService
from pod_server.consent.wire.requests import ParsedRequest, RequestedTarget
from pod_server.consent.wire.routes import RecordInfo
from pod_server.errors import NotFound


def as_request(parsed: ParsedRequest) -> AccessRequest:
    return AccessRequest(
        recipient=parsed.recipient,
        targets=as_targets(parsed.targets),
        purposes=parsed.purposes,
        data=parsed.data,
        until=parsed.until,
        client=parsed.client,
        note=parsed.note,
    )


def as_targets(targets: tuple[RequestedTarget, ...]) -> tuple[Target, ...]:
    return tuple(Target(t.url, t.wac_modes) for t in targets)


class ServicePort:
    """``ConsentPort`` over a ``ConsentService``."""

    def __init__(self, service: ConsentService) -> None:
        self.service = service

    async def request(self, root: str, requester: Agent, req: ParsedRequest) -> str:
        return (await self.service.request(root, requester, as_request(req))).url

    async def approve(
        self,
        root: str,
        record_id: str,
        by: str,
        granted: tuple[RequestedTarget, ...] | None,
        until: datetime | None,
    ) -> str:
        wanted = None if granted is None else as_targets(granted)
        record = await self.service.approve(root, record_id, by, wanted, until)
        return record_turtle(record).decode()

    async def deny(self, root: str, record_id: str, by: str) -> str:
        return record_turtle(await self.service.deny(root, record_id, by)).decode()

    async def withdraw(self, root: str, record_id: str, by: str) -> str:
        return record_turtle(await self.service.withdraw(root, record_id, by)).decode()

    async def get(self, root: str, record_id: str) -> RecordInfo | None:
        try:
            record = await self.service.get(root, record_id)
        except NotFound:
            return None
        return RecordInfo(record.url, record.recipient)
