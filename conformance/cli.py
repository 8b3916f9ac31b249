"""``python -m conformance run --server URL ...``: run the suite, print and write reports."""

from __future__ import annotations

import argparse
import asyncio
import sys

from conformance import report
from conformance.runner import Outcome, Run, run_suite


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m conformance", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the suite against a server")
    run.add_argument(
        "--server", required=True, help="the storage root URL (or a multi-user server's base)"
    )
    run.add_argument("--alice-credentials", help="JSON: client_id, client_secret, issuer, webid")
    run.add_argument("--bob-credentials", help="the second identity, same format")
    run.add_argument("--only", action="append", default=[], help="an area or check-id prefix")
    run.add_argument("--report", action="append", default=[], help="FILE.md, .json or .xml")
    run.add_argument("--profile", default="auto", help="deviations to apply: ours, css, generic")
    run.add_argument("--concurrency", type=int, default=4)
    run.add_argument("--keep", action="store_true", help="leave the scratch container in place")
    run.add_argument("-v", "--verbose", action="store_true", help="one line per check")
    return top


def print_run(run: Run, verbose: bool) -> None:
    for result in run.results:
        shown = verbose or result.outcome in (Outcome.FAILED, Outcome.FIXED)
        if shown:
            first = result.message.splitlines()[0] if result.message else ""
            print(f"{result.outcome.value.upper():9} {result.check.id}  {first}")
    print()
    for area, counts in report.area_rows(run):
        print(f"{area:14} " + "  ".join(f"{c.value} {n}" for c, n in counts.items()))
    deviations = run.count()[Outcome.DEVIATION]
    print(f"storage: {run.storage or run.server}")
    print(f"known deviations: {deviations} (profile {run.profile}, counted as skipped)")
    print(run.summary_line())


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    run = asyncio.run(
        run_suite(
            args.server,
            alice_credentials=args.alice_credentials,
            bob_credentials=args.bob_credentials,
            only=tuple(args.only),
            profile=args.profile,
            concurrency=args.concurrency,
            keep=args.keep,
        )
    )
    for path in args.report:
        report.write(run, path)
    print_run(run, args.verbose)
    sys.stdout.flush()
    return 0 if run.ok else 1
