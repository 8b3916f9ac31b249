"""The connector's local journal: what each pod acknowledged, so a re-run (after a crash
too) sends nothing twice and the consent asked once is found again.

JSON lines, appended and flushed per event; a torn last line (a crash mid-write) is
ignored on reading. One writer: the connector process that holds it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class CustomerState:
    consent: str | None = None  # URL of the consent record asked for
    container: str | None = None
    index: str | None = None  # the type index Append was asked on, if any
    registered: set[str] = field(default_factory=set)  # type index entries written
    pushed: dict[str, int] = field(default_factory=dict)  # resource URL -> records


class Journal:
    def __init__(self, path: Path, *, sync: bool = True) -> None:
        self.path, self.sync = path, sync
        self.customers: dict[str, CustomerState] = {}
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    self._apply(json.loads(line))
                except (ValueError, KeyError, TypeError):
                    continue  # the torn last line of a crash
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = path.open("a", encoding="utf-8")
        if path.stat().st_size and _last_byte(path) != b"\n":
            self._handle.write("\n")  # end the torn line, so the next event stands alone

    def _apply(self, event: dict[str, Any]) -> None:
        state = self.customers.setdefault(event["customer"], CustomerState())
        if event["event"] == "consent":
            state.consent, state.container = event["url"], event["container"]
            state.index = event.get("index")
        elif event["event"] == "forget-consent":
            state.consent = state.container = state.index = None
        elif event["event"] == "registered":
            state.registered.add(event["entry"])
        elif event["event"] == "pushed":
            state.pushed[event["resource"]] = int(event["records"])

    def _write(self, event: dict[str, Any]) -> None:
        self._apply(event)
        self._handle.write(json.dumps(event, separators=(",", ":")) + "\n")
        self._handle.flush()
        if self.sync:
            os.fsync(self._handle.fileno())

    def state(self, customer: str) -> CustomerState:
        return self.customers.get(customer, CustomerState())

    def consent_asked(
        self, customer: str, url: str, container: str, index: str | None = None
    ) -> None:
        event = {"event": "consent", "customer": customer, "url": url, "container": container}
        self._write({**event, "index": index} if index else event)

    def registered(self, customer: str, entry: str) -> None:
        """``entry`` (``<class> <location>``) is in the customer's type index."""
        self._write({"event": "registered", "customer": customer, "entry": entry})

    def forget_consent(self, customer: str) -> None:
        self._write({"event": "forget-consent", "customer": customer})

    def pushed(self, customer: str, resource: str, records: int) -> None:
        self._write(
            {"event": "pushed", "customer": customer, "resource": resource, "records": records}
        )

    def close(self) -> None:
        self._handle.close()


def _last_byte(path: Path) -> bytes:
    with path.open("rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1)
