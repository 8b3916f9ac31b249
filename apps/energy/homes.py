""" "Homes like mine": the common-good statistics' published means, read back by the app.

The statistics broker (``apps/commons``) publishes each release as an RDF Data Cube
(``qb:DataSet`` with one ``qb:Observation`` per group and month: ``cm:group``,
``cm:period``, ``cm:value``, ``cm:errorBound``, ``cm:contributors``, or
``cm:suppressed``) on the public web. The app reads those documents (anonymously, at the
addresses it is started with), keeps the datasets whose statistic is the mean of
``energy:consumption`` per home and month, and compares the person's months with the
cells of their home's group: the region (``schema:addressRegion``) their energy folder
states, the attribute the studies group by. No release, no region, or no cell for it:
nothing is shown.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from rdflib import RDF, Graph, Namespace
from rdflib.namespace import DCTERMS, QB

from client import PodClient, PodClientError
from vocab.namespaces import COMMONS as CM
from vocab.namespaces import ENERGY

log = logging.getLogger(__name__)
SCHEMA = Namespace("http://schema.org/")  # the studies group homes by schema:addressRegion
MEAN_CONSUMPTION = f"mean of <{ENERGY.consumption}>"  # how a release names its statistic


@dataclass(frozen=True, slots=True)
class Mean:
    """One published cell: the mean monthly kWh of the homes of ``group`` in ``period``."""

    group: str
    period: str  # YYYY-MM
    kwh: Decimal
    bound: Decimal | None  # |error| <= bound, with the release's stated probability
    homes: int  # contributors (noisy, as published)
    source: str  # the dataset's title


def region_of(graph: Graph) -> str | None:
    """The home's region as the person's energy documents state it, if one does."""
    for value in sorted(str(v) for v in graph.objects(None, SCHEMA.addressRegion)):
        if value.strip():
            return value.strip()
    return None


def _decimal(value: object) -> Decimal | None:
    try:
        return None if value is None else Decimal(str(value))
    except InvalidOperation:
        return None


def published_means(graph: Graph) -> list[Mean]:
    """The released, unsuppressed cells of every mean-consumption dataset in ``graph``."""
    found = []
    for dataset in graph.subjects(RDF.type, QB.DataSet):
        if str(graph.value(dataset, CM.statistic) or "") != MEAN_CONSUMPTION:
            continue
        title = str(graph.value(dataset, DCTERMS.title) or "published statistics")
        for obs in graph.subjects(QB.dataSet, dataset):
            if graph.value(obs, CM.suppressed) is not None:
                continue
            group, period = graph.value(obs, CM.group), graph.value(obs, CM.period)
            kwh = _decimal(graph.value(obs, CM.value))
            homes = _decimal(graph.value(obs, CM.contributors))
            if group is None or period is None or kwh is None:
                continue
            bound = _decimal(graph.value(obs, CM.errorBound))
            found.append(Mean(str(group), str(period)[:7], kwh, bound, int(homes or 0), title))
    return found


def like_mine(means: Iterable[Mean], region: str | None, months: Sequence[str]) -> dict[str, Mean]:
    """Per month of the person's, the published mean of their region (a later release
    of the same month wins: releases are given oldest first)."""
    if region is None:
        return {}
    wanted = set(months)
    return {m.period: m for m in means if m.group == region and m.period in wanted}


async def fetch(pod: PodClient, urls: Sequence[str]) -> list[Mean]:
    """The means published at ``urls`` (public documents, read without signing in); an
    address that does not answer, or answers something else, is left out and logged."""
    means: list[Mean] = []
    for url in urls:
        try:
            means += published_means(await pod.read_graph(url))
        except (PodClientError, ValueError) as exc:
            log.warning("statistics at %s not read: %s", url, exc)
    return means
