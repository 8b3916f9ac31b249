"""A study's opt-in as the person sees and ends it: on their requests page (the study's
title, its purposes, a withdraw button), in ``pod consent list``/``show``, and on their
activity page once their pod contributed; withdrawn with ``pod consent withdraw``, after
which their agent declines the next round and the page lists the opt-in as withdrawn."""

from __future__ import annotations

import asyncio
import json
from datetime import date, timedelta
from decimal import Decimal
from html import unescape
from pathlib import Path

import pytest

from apps.commons import approval, shares, study
from apps.commons.agent import OPT_IN_CONTAINER, OPT_IN_MODES, OwnerAgent, opt_in_purposes
from apps.commons.broker import Declined, Offer
from apps.commons.proposals import monthly_consumption_by_region
from client import PodClient
from pod_server.http.keys import IDP, STORE
from pod_server.pods.hosting import add_user, user_credentials
from tests.integration.test_client_cli import Pod
from tests.integration.test_consent_pages import PASSWORD, World, record_id
from tests.integration.test_consent_pages import world as world  # the fixture

YEAR = 2025


async def test_the_opt_in_is_shown_and_revocable(world: World, tmp_path: Path) -> None:
    w = world
    store, state = w.pod.app[STORE], w.pod.app[IDP].state  # type: ignore[index]
    await add_user(store, state, "cnil", "cnil@example.org", PASSWORD)
    made = await user_credentials(store, state, "cnil", "tests")
    authority = await PodClient().__aenter__()
    try:
        await authority.login_client_credentials(
            made["issuer"], made["client_id"], made["client_secret"]
        )
        signing = approval.new_signing_key("cnil-2026")
        await approval.publish_in_profile(authority, made["webid"], signing)
    finally:
        await authority.aclose()
    # alice's pod: her region and a few months of readings.
    await w.alice.put(
        w.box + "energy-2025",
        '<#home> <http://schema.org/addressRegion> "Bretagne" .\n'
        + "".join(
            f'<#m{m}> <https://w3id.org/solid-pods/vocab/energy#at> "{YEAR}-{m:02d}-15T00:00:00Z"'
            f"^^<http://www.w3.org/2001/XMLSchema#dateTime> ; "
            f"<https://w3id.org/solid-pods/vocab/energy#consumption> {300 + m}.5 .\n"
            for m in range(1, 4)
        ),
        if_match=None,
    )
    proposed = monthly_consumption_by_region(
        w.box + "grid#study",
        w.webid["bank"],  # the public body
        made["webid"],
        w.webid["energy"],  # the broker
        year=YEAR,
        regions=("Bretagne", "Corse"),
        broker_key=shares.new_key("b").export_public(as_dict=True),
        authority_key=shares.new_key("a").export_public(as_dict=True),
        epsilon=Decimal(2),
        epsilon_per_release=Decimal(1),
        start=date.today(),
        end=date.today() + timedelta(days=30),
    )
    offer = Offer(proposed.iri, study.turtle(proposed), approval.approve(proposed, signing), "r1")
    agent = OwnerAgent(w.alice, w.box)
    with pytest.raises(Declined, match="not opted in"):
        await agent(offer)

    # The broker asks; the page shows the study's title and purposes; alice opts in there.
    await w.alice.create_container(w.box + OPT_IN_CONTAINER)
    asked = await w.energy.request_access(
        w.webid["alice"],
        [w.box + OPT_IN_CONTAINER],
        OPT_IN_MODES,
        opt_in_purposes(proposed),
        timedelta(days=30),
        note=proposed.title,
    )
    page = unescape(await w.page("/alice/?ui=requests"))
    assert "energy asks for access" in page and proposed.title in page
    assert "PublicBenefit" in page or "Public benefit" in page
    data = [
        ("csrf", await w.csrf()),
        ("id", record_id(asked)),
        ("access", "Append " + w.box + OPT_IN_CONTAINER),
        ("decision", "approve"),
    ]
    assert (await w.post("/alice/?ui=decide", data)).status == 303
    page = unescape(await w.page("/alice/?ui=requests"))
    active = page.split('id="active-heading"', 1)[1].split('id="past-heading"', 1)[0]
    assert "energy" in active and proposed.title in active and "Withdraw" in active

    # Her agent contributes; her activity page says so.
    assert await agent(offer)
    activity = unescape(await w.page("/alice/?ui=activity"))
    assert "shared data into statistics" in activity

    # The pod command lists the opt-in, shows it, and withdraws it.
    cli = Pod(tmp_path / "config")
    creds = tmp_path / "alice.json"
    alice = await user_credentials(store, state, "alice", "cli")
    creds.write_text(json.dumps(alice))
    assert await asyncio.to_thread(cli, "login", "--client-credentials", str(creds)) == 0, cli.err
    assert await asyncio.to_thread(cli, "consent", "list") == 0, cli.err
    line = next(x for x in cli.out.splitlines() if record_id(asked) in x)
    assert "given" in line and "PublicBenefit" in line and "energy" in line
    assert await asyncio.to_thread(cli, "consent", "show", record_id(asked)) == 0, cli.err
    assert proposed.iri in cli.out and proposed.title in cli.out
    code = await asyncio.to_thread(cli, "consent", "withdraw", record_id(asked))
    assert code == 0, cli.err

    # Withdrawn: the next round is declined; the page lists it as withdrawn.
    with pytest.raises(Declined, match="withdrew"):
        await agent(Offer(offer.study_iri, offer.study_turtle, offer.approval, "r2"))
    page = unescape(await w.page("/alice/?ui=requests"))
    past = page.split('id="past-heading"', 1)[1]
    assert "withdrawn" in past
    assert await asyncio.to_thread(cli, "consent", "list") == 0, cli.err
    assert "withdrawn" in next(x for x in cli.out.splitlines() if record_id(asked) in x)
