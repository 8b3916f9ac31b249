"""Scaling across processes: the same scenarios on 1 and on N worker processes.

    python bench/scale_bench.py --storage postgresql://postgres@127.0.0.1:5432/test
    python bench/scale_bench.py --workers 1,2 --only get-small,put-small,list-container -d 10

Each worker count gets a fresh server (a fresh PostgreSQL schema, dropped afterwards) and
the fixtures anew, then the runner's scenarios in turn; the table gives req/s per count and
the ratio of each count to the first. The generator runs on the same 2-core machine, so
its own CPU share (``client_cpu`` in the JSON) caps what a second worker can add.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from runner import BENCH, SCENARIOS, Figures, machine, measure
from servers import start_ours, wait_ready

DEFAULT_STORAGE = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_SCENARIOS = "get-small,put-small,list-container"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--storage", default=DEFAULT_STORAGE, help="'' for files under a temp root")
    p.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    p.add_argument("--only", default=DEFAULT_SCENARIOS, help="comma-separated scenario names")
    p.add_argument("-c", "--concurrency", type=int, default=32)
    p.add_argument("-d", "--seconds", type=float, default=10.0)
    p.add_argument("-n", "--max-requests", type=int, default=1_000_000)
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--repeat", type=int, default=1, help="tries per scenario; best one kept")
    p.add_argument("--quiet-wait", type=float, default=30.0)
    p.add_argument("--ours-command", default="pod-server")
    args = p.parse_args(argv)
    args.client = "raw"
    args.counts = [int(n) for n in args.workers.split(",") if n.strip()]
    args.names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in args.names if n not in SCENARIOS or n == "ceiling"]
    if unknown or not args.counts or min(args.counts) < 1:
        p.error(f"bad --only {unknown} or --workers {args.workers!r}")
    return args


def table(results: dict[int, Figures], names: list[str]) -> str:
    counts = sorted(results)
    head = " | ".join(f"{n} worker{'s' if n > 1 else ''} req/s (p50 ms)" for n in counts)
    ratios = " | ".join(f"{n}/{counts[0]}" for n in counts[1:])
    lines = [f"| scenario | {head} | {ratios} |", "|" + " --- |" * (1 + 2 * len(counts) - 1)]
    for name in names:
        figs = [results[n].get(name, {}) for n in counts]
        cells = [
            f"{f['req_per_s']:,.0f} ({f['p50_ms']})" if "req_per_s" in f else "failed" for f in figs
        ]
        base = figs[0].get("req_per_s")
        shares = [
            f"{float(f['req_per_s']) / float(base):.2f}" if base and "req_per_s" in f else "-"
            for f in figs[1:]
        ]
        lines.append(f"| {name} | {' | '.join(cells)} | {' | '.join(shares)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    scenarios = [SCENARIOS[n] for n in args.names]
    results: dict[int, Figures] = {}
    for count in args.counts:
        print(f"starting ours with {count} worker(s) ...", flush=True)
        server = start_ours(args.ours_command, args.storage, count)
        try:
            wait_ready(server)
            results[count] = measure(args, server, scenarios)
        finally:
            server.stop()
    print()
    print(table(results, args.names))
    out = BENCH / "results" / f"scale-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    settings = {k: getattr(args, k) for k in ("storage", "counts", "names", "concurrency")}
    doc = {"machine": machine(), "settings": settings, "results": results}
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
