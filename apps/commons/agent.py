"""The owner's agent: computes the pod's contribution to a study from the owner's own
data, on the owner's behalf, with the SDK only (``client/``).

Asked by the broker with an :class:`Offer`, it checks that the study conforms to its
shape, that the authority's approval verifies with a key from the authority's WebID
profile and names the study unchanged, that the study is running, and that the owner has
opted in (a given, unexpired consent record from the study's broker naming the study as a
purpose); otherwise it declines. It then asks its pod's SPARQL endpoint for the per-month
totals of the study's measure and the pod's group, encodes and clips them, splits them into
two shares, encrypts each for its aggregator, records the contribution in the owner's
audit log (``.well-known/contribution``) and answers with the two ciphertexts only.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from rdflib import Graph

from apps.commons import approval as approvals
from apps.commons import contribution, shares
from apps.commons import study as studies
from apps.commons.broker import Contribution, Declined, Offer
from apps.commons.study import Statistic, Study, StudyError
from client import PodClient
from client.errors import PodClientError

CONTRIBUTION_PATH = ".well-known/contribution"
# What an opt-in grants the broker: Append on this container of the pod, where it may
# deliver the study's results to the person; never Read on anything.
OPT_IN_CONTAINER = "commons/"
OPT_IN_MODES = "Append"
GIVEN = "ConsentGiven"


def opt_in_purposes(study: Study) -> list[str]:
    """The purposes a broker's opt-in request names: the study itself, then its DPV ones."""
    return [study.iri, *study.purposes]


async def accept(client: PodClient, storage: str, request: str) -> None:
    """The owner opts in: approve the broker's request ``request`` (its consent record),
    making the container it targets first."""
    await client.create_container(storage + OPT_IN_CONTAINER)
    await client.approve(request)


class OwnerAgent:
    def __init__(self, client: PodClient, storage: str) -> None:
        self.client = client
        self.storage = storage  # the pod's storage root URL

    async def __call__(self, offer: Offer) -> Contribution:
        study = await self.checked(offer)
        consent = await self.opt_in(study)
        group, totals = await self.totals(study.statistic)
        values = contribution.vector(group, totals, study.statistic)
        first, second = shares.split(values)
        context = f"{study.iri} {offer.round}"
        made = Contribution(
            broker=shares.encrypt(first, study.broker_key, context),
            authority=shares.encrypt(second, study.authority_key, context),
        )
        sent = hashlib.sha256(f"{made.broker}\n{made.authority}".encode()).hexdigest()
        await self.client.request(
            "POST",
            self.storage + CONTRIBUTION_PATH,
            headers={"Content-Type": "application/json"},
            body=json.dumps(
                {
                    "study": study.iri,
                    "statistic": study.statistic.name,
                    "round": offer.round,
                    "consent": consent,
                    "digest": sent,
                    "cells": contribution.cells_touched(values, study.statistic),
                }
            ).encode(),
        )
        return made

    async def checked(self, offer: Offer) -> Study:
        try:
            study = studies.parse(offer.study_turtle, offer.study_iri)
            keys = await self.published_keys(study.authority)
            approvals.verify(study, offer.approval, keys)
        except StudyError as err:
            raise Declined(str(err)) from None
        today = datetime.now(UTC).date()
        if not study.start <= today <= study.end:
            raise Declined(f"the study runs from {study.start} to {study.end}")
        return study

    async def published_keys(self, webid: str) -> list[dict[str, object]]:
        try:
            res = await self.client.get(webid.split("#")[0], accept="text/turtle")
        except PodClientError as err:
            raise StudyError(f"the authority's profile cannot be read: {err}") from None
        profile = Graph().parse(data=res.body, format="turtle", publicID=webid.split("#")[0])
        return approvals.published_keys(profile, webid)

    async def opt_in(self, study: Study) -> str:
        """The URL of the owner's given consent for ``study``; Declined when there is none."""
        now = datetime.now(UTC)
        for record in await self.client.access_requests(storage=self.storage):
            if (
                record.recipient == study.broker
                and study.iri in record.purposes
                and record.status == GIVEN
                and (record.until is None or record.until > now)
            ):
                return record.url
        raise Declined("the owner has not opted in (or withdrew)")

    async def totals(self, statistic: Statistic) -> tuple[str | None, dict[str, Decimal]]:
        """The pod's group (None unless exactly one value) and per-period totals."""
        groups = await self.client.query(
            f"SELECT DISTINCT ?g WHERE {{ ?s <{statistic.group_by}> ?g }} LIMIT 2",
            self.storage,
        )
        values = [str(row["g"]) for row in groups.rows if "g" in row]
        group = values[0] if len(values) == 1 else None
        sums = await self.client.query(
            "SELECT ?month (SUM(?v) AS ?total) WHERE { "
            f"?s <{statistic.measure}> ?v ; <{statistic.time_property}> ?t . "
            "BIND(SUBSTR(STR(?t), 1, 7) AS ?month) } GROUP BY ?month",
            self.storage,
        )
        totals: dict[str, Decimal] = {}
        for row in sums.rows:
            try:
                totals[str(row["month"])] = Decimal(str(row["total"]))
            except (KeyError, InvalidOperation):
                continue  # a month whose values were not numbers: nothing for it
        return group, totals
