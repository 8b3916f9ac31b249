"""What an app's ``python -m`` needs: its address options, then serving it on them."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from aiohttp import web


def parser(prog: str, description: str | None, port: int, own_path: str) -> argparse.ArgumentParser:
    """``--host``, ``--port``, ``--base-url`` and ``--own-path``; the app adds its own."""
    made = argparse.ArgumentParser(prog=prog, description=description)
    made.add_argument("--host", default="127.0.0.1")
    made.add_argument("--port", type=int, default=port)
    made.add_argument(
        "--base-url",
        help="the app's public address (its Client ID is BASE/id); default http://HOST:PORT",
    )
    made.add_argument("--own-path", default=own_path, help="the app's own folder in the pod")
    return made


def serve(name: str, args: argparse.Namespace, make: Callable[[str], web.Application]) -> None:
    """Build the app for its base URL (``make(base)``) and serve it until interrupted."""
    base = (args.base_url or f"http://{args.host}:{args.port}").rstrip("/")
    app = make(base)
    print(f"{name} on {base}/ (Client ID {base}/id)", flush=True)
    web.run_app(app, host=args.host, port=args.port, print=None)
