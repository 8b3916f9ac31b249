"""What an export or import did: the same record for the client and the server."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Report:
    """What an export or import did, and whether the result was verified."""

    source: str
    target: str
    counts: dict[str, int] = field(default_factory=dict)
    bytes: int = 0
    verified: bool = False
    problems: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "counts": dict(self.counts),
            "bytes": self.bytes,
            "verified": self.verified,
            "problems": list(self.problems),
            "skipped": list(self.skipped),
            "seconds": round(self.seconds, 3),
        }
