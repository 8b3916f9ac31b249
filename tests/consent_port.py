"""A fake consent service behind the wire's ConsentPort, for tests of the HTTP layer before
(and independently of) the real consent model: it records what it was asked, in memory."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime

from pod_server.auth import Agent
from pod_server.consent.wire.requests import ParsedRequest, RequestedTarget
from pod_server.consent.wire.routes import RecordInfo
from pod_server.errors import Conflict, NotFound


@dataclass
class FakeRecord:
    root: str
    url: str
    request: ParsedRequest
    status: str = "ConsentRequested"
    granted: tuple[RequestedTarget, ...] | None = None
    until: datetime | None = None
    by: str | None = None


@dataclass
class FakeConsent:
    """Stores requests per id; decisions move a record's status as the model would."""

    base: str  # the server's base URL, to name records
    records: dict[str, FakeRecord] = field(default_factory=dict)
    calls: list[tuple[str, ...]] = field(default_factory=list)

    async def request(self, root: str, requester: Agent, req: ParsedRequest) -> str:
        record_id = secrets.token_urlsafe(16)
        url = f"{self.base}{root[1:]}.well-known/consent/{record_id}"
        self.records[record_id] = FakeRecord(root, url, req)
        self.calls.append(("request", root, requester.webid or ""))
        return url

    def _record(self, root: str, record_id: str) -> FakeRecord:
        record = self.records.get(record_id)
        if record is None or record.root != root:
            raise NotFound(f"No consent record {record_id}")
        return record

    def _turtle(self, record: FakeRecord) -> str:
        return f'<{record.url}> <urn:test:status> "{record.status}".\n'

    async def approve(
        self,
        root: str,
        record_id: str,
        by: str,
        granted: tuple[RequestedTarget, ...] | None,
        until: datetime | None,
    ) -> str:
        record = self._record(root, record_id)
        if record.status != "ConsentRequested":
            raise Conflict(f"Cannot approve a record in status {record.status}")
        record.status, record.granted, record.until, record.by = "ConsentGiven", granted, until, by
        self.calls.append(("approve", root, record_id, by))
        return self._turtle(record)

    async def deny(self, root: str, record_id: str, by: str) -> str:
        record = self._record(root, record_id)
        record.status, record.by = "ConsentRefused", by
        self.calls.append(("deny", root, record_id, by))
        return self._turtle(record)

    async def withdraw(self, root: str, record_id: str, by: str) -> str:
        record = self._record(root, record_id)
        record.status, record.by = "ConsentWithdrawn", by
        self.calls.append(("withdraw", root, record_id, by))
        return self._turtle(record)

    async def get(self, root: str, record_id: str) -> RecordInfo | None:
        record = self.records.get(record_id)
        if record is None or record.root != root:
            return None
        return RecordInfo(record.url, record.request.recipient)
