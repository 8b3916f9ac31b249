"""``pod-server audit verify|trim|checkpoint NAME``: a storage's audit log from the host.

NAME is a pod's name (multi-user layout) or ``/`` (the single storage). ``verify`` reads
the whole chain and its checkpoints straight from the storage and exits 0 when intact, 1
printing each problem (which entry is altered, removed or reordered; a truncated tail; a
bad checkpoint). ``trim --before DATE`` expires older entries (keeping the chain
verifiable); ``checkpoint`` signs the log's head now.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pod_server.audit.chain import verify
from pod_server.audit.signing import load_existing, load_or_create
from pod_server.components import open_backend
from pod_server.settings import Settings
from pod_server.storage.base import Backend, LogRow

NOT_SETTINGS = frozenset({"before"})
PAGE = 5000
SHOWN = 50  # problems printed, at most


class UsageError(ValueError):
    """The command line names something that cannot be: message for the user."""


def add_commands(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    audit = sub.add_parser("audit", help="a storage's tamper-evident audit log")
    actions = audit.add_subparsers(dest="action", required=True)
    check = actions.add_parser("verify", help="check NAME's log; exit 1 naming any bad entry")
    trim = actions.add_parser("trim", help="expire NAME's entries older than --before")
    trim.add_argument("--before", required=True, help="ISO 8601 date or time")
    sign = actions.add_parser("checkpoint", help="sign NAME's log head now")
    for parser in (check, trim, sign):
        parser.add_argument("name", help="pod name (multi-user) or / (the single storage)")
        common(parser)


def root_of(name: str, settings: Settings) -> str:
    if name == "/":
        if settings.multiuser:
            raise UsageError("the multi-user layout has one storage per pod: name a pod")
        return "/"
    if not settings.multiuser:
        raise UsageError("this server has one storage: name it /")
    if not name or "/" in name or name in (".", ".."):
        raise UsageError(f"{name!r} is not a pod name")
    return f"/{name}/"


def _before(value: str) -> float:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--before must be an ISO 8601 date or time, not {value!r}") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


async def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        root = root_of(args.name, settings)
        before = _before(args.before) if args.action == "trim" else 0.0
    except UsageError as err:
        print(f"pod-server: {err}", file=sys.stderr)
        return 2
    backend = open_backend(settings)
    await backend.start()
    try:
        if args.action == "verify":
            return await _verify(backend, root, settings)
        if args.action == "trim":
            removed = await backend.log_trim(before, root)
            print(f"Expired {removed} entries of {root}'s audit log")
            return 0
        key = load_or_create(settings.root)
        state = await backend.log_state(root)
        if not state.seq:
            print(f"{root}'s audit log is empty: nothing to sign")
            return 0
        await backend.add_checkpoint(key.sign(root, state, time.time()))
        print(f"Signed {root}'s audit log at entry {state.seq}")
        return 0
    finally:
        await backend.close()


async def _verify(backend: Backend, root: str, settings: Settings) -> int:
    rows: list[LogRow] = []
    after = 0
    while True:
        page = await backend.log_rows(root, after, PAGE)
        rows += page
        if len(page) < PAGE:
            break
        after = page[-1].seq
    state = await backend.log_state(root)
    checkpoints = await backend.checkpoints(root)
    key = load_existing(settings.root)
    report = verify(rows, state, checkpoints, key.check if key else lambda _cp: None)
    span = f"entries {state.anchor_seq + 1} to {state.seq}" if state.seq else "no entries"
    if report.ok:
        print(f"{root} audit log intact: {span}, {len(checkpoints)} signed checkpoints")
        return 0
    print(f"{root} audit log is NOT intact ({span}):")
    for problem in report.problems[:SHOWN]:
        print(f"  {problem}")
    if len(report.problems) > SHOWN:
        print(f"  ... and {len(report.problems) - SHOWN} more")
    return 1
