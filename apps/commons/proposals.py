"""Studies a public body proposes, ready for the authority: "mean monthly electricity
consumption by region" over the energy vocabulary's load curves."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from apps.commons.study import Kind, Statistic, Study, check

ENERGY = "https://w3id.org/solid-pods/vocab/energy#"
SCHEMA_REGION = "http://schema.org/addressRegion"
# DPV purposes: planning the grid is a public benefit, served by statistics.
PUBLIC_BENEFIT = "https://w3id.org/dpv#PublicBenefit"
RESEARCH = "https://w3id.org/dpv#ResearchAndDevelopment"


def monthly_consumption_by_region(
    iri: str,
    body: str,
    authority: str,
    broker: str,
    *,
    year: int,
    regions: tuple[str, ...],
    broker_key: dict[str, Any],
    authority_key: dict[str, Any],
    upper_kwh: Decimal = Decimal(2000),
    epsilon: Decimal = Decimal(1),
    epsilon_per_release: Decimal = Decimal(1),
    min_contributors: int = 5,
    start: date | None = None,
    end: date | None = None,
    proposed: datetime | None = None,
) -> Study:
    study = Study(
        iri=iri,
        title=f"Mean monthly electricity consumption by region, {year}",
        purposes=(PUBLIC_BENEFIT, RESEARCH),
        body=body,
        authority=authority,
        broker=broker,
        statistic=Statistic(
            name="monthly-consumption",
            kind=Kind.MEAN,
            measure=ENERGY + "consumption",
            time_property=ENERGY + "at",
            group_by=SCHEMA_REGION,
            groups=tuple(sorted(regions)),
            periods=tuple(f"{year}-{m:02d}" for m in range(1, 13)),
            lower=Decimal(0),
            upper=upper_kwh,
            resolution=10,
        ),
        epsilon=epsilon,
        epsilon_per_release=epsilon_per_release,
        min_contributors=min_contributors,
        start=start or date(year, 1, 1),
        end=end or date(year + 2, 12, 31),
        broker_key=broker_key,
        authority_key=authority_key,
        proposed=proposed or datetime.now(UTC).replace(microsecond=0),
    )
    check(study)
    return study
