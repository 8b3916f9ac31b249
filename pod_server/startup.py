"""Checks before a command starts: each failure is one line a host can act on.

A port already taken, a storage root that is not a writable directory or a PostgreSQL
server that cannot be reached would otherwise surface as a traceback from deep inside the
event loop (or, with several workers, as workers dying over and over).
"""

from __future__ import annotations

import asyncio
import os
import socket
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg

from pod_server.settings import Settings, StartupError

PG_CONNECT_TIMEOUT = 10.0  # seconds to reach PostgreSQL at start-up before giving up


def check_listen(host: str, port: int) -> None:
    """Bind (and release) every address ``host`` names on ``port``, as the server will."""
    try:
        infos = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as exc:
        raise StartupError(f"cannot listen on {host}: {exc.strerror}") from None
    for family, kind, proto, _name, address in infos:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                where = f"[{address[0]}]" if family == socket.AF_INET6 else address[0]
                raise StartupError(f"cannot listen on {where}:{port}: {_reason(exc)}") from None


def check_root(root: Path) -> None:
    """The storage root exists (made if need be) and this process can write in it."""
    if root.exists() and not root.is_dir():
        raise StartupError(f"storage root {root} is not a directory")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StartupError(f"cannot create storage root {root}: {_reason(exc)}") from None
    try:
        handle, probe = tempfile.mkstemp(prefix=".write-check-", dir=root)
    except OSError as exc:
        raise StartupError(f"storage root {root} is not writable: {_reason(exc)}") from None
    os.close(handle)
    os.unlink(probe)


def check_postgresql(settings: Settings) -> None:
    """PostgreSQL answers and lets us in (the password never appears in the message)."""
    dsn, _schema = settings.postgresql
    try:
        asyncio.run(_connect(dsn))
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        reason = _reason(exc) or type(exc).__name__
        raise StartupError(f"cannot reach PostgreSQL at {_where(dsn)}: {reason}") from None


async def _connect(dsn: str) -> None:
    conn = await asyncpg.connect(dsn, timeout=PG_CONNECT_TIMEOUT)
    await conn.close()


def check_access_log(target: str) -> None:
    """An access log file can be appended to (made if need be)."""
    if target in ("", "-"):
        return
    try:
        with open(target, "a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise StartupError(f"cannot write the access log {target}: {_reason(exc)}") from None


def check_storage(settings: Settings) -> None:
    if settings.on_postgresql:
        check_postgresql(settings)
    else:
        check_root(settings.root)


def _where(dsn: str) -> str:
    parts = urlsplit(dsn)
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    user = f"{parts.username}@" if parts.username else ""
    return f"{user}{host}{port}{parts.path or '/'}"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.errno:
        return os.strerror(exc.errno).lower()
    return str(exc).splitlines()[0] if str(exc) else ""
