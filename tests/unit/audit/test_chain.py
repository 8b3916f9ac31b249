"""The audit chain: computing it, and naming exactly what tampering changed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from pod_server.audit.chain import Kind, chain, verify
from pod_server.audit.entry import Action, AuditEntry
from pod_server.audit.signing import load_or_create
from pod_server.storage.base import GENESIS, LogRow, LogState, link_hash

ROOT = "/alice/"


def entry(n: int) -> AuditEntry:
    return AuditEntry(
        ROOT, Action.READ, f"http://pod/alice/doc{n}", 200, agent="https://bank/#it", at=1000.0 + n
    )


def rows_of(count: int, anchor: tuple[int, bytes] = (0, GENESIS)) -> list[LogRow]:
    entries = [entry(anchor[0] + i + 1) for i in range(count)]
    bodies = [e.canonical() for e in entries]
    hashes = chain(bodies, anchor[1], anchor[0] + 1)
    prevs = [anchor[1], *hashes[:-1]]
    return [
        LogRow(ROOT, anchor[0] + i + 1, e.at, e.agent, e.resource, e.outcome, b, p, h)
        for i, (e, b, p, h) in enumerate(zip(entries, bodies, prevs, hashes, strict=True))
    ]


def state_of(rows: list[LogRow], anchor: tuple[int, bytes] = (0, GENESIS)) -> LogState:
    return LogState(rows[-1].seq, rows[-1].hash, *anchor)


def test_chain_links_each_entry_to_the_one_before() -> None:
    bodies = [b"a", b"b"]
    first, second = chain(bodies)
    assert first == link_hash(GENESIS, 1, b"a")
    assert second == link_hash(first, 2, b"b")


def test_an_intact_log_verifies() -> None:
    rows = rows_of(10)
    report = verify(rows, state_of(rows))
    assert report.ok and report.entries == 10 and report.head == 10


def test_an_empty_log_verifies() -> None:
    assert verify([], LogState()).ok


def test_an_altered_entry_is_named() -> None:
    rows = rows_of(10)
    body = rows[3].body.replace(b"doc4", b"doc9")
    rows[3] = replace(rows[3], body=body)
    (problem,) = verify(rows, state_of(rows)).problems
    assert (problem.seq, problem.kind) == (4, Kind.ALTERED)
    assert "entry 4" in str(problem)


def test_an_altered_column_is_named() -> None:
    rows = rows_of(5)
    rows[1] = replace(rows[1], agent="https://someone-else/#me")
    (problem,) = verify(rows, state_of(rows)).problems
    assert (problem.seq, problem.kind) == (2, Kind.ALTERED)


def test_a_rewritten_and_rehashed_entry_is_named() -> None:
    rows = rows_of(6)
    body = rows[2].body.replace(b"doc3", b"doc0")
    rows[2] = replace(rows[2], body=body, hash=link_hash(rows[2].prev, 3, body))
    problems = verify(rows, state_of(rows)).problems
    assert [(p.seq, p.kind) for p in problems] == [(3, Kind.ALTERED)]


def test_a_removed_entry_is_named() -> None:
    rows = rows_of(8)
    del rows[4]
    (problem,) = verify(rows, state_of(rows)).problems
    assert (problem.seq, problem.kind) == (5, Kind.REMOVED)


def test_several_removed_entries_are_named() -> None:
    rows = rows_of(8)
    del rows[2:5]
    (problem,) = verify(rows, state_of(rows)).problems
    assert (problem.seq, problem.kind) == (3, Kind.REMOVED)
    assert "3 to 5" in problem.message


def test_two_swapped_rows_are_named() -> None:
    rows = rows_of(8)
    a, b = rows[2], rows[3]
    rows[2], rows[3] = replace(b, seq=3), replace(a, seq=4)
    (problem,) = verify(rows, state_of(rows)).problems
    assert (problem.seq, problem.kind) == (3, Kind.REORDERED)
    assert "3 and 4 are swapped" in problem.message


def test_two_swapped_contents_are_named() -> None:
    rows = rows_of(8)
    a, b = rows[5], rows[6]
    rows[5], rows[6] = replace(a, body=b.body), replace(b, body=a.body)
    (problem,) = verify(rows, state_of(rows)).problems
    assert (problem.seq, problem.kind) == (6, Kind.REORDERED)
    assert "6 and 7 are swapped" in problem.message


def test_a_removed_tail_is_found_from_the_head() -> None:
    rows = rows_of(8)
    state = state_of(rows)
    (problem,) = verify(rows[:6], state).problems
    assert (problem.seq, problem.kind) == (7, Kind.TRUNCATED)


def test_a_trimmed_log_verifies_from_its_anchor() -> None:
    rows = rows_of(8)
    anchor = (3, rows[2].hash)
    kept = rows[3:]
    assert verify(kept, state_of(kept, anchor)).ok
    (problem,) = verify(kept[1:], state_of(kept, anchor)).problems
    assert (problem.seq, problem.kind) == (4, Kind.REMOVED)


def test_checkpoints_check_signatures_and_the_tail(tmp_path: Path) -> None:
    key = load_or_create(tmp_path)
    rows = rows_of(8)
    state = state_of(rows)
    good = key.sign(ROOT, state, 2000.0)
    assert verify(rows, state, [good], key.check).ok
    forged = replace(good, signature=bytes(64))
    (problem,) = verify(rows, state, [forged], key.check).problems
    assert problem.kind is Kind.CHECKPOINT and "invalid" in problem.message
    stranger = load_or_create(tmp_path / "other").sign(ROOT, state, 2000.0)
    (problem,) = verify(rows, state, [stranger], key.check).problems
    assert "unknown key" in problem.message
    # Both the tail and the head rewritten: only the signed checkpoint still knows.
    short = rows[:5]
    problems = verify(short, state_of(short), [good], key.check).problems
    assert [(p.seq, p.kind) for p in problems] == [(6, Kind.TRUNCATED)]


def test_a_checkpoint_catches_a_recomputed_chain(tmp_path: Path) -> None:
    key = load_or_create(tmp_path)
    rows = rows_of(5)
    cp = key.sign(ROOT, LogState(3, rows[2].hash), 2000.0)
    forged = rows_of(5)
    body = forged[1].body.replace(b"doc2", b"doc7")
    bodies = [r.body for r in forged]
    bodies[1] = body
    hashes = chain(bodies)
    prevs = [GENESIS, *hashes[:-1]]
    forged = [
        replace(r, body=b, prev=p, hash=h)
        for r, b, p, h in zip(forged, bodies, prevs, hashes, strict=True)
    ]
    problems = verify(forged, state_of(forged), [cp], key.check).problems
    assert (3, Kind.ALTERED) in [(p.seq, p.kind) for p in problems]


def test_the_key_file_is_kept(tmp_path: Path) -> None:
    first = load_or_create(tmp_path)
    assert load_or_create(tmp_path).id == first.id
    assert (tmp_path / "audit-key.pem").stat().st_mode & 0o777 == 0o600
