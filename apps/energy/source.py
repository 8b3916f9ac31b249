"""The person's load curves: found (type index, else the declared ``energy/``) and read
through ``apps.webapp.documents`` (cached per document in the app's own folder); the
contract's tariff when one of those documents holds it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from rdflib import Graph

from apps.energy.homes import region_of
from apps.energy.records import Reading, Tariff, readings_of, tariff_of
from apps.webapp.documents import NoAccess, Place, Progress, locate, read_cached
from client import PodClient
from vocab.namespaces import ENERGY

CACHE_VERSION = 2  # 2: each document's region
WHAT = "energy data"
__all__ = ["Loaded", "NoAccess", "Place", "extract", "find", "load"]


@dataclass
class Loaded:
    readings: list[Reading]
    documents: int
    from_cache: int
    tariff: Tariff | None = None
    skipped: int = 0
    region: str | None = None  # where the home is, as a document states it
    refused: list[str] = field(default_factory=list)
    seconds: float = 0.0


async def find(pod: PodClient, webid: str, data_path: str, own_path: str) -> Place:
    return await locate(pod, webid, str(ENERGY.LoadCurve), data_path, own_path)


def extract(graph: Graph) -> dict[str, Any]:
    """What the cache keeps of one document: per meter, [start, kWh] pairs (compact)."""
    readings, skipped = readings_of(graph)
    meters: dict[str, list[list[str]]] = {}
    for r in readings:
        meters.setdefault(r.meter, []).append([r.at.isoformat(), str(r.kwh)])
    tariff = tariff_of(graph)
    return {
        "meters": meters,
        "skipped": skipped,
        "tariff": tariff and tariff.to_json(),
        "region": region_of(graph),
    }


async def load(pod: PodClient, place: Place, progress: Progress | None = None) -> Loaded:
    read = await read_cached(
        pod, place, WHAT, "cache.json", CACHE_VERSION, extract, progress=progress
    )
    result = Loaded([], read.count, read.from_cache, refused=read.refused, seconds=read.seconds)
    for doc in read.documents.values():
        for meter, points in doc["meters"].items():
            for at, kwh in points:
                result.readings.append(Reading(meter, datetime.fromisoformat(at), Decimal(kwh)))
        result.skipped += int(doc.get("skipped", 0))
        if result.tariff is None and doc.get("tariff"):
            result.tariff = Tariff.from_json(doc["tariff"])
        result.region = result.region or doc.get("region")
    result.readings.sort(key=lambda r: (r.at, r.meter))
    return result
