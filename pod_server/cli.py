"""The ``pod-server`` command line: ``serve`` (more subcommands share its settings)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from pod_server import settings as settings_mod
from pod_server.app import create_app
from pod_server.pods import users
from pod_server.storage.postgres import upgrade

SHUTDOWN_GRACE_SECONDS = 30.0  # in-flight requests (writes) get this long to finish


def _common(parser: argparse.ArgumentParser) -> None:
    """Flags every subcommand shares; each also reads POD_<NAME> and the config file."""
    parser.add_argument("--config", help="TOML settings file (env POD_CONFIG)")
    parser.add_argument("--root", help="storage directory (env POD_ROOT; default ./data)")
    parser.add_argument(
        "--storage", help="postgresql://... to keep resources in PostgreSQL (env POD_STORAGE)"
    )
    parser.add_argument("--base-url", dest="base_url", help="public URL (env POD_BASE_URL)")
    parser.add_argument(
        "--log-level", dest="log_level", help="debug|info|warning (env POD_LOG_LEVEL)"
    )
    parser.add_argument("--max-body-size", dest="max_body_size", type=int, help="bytes")
    parser.add_argument("--max-rdf-size", dest="max_rdf_size", type=int, help="bytes")
    parser.add_argument("--quota", type=int, help="default bytes per pod, 0 = none (env POD_QUOTA)")
    parser.add_argument(
        "--multiuser",
        action="store_const",
        const=True,
        help="one pod per account at BASE/NAME/ instead of one storage (env POD_MULTIUSER)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pod-server", description="A Solid pod server")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the pod server")
    _common(serve)
    serve.add_argument("--host", help="address to bind (env POD_HOST; default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (env POD_PORT; default 3000)")
    serve.add_argument(
        "--no-signup",
        dest="signup",
        action="store_const",
        const=False,
        help="no sign-up page (env POD_SIGNUP=0)",
    )
    serve.add_argument(
        "--open",
        action="store_const",
        const=True,
        help="LOCAL DEVELOPMENT ONLY: a fresh storage root lets anyone do anything (env POD_OPEN)",
    )
    serve.add_argument(
        "--owner", help="WebID given Control of a fresh storage root (env POD_OWNER)"
    )
    serve.add_argument(
        "--allow-bearer",
        dest="allow_bearer",
        action="store_const",
        const=True,
        help="accept Bearer tokens without DPoP (weaker; env POD_ALLOW_BEARER)",
    )
    _user_commands(sub)
    database = sub.add_parser("db", help="the PostgreSQL storage's schema")
    db_actions = database.add_subparsers(dest="action", required=True)
    _common(db_actions.add_parser("upgrade", help="apply pending schema migrations"))
    return parser


def _user_commands(sub: Any) -> None:
    users = sub.add_parser("user", help="manage accounts and their pods (multi-user layout)")
    actions = users.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="create an account with a pod BASE/NAME/")
    add.add_argument("name")
    add.add_argument("--email", required=True)
    add.add_argument(
        "--password-file", required=True, help="file holding the password ('-': stdin)"
    )
    add.add_argument("--webid", help="an existing WebID hosted elsewhere, instead of a new one")
    creds = actions.add_parser("credentials", help="print client credentials (JSON) for NAME")
    creds.add_argument("name")
    creds.add_argument("--label", default="")
    listing = actions.add_parser("list", help="list accounts, pods and usage")
    listing.add_argument("--json", action="store_true")
    remove = actions.add_parser("delete", help="erase an account and its pod")
    remove.add_argument("name")
    for parser in (add, creds, listing, remove):
        _common(parser)


_NOT_SETTINGS = {"command", "action", "name", "email", "password_file", "webid", "label", "json"}


def _flags(ns: argparse.Namespace) -> dict[str, Any]:
    return {k: v for k, v in vars(ns).items() if k not in _NOT_SETTINGS}


def serve(settings: settings_mod.Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    app = create_app(settings)
    print(f"Pod server on {settings.public_base} (storage {settings.root})", flush=True)
    web.run_app(
        app,
        host=settings.host,
        port=settings.port,
        shutdown_timeout=SHUTDOWN_GRACE_SECONDS,
        print=None,
        access_log=None
        if settings.log_level.lower() != "debug"
        else logging.getLogger("aiohttp.access"),
    )


def db_upgrade(settings: settings_mod.Settings) -> int:
    if not settings.storage.startswith(("postgresql://", "postgres://")):
        print("pod-server: db upgrade needs --storage postgresql://...", file=sys.stderr)
        return 2
    version = asyncio.run(upgrade(settings.storage))
    print(f"PostgreSQL storage schema at version {version}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = settings_mod.load(_flags(args))
    except settings_mod.SettingsError as exc:
        print(f"pod-server: {exc}", file=sys.stderr)
        return 2
    if args.command == "serve":
        serve(settings)
        return 0
    if args.command == "db":
        return db_upgrade(settings)
    return asyncio.run(users.run(args, settings))


if __name__ == "__main__":
    sys.exit(main())
