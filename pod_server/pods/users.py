"""``pod-server user ...``: the host's account commands, over the same settings as serve.

Human output by default, ``--json`` for scripts; exit status 0 on success, 1 when the
request cannot be done (the message says why), 2 for bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from pathlib import Path

from pod_server.access.rules import AccessRules
from pod_server.components import open_backend, open_state
from pod_server.errors import BadRequest
from pod_server.ldp.store import Limits, ResourceStore
from pod_server.pods.hosting import (
    HostingError,
    add_user,
    delete_user,
    list_users,
    user_credentials,
)
from pod_server.pods.operator import parse_quota, set_quota, set_suspended
from pod_server.settings import Settings
from pod_server.state import IdpState


@asynccontextmanager
async def opened(settings: Settings) -> AsyncIterator[tuple[ResourceStore, IdpState]]:
    """The server's store and account state, opened beside a running server if need be."""
    backend = open_backend(settings)
    await backend.start()
    store = ResourceStore(
        backend,
        settings.public_base,
        Limits(settings.max_body_size, settings.max_rdf_size, settings.quota or None),
        rules=AccessRules(),
        multiuser=settings.multiuser,
    )
    state = open_state(settings)
    try:
        await state.start()
        try:
            await store.ensure_root()
            yield store, state
        finally:
            await state.close()
    finally:
        await backend.close()


def _read_password(source: str) -> str:
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise HostingError(f"cannot read the password file: {exc.strerror}") from None
    return text.rstrip("\r\n")


async def run(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.multiuser:
        print(
            "pod-server: accounts with pods need the multi-user layout (--multiuser or "
            "POD_MULTIUSER=1, the same as the server's)",
            file=sys.stderr,
        )
        return 2
    try:
        async with opened(settings) as (store, state):
            return await _dispatch(args, store, state)
    except HostingError as exc:
        print(f"pod-server: {exc}", file=sys.stderr)
        return 1


async def _dispatch(args: argparse.Namespace, store: ResourceStore, state: IdpState) -> int:
    if args.action == "add":
        password = _read_password(args.password_file)
        info = await add_user(store, state, args.name, args.email, password, args.webid)
        print(f"Created {info.name}: pod {info.pod}, WebID {info.webid}")
    elif args.action == "credentials":
        print(json.dumps(await user_credentials(store, state, args.name, args.label), indent=2))
    elif args.action == "list":
        found = await list_users(store, state)
        if args.json:
            print(json.dumps([asdict(u) for u in found], indent=2))
        for user in [] if args.json else found:
            limit = "no limit" if user.limit is None else f"{user.limit} bytes"
            print(f"{user.name}\t{user.email}\t{user.webid}\t{user.used} bytes used ({limit})")
    elif args.action == "delete":
        removed = await delete_user(store, state, args.name)
        print(f"Deleted {args.name}: account, credentials and {removed} resources")
    elif args.action in ("suspend", "resume"):
        changed = await set_suspended(store, args.name, args.action == "suspend")
        done = "Suspended" if args.action == "suspend" else "Resumed"
        print(f"{done} {args.name}" if changed else f"{args.name} was already {done.lower()}")
    elif args.action == "quota":
        try:
            limit = None if args.size == "default" else parse_quota(args.size)
        except BadRequest as exc:
            raise HostingError(exc.message) from None
        await set_quota(store, args.name, limit)
        shown = "the server's default" if limit is None else f"{limit} bytes"
        print(f"Quota of {args.name}: {shown}")
    return 0
