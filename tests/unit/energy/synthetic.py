"""Synthetic load curves for the energy tests: the connector's generator and mapping,
so the documents are what a pod holds after a push."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from rdflib import Graph

from apps.connector import mapping, parsers, synthetic
from apps.connector.records import LoadCurve
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


def documents(files: list[Path]) -> list[mapping.Document]:
    return mapping.load_curve_documents(curves(files), CONTAINER, PROV)


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
