"""``python -m apps.energy --port 8601``: serve the energy app."""

from __future__ import annotations

import argparse

from aiohttp import web

from apps.energy.web import DATA_PATH, OWN_PATH, Settings, make_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m apps.energy", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8601)
    parser.add_argument(
        "--base-url",
        help="the app's public address (its Client ID is BASE/id); default http://HOST:PORT",
    )
    parser.add_argument("--data-path", default=DATA_PATH, help="energy folder asked for")
    parser.add_argument("--own-path", default=OWN_PATH, help="the app's own folder in the pod")
    parser.add_argument(
        "--statistics",
        action="append",
        default=[],
        metavar="URL",
        help="a published release of the common-good statistics (repeatable, oldest first): "
        "the page compares with homes like the person's",
    )
    args = parser.parse_args(argv)
    base = (args.base_url or f"http://{args.host}:{args.port}").rstrip("/")
    app = make_app(Settings(base, args.data_path, args.own_path, tuple(args.statistics)))
    print(f"Energy on {base}/ (Client ID {base}/id)", flush=True)
    web.run_app(app, host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
