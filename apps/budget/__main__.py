"""``python -m apps.budget --port 8600``: serve the budget app."""

from __future__ import annotations

from apps.budget.web import BANK_PATH, NAME, OWN_PATH, Settings, make_app
from apps.webapp import cli


def main(argv: list[str] | None = None) -> None:
    parser = cli.parser("python -m apps.budget", __doc__, 8600, OWN_PATH)
    parser.add_argument("--bank-path", default=BANK_PATH, help="bank folder asked for (fallback)")
    args = parser.parse_args(argv)
    cli.serve(NAME, args, lambda base: make_app(Settings(base, args.bank_path, args.own_path)))


if __name__ == "__main__":
    main()
