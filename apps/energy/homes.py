""" "Homes like mine": the common-good statistics' published means, read back by the app.

The statistics broker (``apps/commons``) publishes each release as an RDF Data Cube
(``qb:DataSet`` with one ``qb:Observation`` per group and month: ``cm:group``,
``cm:period``, ``cm:value``, ``cm:errorBound``, ``cm:contributors``, or
``cm:suppressed``) on the public web, and lists them in its index, a DCAT catalog
(``dcat:dataset`` per release, with ``dcterms:issued`` and ``dcat:distribution``). The
app reads those documents anonymously: the releases its index lists, oldest first by issue
date, then those it is started with one by one; it keeps the datasets whose statistic is the mean of
``energy:consumption`` per home and month, and compares the person's months with the
cells of their home's group: the region (``schema:addressRegion``) their energy folder
states, the attribute the studies group by. No release, no region, or no cell for it:
nothing is shown.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from rdflib import RDF, Graph, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, QB

from client import PodClient, PodClientError
from client.core import origin
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


class NoReleases(ValueError):
    """An index that cannot be used: not read, not RDF, or listing no release."""


def _issued(graph: Graph, dataset: URIRef) -> datetime:
    """When ``dataset`` was issued, in UTC (undated or unreadable: the oldest of all; a
    date-time without an offset: read as UTC, since aware and naive ones do not compare)."""
    try:
        at = datetime.fromisoformat(str(graph.value(dataset, DCTERMS.issued)))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def releases_of(graph: Graph, index: str) -> list[str]:
    """Where to read each release ``graph`` (the index at ``index``) lists, oldest first by
    ``dcterms:issued`` (undated ones first): a distribution's ``dcat:accessURL`` (or
    ``downloadURL``), else the dataset's own IRI. Only addresses on the index's own origin
    are followed: an index speaks for its own site, and the app reads what it lists
    unattended. NoReleases when it lists none there."""
    catalogs = set(graph.subjects(RDF.type, DCAT.Catalog))
    listed = {d for c in catalogs for d in graph.objects(c, DCAT.dataset)}
    listed |= set(graph.subjects(RDF.type, DCAT.Dataset))
    home = origin(index)
    datasets = [d for d in listed if isinstance(d, URIRef)]
    if not datasets:
        raise NoReleases(f"the index at {index} lists no releases (no dcat:dataset)")

    places = []
    for dataset in sorted(datasets, key=lambda d: (_issued(graph, d), str(d))):
        urls = sorted(
            str(u)
            for dist in graph.objects(dataset, DCAT.distribution)
            for u in (graph.value(dist, DCAT.accessURL), graph.value(dist, DCAT.downloadURL))
            if isinstance(u, URIRef)
        )
        place = urls[0] if urls else str(dataset)
        if origin(place) != home:
            log.warning(
                "statistics: the index at %s lists %s, on another site: left out", index, place
            )
        elif place not in places:
            places.append(place)
    if not places:
        raise NoReleases(f"the index at {index} lists no releases on its own site")
    return places


@dataclass
class Statistics:
    """What was read of the published statistics, and what could not be (for the page)."""

    means: list[Mean] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


async def fetch(pod: PodClient, urls: Sequence[str], index: str | None = None) -> Statistics:
    """The means published in the releases ``index`` lists (oldest first), then at
    ``urls`` (public documents, read without signing in); an index or a release that does
    not answer, or answers something else, is left out, logged and told in ``problems``."""
    found = Statistics()
    places: list[str] = []
    if index is not None:
        try:
            places = releases_of(await pod.read_graph(index), index)
        except NoReleases as exc:
            found.problems.append(str(exc))
        except (PodClientError, ValueError) as exc:
            found.problems.append(f"the index at {index} could not be read: {exc}")
    for url in [*places, *(u for u in urls if u not in places)]:
        try:
            found.means += published_means(await pod.read_graph(url))
        except (PodClientError, ValueError) as exc:
            found.problems.append(f"the release at {url} could not be read: {exc}")
    for problem in found.problems:
        log.warning("statistics: %s", problem)
    return found
