"""``python -m apps.budget --port 8600``: serve the budget app."""

from __future__ import annotations

import argparse

from aiohttp import web

from apps.budget.web import BANK_PATH, OWN_PATH, Settings, make_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m apps.budget", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8600)
    parser.add_argument(
        "--base-url",
        help="the app's public address (its Client ID is BASE/id); default http://HOST:PORT",
    )
    parser.add_argument("--bank-path", default=BANK_PATH, help="bank folder asked for (fallback)")
    parser.add_argument("--own-path", default=OWN_PATH, help="the app's own folder in the pod")
    args = parser.parse_args(argv)
    base = (args.base_url or f"http://{args.host}:{args.port}").rstrip("/")
    app = make_app(Settings(base, args.bank_path, args.own_path))
    print(f"Budget on {base}/ (Client ID {base}/id)", flush=True)
    web.run_app(app, host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
