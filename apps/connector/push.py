"""Pushing an organisation's data into its customers' pods, customer by customer.

For each customer: parse their source files, find the consent asked before (the journal
holds its URL; the record is readable by its recipient) or ask for it (Append on the
organisation's container in the customer's storage), and once it is given write one
resource per account (or meter) and month. Each write is an N3 Patch that creates the
resource only if absent (``If-None-Match: *``), so a resource written before (by this
run, a crashed one, or before the journal noted it) answers 412 and is counted as
already there: nothing is written twice. Documents are checked against the vocabulary's
shapes before sending; the pod checks them again.

One customer's refusal, withdrawal, invalid file or error never stops the others; each
ends with one outcome in the summary. Concurrency is bounded (customers at once; one
request at a time per pod); 429/503 are retried honouring ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from tqdm import tqdm

from apps.connector import mapfile, mapping, parsers
from apps.connector.config import CustomerRef, OrgConfig
from apps.connector.decisions import InboxWatch
from apps.connector.journal import Journal
from apps.connector.mapping import Document, Provenance
from apps.connector.pacing import Pacer
from apps.connector.records import LoadCurve, Source, SourceError, Statement
from client import ConsentRecord, PodClient
from client.errors import BadRequest, ConnectionFailed, Forbidden, NotFound, PodClientError

RETRY_STATUSES = (429, 503)
BUILT_IN = ("bank", "energy")  # domains whose formats the connector reads natively
WRITABLE = frozenset({"Append", "Write"})


class Outcome(StrEnum):
    PUSHED = "pushed"  # everything is in the pod (written now or before)
    PENDING = "pending consent"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    INVALID = "invalid"  # a document failed the shapes (here or on the pod)
    ERROR = "error"
    NO_DATA = "no data"


_BY_STATUS = {
    "ConsentRequested": Outcome.PENDING,
    "ConsentRefused": Outcome.REFUSED,
    "ConsentWithdrawn": Outcome.WITHDRAWN,
    "ConsentExpired": Outcome.EXPIRED,
}


@dataclass
class Result:
    customer: str
    outcome: Outcome = Outcome.ERROR
    written: int = 0  # resources written by this run
    already: int = 0  # resources written before (journal or pod said so)
    records: int = 0  # records in the resources written by this run
    retries: int = 0
    consent: str | None = None
    detail: str = ""
    seconds: float = 0.0  # working on this customer (not queued, not waiting for consent)


@dataclass
class Summary:
    results: list[Result]
    seconds: float
    batch: str = ""
    notified: int = 0  # waits for a decision ended by an inbox notification

    def counts(self) -> dict[str, int]:
        found = Counter(r.outcome.value for r in self.results)
        return {o.value: found[o.value] for o in Outcome if found[o.value]}

    @property
    def records(self) -> int:
        return sum(r.records for r in self.results)

    @property
    def written(self) -> int:
        return sum(r.written for r in self.results)

    def table(self) -> str:
        """The end-of-run report: outcomes, totals, then each customer not pushed."""
        lines = [f"{'outcome':<16} customers", *(f"{k:<16} {v}" for k, v in self.counts().items())]
        rate = len(self.results) / self.seconds if self.seconds else 0.0
        lines.append(
            f"{len(self.results)} customers in {self.seconds:.1f} s ({rate:.1f}/s): "
            f"{self.written} resources, {self.records} records written, "
            f"{sum(r.already for r in self.results)} already there, "
            f"{sum(r.retries for r in self.results)} retries"
        )
        if self.notified:
            lines.append(f"{self.notified} decisions heard by notification")
        for r in self.results:
            if r.outcome is not Outcome.PUSHED:
                lines.append(
                    f"  {r.customer}: {r.outcome.value}{' - ' + r.detail if r.detail else ''}"
                )
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "batch": self.batch,
            "seconds": round(self.seconds, 3),
            "counts": self.counts(),
            "notified": self.notified,
            "customers": [
                {**asdict(r), "outcome": r.outcome.value, "seconds": round(r.seconds, 3)}
                for r in self.results
            ],
        }


def status_of(record: ConsentRecord, now: datetime | None = None) -> str | None:
    """The record's status, a given consent whose end has passed counting as expired
    (the pod refuses it at once, before any sweeper records the expiry)."""
    now = now or datetime.now(UTC)
    if record.status == "ConsentGiven" and record.until is not None and record.until <= now:
        return "ConsentExpired"
    return record.status


def retry_delay(value: str | None, attempt: int, now: float | None = None) -> float:
    """Seconds to wait: ``Retry-After`` (seconds or an HTTP date), else exponential."""
    if value:
        value = value.strip()
        if value.isdigit():
            return float(value)
        try:
            from email.utils import parsedate_to_datetime

            return max(0.0, parsedate_to_datetime(value).timestamp() - (now or time.time()))
        except (TypeError, ValueError):
            pass
    return min(30.0, 0.5 * 2**attempt)


def customer_files(root: Path, customer: str) -> list[Path]:
    """The source files of a customer: everything in ``root/<customer id>/``."""
    folder = root / customer
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


class Connector:
    """One organisation pushing to many pods through one signed-in :class:`PodClient`."""

    def __init__(
        self,
        client: PodClient,
        org: OrgConfig,
        journal: Journal,
        *,
        wait: float = 0.0,
        poll: float = 1.0,
        max_retries: int = 5,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        batch: str | None = None,
        notifications: bool = True,
    ) -> None:
        self.client, self.org, self.journal = client, org, journal
        self.wait, self.poll, self.max_retries, self.sleep = wait, poll, max_retries, sleep
        self.notifications = notifications
        self.watch: InboxWatch | None = None
        self.gate = asyncio.Semaphore(org.concurrency)
        self.pacer = Pacer(org.max_rate, sleep=sleep) if org.max_rate else None
        self.batch = batch or f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"

    # -- documents (no HTTP) ------------------------------------------------------------
    def read(self, path: Path) -> list[Source | mapfile.Rows]:
        """The records of one source file: by the mapping file when the organisation has
        one, else by the built-in parser of its format."""
        mapping = self.org.mapping
        if mapping is not None and (
            mapping.rule_for(path) is not None or self.org.domain not in BUILT_IN
        ):
            return [mapfile.read_rows(path, mapping)]
        return list(parsers.parse(path))

    def documents(
        self,
        sources: Sequence[Source | mapfile.Rows],
        container: str,
        holder: str,
        region: str | None = None,
    ) -> list[Document]:
        """Map parsed ``sources`` to this organisation's documents in ``container``
        (``region``: the home's, written with an energy supplier's meters)."""
        prov = Provenance(self.org.webid, datetime.now(UTC).replace(microsecond=0), self.batch)
        rows = [s for s in sources if isinstance(s, mapfile.Rows)]
        docs = []
        if self.org.mapping is not None and rows:
            docs = mapfile.documents(self.org.mapping, rows, container, holder, prov)
        if self.org.domain == "bank":
            statements = [s for s in sources if isinstance(s, Statement)]
            docs += mapping.bank_documents(
                statements, container, holder, prov, self.org.categories, self.org.institution
            )
        elif self.org.domain == "energy":
            curves = [s for s in sources if isinstance(s, LoadCurve)]
            docs += mapping.load_curve_documents(curves, container, prov, region)
        return docs

    # -- consent ------------------------------------------------------------------------
    async def _where(self, customer: CustomerRef) -> tuple[str, str | None]:
        """The customer's storage root and the type index to register in (None: none)."""
        if self.org.type_index == "none" and customer.storage:
            storage, index = customer.storage, None
        else:
            profile = await self.client.profile(customer.webid)
            storage = customer.storage or next(iter(profile.storages), None)
            if storage is None:
                storage = await self.client.owner_storage(customer.webid)
            index = {
                "private": profile.private_type_index,
                "public": profile.public_type_index,
            }.get(self.org.type_index)
        return (storage if storage.endswith("/") else storage + "/"), index

    async def ask(self, customer: CustomerRef, result: Result) -> ConsentRecord | None:
        """The customer's consent record, read again (the journal holds its URL) or asked
        for now: Append on the proposed container and on the type index. None when just
        asked and not waiting (``result.outcome`` is then pending)."""
        state = self.journal.state(customer.id)
        if state.consent:
            try:
                record = await self.client.consent(state.consent)
                result.consent = record.url
                return record
            except NotFound:  # the pod lost it (or was reset): ask again
                self.journal.forget_consent(customer.id)
        storage, index = await self._where(customer)
        container = storage + self.org.container
        targets = [(container, "Append")] + ([(index, "Append")] if index else [])
        url = await self.client.request_access(
            customer.webid,
            targets,
            None,
            self.org.purpose,
            self.org.until,
            data=list(self.org.data),
            note=self.org.note,
            storage=storage,
        )
        self.journal.consent_asked(customer.id, url, container, index)
        result.consent = url
        if self.wait <= 0:
            result.outcome = Outcome.PENDING
            return None
        return await self.client.consent(url)

    async def decided(self, record: ConsentRecord) -> ConsentRecord:
        """``record`` once decided, or as it is when ``wait`` seconds have passed: woken
        by the inbox watch when there is one, re-reading the record at least every
        ``poll`` seconds."""
        deadline = time.monotonic() + self.wait
        while record.status == "ConsentRequested":
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if self.watch is not None:
                await self.watch.wait(record.url, min(self.poll, left))
            else:
                await self.sleep(min(self.poll, left))
            record = await self.client.consent(record.url)
        return record

    def writable(self, customer: CustomerRef, record: ConsentRecord, result: Result) -> str | None:
        """The container to write to when ``record`` is a consent given with a writable
        container; else None with ``result.outcome`` saying why."""
        result.consent = record.url
        status = status_of(record)
        if status != "ConsentGiven":
            result.outcome = _BY_STATUS.get(status or "", Outcome.ERROR)
            if result.outcome is Outcome.ERROR:
                result.detail = f"consent record in state {status}"
            return None
        asked = self.journal.state(customer.id).container
        writable = [t.url for t in record.granted if t.modes & WRITABLE and t.url.endswith("/")]
        if not writable:
            result.outcome, result.detail = Outcome.REFUSED, "nothing writable was granted"
            return None
        return asked if asked in writable else writable[0]

    async def consent(self, customer: CustomerRef, result: Result) -> str | None:
        """The container to write to when the customer's consent is given; else None
        with ``result.outcome`` saying why. Asks for consent the first time."""
        record = await self.ask(customer, result)
        if record is None:
            return None
        return self.writable(customer, await self.decided(record), result)

    async def register(
        self, customer: CustomerRef, record: ConsentRecord, container: str, result: Result
    ) -> None:
        """Register ``container`` in the customer's type index for the organisation's
        classes, once (the journal remembers; the entry's IRI is stable, so a repeat
        adds nothing). Skipped, and said, when Append on the index was not granted."""
        state = self.journal.state(customer.id)
        index = state.index
        if not index or not self.org.registered_types:
            return
        if not any(t.url == index and t.modes & WRITABLE for t in record.granted):
            result.detail = "the type index was not granted: not registered"
            return
        for cls in self.org.registered_types:
            entry = f"{cls} {container}"
            if entry in state.registered:
                continue
            try:
                await self.client.register_type(cls, container, index=index)
            except (Forbidden, NotFound, BadRequest) as exc:  # the data matter more
                result.detail = f"not registered in {index}: {exc}"
                return
            self.journal.registered(customer.id, entry)

    # -- writing ------------------------------------------------------------------------
    async def _send(self, url: str, body: bytes, result: Result) -> int:
        """PATCH-create ``url``; the status (201/204/205/200 written, 412 already there)."""
        for attempt in range(self.max_retries + 1):
            if self.pacer is not None:
                await self.pacer.wait(url)
            try:
                response = await self.client.request(
                    "PATCH",
                    url,
                    headers={"Content-Type": "text/n3", "If-None-Match": "*"},
                    body=body,
                    ok=(412, *RETRY_STATUSES),
                )
            except ConnectionFailed:
                if attempt == self.max_retries:
                    raise
                result.retries += 1
                await self.sleep(retry_delay(None, attempt))
                continue
            await response.aclose()
            if response.status in RETRY_STATUSES and attempt < self.max_retries:
                result.retries += 1
                await self.sleep(
                    min(60.0, retry_delay(response.headers.get("Retry-After"), attempt))
                )
                continue
            if response.status in RETRY_STATUSES:
                raise PodClientError(f"still {response.status} after {attempt} retries", url=url)
            return response.status
        raise AssertionError("unreachable")

    async def push_customer(self, customer: CustomerRef, files: Sequence[Path]) -> Result:
        result = Result(customer.id)
        try:
            await self._push(customer, files, result)
        except SourceError as exc:
            result.outcome, result.detail = Outcome.ERROR, str(exc)
        except PodClientError as exc:
            result.outcome, result.detail = Outcome.ERROR, str(exc)
        return result

    @contextlib.asynccontextmanager
    async def _slot(self, result: Result) -> AsyncIterator[None]:
        """One of the ``concurrency`` slots; the time held is the customer's (queueing
        for a slot and waiting for a decision are not)."""
        async with self.gate:
            started = time.monotonic()
            try:
                yield
            finally:
                result.seconds += time.monotonic() - started

    async def _push(self, customer: CustomerRef, files: Sequence[Path], result: Result) -> None:
        if not files:
            result.outcome = Outcome.NO_DATA
            return
        # The sources are read before asking anything: a broken file is the
        # organisation's problem, not a reason to bother the customer.
        async with self._slot(result):
            sources = await asyncio.to_thread(lambda: [s for f in files for s in self.read(f)])
            record = await self.ask(customer, result)
        if record is None:
            return
        # Waiting for a decision holds no slot: the others go on meanwhile.
        record = await self.decided(record)
        container = self.writable(customer, record, result)
        if container is None:
            return
        async with self._slot(result):
            await self._write(customer, record, container, sources, result)

    async def _write(
        self,
        customer: CustomerRef,
        record: ConsentRecord,
        container: str,
        sources: Sequence[Source | mapfile.Rows],
        result: Result,
    ) -> None:
        await self.register(customer, record, container, result)
        docs = await asyncio.to_thread(
            self.documents, sources, container, customer.webid, customer.region
        )
        done = self.journal.state(customer.id).pushed
        invalid: list[str] = []
        for doc in docs:
            url = container + doc.name
            if url in done:
                result.already += 1
                continue
            problems = await asyncio.to_thread(mapping.validate, doc, self.org.domain)
            if problems is not None:
                invalid.append(f"{doc.name}: {problems}")
                continue
            body = (await asyncio.to_thread(mapping.n3_insert, doc.graph)).encode()
            try:
                status = await self._send(url, body, result)
            except Forbidden:
                # Most likely withdrawn (or expired) since it was read: say which.
                status = status_of(await self.client.consent(result.consent or ""))
                result.outcome = _BY_STATUS.get(status or "", Outcome.ERROR)
                if result.outcome is Outcome.ERROR:
                    result.detail = f"403 on {url} with consent {status}"
                return
            except BadRequest as exc:
                invalid.append(f"{doc.name}: {exc}")
                continue
            if status == 412:
                result.already += 1
            else:
                result.written += 1
                result.records += doc.records
            self.journal.pushed(customer.id, url, doc.records)
        if invalid:
            result.outcome, result.detail = Outcome.INVALID, "; ".join(invalid)[:2000]
        else:
            result.outcome = Outcome.PUSHED

    async def run(
        self, customers: Sequence[CustomerRef], input_dir: Path, *, progress: bool = True
    ) -> Summary:
        """Every customer, at most ``org.concurrency`` at once, in the input order."""
        self.gate = asyncio.Semaphore(self.org.concurrency)
        started = time.monotonic()
        bar = tqdm(total=len(customers), unit="customer", disable=not progress, leave=False)
        if self.wait > 0 and self.watch is None and self.notifications:
            await self.watch_inbox()

        async def one(customer: CustomerRef) -> Result:
            result = await self.push_customer(customer, customer_files(input_dir, customer.id))
            bar.update(1)
            bar.set_postfix_str(result.outcome.value, refresh=False)
            return result

        notified = 0
        try:
            results = await asyncio.gather(*(one(c) for c in customers))
        finally:
            bar.close()
            if self.watch is not None:
                notified = self.watch.woken
                await self.watch.close()
                self.watch = None
        return Summary(list(results), time.monotonic() - started, self.batch, notified)

    async def watch_inbox(self, ready: float = 5.0) -> None:
        """Listen to the organisation's inbox for decisions (waiting up to ``ready``
        seconds for the channel); without an inbox, waiting is polling."""
        try:
            inbox = (await self.client.profile(self.org.webid)).inbox
        except PodClientError:
            inbox = None
        if inbox is None:
            return
        self.watch = InboxWatch(self.client, inbox)
        self.watch.start()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.watch.connected.wait(), ready)


def write_report(summary: Summary, path: Path) -> None:
    path.write_text(json.dumps(summary.to_json(), indent=2) + "\n", encoding="utf-8")
