"""The hash chain of an audit log, computed and verified without any I/O.

Entry ``seq`` links to the one before it: ``hash = link_hash(prev, seq, body)`` (see
``storage.base``), the first after the anchor (``GENESIS``, or the last entry a retention
trim removed). :func:`verify` takes the stored rows in seq order and says exactly what is
wrong: an entry whose content no longer matches its hash (altered), seqs missing (removed),
an entry stored at another entry's place (reordered; two that traded places are named as a
swapped pair), a log shorter than its head or a signed checkpoint says (tail truncated),
and checkpoints whose signature does not check out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from pod_server.audit.entry import AuditEntry
from pod_server.storage.base import GENESIS, Checkpoint, LogRow, LogState, link_hash

REORDER_WINDOW = 16  # how far from its place a moved entry is looked for


class Kind(StrEnum):
    ALTERED = "altered"
    REMOVED = "removed"
    REORDERED = "reordered"
    TRUNCATED = "truncated"
    CHECKPOINT = "checkpoint"


@dataclass(frozen=True, slots=True)
class Problem:
    seq: int
    kind: Kind
    message: str
    other: int | None = None  # reordered: the entry whose place or content this is

    def __str__(self) -> str:
        return f"entry {self.seq}: {self.kind}: {self.message}"


@dataclass(frozen=True, slots=True)
class Report:
    entries: int  # rows checked
    head: int  # the last seq checked (the anchor's when none)
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def chain(bodies: Sequence[bytes], prev: bytes = GENESIS, start: int = 1) -> list[bytes]:
    """The hashes of ``bodies`` appended after ``prev`` from seq ``start`` on."""
    hashes: list[bytes] = []
    for offset, body in enumerate(bodies):
        prev = link_hash(prev, start + offset, body)
        hashes.append(prev)
    return hashes


def checkpoint_message(root: str, seq: int, hash_: bytes, at: float) -> bytes:
    """What a checkpoint's signature covers."""
    return f"pod-server audit checkpoint\n{root}\n{seq}\n{hash_.hex()}\n{at!r}\n".encode()


# A checkpoint's signature check: True (valid), False (invalid) or None (unknown key).
SignatureCheck = Callable[[Checkpoint], bool | None]


def verify(
    rows: Sequence[LogRow],
    state: LogState,
    checkpoints: Sequence[Checkpoint] = (),
    signature_ok: SignatureCheck | None = None,
) -> Report:
    """Check a whole log: its rows (in seq order), its head and anchor, its checkpoints."""
    problems: list[Problem] = []
    origins = [_origin(row) for row in rows]
    expected_seq, expected_prev = state.anchor_seq + 1, state.anchor_hash
    for i, row in enumerate(rows):
        origin = origins[i]
        if row.seq > expected_seq:
            missing = (
                "it is missing"
                if row.seq == expected_seq + 1
                else f"entries {expected_seq} to {row.seq - 1} are missing"
            )
            problems.append(Problem(expected_seq, Kind.REMOVED, missing))
        elif (
            origin == row.seq
            and row.prev != expected_prev
            and i > 0
            and origins[i - 1] == rows[i - 1].seq
        ):
            # Both self-consistent but not linked: the one before was rewritten and rehashed.
            problems.append(
                Problem(
                    rows[i - 1].seq, Kind.ALTERED, "rewritten: the next entry does not follow it"
                )
            )
        elif origin == row.seq and row.prev != expected_prev and i == 0:
            problems.append(
                Problem(
                    row.seq,
                    Kind.REMOVED,
                    "does not follow the anchor: entries before it were removed or replaced",
                )
            )
        if origin is None:
            owner = _content_owner(rows, i)
            if owner is not None:
                message = f"holds the content of entry {owner}"
                problems.append(Problem(row.seq, Kind.REORDERED, message, owner))
            else:
                problems.append(
                    Problem(row.seq, Kind.ALTERED, "its content does not match its hash")
                )
        elif origin != row.seq:
            message = f"is entry {origin}, moved here"
            problems.append(Problem(row.seq, Kind.REORDERED, message, origin))
        elif (column := _column_mismatch(row)) is not None:
            problems.append(Problem(row.seq, Kind.ALTERED, column))
        expected_seq, expected_prev = row.seq + 1, row.hash
    head = rows[-1].seq if rows else state.anchor_seq
    last_hash = rows[-1].hash if rows else state.anchor_hash
    if head == state.seq and last_hash != state.hash:
        problems.append(Problem(head, Kind.ALTERED, "its hash differs from the log's head"))
    elif head != state.seq:
        problems.append(
            Problem(
                head + 1 if head < state.seq else head,
                Kind.TRUNCATED,
                f"the log ends at entry {head} but its head is entry {state.seq}",
            )
        )
    by_seq = {row.seq: row for row in rows}
    for cp in checkpoints:
        problems += _checkpoint_problems(cp, by_seq, state, head, signature_ok)
    return Report(len(rows), head, tuple(_pair_swaps(_one_per_entry(problems))))


def _one_per_entry(problems: list[Problem]) -> list[Problem]:
    """The first problem found of each kind at each entry, in seq order."""
    seen: set[tuple[int, Kind]] = set()
    kept = []
    for problem in sorted(problems, key=lambda p: p.seq):
        if (problem.seq, problem.kind) not in seen:
            seen.add((problem.seq, problem.kind))
            kept.append(problem)
    return kept


def _origin(row: LogRow) -> int | None:
    """The seq ``row``'s content and hash were chained at: its own, a nearby one if it was
    moved, None if its content no longer matches its hash."""
    if link_hash(row.prev, row.seq, row.body) == row.hash:
        return row.seq
    for distance in range(1, REORDER_WINDOW + 1):
        for seq in (row.seq - distance, row.seq + distance):
            if seq > 0 and link_hash(row.prev, seq, row.body) == row.hash:
                return seq
    return None


def _content_owner(rows: Sequence[LogRow], i: int) -> int | None:
    """The nearby entry whose link ``rows[i]``'s content completes (its body moved there)."""
    body = rows[i].body
    for j in range(max(0, i - REORDER_WINDOW), min(len(rows), i + REORDER_WINDOW + 1)):
        other = rows[j]
        if j != i and link_hash(other.prev, other.seq, body) == other.hash:
            return other.seq
    return None


def _column_mismatch(row: LogRow) -> str | None:
    """Why the filtering columns disagree with the hashed entry, if they do."""
    try:
        entry = AuditEntry.parse(row.body)
    except ValueError as err:
        return f"its content is {err}"
    stored = (row.root, row.agent, row.resource, row.outcome, row.at)
    if stored != (entry.root, entry.agent, entry.resource, entry.outcome, entry.at):
        return "its stored columns differ from its hashed content"
    return None


def _checkpoint_problems(
    cp: Checkpoint,
    by_seq: dict[int, LogRow],
    state: LogState,
    head: int,
    signature_ok: SignatureCheck | None,
) -> list[Problem]:
    found: list[Problem] = []
    if signature_ok is not None:
        valid = signature_ok(cp)
        if valid is None:
            found.append(
                Problem(cp.seq, Kind.CHECKPOINT, f"checkpoint signed by unknown key {cp.key}")
            )
        elif not valid:
            found.append(Problem(cp.seq, Kind.CHECKPOINT, "checkpoint signature is invalid"))
    if cp.seq > head:
        found.append(
            Problem(
                head + 1,
                Kind.TRUNCATED,
                f"a checkpoint vouches for entry {cp.seq} but the log ends at entry {head}",
            )
        )
    elif cp.seq == state.anchor_seq and cp.seq not in by_seq:
        if cp.hash != state.anchor_hash:
            found.append(Problem(cp.seq, Kind.CHECKPOINT, "the anchor differs from its checkpoint"))
    elif cp.seq in by_seq and by_seq[cp.seq].hash != cp.hash:
        found.append(Problem(cp.seq, Kind.ALTERED, "its hash differs from the signed checkpoint"))
    return found


def _pair_swaps(problems: list[Problem]) -> list[Problem]:
    """Two entries that traded places are one problem: "entries n and m are swapped"."""
    moved = {p.seq: p.other for p in problems if p.kind is Kind.REORDERED}
    out: list[Problem] = []
    done: set[int] = set()
    for p in problems:
        if p.kind is Kind.REORDERED:
            other = p.other
            if other is not None and moved.get(other) == p.seq:
                if p.seq in done:
                    continue
                done |= {p.seq, other}
                low, high = sorted((p.seq, other))
                out.append(Problem(low, Kind.REORDERED, f"entries {low} and {high} are swapped"))
                continue
        out.append(p)
    return out
