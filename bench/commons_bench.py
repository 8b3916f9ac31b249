"""One round of a commons study over N simulated pods: the broker's and the authority's
work, measured.

    python bench/commons_bench.py [-n 10000] [-p 256] [--latency 0.05] [--loss 0.01]

Each simulated pod answers the broker's offer after ``latency`` seconds (network and the
pod's own query) with its contribution, encrypted shares made before the round starts (so
the pods' CPU is not counted as the broker's); ``loss`` of them never answer and are left
out at the per-call timeout. Measured: the round's wall time (collect, then release) and
the process CPU time of each phase, which is the broker's (journalling every contribution,
decrypting its shares, summing, noise) plus, in release, the authority's (decrypting and
summing its shares), timed on its own too. The study is "mean monthly consumption by
region" (5 regions x 12 months, 2 integers per cell).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from apps.commons import approval, contribution, shares, study
from apps.commons.authority import Authority
from apps.commons.broker import Broker, Contribution, Contributor, Offer
from apps.commons.proposals import monthly_consumption_by_region

REGIONS = ("Bretagne", "Corse", "Grand Est", "Occitanie", "Normandie")


def pod(made: Contribution, latency: float, lost: bool) -> Contributor:
    async def answer(offer: Offer) -> Contribution:
        await asyncio.sleep(latency * random.uniform(0.5, 1.5))
        if lost:
            await asyncio.sleep(3600)
        return made

    return answer


async def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("-n", "--pods", type=int, default=10_000)
    args.add_argument("-p", "--parallel", type=int, default=256)
    args.add_argument("--latency", type=float, default=0.05)
    args.add_argument("--loss", type=float, default=0.01)
    args.add_argument("--timeout", type=float, default=2.0)
    opts = args.parse_args()

    signing = approval.new_signing_key("authority")
    broker_key, authority_key = shares.new_key("broker"), shares.new_key("authority")
    proposed = monthly_consumption_by_region(
        "https://body.example/studies/grid#study",
        "https://body.example/#me",
        "https://authority.example/#me",
        "https://broker.example/#me",
        year=2025,
        regions=REGIONS,
        broker_key=broker_key.export_public(as_dict=True),
        authority_key=authority_key.export_public(as_dict=True),
        upper_kwh=Decimal(2500),
    )
    token, turtle = approval.approve(proposed, signing), study.turtle(proposed)
    rng = random.Random(23)
    started = time.perf_counter()
    agents: dict[str, Contributor] = {}
    context = f"{proposed.iri} r1"
    for n in range(opts.pods):
        totals = {p: Decimal(rng.randint(150, 2200)) for p in proposed.statistic.periods}
        values = contribution.vector(rng.choice(REGIONS), totals, proposed.statistic)
        first, second = shares.split(values)
        made = Contribution(
            shares.encrypt(first, proposed.broker_key, context),
            shares.encrypt(second, proposed.authority_key, context),
        )
        agents[f"pod-{n:06d}"] = pod(made, opts.latency, rng.random() < opts.loss)
    print(
        f"{opts.pods} pods' contributions made in {time.perf_counter() - started:.1f} s "
        f"(not part of the round)"
    )

    with tempfile.TemporaryDirectory() as tmp:
        authority = Authority(
            proposed.authority,
            authority_key,
            [signing.export_public(as_dict=True)],
            Path(tmp) / "authority.log",
        )
        original = authority.aggregate
        authority_cpu = 0.0

        def timed(*a, **k):  # type: ignore[no-untyped-def]
            nonlocal authority_cpu
            before = time.process_time()
            try:
                return original(*a, **k)
            finally:
                authority_cpu = time.process_time() - before

        authority.aggregate = timed  # type: ignore[method-assign]
        broker = Broker(
            proposed.broker,
            broker_key,
            authority,
            Path(tmp) / "broker.journal",
            parallel=opts.parallel,
            timeout=opts.timeout,
            retries=0,
            deadline=600,
        )
        wall, cpu = time.perf_counter(), time.process_time()
        got = await broker.collect(proposed, turtle, token, "r1", agents)
        collect_wall, collect_cpu = time.perf_counter() - wall, time.process_time() - cpu
        wall, cpu = time.perf_counter(), time.process_time()
        released = broker.release(proposed, token, "r1")
        release_wall, release_cpu = time.perf_counter() - wall, time.process_time() - cpu
        journal_mb = (Path(tmp) / "broker.journal").stat().st_size / 1e6
    kept = sum(not c.suppressed for c in released.cells)
    print(
        f"pods {opts.pods}, parallel {opts.parallel}, latency {opts.latency}s, "
        f"loss {opts.loss:.0%}: {got} contributions, {kept}/{len(released.cells)} cells"
    )
    print(
        f"collect: wall {collect_wall:.1f} s, CPU {collect_cpu:.1f} s (journal {journal_mb:.0f} MB)"
    )
    print(
        f"release: wall {release_wall:.1f} s, CPU {release_cpu:.1f} s "
        f"(of which the authority {authority_cpu:.1f} s)"
    )
    print(f"round: wall {collect_wall + release_wall:.1f} s, CPU {collect_cpu + release_cpu:.1f} s")


if __name__ == "__main__":
    asyncio.run(main())
