"""Schema migrations: numbered steps, each subsystem listing the ones for its own tables."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Migration:
    """One step of a schema: applied once, in version order, never edited once released."""

    version: int
    name: str
    statements: tuple[str, ...]


def in_order(*lists: Sequence[Migration]) -> tuple[Migration, ...]:
    """Several subsystems' steps as one sequence; together they must number 1, 2, ... n."""
    merged = tuple(sorted((m for steps in lists for m in steps), key=lambda m: m.version))
    versions = [m.version for m in merged]
    if versions != list(range(1, len(merged) + 1)):
        raise ValueError(f"Migration versions must run 1, 2, ... without gaps: {versions}")
    return merged


def latest(migrations: Sequence[Migration]) -> int:
    return migrations[-1].version if migrations else 0


def pending(migrations: Sequence[Migration], current: int) -> list[Migration]:
    """The steps a schema at version ``current`` still lacks, in order."""
    return [m for m in migrations if m.version > current]
