"""``python -m apps.energy --port 8601``: serve the energy app."""

from __future__ import annotations

from apps.energy.web import DATA_PATH, NAME, OWN_PATH, Settings, make_app
from apps.webapp import cli


def main(argv: list[str] | None = None) -> None:
    parser = cli.parser("python -m apps.energy", __doc__, 8601, OWN_PATH)
    parser.add_argument("--data-path", default=DATA_PATH, help="energy folder asked for")
    parser.add_argument(
        "--statistics",
        action="append",
        default=[],
        metavar="URL",
        help="a published release of the common-good statistics (repeatable, oldest first): "
        "the page compares with homes like the person's",
    )
    args = parser.parse_args(argv)
    statistics = tuple(args.statistics)

    cli.serve(
        NAME, args, lambda base: make_app(Settings(base, args.data_path, args.own_path, statistics))
    )


if __name__ == "__main__":
    main()
