"""Synthetic load curves for the energy tests: the connector's generator and mapping,
so the documents are what a pod holds after a push."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from rdflib import Graph

from apps.commons import cube, mechanism, shares
from apps.commons.broker import Release
from apps.commons.proposals import monthly_consumption_by_region
from apps.commons.study import Kind
from apps.connector import mapping, parsers, synthetic
from apps.connector.records import LoadCurve
from apps.energy.homes import SCHEMA
from apps.energy.records import Reading, readings_of

CONTAINER = "https://pod.example/alice/energy/"
PROV = mapping.Provenance(
    "https://energy.example/profile/card#me", datetime(2024, 4, 1, tzinfo=UTC), "batch-1"
)


def source_files(root: Path, months: int, first: str = "2023-11") -> list[Path]:
    synthetic.generate(root, 1, months, first=first, energy=True)
    return sorted((root / "energy").rglob("load-curve-*.csv"))


def curves(files: list[Path]) -> list[LoadCurve]:
    return [c for f in files for c in parsers.parse(f) if isinstance(c, LoadCurve)]


def documents(files: list[Path], region: str | None = None) -> list[mapping.Document]:
    return mapping.load_curve_documents(curves(files), CONTAINER, PROV, region)


def pod_readings(files: list[Path]) -> list[Reading]:
    found: list[Reading] = []
    for doc in documents(files):
        graph = Graph().parse(data=doc.graph.serialize(format="turtle"), format="turtle")
        found += readings_of(graph)[0]
    return found


def direct_monthly(files: list[Path]) -> dict[str, Decimal]:
    """kWh per month summed straight from the parsed source files."""
    out: dict[str, Decimal] = {}
    for curve in curves(files):
        for at, kwh in curve.points:
            key = at.strftime("%Y-%m")
            out[key] = out.get(key, Decimal(0)) + kwh
    return out


def home_document(region: str) -> str:
    """Where the home is, as a person's energy folder may state it (what the commons'
    agents group by)."""
    return f'<#home> <{SCHEMA.addressRegion}> "{region}" .\n'


def made_release(
    year: int, means: dict[tuple[str, str], Decimal | None], kind: Kind = Kind.MEAN
) -> Release:
    """A release of "mean monthly consumption by region" as the broker makes it: a cell
    per (region, month), None for a suppressed one."""
    study = monthly_consumption_by_region(
        "https://ademe.example/studies/grid#study",
        "https://ademe.example/profile/card#me",
        "https://cnil.example/profile/card#me",
        "https://broker.example/profile/card#me",
        year=year,
        regions=tuple(sorted({g for g, _ in means})),
        broker_key=shares.new_key("broker").export_public(as_dict=True),
        authority_key=shares.new_key("authority").export_public(as_dict=True),
    )
    if kind is not Kind.MEAN:
        study = replace(study, statistic=replace(study.statistic, kind=kind))
    cells = [
        mechanism.Cell(g, p, 0, None, suppressed=True)
        if v is None
        else mechanism.Cell(g, p, 40, v, bound=Decimal("12.5"))
        for (g, p), v in sorted(means.items())
    ]
    return Release(study, "r1", "approval", cells, 40, Decimal(1), Decimal(1))


def release(
    year: int,
    means: dict[tuple[str, str], Decimal | None],
    kind: Kind = Kind.MEAN,
    base: str = "https://broker.example/results/grid/r1/",
) -> Graph:
    """That release as the broker publishes it (its own ``cube``)."""
    return cube.cube(made_release(year, means, kind), base)
