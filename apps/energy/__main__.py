"""``python -m apps.energy --port 8601``: serve the energy app."""

from __future__ import annotations

import argparse
from urllib.parse import urlsplit

from aiohttp import web

from apps.energy.web import DATA_PATH, NAME, OWN_PATH, Settings, make_app
from apps.webapp import cli


def _web_address(text: str) -> str:
    """An absolute http(s) URL, else a usage error naming the option's value."""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise argparse.ArgumentTypeError(f"{text!r} is not an http(s) URL")
    return text


def main(argv: list[str] | None = None) -> None:
    parser = cli.parser("python -m apps.energy", __doc__, 8601, OWN_PATH)
    parser.add_argument("--data-path", default=DATA_PATH, help="energy folder asked for")
    parser.add_argument(
        "--statistics",
        action="append",
        default=[],
        type=_web_address,
        metavar="URL",
        help="a published release of the common-good statistics (repeatable, oldest first): "
        "the page compares with homes like the person's",
    )
    parser.add_argument(
        "--statistics-index",
        type=_web_address,
        metavar="URL",
        help="the statistics broker's index of its releases (a DCAT catalog, e.g. "
        "https://broker.example/results/catalog): every release it lists is read, oldest "
        "first, before those given with --statistics",
    )
    args = parser.parse_args(argv)
    statistics = tuple(args.statistics)

    def app(base: str) -> web.Application:
        settings = Settings(base, args.data_path, args.own_path, statistics, args.statistics_index)
        return make_app(settings)

    cli.serve(NAME, args, app)


if __name__ == "__main__":
    main()
