"""``pod-server migrate``, ``export`` and ``import``: the command-line side of
``pod_server.pods.transfer`` (argument parsing, opening storages, progress, messages).

Exit status: 0 done and verified; 1 failed or verification found mismatches (listed);
2 bad usage or a refusal (target not empty, pod already there).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from pod_archive import Report
from pod_server.components import INLINE_BYTES, open_backend
from pod_server.errors import PodError
from pod_server.pods import transfer
from pod_server.pods.transfer import ArchiveError
from pod_server.settings import Settings
from pod_server.state import DB_NAME as STATE_DB
from pod_server.state import IdpState, PostgresState, SqliteState, StateError
from pod_server.storage.base import Backend
from pod_server.storage.file import DB_NAME, FileBackend
from pod_server.storage.pg_url import split_schema
from pod_server.storage.postgres import PostgresBackend

# Arguments of these commands that are not server settings (see ``cli._flags``).
NOT_SETTINGS = frozenset({"source", "target", "force", "archive"})
SHOWN = 20  # problems printed, at most
_PG = ("postgresql://", "postgres://")


class UsageError(ValueError):
    """A location or argument the command cannot use; the message says why."""


def add_commands(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add ``migrate``, ``export`` and ``import`` to the ``pod-server`` subcommands;
    ``common`` adds the settings flags ``serve`` takes (export and import use them)."""
    move = sub.add_parser(
        "migrate", help="copy a whole storage into another (files <-> PostgreSQL) and verify it"
    )
    move.add_argument(
        "--from",
        dest="source",
        required=True,
        help="storage to copy: a directory, file:DIR or postgresql://...[?schema=NAME]",
    )
    move.add_argument("--to", dest="target", required=True, help="storage to fill (same forms)")
    move.add_argument(
        "--force", action="store_true", help="copy into a storage that already holds data"
    )
    out = sub.add_parser("export", help="write one pod (BASE/NAME/) to a pod archive")
    out.add_argument("name", help="the pod's name")
    out.add_argument("archive", help="archive file to write (.tar, or .tar.gz to compress)")
    common(out)
    into = sub.add_parser("import", help="create a pod from a pod archive")
    into.add_argument("archive", help="a pod archive (from `pod-server export` or `pod export`)")
    into.add_argument("--name", help="the new pod's name (default: the exported pod's)")
    common(into)


# -- locations ----------------------------------------------------------------------------


def open_location(spec: str, *, source: bool) -> Backend:
    """The backend a ``--from``/``--to`` value names, as ``serve --storage`` reads it
    (plus a plain directory). A source must already hold a storage: opening a wrong
    path or schema would otherwise create an empty one and "copy" nothing."""
    if spec.startswith(_PG):
        try:
            dsn, schema = split_schema(spec)
        except ValueError as exc:
            raise UsageError(f"{shown(spec)}: {exc}") from None
        # Only the target gets tables created; a collector runs once, at start.
        return PostgresBackend(dsn, schema=schema, auto_upgrade=not source, gc_interval=0)
    root = file_root(spec)
    if source and not (root / DB_NAME).is_file():
        raise UsageError(f"there is no file storage at {root} (no {DB_NAME} in it)")
    if root.exists() and not root.is_dir():
        raise UsageError(f"{root} is not a directory")
    return FileBackend(root, inline_threshold=INLINE_BYTES)


def file_root(spec: str) -> Path:
    """The directory of ``DIR``, ``file:DIR`` or ``file:///abs/dir``."""
    if "://" in spec and not spec.startswith("file:"):
        raise UsageError(f"{shown(spec)}: use a directory, file:DIR or a postgresql:// URL")
    path = spec
    if spec.startswith("file:"):
        parts = urlsplit(spec)
        if parts.netloc not in ("", "localhost"):
            raise UsageError(f"{spec}: a file: URL names a local directory (no host)")
        path = unquote(parts.path) if spec.startswith("file://") else spec[len("file:") :]
    if not path:
        raise UsageError(f"{spec!r} names no directory (e.g. file:./data)")
    return Path(path).expanduser()


def shown(spec: str) -> str:
    """A location fit to print: a URL's password is left out."""
    if not spec.startswith(_PG):
        return spec
    parts = urlsplit(spec)
    if parts.password is None:
        return spec
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


# -- progress -----------------------------------------------------------------------------


class Bars:
    """tqdm bars on stderr, one per phase (shown only when stderr is a terminal)."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._done = 0
        self._total = 0

    def begin(self, what: str, resources: int, nbytes: int) -> None:
        from tqdm import tqdm

        self.end()
        self._done, self._total = 0, resources
        self._bar = tqdm(
            total=nbytes,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            desc=what,
            file=sys.stderr,
            leave=False,
            disable=None,  # on when stderr is a terminal
        )

    def advance(self, path: str, nbytes: int) -> None:
        self._done += 1
        if self._bar is not None:
            self._bar.update(nbytes)
            self._bar.set_postfix_str(f"{self._done}/{self._total} resources", refresh=False)

    def end(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _fail(message: str, problems: Sequence[str] = ()) -> None:
    print(f"pod-server: {message}", file=sys.stderr)
    for problem in problems[:SHOWN]:
        print(f"  - {problem}", file=sys.stderr)
    if len(problems) > SHOWN:
        print(f"  ... and {len(problems) - SHOWN} more", file=sys.stderr)


# -- migrate ------------------------------------------------------------------------------


def migrate(args: argparse.Namespace) -> int:
    try:
        if args.source.rstrip("/") == args.target.rstrip("/"):
            raise UsageError("--from and --to name the same storage")
        source = open_location(args.source, source=True)
        target = open_location(args.target, source=False)
    except UsageError as exc:
        _fail(str(exc))
        return 2
    return asyncio.run(_migrate(args, source, target))


async def _migrate(args: argparse.Namespace, source: Backend, target: Backend) -> int:
    opened: list[Backend] = []
    try:
        for side, backend, spec in (
            ("source", source, args.source),
            ("target", target, args.target),
        ):
            try:
                await backend.start()
            except Exception as exc:
                _fail(f"cannot open the {side} {shown(spec)}: {exc}")
                return 1
            opened.append(backend)
        report = await transfer.migrate(
            source,
            target,
            force=args.force,
            progress=Bars(),
            source_name=shown(args.source),
            target_name=shown(args.target),
        )
        if isinstance(target, PostgresBackend):  # a bulk load: plan with true row counts
            await target.refresh_statistics(every=True)
    except transfer.TargetNotEmpty as exc:
        _fail(f"refusing to migrate into {shown(args.target)}: {exc}")
        return 2
    except (transfer.TransferError, PodError, OSError) as exc:
        _fail(
            f"migration FAILED: {exc}\nThe target may hold a partial copy: fix the cause and"
            " run the same command with --force to replace it"
        )
        return 1
    finally:
        for backend in reversed(opened):
            await backend.close()
    print(
        f"Copied {report.resources} resources ({report.bytes} bytes) from {report.source}"
        f" to {report.target} in {report.seconds:.1f} s"
    )
    for root, limit in sorted(report.limits.items()):
        print(f"Quota limit of {root}: {limit} bytes")
    if report.skipped:
        print(f"{len(report.skipped)} resources were deleted from the source while copying")
    if report.extra:
        print(f"{len(report.extra)} resources only in the target were left as they were")
    accounts = await _migrate_accounts(args.source, args.target)
    if not report.verified:
        _fail(f"verification FAILED: {len(report.problems)} problems", report.problems)
        return 1
    print("Verified: every resource's content type, size and SHA-256 match the source")
    return 0 if accounts else 1


def open_state_at(spec: str) -> IdpState:
    """The identity provider's state that belongs with the storage ``spec`` names."""
    if spec.startswith(_PG):
        dsn, schema = split_schema(spec)
        return PostgresState(dsn, schema=schema)
    return SqliteState(file_root(spec) / STATE_DB)


async def _migrate_accounts(source_spec: str, target_spec: str) -> bool:
    """Copy accounts, WebIDs, credentials and signing keys; False if that failed."""
    if not source_spec.startswith(_PG) and not (file_root(source_spec) / STATE_DB).is_file():
        print("No accounts to copy (the source has no identity provider state)")
        return True
    source, target = open_state_at(source_spec), open_state_at(target_spec)
    try:
        await source.start()
        try:
            await target.start()
            try:
                got = await transfer.copy_accounts(source, target, time.time())
            finally:
                await target.close()
        finally:
            await source.close()
    except (StateError, OSError, PodError) as exc:
        _fail(f"copying the accounts FAILED: {exc}")
        return False
    print(
        f"Copied {got.accounts} accounts, {got.webids} WebIDs, {got.credentials} client"
        f" credentials and {got.keys} signing keys (sessions and sign-ins are not copied:"
        " people sign in again)"
    )
    if got.skipped:
        _fail(f"{len(got.skipped)} were in the target already and left as they were", got.skipped)
    return True


# -- export / import ----------------------------------------------------------------------


def run(args: argparse.Namespace, settings: Settings) -> int:
    """``export`` or ``import`` against the storage the server's settings name."""
    if (
        args.command == "export"
        and not settings.on_postgresql
        and not (settings.root / DB_NAME).is_file()
    ):
        _fail(f"there is no file storage at {settings.root} (see --root, --storage)")
        return 2
    return asyncio.run(_run(args, settings))


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    backend = open_backend(settings)
    try:
        await backend.start()
    except Exception as exc:
        _fail(f"cannot open the storage: {exc}")
        return 1
    try:
        if args.command == "export":
            report = await transfer.export_pod(
                backend, args.name, settings.public_base, args.archive, progress=Bars()
            )
        else:
            report = await transfer.import_pod(
                backend, args.archive, settings.public_base, name=args.name, progress=Bars()
            )
    except transfer.TargetNotEmpty as exc:
        _fail(f"refusing to import: {exc}")
        return 2
    except ArchiveError as exc:
        _fail(f"{args.archive}: not a usable pod archive, nothing imported: {exc.message}")
        return 1
    except (transfer.TransferError, PodError, OSError) as exc:
        _fail(f"{args.command} FAILED: {exc}")
        return 1
    finally:
        await backend.close()
    return _reported(args.command, report)


def _reported(command: str, report: Report) -> int:
    counts = ", ".join(f"{n} {kind}" for kind, n in report.counts.items() if n)
    if command == "export":
        print(f"Exported {report.source} to {report.target}: {counts}; {report.bytes} bytes")
    else:
        print(f"Imported {report.source} as {report.target}: {counts}; {report.bytes} bytes")
        print(
            "note: the pod's owner needs an account on this server to sign in here"
            " (accounts are not part of a pod archive)",
            file=sys.stderr,
        )
    for skipped in report.skipped:
        print(f"skipped {skipped.get('path')}: {skipped.get('reason')}", file=sys.stderr)
    if not report.verified:
        _fail(f"verification FAILED: {len(report.problems)} problems", report.problems)
        return 1
    print("Verified: counts and SHA-256 checksums match")
    return 0
