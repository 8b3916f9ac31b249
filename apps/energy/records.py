"""Load-curve readings and tariffs read from RDF through the energy vocabulary.

A reading is an ``energy:LoadCurvePoint`` (``energy:at``, ``energy:consumption`` in kWh
over the curve's ``energy:granularity``) of an ``energy:LoadCurve`` whose
``energy:meter`` has an ``energy:deliveryPoint``. A point without a time or a
consumption is skipped and counted, never guessed. Times keep their own UTC offset:
days and months are the meter's local ones, as the operator dated them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from rdflib import RDF, Graph

from vocab.namespaces import ENERGY


@dataclass(frozen=True, slots=True)
class Reading:
    meter: str  # the delivery point (PRM), else the meter's IRI
    at: datetime  # start of the interval, with its offset
    kwh: Decimal

    @property
    def day(self) -> str:
        return self.at.date().isoformat()

    @property
    def month(self) -> str:
        return f"{self.at.year:04d}-{self.at.month:02d}"


@dataclass(frozen=True, slots=True)
class Tariff:
    name: str
    price: Decimal  # €/kWh (peak hours when there is an off-peak price)
    off_peak_price: Decimal | None  # €/kWh between 22:00 and 06:00
    monthly: Decimal  # subscription, € a month

    def to_json(self) -> dict[str, Any]:
        off = None if self.off_peak_price is None else str(self.off_peak_price)
        return {
            "name": self.name,
            "price": str(self.price),
            "monthly": str(self.monthly),
            "off_peak_price": off,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Tariff:
        off = data.get("off_peak_price")
        return cls(
            str(data["name"]),
            Decimal(data["price"]),
            None if off is None else Decimal(off),
            Decimal(data["monthly"]),
        )


# Used when the pod holds no contract: an example, said so on the page (French regulated
# "Tarif Bleu", option Heures Creuses, 6 kVA, February 2024, taxes included).
EXAMPLE_TARIFF = Tariff(
    "an example tariff (French regulated, off-peak option, 6 kVA)",
    Decimal("0.2700"),
    Decimal("0.2068"),
    Decimal("15.65"),
)


def _decimal(value: Any) -> Decimal | None:
    try:
        return None if value is None else Decimal(str(value))
    except InvalidOperation:
        return None


def readings_of(graph: Graph) -> tuple[list[Reading], int]:
    """The readings in ``graph`` and how many points were skipped."""
    found: list[Reading] = []
    skipped = 0
    for curve in graph.subjects(RDF.type, ENERGY.LoadCurve):
        meter = graph.value(curve, ENERGY.meter)
        prm = graph.value(meter, ENERGY.deliveryPoint) if meter is not None else None
        name = str(prm or meter or curve)
        for point in graph.objects(curve, ENERGY.point):
            at, kwh = (
                graph.value(point, ENERGY.at),
                _decimal(graph.value(point, ENERGY.consumption)),
            )
            try:
                when = datetime.fromisoformat(str(at)) if at is not None else None
            except ValueError:
                when = None
            if when is None or when.tzinfo is None or kwh is None:
                skipped += 1
                continue
            found.append(Reading(name, when, kwh))
    found.sort(key=lambda r: (r.at, r.meter))
    return found, skipped


def tariff_of(graph: Graph) -> Tariff | None:
    """The first ``energy:Tariff`` with a price per kWh in ``graph`` (a supply contract's)."""
    for node in sorted(graph.subjects(RDF.type, ENERGY.Tariff), key=str):
        price = _decimal(graph.value(node, ENERGY.pricePerKWh))
        if price is None:
            continue
        name = graph.value(node, ENERGY.tariffName)
        return Tariff(
            str(name or "your contract's tariff"),
            price,
            _decimal(graph.value(node, ENERGY.offPeakPricePerKWh)),
            _decimal(graph.value(node, ENERGY.monthlySubscription)) or Decimal(0),
        )
    return None
