"""Issue 23's "done when", end to end: 200 homes on two real servers (100 on files, 100 on
PostgreSQL), each holding a year of daily electricity readings (the connector's synthetic
load curves, summed by day). A public body proposes "mean monthly consumption by region";
the authority approves it with a key published in its WebID profile (on the other server
than the broker's); the broker asks every owner, 150 opt in through the consent API, some
of them withdraw, before the first round or between rounds. The owners' agents (on the
SDK) compute their contributions with their pod's SPARQL endpoint and share them; the
broker and the authority release.

Checked: each release's error against the exact mean of the pods that took part is within
the bound the mechanism promises, statistically over repeated runs (the rate of cells
outside their bound, and the spread of the noise against its calibration); the region
with fewer contributors than the minimum is suppressed; a release beyond the budget is
refused (and logged by both aggregators); an altered or unapproved study is declined by
the pods; owners who withdrew are left out; each aggregator's set of shares is
indistinguishable from uniform; a broker restarted mid-round resumes without asking again
the pods it has; the broker's, the authority's and every owner's log verify.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import json
import math
import random
import shutil
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from rdflib import Literal, URIRef

from apps.commons import approval, contribution, cube, mechanism, shares, study
from apps.commons.agent import (
    CONTRIBUTION_PATH,
    OPT_IN_CONTAINER,
    OPT_IN_MODES,
    OwnerAgent,
    accept,
    opt_in_purposes,
)
from apps.commons.authority import Authority
from apps.commons.broker import Broker, Contribution, Contributor, Declined, Offer, Release
from apps.commons.journal import verify
from apps.commons.mechanism import BudgetExceeded
from apps.commons.proposals import monthly_consumption_by_region
from apps.commons.study import CM, Study, StudyError
from apps.connector import synthetic
from client import BadRequest, Forbidden, MethodNotAllowed, PodClient, Unauthorized
from client.errors import PodClientError
from pod_server.http.handlers import STORE
from pod_server.idp import accounts
from pod_server.idp.routes import IDP
from pod_server.pods.hosting import add_user, user_credentials
from pod_server.settings import Settings
from tests.conftest import deployed, running_pod

PASSWORD = "a long enough passphrase"
YEAR = 2025
HOMES = 200
BIG = ("Bretagne", "Grand Est", "Occitanie")
CORSE = range(8)  # a small region: two of its homes opt in, under the minimum of 10
RUNS = 40  # repeated releases of the first round, for the statistical checks
ALPHA = 0.001  # the statistical tests' false-alarm rate


def region_of(n: int) -> str:
    return "Corse" if n in CORSE else BIG[n % 3]


@dataclass(frozen=True)
class Plan:
    """Who does what with the broker's request (indexes of homes)."""

    opt_in: frozenset[int]  # 150: give their consent
    deny: frozenset[int]  # refuse it; the rest never answer
    withdraw_early: frozenset[int]  # opt in, withdraw before the first round
    withdraw_later: frozenset[int]  # withdraw between the first and the second round


def plan() -> Plan:
    rng = random.Random(23)
    others = list(range(len(CORSE), HOMES))
    opt_in = {0, 1, *rng.sample(others, 148)}
    rest = sorted(set(range(HOMES)) - opt_in)
    deny = set(rng.sample(rest, len(rest) // 2))
    big_in = sorted(opt_in - set(CORSE))
    early = set(rng.sample(big_in, 8))
    later = set(rng.sample(sorted(set(big_in) - early), 6))
    return Plan(*(frozenset(x) for x in (opt_in, deny, early, later)))


@dataclass
class Home:
    n: int
    client: PodClient
    webid: str
    storage: str
    region: str
    months: dict[str, Decimal]  # kWh per month, as the pod's readings sum up


def daily_readings(tmp: Path, customer: synthetic.Customer) -> dict[str, Decimal]:
    """A year of the connector's synthetic half-hourly curve, summed by day (kWh)."""
    path = tmp / f"{customer.id}.csv"
    watts: dict[str, int] = defaultdict(int)
    for month in range(1, 13):
        synthetic.write_load_curve(path, customer, YEAR, month)
        with path.open(encoding="utf-8") as handle:
            for at, value in list(csv.reader(handle, delimiter=";"))[3:]:
                watts[at[:10]] += int(value)
    path.unlink()
    # W over half an hour -> Wh / 2; the year's days only (a curve ends at midnight).
    return {
        day: (Decimal(total) / 2000).quantize(Decimal("0.001"))
        for day, total in watts.items()
        if day.startswith(str(YEAR))
    }


def year_turtle(region: str, days: dict[str, Decimal]) -> str:
    lines = [
        "@prefix energy: <https://w3id.org/solid-pods/vocab/energy#> .",
        "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .",
        f'<#home> <http://schema.org/addressRegion> "{region}" .',
    ]
    for day, kwh in sorted(days.items()):
        lines.append(
            f'<#d{day}> a energy:LoadCurvePoint ; energy:at "{day}T00:00:00+01:00"^^xsd:dateTime ;'
            f' energy:consumption "{kwh}"^^xsd:decimal .'
        )
    return "\n".join(lines) + "\n"


@dataclass
class Servers:
    parties: dict[str, PodClient]
    webid: dict[str, str]
    homes: list[Home]


@asynccontextmanager
async def two_servers(tmp: Path) -> AsyncIterator[Servers]:
    """A server on files and one on PostgreSQL; the broker and the public body on the
    first, the authority on the second; homes alternate between them."""
    async with AsyncExitStack() as stack:
        servers = []
        for kind in ("file", "postgres"):
            root = tmp / kind
            root.mkdir()
            settings, backend = deployed(kind, root, Settings(multiuser=True))
            servers.append(await stack.enter_async_context(running_pod(root, backend, settings)))

        async def account(server: int, name: str) -> tuple[PodClient, str]:
            app = servers[server].app
            store, state = app[STORE], app[IDP].state  # type: ignore[index]
            await add_user(store, state, name, f"{name}@example.org", PASSWORD)
            made = await user_credentials(store, state, name, "commons")
            client = await stack.enter_async_context(PodClient())
            await client.login_client_credentials(
                made["issuer"], made["client_id"], made["client_secret"]
            )
            return client, made["webid"]

        parties, webids = {}, {}
        for server, name in ((0, "broker"), (0, "body"), (1, "authority")):
            parties[name], webids[name] = await account(server, name)
        customers = synthetic.customers(HOMES, seed=23)
        gate = asyncio.Semaphore(8)

        async def home(n: int) -> Home:
            region = region_of(n)
            async with gate:
                # On a thread: the servers in this process keep answering meanwhile.
                days = await asyncio.to_thread(daily_readings, tmp, customers[n])
                client, webid = await account(n % 2, f"home{n:03d}")
                pod = (await client.storages())[0]
                await client.put(pod + f"energy-{YEAR}", year_turtle(region, days), if_match=None)
            months: dict[str, Decimal] = defaultdict(Decimal)
            for day, kwh in days.items():
                months[day[:7]] += kwh
            return Home(n, client, webid, pod, region, dict(months))

        homes = list(await asyncio.gather(*(home(n) for n in range(HOMES))))
        yield Servers(parties, webids, homes)


def exact(members: Sequence[Home], st: study.Statistic) -> list[int]:
    """The sum of the members' contribution vectors: what a noiseless release would show."""
    vectors = [contribution.vector(h.region, h.months, st) for h in members]
    return [sum(column) for column in zip(*vectors, strict=True)]


@dataclass(frozen=True)
class Errors:
    outside: int  # released means farther from the exact mean than their bound
    cells: int  # released cells
    counts: list[int]  # noisy count - exact count, per released cell
    values: list[int]  # noisy sum - exact sum (in 1/resolution units), per released cell


def errors(released: Release, members: Sequence[Home]) -> Errors:
    """The release against the exact figures over ``members``; the small region is
    suppressed, the others released."""
    st = released.study.statistic
    truth = exact(members, st)
    outside, counts, values = 0, [], []
    for n, cell in enumerate(released.cells):
        count, units = truth[2 * n], truth[2 * n + 1]
        if cell.group == "Corse":
            assert cell.suppressed and cell.value is None, cell
            continue
        assert not cell.suppressed and cell.value is not None and cell.bound is not None
        mean = Decimal(units) / st.resolution / count
        outside += abs(cell.value - mean) > cell.bound
        counts.append(cell.contributors - count)
        noisy_units = cell.value * cell.contributors * st.resolution
        values.append(int(noisy_units.to_integral_value()) - units)
    return Errors(outside, len(counts), counts, values)


def binomial_tail(n: int, p: float, k: int) -> float:
    """P(X >= k) for X ~ Binomial(n, p)."""

    def term(i: int) -> float:
        log = math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1)
        return math.exp(log + i * math.log(p) + (n - i) * math.log1p(-p))

    return sum(term(i) for i in range(k, n + 1))


def two_draws_variance(scale: float) -> float:
    """Variance of the sum of two independent discrete Laplace(scale) draws (one per
    aggregator): each is 2q/(1-q)^2 with q = exp(-1/scale)."""
    q = math.exp(-1 / scale)
    return 2 * (2 * q / (1 - q) ** 2)


def check_calibration(samples: list[int], scale: float) -> None:
    """The noise is centred and as spread as its calibration says: its variance within a
    band the sample size allows (about 4 standard errors for these heavy tails)."""
    n = len(samples)
    mean = sum(samples) / n
    variance = sum((x - mean) ** 2 for x in samples) / (n - 1)
    expected = two_draws_variance(scale)
    assert abs(mean) < 4 * math.sqrt(expected / n), (mean, expected)
    assert 0.7 < variance / expected < 1.4, (variance, expected)


# The 0.999 quantile of chi-square with 63 degrees of freedom (64 equal bins).
CHI2_63 = 103.44


def chi2_uniform(values: Sequence[int], bins: int = 64) -> float:
    seen = [0] * bins
    for v in values:
        seen[v * bins // shares.PRIME] += 1
    expected = len(values) / bins
    return sum((s - expected) ** 2 / expected for s in seen)


def ks_two_samples(a: Sequence[int], b: Sequence[int]) -> tuple[float, float]:
    """(the Kolmogorov-Smirnov statistic, its threshold at ALPHA)."""
    merged = sorted([(x, 0) for x in a] + [(x, 1) for x in b])
    seen, d = [0, 0], 0.0
    for _, side in merged:
        seen[side] += 1
        d = max(d, abs(seen[0] / len(a) - seen[1] / len(b)))
    c = math.sqrt(-math.log(ALPHA / 2) / 2)
    return d, c * math.sqrt((len(a) + len(b)) / (len(a) * len(b)))


def check_uniform_view(view: list[list[int]], truths: list[list[int]]) -> None:
    """One aggregator's shares: uniform over [0, PRIME), and the shares of coordinates
    that are 0 (cells not the pod's) indistinguishable from the others'."""
    flat = [v for vector in view for v in vector]
    assert chi2_uniform(flat) < CHI2_63
    pairs = [
        (v, x)
        for vector, t in zip(view, truths, strict=True)
        for v, x in zip(vector, t, strict=True)
    ]
    zero, other = [v for v, x in pairs if not x], [v for v, x in pairs if x]
    d, threshold = ks_two_samples(zero, other)
    assert d < threshold, (d, threshold)


def the_study(
    webid: dict[str, str], broker_key: dict[str, object], authority_key: dict[str, object]
) -> Study:
    # Budget: two releases. Epsilon 60 per release is far above what a real study would
    # spend; it keeps the noise small next to 45 homes' means so the checks have teeth.
    return monthly_consumption_by_region(
        webid["body"].split("#")[0].rsplit("/", 2)[0] + "/studies/grid#study",
        webid["body"],
        webid["authority"],
        webid["broker"],
        year=YEAR,
        regions=(*BIG, "Corse"),
        broker_key=broker_key,
        authority_key=authority_key,
        upper_kwh=Decimal(2500),
        epsilon=Decimal(120),
        epsilon_per_release=Decimal(60),
        min_contributors=10,
        start=date.today() - timedelta(days=1),
        end=date.today() + timedelta(days=30),
    )


def counted(agents: dict[str, OwnerAgent], asked: list[str]) -> dict[str, Contributor]:
    def wrap(pod: str, agent: OwnerAgent) -> Contributor:
        async def call(offer: Offer) -> Contribution:
            asked.append(pod)
            return await agent(offer)

        return call

    return {pod: wrap(pod, agent) for pod, agent in agents.items()}


@pytest.mark.timeout(900)  # about 90 s of CPU; 3 to 8 minutes on the shared 2 cores
async def test_mean_monthly_consumption_by_region(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 203 accounts: passwords hashed cheaply (nobody logs in with them here).
    monkeypatch.setattr(
        accounts.PASSWORDS, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )
    who = plan()
    async with two_servers(tmp_path) as servers:
        parties, webid, homes = servers.parties, servers.webid, servers.homes
        assert len({h.storage.split("/")[2] for h in homes}) == 2  # two servers

        # The authority publishes its approval key in its WebID profile.
        signing = approval.new_signing_key("authority-2026")
        await approval.publish_in_profile(parties["authority"], webid["authority"], signing)
        broker_key, authority_key = shares.new_key("broker-enc"), shares.new_key("authority-enc")
        proposed = the_study(
            webid,
            broker_key.export_public(as_dict=True),
            authority_key.export_public(as_dict=True),
        )
        st = proposed.statistic
        turtle = study.turtle(proposed)
        token = approval.approve(proposed, signing)

        # Opt-in: the broker asks every owner; 150 give consent, some refuse, some never
        # answer; some withdraw before the first round.
        gate = asyncio.Semaphore(8)

        async def ask_and_answer(home: Home) -> str:
            async with gate:
                asked = await parties["broker"].request_access(
                    home.webid,
                    [home.storage + OPT_IN_CONTAINER],
                    OPT_IN_MODES,
                    opt_in_purposes(proposed),
                    timedelta(days=30),
                    note=proposed.title,
                )
                if home.n in who.opt_in:
                    await accept(home.client, home.storage, asked)
                elif home.n in who.deny:
                    await home.client.deny(asked)
                return asked

        requests = await asyncio.gather(*(ask_and_answer(h) for h in homes))
        given = [
            r
            for h in homes
            for r in await h.client.access_requests("given")
            if proposed.iri in r.purposes
        ]
        assert len(given) == len(who.opt_in) == 150
        for n in who.withdraw_early:
            await homes[n].client.withdraw(requests[n])

        agents = {h.storage: OwnerAgent(h.client, h.storage) for h in homes}

        # An altered study (a bigger budget, wider bounds) or an approval not by the
        # authority's published key: the pods decline, on both servers.
        altered = dataclasses.replace(proposed, epsilon=Decimal(600))
        wider = dataclasses.replace(
            proposed, statistic=dataclasses.replace(st, upper=Decimal(9000))
        )
        rogue = approval.approve(proposed, approval.new_signing_key("authority-2026"))
        for home in (h for h in homes[8:20] if h.n in who.opt_in):
            agent = agents[home.storage]
            for bad in (altered, wider):
                with pytest.raises(Declined, match="changed"):
                    await agent(Offer(proposed.iri, study.turtle(bad), token, "r0"))
            with pytest.raises(Declined, match="does not verify"):
                await agent(Offer(proposed.iri, turtle, rogue, "r0"))
            with pytest.raises(Declined, match="not Turtle"):
                await agent(Offer(proposed.iri, turtle[:-40] + " ;;", token, "r0"))

        def broker_at(path: Path, log: Path) -> Broker:
            authority = Authority(
                webid["authority"], authority_key, [signing.export_public(as_dict=True)], log
            )
            return Broker(
                webid["broker"],
                broker_key,
                authority,
                path,
                parallel=16,
                timeout=60,
                retries=1,
                deadline=600,
            )

        broker = broker_at(tmp_path / "broker.journal", tmp_path / "authority.log")
        # The broker too refuses to run an altered study.
        with pytest.raises(StudyError, match="changed"):
            await broker.collect(altered, study.turtle(altered), token, "r0", agents)  # type: ignore[arg-type]

        # Round 1: the 142 who opted in and did not withdraw; the others decline.
        got = await broker.collect(proposed, turtle, token, "r1", agents)  # type: ignore[arg-type]
        first = [h for h in homes if h.n in who.opt_in - who.withdraw_early]
        assert got == len(first) == 142
        assert set(broker.received("r1")) == {h.storage for h in first}
        left = broker.journal.of("left-out", round="r1")
        assert {r["pod"] for r in left} == {h.storage for h in homes} - set(broker.received("r1"))
        assert all(r["reason"].startswith("declined: the owner has not opted in") for r in left)
        shutil.copy(tmp_path / "broker.journal", tmp_path / "collected.journal")

        # Neither aggregator's view alone tells anything: each share set is uniform, and
        # the shares of zeros look like the shares of the pods' values; together they
        # are exactly the pods' contributions.
        context = f"{proposed.iri} r1"
        size = len(st.cells()) * st.slots()
        by_pod = {h.storage: h for h in first}
        records = broker.received("r1")
        truths = [contribution.vector(by_pod[p].region, by_pod[p].months, st) for p in records]
        views = [
            [shares.decrypt(r[side], key, context, size) for r in records.values()]
            for side, key in (("broker", broker_key), ("authority", authority_key))
        ]
        assert [shares.combine(a, b) for a, b in zip(*views, strict=True)] == truths
        for view in views:
            check_uniform_view(view, truths)
        # The same tests see the contributions themselves at once (they can fail).
        assert chi2_uniform([v for t in truths for v in t]) > CHI2_63
        with pytest.raises(shares.ShareError):
            shares.decrypt(next(iter(records.values()))["authority"], broker_key, context, size)

        # The release: every mean within its bound (at 1 - 0.001), the small region
        # suppressed; then published as a Data Cube.
        broker.beta = 0.001
        released = broker.release(proposed, token, "r1")
        assert released.contributions == 142 and errors(released, first).outside == 0
        dataset = cube.cube(released, "https://body.example/results/grid/")
        suppressed = list(dataset.subjects(CM.suppressed, Literal(True)))
        assert len(suppressed) == 12  # Corse, every month
        assert all(dataset.value(s, CM.value) is None for s in suppressed)
        assert dataset.value(URIRef("https://body.example/results/grid/release"), CM.epsilonSpent)

        # Statistically, over repeated runs of that release (each a fresh pair of ledgers
        # over the same collected round): the rate of means outside their bound is no
        # more than the promised beta, and the noise has the spread its scales say.
        scales = mechanism.scales(proposed)
        outside = cells = 0
        count_noise: list[int] = []
        value_noise: list[int] = []
        for run in range(RUNS):
            place = tmp_path / f"run{run}"
            place.mkdir()
            shutil.copy(tmp_path / "collected.journal", place / "broker.journal")
            again = broker_at(place / "broker.journal", place / "authority.log")
            found = errors(again.release(proposed, token, "r1"), first)
            outside, cells = outside + found.outside, cells + found.cells
            count_noise += found.counts
            value_noise += found.values
        assert cells == RUNS * 36
        assert binomial_tail(cells, 0.05, outside) > ALPHA, outside
        check_calibration(count_noise, scales.count)
        check_calibration(value_noise, scales.value)

        # Some owners withdraw; round 2 leaves them out. The broker is stopped mid-round
        # and restarted: it asks only the pods it has no answer from.
        for n in who.withdraw_later:
            await homes[n].client.withdraw(requests[n])
        second = [h for h in first if h.n not in who.withdraw_later]
        asked: list[str] = []
        running = asyncio.create_task(
            broker.collect(proposed, turtle, token, "r2", counted(agents, asked))
        )
        while len(broker.received("r2")) < 40:
            await asyncio.sleep(0.05)
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
        before = set(broker.received("r2"))
        asked.clear()
        broker = broker_at(tmp_path / "broker.journal", tmp_path / "authority.log")
        assert set(broker.received("r2")) == before
        got = await broker.collect(proposed, turtle, token, "r2", counted(agents, asked))
        assert got == len(second) == 136
        assert not before & set(asked) and set(asked) == {h.storage for h in homes} - before
        broker.beta = 0.001
        assert errors(broker.release(proposed, token, "r2"), second).outside == 0

        # A third release would exceed the budget: refused, and logged by both parties;
        # a broker ignoring its own ledger would still meet the authority's.
        with pytest.raises(BudgetExceeded):
            broker.release(proposed, token, "r2")
        assert broker.journal.of("refused")
        with pytest.raises(BudgetExceeded):
            broker.authority.aggregate(proposed, token, "r2", {})
        assert broker.authority.journal.of("refused")
        assert verify(tmp_path / "broker.journal") and verify(tmp_path / "authority.log")

        # Each owner's log says what their pod contributed to, and verifies.
        async def audited(home: Home) -> None:
            async with gate:
                entries = [e async for e in home.client.audit()]
                announced = [e for e in entries if e.action == "Announce"]
                rounds = [json.loads(e.detail or "{}")["round"] for e in announced]
                assert all(e.resource == proposed.iri for e in announced)
                assert rounds.count("r0") == 0  # declined offers are not contributions
                assert rounds.count("r1") == (home.n in took_first)
                if home.storage in before:
                    assert rounds.count("r2") == 1
                else:
                    assert (rounds.count("r2") > 0) == (home.n in took_second)
                assert (await home.client.verify_audit()).ok

        took_first, took_second = {h.n for h in first}, {h.n for h in second}
        await asyncio.gather(*(audited(h) for h in homes))


async def test_only_the_owner_records_a_contribution(tmp_path: Path) -> None:
    """The pod's contribution service: 401 anonymous, 403 another account, 400 a bad body
    (nothing logged), 413 a big one, 405 another method; the owner's record lands in the log."""
    root = tmp_path / "pods"
    root.mkdir()
    settings, backend = deployed("file", root, Settings(multiuser=True))
    async with running_pod(root, backend, settings) as server, AsyncExitStack() as stack:
        store, state = server.app[STORE], server.app[IDP].state  # type: ignore[index]
        clients = {}
        for name in ("alice", "mallory"):
            await add_user(store, state, name, f"{name}@example.org", PASSWORD)
            made = await user_credentials(store, state, name, "commons")
            client = await stack.enter_async_context(PodClient())
            await client.login_client_credentials(
                made["issuer"], made["client_id"], made["client_secret"]
            )
            clients[name] = client
        anonymous = await stack.enter_async_context(PodClient())
        pod = (await clients["alice"].storages())[0]
        url = pod + CONTRIBUTION_PATH
        body = {
            "study": "https://body.example/studies/grid#study",
            "statistic": "monthly-consumption",
            "round": "r1",
            "consent": pod + ".well-known/consent/x",
            "digest": "0" * 64,
            "cells": 12,
        }
        json_type = {"Content-Type": "application/json"}
        data = json.dumps(body).encode()
        with pytest.raises(Unauthorized):
            await anonymous.request("POST", url, headers=json_type, body=data)
        with pytest.raises(Forbidden):
            await clients["mallory"].request("POST", url, headers=json_type, body=data)
        bad = json.dumps({**body, "digest": "nope"}).encode()
        with pytest.raises(BadRequest, match="digest"):
            await clients["alice"].request("POST", url, headers=json_type, body=bad)
        with pytest.raises(BadRequest, match="JSON"):
            await clients["alice"].request("POST", url, headers=json_type, body=b"{")
        with pytest.raises(PodClientError, match="413"):
            big = json.dumps({**body, "pad": "x" * 9000}).encode()
            await clients["alice"].request("POST", url, headers=json_type, body=big)
        with pytest.raises(MethodNotAllowed):
            await clients["alice"].request("PUT", url, headers=json_type, body=data)
        await clients["alice"].request("POST", url, headers=json_type, body=data)
        announced = [e async for e in clients["alice"].audit() if e.action == "Announce"]
        assert len(announced) == 1 and announced[0].resource == body["study"]
        assert (await clients["alice"].verify_audit()).ok
