"""Issue 23 end to end through a real multi-user server, with a smaller population:
30 homes with a year of electricity readings (the connector's synthetic load curves,
summed by day), a public body proposing "mean monthly consumption by region", the
authority approving it with a key published in its WebID profile, most owners opting in
through the consent API, their agents (on the SDK) computing and sharing contributions,
the broker and the authority releasing, in two rounds. Each released mean is within the
mechanism's bound of the exact mean over the pods that took part in that round; a release
beyond the budget is refused; a region with too few opted-in homes is suppressed; an
unapproved or altered study is declined by the pods; owners who withdrew, before or
between rounds, are left out; the owners' audit logs show their contributions and
verify, and so do the broker's and the authority's.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import json
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from rdflib import Graph

from apps.commons import approval, contribution, shares, study
from apps.commons.agent import (
    CONTRIBUTION_PATH,
    OPT_IN_CONTAINER,
    OPT_IN_MODES,
    OwnerAgent,
    accept,
    opt_in_purposes,
)
from apps.commons.authority import Authority
from apps.commons.broker import Broker, Declined, Offer, Release
from apps.commons.journal import verify
from apps.commons.mechanism import BudgetExceeded
from apps.commons.proposals import monthly_consumption_by_region
from apps.connector import synthetic
from client import BadRequest, Forbidden, MethodNotAllowed, PodClient, Unauthorized
from client.errors import PodClientError
from pod_server.http.handlers import STORE
from pod_server.idp.routes import IDP
from pod_server.pods.hosting import add_user, user_credentials
from pod_server.settings import Settings
from tests.conftest import deployed, running_pod

PASSWORD = "a long enough passphrase"
YEAR = 2025
# 30 homes: two big regions and a small one whose opted-in homes stay under the minimum.
REGIONS = ["Bretagne"] * 14 + ["Occitanie"] * 12 + ["Corse"] * 4
DECLINE = {3, 17}  # never answer the request
WITHDRAW = {5, 20, 27}  # opt in, then withdraw before the first round
WITHDRAW_LATER = {1, 15}  # withdraw between the first and the second round
CORSE_OPT_OUT = {28, 29}  # in Corse: only 26 and 27 (who withdraws) opt in


@dataclass
class Home:
    name: str
    client: PodClient
    webid: str
    storage: str
    region: str
    months: dict[str, Decimal]  # kWh per month


def daily_points(tmp: Path, customer: synthetic.Customer, month: int) -> dict[str, Decimal]:
    """A month of the connector's synthetic half-hourly curve, summed by day (kWh)."""
    path = tmp / f"{customer.id}-{month}.csv"
    synthetic.write_load_curve(path, customer, YEAR, month)
    days: dict[str, Decimal] = defaultdict(Decimal)
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle, delimiter=";"))[3:]
    for at, watts in rows:
        days[at[:10]] += Decimal(watts) / 2000  # W over half an hour -> kWh
    path.unlink()
    return {day: total.quantize(Decimal("0.001")) for day, total in days.items()}


def month_turtle(days: dict[str, Decimal]) -> str:
    lines = [
        "@prefix energy: <https://w3id.org/solid-pods/vocab/energy#> .",
        "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .",
    ]
    for day, kwh in sorted(days.items()):
        lines.append(
            f'<#d{day}> a energy:LoadCurvePoint ; energy:at "{day}T00:00:00+01:00"^^xsd:dateTime ;'
            f' energy:consumption "{kwh}"^^xsd:decimal .'
        )
    return "\n".join(lines) + "\n"


@asynccontextmanager
async def deployment(
    root: Path, storage: str
) -> AsyncIterator[tuple[dict[str, PodClient], dict[str, str], list[Home]]]:
    root.mkdir()
    settings, backend = deployed(storage, root, Settings(multiuser=True))
    async with running_pod(root, backend, settings) as server, AsyncExitStack() as stack:
        store, state = server.app[STORE], server.app[IDP].state  # type: ignore[index]

        async def account(name: str) -> tuple[PodClient, str]:
            await add_user(store, state, name, f"{name}@example.org", PASSWORD)
            made = await user_credentials(store, state, name, "commons")
            client = await stack.enter_async_context(PodClient())
            await client.login_client_credentials(
                made["issuer"], made["client_id"], made["client_secret"]
            )
            return client, made["webid"]

        parties, webids = {}, {}
        for name in ("authority", "broker", "body"):
            parties[name], webids[name] = await account(name)
        customers = synthetic.customers(len(REGIONS), seed=23)
        gate = asyncio.Semaphore(6)

        async def home(n: int, customer: synthetic.Customer, region: str) -> Home:
            async with gate:
                client, webid = await account(f"home{n:02d}")
                pod = (await client.storages())[0]
                await client.create_container(pod + "energy/")
                await client.put(
                    pod + "energy/home",
                    f'<#home> <http://schema.org/addressRegion> "{region}" .',
                    if_match=None,
                )
                months = {}
                for month in range(1, 13):
                    days = daily_points(root, customer, month)
                    await client.put(
                        pod + f"energy/{YEAR}-{month:02d}", month_turtle(days), if_match=None
                    )
                    months[f"{YEAR}-{month:02d}"] = sum(days.values(), Decimal(0))
                return Home(f"home{n:02d}", client, webid, pod, region, months)

        homes = list(
            await asyncio.gather(
                *(home(n, c, r) for n, (c, r) in enumerate(zip(customers, REGIONS, strict=True)))
            )
        )
        yield parties, webids, homes


def check(released: Release, members_of: list[Home]) -> None:
    """Each released mean is within its promised bound of the exact (clipped) mean over the
    homes that took part; Corse, where one home took part, is suppressed."""
    st = released.study.statistic
    for cell in released.cells:
        members = [h for h in members_of if h.region == cell.group]
        if cell.group == "Corse":
            assert cell.suppressed and cell.value is None
            continue
        assert not cell.suppressed and cell.value is not None and cell.bound is not None
        exact = sum(
            (contribution.clip(h.months[cell.period], st) for h in members), Decimal(0)
        ) / len(members)
        assert abs(cell.value - exact) <= cell.bound, (cell, exact)


@pytest.mark.timeout(240)  # 33 accounts and 390 documents set up, two rounds
async def test_mean_monthly_consumption_by_region(tmp_path: Path, storage: str) -> None:
    async with deployment(tmp_path / "pods", storage) as (parties, webid, homes):
        # The authority publishes its approval key in its WebID profile.
        signing = approval.new_signing_key("authority-2026")
        profile_doc = webid["authority"].split("#")[0]
        public = approval.publish_key
        g = Graph()
        public(g, webid["authority"], signing)
        await parties["authority"].patch(
            profile_doc,
            "INSERT DATA { " + g.serialize(format="nt") + " }",
            "application/sparql-update",
            if_match=None,
        )
        broker_key, authority_key = shares.new_key("broker-enc"), shares.new_key("authority-enc")
        proposed = monthly_consumption_by_region(
            webid["body"].split("#")[0].rsplit("/", 2)[0] + "/studies/grid#study",
            webid["body"],
            webid["authority"],
            webid["broker"],
            year=YEAR,
            regions=("Bretagne", "Corse", "Occitanie"),
            broker_key=broker_key.export_public(as_dict=True),
            authority_key=authority_key.export_public(as_dict=True),
            upper_kwh=Decimal(2500),
            epsilon=Decimal(120),
            epsilon_per_release=Decimal(60),
            min_contributors=5,
            start=date.today() - timedelta(days=1),
            end=date.today() + timedelta(days=30),
        )
        turtle = study.turtle(proposed)
        token = approval.approve(proposed, signing)

        # Opt-in: the broker asks each owner; most give consent, some withdraw later.
        for n, home in enumerate(homes):
            asked = await parties["broker"].request_access(
                home.webid,
                [home.storage + OPT_IN_CONTAINER],
                OPT_IN_MODES,
                opt_in_purposes(proposed),
                timedelta(days=30),
                note=proposed.title,
            )
            if n in DECLINE:
                continue
            if n in CORSE_OPT_OUT:
                await home.client.deny(asked)
                continue
            await accept(home.client, home.storage, asked)
            if n in WITHDRAW:
                await home.client.withdraw(asked)

        agents = {home.storage: OwnerAgent(home.client, home.storage) for home in homes}
        # An altered study (a wider budget) and an unapproved one are declined by the pods.
        first = agents[homes[0].storage]
        altered = dataclasses.replace(proposed, epsilon=Decimal(600))
        with pytest.raises(Declined, match="changed"):
            await first(Offer(proposed.iri, study.turtle(altered), token, "r0"))
        rogue = approval.approve(proposed, approval.new_signing_key("authority-2026"))
        with pytest.raises(Declined, match="does not verify"):
            await first(Offer(proposed.iri, turtle, rogue, "r0"))

        authority = Authority(
            webid["authority"],
            authority_key,
            [signing.export_public(as_dict=True)],
            tmp_path / "authority.log",
        )
        broker = Broker(
            webid["broker"],
            broker_key,
            authority,
            tmp_path / "broker.journal",
            parallel=8,
            timeout=20,
            deadline=120,
        )
        broker.beta = 0.001
        got = await broker.collect(proposed, turtle, token, "r1", agents)  # type: ignore[arg-type]
        took_part = [h for n, h in enumerate(homes) if n not in DECLINE | WITHDRAW | CORSE_OPT_OUT]
        assert got == len(took_part) == 23
        left = {r["pod"] for r in broker.journal.of("left-out")}
        assert left == {h.storage for h in homes} - {h.storage for h in took_part}

        check(broker.release(proposed, token, "r1"), took_part)

        # Two owners withdraw: the next round leaves them out; its release is still within
        # the budget (60 of 120 spent), and checked against the pods that took part in it.
        for n in WITHDRAW_LATER:
            record = next(
                r for r in await homes[n].client.access_requests() if proposed.iri in r.purposes
            )
            await homes[n].client.withdraw(record.url)
        got = await broker.collect(proposed, turtle, token, "r2", agents)  # type: ignore[arg-type]
        second = [h for h in took_part if homes.index(h) not in WITHDRAW_LATER]
        assert got == len(second) == 21
        check(broker.release(proposed, token, "r2"), second)

        # A third release would exceed the budget: refused, and logged by both parties.
        with pytest.raises(BudgetExceeded):
            broker.release(proposed, token, "r2")
        assert broker.journal.of("refused")
        # A broker ignoring its own ledger would still meet the authority's.
        with pytest.raises(BudgetExceeded):
            authority.aggregate(proposed, token, "r2", {})
        assert authority.journal.of("refused")
        assert verify(tmp_path / "broker.journal") and verify(tmp_path / "authority.log")

        # Each owner's log says what their pod contributed to, and verifies.
        for home in homes:
            entries = [e async for e in home.client.audit()]
            announced = [e for e in entries if e.action == "Announce"]
            rounds = sorted(json.loads(e.detail or "{}")["round"] for e in announced)
            assert all(e.resource == proposed.iri for e in announced)
            if home in second:
                assert rounds == ["r1", "r2"]
            elif home in took_part:
                assert rounds == ["r1"]  # withdrew after the first round
            else:
                assert rounds == []
            assert (await home.client.verify_audit()).ok


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
