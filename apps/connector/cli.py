"""``python -m apps.connector``: generate synthetic files, or push them into pods.

::

    python -m apps.connector generate --out data/ --customers 20 --months 3 --format ofx [--others]
    python -m apps.connector push --org bank.toml --input data/bank --customers customers.csv
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from apps.connector import synthetic
from apps.connector.config import ConfigError, load_customers, load_org
from apps.connector.journal import Journal
from apps.connector.push import Connector, Outcome, Summary, write_report
from client import PodClient
from client.errors import PodClientError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m apps.connector", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser(
        "generate", help="write synthetic bank and energy (and telecom, insurance, retail) files"
    )
    gen.add_argument("--out", type=Path, required=True)
    gen.add_argument("--customers", type=int, default=20)
    gen.add_argument("--months", type=int, default=3)
    gen.add_argument("--first", default="2024-01", help="first month, YYYY-MM")
    gen.add_argument("--format", choices=synthetic.BANK_FORMATS, default="ofx")
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--no-energy", action="store_true")
    gen.add_argument(
        "--others", action="store_true", help="telecom, insurance and retail files too"
    )
    gen.add_argument("--gas", action="store_true", help="gas meter readings beside load curves")
    gen.add_argument(
        "--webids", default=synthetic.WEBIDS, help="WebID template for customers.csv ({id})"
    )
    push = sub.add_parser("push", help="push each customer's files into their pod")
    push.add_argument("--org", type=Path, required=True, help="the organisation's TOML")
    push.add_argument("--input", type=Path, required=True, help="a folder per customer id")
    push.add_argument(
        "--customers", type=Path, required=True, help="customer_id,webid[,storage][,region] CSV"
    )
    push.add_argument("--journal", type=Path, help="default: <input>/.connector-journal.jsonl")
    push.add_argument("--report", type=Path, help="write the per-customer report as JSON")
    push.add_argument("--concurrency", type=int, help="override [push] concurrency")
    push.add_argument(
        "--wait", type=float, default=0.0, help="seconds to wait for consent decisions"
    )
    push.add_argument(
        "--poll",
        type=float,
        default=15.0,
        help="while waiting, read pending consents again every POLL seconds (decisions "
        "announced to the organisation's inbox wake the connector at once)",
    )
    push.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


async def push(args: argparse.Namespace) -> Summary:
    org = load_org(args.org)
    if args.concurrency:
        from dataclasses import replace

        org = replace(org, concurrency=args.concurrency)
    customers = load_customers(args.customers)
    journal = Journal(args.journal or args.input / ".connector-journal.jsonl")
    try:
        async with PodClient() as client:
            await client.login_client_credentials(org.issuer, org.client_id, org.client_secret)
            connector = Connector(client, org, journal, wait=args.wait, poll=args.poll)
            return await connector.run(customers, args.input, progress=not args.quiet)
    finally:
        journal.close()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "generate":
        made = synthetic.generate(
            args.out,
            args.customers,
            args.months,
            args.first,
            args.seed,
            args.format,
            energy=not args.no_energy,
            webids=args.webids,
            others=args.others,
            gas=args.gas,
        )
        print(f"{len(made)} customers x {args.months} months in {args.out}")
        return 0
    try:
        summary = asyncio.run(push(args))
    except (ConfigError, PodClientError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(summary.table())
    if args.report:
        write_report(summary, args.report)
    # 0 when nothing failed; pending or refused consents are not failures.
    failed = {Outcome.ERROR, Outcome.INVALID}
    return 1 if any(r.outcome in failed for r in summary.results) else 0
