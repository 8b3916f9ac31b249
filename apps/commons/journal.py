"""An append-only, hash-chained JSON-lines file: the broker's round state and log, and the
authority's ledger. Each line carries the SHA-256 of the previous line, so an edited,
dropped or reordered line makes ``verify`` fail; each append is flushed and fsynced, so
what a restarted process reads is what it had written."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

GENESIS = "0" * 64


class JournalError(ValueError):
    pass


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.records: list[dict[str, Any]] = []
        self._head = GENESIS
        if path.exists():
            self.records, self._head = _read(path)

    def append(self, kind: str, **fields: Any) -> dict[str, Any]:
        record = {"type": kind, "at": time.time(), **fields, "prev": self._head}
        line = json.dumps(record, sort_keys=True, separators=(",", ":"))
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        self._head = hashlib.sha256(line.encode()).hexdigest()
        self.records.append(record)
        return record

    def of(self, kind: str, **match: Any) -> list[dict[str, Any]]:
        return [
            r
            for r in self.records
            if r["type"] == kind and all(r.get(k) == v for k, v in match.items())
        ]


def verify(path: Path) -> int:
    """The number of records if the chain holds; JournalError naming the first bad line."""
    return len(_read(path)[0])


def _read(path: Path) -> tuple[list[dict[str, Any]], str]:
    head, records = GENESIS, []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        try:
            record = json.loads(line)
        except ValueError:
            raise JournalError(f"{path}:{n}: not JSON") from None
        if record.get("prev") != head:
            raise JournalError(f"{path}:{n}: the chain is broken here")
        head = hashlib.sha256(line.encode()).hexdigest()
        records.append(record)
    return records, head
