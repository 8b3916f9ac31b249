"""The ``pod-server`` command line: ``serve`` (more subcommands share its settings)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import sys
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from pod_server import settings as settings_mod
from pod_server import startup, transfer_cli
from pod_server.app import create_app
from pod_server.audit import cli as audit_cli
from pod_server.db.schema import upgrade
from pod_server.event_loop import new_event_loop
from pod_server.http import logs
from pod_server.pods import base_url, users
from pod_server.query import cli as query_cli
from pod_server.workers import Supervisor

SHUTDOWN_GRACE_SECONDS = 30.0  # in-flight requests (writes) get this long to finish


def _common(parser: argparse.ArgumentParser) -> None:
    """Flags every subcommand shares; each also reads POD_<NAME> and the config file."""
    parser.add_argument("--config", help="TOML settings file (env POD_CONFIG)")
    parser.add_argument("--root", help="storage directory (env POD_ROOT; default ./data)")
    parser.add_argument(
        "--storage", help="postgresql://... to keep resources in PostgreSQL (env POD_STORAGE)"
    )
    parser.add_argument("--base-url", dest="base_url", help="public URL (env POD_BASE_URL)")
    # With --base-url, these decide the pods' IRIs: every command takes them, like serve.
    parser.add_argument("--host", help="address to bind (env POD_HOST; default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (env POD_PORT; default 3000)")
    parser.add_argument(
        "--log-level", dest="log_level", help="debug|info|warning (env POD_LOG_LEVEL)"
    )
    parser.add_argument("--max-body-size", dest="max_body_size", type=int, help="bytes")
    parser.add_argument("--max-rdf-size", dest="max_rdf_size", type=int, help="bytes")
    parser.add_argument("--max-nesting", dest="max_nesting", type=int, help="levels")
    parser.add_argument("--max-solutions", dest="max_solutions", type=int, help="per WHERE")
    parser.add_argument("--work-timeout", dest="work_timeout", type=int, help="seconds")
    parser.add_argument("--heavy-jobs", dest="heavy_jobs", type=int, help="at once")
    parser.add_argument(
        "--no-validation-processes",
        dest="validation_processes",
        action="store_const",
        const=False,
        help="check large validated bodies on threads, not worker processes "
        "(env POD_VALIDATION_PROCESSES=0)",
    )
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
        "--admin",
        action="append",
        metavar="WEBID",
        help="an operator's WebID: the operator pages (repeatable; env POD_ADMIN)",
    )
    serve.add_argument(
        "--workers",
        type=int,
        help="server processes sharing the port (SO_REUSEPORT; env POD_WORKERS; default 1)",
    )
    serve.add_argument(
        "--allow-bearer",
        dest="allow_bearer",
        action="store_const",
        const=True,
        help="accept Bearer tokens without DPoP (weaker; env POD_ALLOW_BEARER)",
    )
    serve.add_argument(
        "--access-log",
        dest="access_log",
        nargs="?",
        const="-",
        metavar="FILE",
        help="log each response (common log format + ms) to FILE, or stderr with '-' or no"
        " value (env POD_ACCESS_LOG)",
    )
    _user_commands(sub)
    database = sub.add_parser("db", help="the PostgreSQL storage's schema")
    db_actions = database.add_subparsers(dest="action", required=True)
    _common(db_actions.add_parser("upgrade", help="apply pending schema migrations"))
    transfer_cli.add_commands(sub, _common)
    audit_cli.add_commands(sub, _common)
    query_cli.add_commands(sub, _common)
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
    suspend = actions.add_parser("suspend", help="refuse every request to the pod NAME")
    suspend.add_argument("name")
    resume = actions.add_parser("resume", help="let the suspended pod NAME be used again")
    resume.add_argument("name")
    quota = actions.add_parser("quota", help="set the pod NAME's own quota")
    quota.add_argument("name")
    quota.add_argument("size", help="bytes or e.g. 500MB, 2GB; 'default' for the server's")
    for parser in (add, creds, listing, remove, suspend, resume, quota):
        _common(parser)


_NOT_SETTINGS = {"command", "action", "name", "email", "password_file", "webid", "label", "json"}
_NOT_SETTINGS |= {"size"}  # user quota's
_NOT_SETTINGS |= transfer_cli.NOT_SETTINGS  # migrate/export/import's own arguments
_NOT_SETTINGS |= audit_cli.NOT_SETTINGS


def _flags(ns: argparse.Namespace) -> dict[str, Any]:
    return {k: v for k, v in vars(ns).items() if k not in _NOT_SETTINGS}


def _configure_logging(settings: settings_mod.Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(process)d %(name)s %(message)s",
    )


def serve(settings: settings_mod.Settings) -> int:
    startup.check_storage(settings)
    base_url.check(settings, record=True)
    startup.check_listen(settings.host, settings.port)
    startup.check_access_log(settings.access_log)
    storage = "PostgreSQL" if settings.on_postgresql else str(settings.root)
    workers = f", {settings.workers} workers" if settings.workers > 1 else ""
    print(f"Pod server on {settings.public_base} (storage {storage}{workers})", flush=True)
    if settings.workers == 1:
        serve_one(settings)
        return 0
    _configure_logging(settings)
    return Supervisor(settings, serve_one, settings.workers, SHUTDOWN_GRACE_SECONDS).run()


def serve_one(settings: settings_mod.Settings) -> None:
    """One server process (a worker of several, or the only one) until SIGTERM/SIGINT."""
    _configure_logging(settings)
    loop = new_event_loop()  # uvloop when installed
    asyncio.set_event_loop(loop)
    app = create_app(settings)
    app.on_startup.append(tune_collector)  # after the components have started
    web.run_app(
        app,
        loop=loop,
        host=settings.host,
        port=settings.port,
        shutdown_timeout=SHUTDOWN_GRACE_SECONDS,
        print=None,
        reuse_port=settings.workers > 1,
        access_log=logs.access_logger(settings.access_log, settings.log_level.lower() == "debug"),
        access_log_class=logs.CommonLogFormat,
        logger=logs.ServerLog(logging.getLogger("aiohttp.server")),
    )


# Collect the youngest objects once this many more have been made than freed (Python's
# default is 700): requests building many objects at once (the index of a validated
# 180 KB POST holds its ~4,000 terms and lists, 16 requests in flight) then mostly free
# them before a collection traverses them, and promote far fewer to the older generations.
YOUNG_GENERATION_THRESHOLD = 20_000


async def tune_collector(_app: web.Application) -> None:
    """Leave what startup built (modules, rdflib and pyshacl, the app: ~120,000 objects)
    out of every later full collection, and collect the young generation less often.
    Under 16 validated 180 KB POSTs at a time, the collector took ~60 ms per full
    collection (one every few requests) before the freeze, and ~3 ms per POST in all
    after it with the default threshold; ~0.3 ms with this one."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, *gc.get_threshold()[1:])


def db_upgrade(settings: settings_mod.Settings) -> int:
    if not settings.on_postgresql:
        print("pod-server: db upgrade needs --storage postgresql://...", file=sys.stderr)
        return 2
    startup.check_postgresql(settings)
    dsn, schema = settings.postgresql
    version = asyncio.run(upgrade(dsn, schema=schema))
    print(f"PostgreSQL storage schema at version {version}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "migrate":  # two storage locations of its own, not the server's
        return transfer_cli.migrate(args)
    try:
        settings = settings_mod.load(_flags(args))
    except settings_mod.SettingsError as exc:
        print(f"pod-server: {exc}", file=sys.stderr)
        return 2
    try:
        return _run(args, settings)
    except settings_mod.StartupError as exc:  # one line a host can act on, no traceback
        print(f"pod-server: {exc}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace, settings: settings_mod.Settings) -> int:
    if args.command == "serve":
        return serve(settings)
    if args.command == "db":
        return db_upgrade(settings)
    if args.command in ("export", "import"):
        base_url.check(settings, record=args.command == "import")
        return transfer_cli.run(args, settings)
    startup.check_storage(settings)
    if args.command == "audit":
        return asyncio.run(audit_cli.run(args, settings))
    if args.command == "query":
        return asyncio.run(query_cli.run(args, settings))
    if settings.multiuser:  # (else users.run says what is missing)
        base_url.check(settings, record=args.action == "add")
    return asyncio.run(users.run(args, settings))


if __name__ == "__main__":
    sys.exit(main())
