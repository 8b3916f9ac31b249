"""``pod-server query reindex [NAME]`` and ``pod-server query verify NAME`` (see
``maintenance``). NAME is a pod's name (multi-user layout) or ``/`` (the single storage);
``reindex`` without NAME covers every storage. ``verify`` exits 0 when the engine holds
exactly what storage holds, 1 printing each difference."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from pod_server.audit.cli import UsageError, root_of
from pod_server.components import open_backend
from pod_server.errors import PodError
from pod_server.query.maintenance import reindex, report, verify
from pod_server.settings import Settings
from pod_server.storage.base import Backend


def add_commands(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    query = sub.add_parser("query", help="the SPARQL endpoint's engines")
    actions = query.add_subparsers(dest="action", required=True)
    again = actions.add_parser(
        "reindex", help="make every engine reload NAME's documents (all storages without NAME)"
    )
    again.add_argument("name", nargs="?", help="pod name (multi-user) or / (the single storage)")
    check = actions.add_parser("verify", help="load NAME into a fresh engine and compare")
    check.add_argument("name", help="pod name (multi-user) or / (the single storage)")
    for parser in (again, check):
        common(parser)


async def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        root = "/" if args.name is None else root_of(args.name, settings)
    except UsageError as err:
        print(f"pod-server: {err}", file=sys.stderr)
        return 2
    backend = open_backend(settings)
    await backend.start()
    try:
        return await _act(args, settings, backend, root)
    except PodError as err:  # e.g. a storage too large to walk (readable.MAX_LISTED)
        print(f"pod-server: {err}", file=sys.stderr)
        return 1
    finally:
        await backend.close()


async def _act(args: argparse.Namespace, settings: Settings, backend: Backend, root: str) -> int:
    if args.action == "reindex":
        count = await reindex(backend, root)
        print(f"{count} documents under {root} will be reloaded by every engine")
        return 0
    count, problems = await verify(backend, root, settings.public_base.rstrip("/"))
    print(report(problems, count))
    return 1 if problems else 0
