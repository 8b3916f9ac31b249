"""Simulated pods for tests and the benchmark: each answers an offer with the shares of a
contribution vector it was given, as an owner's agent would after reading its data."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from apps.commons import contribution, shares
from apps.commons.broker import Contribution, Contributor, Declined, Offer
from apps.commons.study import Study


def simulated(
    study: Study,
    group: str | None,
    totals: dict[str, Decimal],
    *,
    delay: float = 0.0,
    declines: bool = False,
) -> Contributor:
    values = contribution.vector(group, totals, study.statistic)

    async def agent(offer: Offer) -> Contribution:
        if delay:
            await asyncio.sleep(delay)
        if declines:
            raise Declined("not opted in")
        first, second = shares.split(values)
        context = f"{offer.study_iri} {offer.round}"
        return Contribution(
            shares.encrypt(first, study.broker_key, context),
            shares.encrypt(second, study.authority_key, context),
        )

    return agent
