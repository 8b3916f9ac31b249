"""Records -> RDF documents in the pod vocabularies, one document per account and month
(per delivery point and part of a month), every record with its provenance.

A document's name is stable (``transactions-<IBAN>-<YYYY-MM>``,
``load-curve-<PRM>-<YYYY-MM-DD>`` from the first day of the part) and so are the IRIs
in it (``#t-<source id>``, ``#p-<interval start>``): re-running an import makes the same
resources, which is what makes pushing idempotent. Provenance on every record:
``prov:wasAttributedTo`` the organisation's WebID, ``prov:generatedAtTime``,
``prov:wasDerivedFrom`` the source file (``urn:sha256:<digest>``, labelled with its
name) and ``prov:wasGeneratedBy`` the batch.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from rdflib import RDF, RDFS, XSD, Graph, Literal, Namespace, URIRef

import vocab
from apps.connector.records import LoadCurve, Statement, Transaction

CURVE_DAYS = 8  # a load curve document holds at most 8 days (a month's last part, 4 to 7 more)
BANK = Namespace("https://w3id.org/solid-pods/vocab/bank#")
ENERGY = Namespace("https://w3id.org/solid-pods/vocab/energy#")
DOC = Namespace("https://w3id.org/solid-pods/vocab/doc#")
PROV = Namespace("http://www.w3.org/ns/prov#")
UNIT = Namespace("http://qudt.org/vocab/unit/")
SCHEMA = Namespace("http://schema.org/")

CATEGORIES = (
    "Income",
    "Salary",
    "SocialBenefits",
    "Housing",
    "Rent",
    "Energy",
    "Food",
    "Groceries",
    "Restaurants",
    "Transport",
    "Fuel",
    "PublicTransport",
    "Health",
    "Leisure",
    "Shopping",
    "Subscriptions",
    "Telecom",
    "Insurance",
    "Taxes",
    "BankingFees",
    "LoanRepayment",
    "Savings",
    "Cash",
    "InternalTransfer",
    "Uncategorised",
)
# Label keyword -> bank category; an organisation's TOML [categories] table replaces it.
DEFAULT_RULES: dict[str, str] = {
    "SALAIRE": "Salary",
    "CAF": "SocialBenefits",
    "LOYER": "Rent",
    "EDF": "Energy",
    "ENGIE": "Energy",
    "MONOPRIX": "Groceries",
    "CARREFOUR": "Groceries",
    "BOULANGERIE": "Groceries",
    "RESTAURANT": "Restaurants",
    "CAFE": "Restaurants",
    "SNCF": "PublicTransport",
    "RATP": "PublicTransport",
    "TOTAL": "Fuel",
    "PHARMACIE": "Health",
    "NETFLIX": "Subscriptions",
    "SPOTIFY": "Subscriptions",
    "ORANGE": "Telecom",
    "FREE MOBILE": "Telecom",
    "ASSURANCE": "Insurance",
    "DGFIP": "Taxes",
    "FRAIS": "BankingFees",
    "ECHEANCE PRET": "LoanRepayment",
    "EPARGNE": "Savings",
    "RETRAIT": "Cash",
}


@dataclass(frozen=True)
class Provenance:
    organisation: str  # the organisation's WebID
    generated_at: datetime  # with a time zone
    batch: str  # an id for this run of the connector


@dataclass
class Document:
    """One resource to write: its name in the container, its graph, how many records."""

    name: str
    period: str  # YYYY-MM
    graph: Graph
    records: int
    sources: tuple[str, ...]


def check_rules(rules: Mapping[str, str]) -> dict[str, str]:
    """Keyword -> category rules, each category checked against bank:Categories."""
    wrong = sorted(c for c in rules.values() if c not in CATEGORIES)
    if wrong:
        raise ValueError(f"unknown bank categories {wrong}: use {', '.join(CATEGORIES)}")
    return {k.upper(): v for k, v in rules.items()}


def category(label: str, rules: Mapping[str, str]) -> str:
    """The first rule whose keyword is a whole word (or words) of the label: "CAF" is the
    family allowance office, not the first letters of "CAFE"."""
    upper = label.upper()
    return next((c for k, c in rules.items() if _has_words(upper, k.upper())), "Uncategorised")


def _has_words(text: str, words: str) -> bool:
    return re.search(rf"(?<![A-Z0-9]){re.escape(words)}(?![A-Z0-9])", text) is not None


def source_iri(path: Path) -> URIRef:
    """The source file by content: the same bytes are the same source on every run."""
    return URIRef("urn:sha256:" + hashlib.sha256(path.read_bytes()).hexdigest())


def _segment(text: str) -> str:
    """A source identifier as a fragment: letters, digits, ``-_.``; others as ``~XX``."""
    return re.sub(r"[^A-Za-z0-9_.-]", lambda m: f"~{ord(m[0]):02X}", text)


def _money(value: Decimal) -> Literal:
    return Literal(f"{value:.2f}", datatype=XSD.decimal)


def provenance(graph: Graph, node: URIRef, prov: Provenance, source: URIRef, batch: URIRef) -> None:
    graph.add((node, PROV.wasAttributedTo, URIRef(prov.organisation)))
    graph.add(
        (node, PROV.generatedAtTime, Literal(prov.generated_at.isoformat(), datatype=XSD.dateTime))
    )
    graph.add((node, PROV.wasDerivedFrom, source))
    graph.add((node, PROV.wasGeneratedBy, batch))


def describe_sources(
    graph: Graph, doc: str, prov: Provenance, sources: Mapping[URIRef, Path]
) -> URIRef:
    batch = URIRef(doc + "#batch")
    graph.add((batch, RDF.type, PROV.Activity))
    graph.add((batch, RDFS.label, Literal(prov.batch)))
    graph.add((batch, PROV.wasAssociatedWith, URIRef(prov.organisation)))
    for iri, path in sources.items():
        graph.add((iri, RDF.type, PROV.Entity))
        graph.add((iri, RDFS.label, Literal(path.name)))
        graph.add((batch, PROV.used, iri))
    return batch


def bank_documents(
    statements: Iterable[Statement],
    container: str,
    holder: str,
    prov: Provenance,
    rules: Mapping[str, str] = DEFAULT_RULES,
    institution: str | None = None,
) -> list[Document]:
    """One document per account and booking month. A transaction listed by two source
    files (overlapping statements) is written once."""
    months: dict[tuple[str, str], dict[str, tuple[Transaction, Path]]] = defaultdict(dict)
    accounts: dict[str, Statement] = {}
    balances: dict[tuple[str, str], tuple[date, Decimal]] = {}
    for stmt in statements:
        accounts.setdefault(stmt.iban, stmt)
        for tx in stmt.transactions:
            months[(stmt.iban, tx.booking_date.strftime("%Y-%m"))].setdefault(
                tx.id, (tx, stmt.source)
            )
        if stmt.balance is not None and stmt.balance_date is not None:
            key = (stmt.iban, stmt.balance_date.strftime("%Y-%m"))
            if key not in balances or balances[key][0] < stmt.balance_date:
                balances[key] = (stmt.balance_date, stmt.balance)
    docs = []
    for (iban, period), txs in sorted(months.items()):
        name = f"transactions-{iban}-{period}"
        url = container + name
        graph = Graph()
        graph.bind("bank", BANK)
        graph.bind("doc", DOC)
        graph.bind("prov", PROV)
        sources = {source_iri(p): p for _, p in txs.values()}
        by_path = {p: iri for iri, p in sources.items()}
        batch = describe_sources(graph, url, prov, sources)
        stmt = accounts[iban]
        account = URIRef(url + "#account")
        graph.add((account, RDF.type, BANK.CurrentAccount))
        graph.add((account, BANK.iban, Literal(iban)))
        if stmt.bic:
            graph.add((account, BANK.bic, Literal(stmt.bic)))
        graph.add((account, BANK.institution, URIRef(institution or prov.organisation)))
        graph.add((account, BANK.holder, URIRef(holder)))
        graph.add((account, DOC.currency, Literal(stmt.currency)))
        if (iban, period) in balances:
            when, amount = balances[(iban, period)]
            graph.add((account, BANK.balance, _money(amount)))
            graph.add((account, BANK.balanceDate, Literal(when, datatype=XSD.date)))
        provenance(
            graph,
            account,
            prov,
            by_path[stmt.source] if stmt.source in by_path else next(iter(sources)),
            batch,
        )
        for tx, path in sorted(txs.values(), key=lambda v: (v[0].booking_date, v[0].id)):
            node = URIRef(f"{url}#t-{_segment(tx.id)}")
            add = graph.add
            add((node, RDF.type, BANK.Transaction))
            add((node, BANK.account, account))
            add((node, BANK.bookingDate, Literal(tx.booking_date, datatype=XSD.date)))
            if tx.value_date:
                add((node, BANK.valueDate, Literal(tx.value_date, datatype=XSD.date)))
            add((node, BANK.amount, _money(tx.amount)))
            add((node, DOC.currency, Literal(tx.currency)))
            add((node, BANK.label, Literal(tx.label)))
            if tx.counterparty_name:
                add((node, BANK.counterpartyName, Literal(tx.counterparty_name)))
            if tx.counterparty_iban:
                add((node, BANK.counterpartyIban, Literal(tx.counterparty_iban)))
            if tx.reference:
                add((node, BANK.reference, Literal(tx.reference)))
            add((node, BANK.category, BANK[category(tx.label, rules)]))
            if tx.kind:
                add((node, BANK.transactionType, BANK[tx.kind]))
            if tx.balance_after is not None:
                add((node, BANK.balanceAfter, _money(tx.balance_after)))
            provenance(graph, node, prov, by_path[path], batch)
        docs.append(
            Document(name, period, graph, len(txs), tuple(p.name for p in sources.values()))
        )
    return docs


def load_curve_documents(
    curves: Sequence[LoadCurve], container: str, prov: Provenance, region: str | None = None
) -> list[Document]:
    """One document per delivery point and part of a month (days 1-8, 9-16, 17-24, 25-):
    the meter and that part's curve. A month of half-hourly points in one document is
    ~6,000 triples, more than a pod should have to parse and validate in one request.
    With the home's ``region``, the meter's address gives it (``schema:addressRegion``,
    nothing finer): what statistics by region group the home by."""
    months: dict[tuple[str, str], dict[datetime, tuple[Decimal, LoadCurve]]] = defaultdict(dict)
    for curve in curves:
        for at, kwh in curve.points:
            part = f"{at:%Y-%m}-{min(3, (at.day - 1) // CURVE_DAYS) * CURVE_DAYS + 1:02d}"
            months[(curve.prm, part)].setdefault(at, (kwh, curve))
    docs = []
    for (prm, part), points in sorted(months.items()):
        period = part[:7]
        name = f"load-curve-{prm}-{part}"
        url = container + name
        graph = Graph()
        graph.bind("energy", ENERGY)
        graph.bind("prov", PROV)
        graph.bind("unit", UNIT)
        graph.bind("schema", SCHEMA)
        used = {c.source: c for _, c in points.values()}
        sources = {source_iri(p): p for p in used}
        by_path = {p: iri for iri, p in sources.items()}
        batch = describe_sources(graph, url, prov, sources)
        first = next(iter(used.values()))
        meter, curve = URIRef(url + "#meter"), URIRef(url + "#curve")
        graph.add((meter, RDF.type, ENERGY.ElectricityMeter))
        graph.add((meter, ENERGY.deliveryPoint, Literal(prm)))
        if region:
            address = URIRef(url + "#address")
            graph.add((meter, SCHEMA.address, address))
            graph.add((address, RDF.type, SCHEMA.PostalAddress))
            graph.add((address, SCHEMA.addressRegion, Literal(region)))
        provenance(graph, meter, prov, by_path[first.source], batch)
        ordered = sorted(points)
        graph.add((curve, RDF.type, ENERGY.LoadCurve))
        graph.add((curve, ENERGY.meter, meter))
        graph.add((curve, ENERGY.unit, UNIT["KiloW-HR"]))
        minutes = int(first.step.total_seconds() // 60)
        duration = "PT1H" if minutes == 60 else f"PT{minutes}M"
        graph.add((curve, ENERGY.granularity, Literal(duration, datatype=XSD.duration)))
        graph.add((curve, ENERGY.start, Literal(ordered[0].isoformat(), datatype=XSD.dateTime)))
        end = ordered[-1] + first.step
        graph.add((curve, ENERGY.end, Literal(end.isoformat(), datatype=XSD.dateTime)))
        provenance(graph, curve, prov, by_path[first.source], batch)
        for at in ordered:
            kwh, _ = points[at]
            # In UTC: local time repeats an hour when summer time ends, and both of that
            # hour's intervals must stay two points.
            point = URIRef(f"{url}#p-{at.astimezone(UTC).strftime('%Y%m%dT%H%MZ')}")
            graph.add((curve, ENERGY.point, point))
            graph.add((point, RDF.type, ENERGY.LoadCurvePoint))
            graph.add((point, ENERGY.at, Literal(at.isoformat(), datatype=XSD.dateTime)))
            graph.add((point, ENERGY.consumption, Literal(f"{kwh:f}", datatype=XSD.decimal)))
        docs.append(Document(name, period, graph, len(points), tuple(p.name for p in used)))
    return docs


def validate(doc: Document, domain: str) -> str | None:
    """None when ``doc`` passes ``domain``'s shapes, else the SHACL summary."""
    report = vocab.validate(doc.graph, domain)
    return None if report.conforms else report.summary()


def n3_insert(graph: Graph) -> str:
    """An N3 Patch that inserts ``graph`` (no blank nodes, so inserting twice adds
    nothing). The triples are written as N-Triples lines (valid N3): several times
    faster to write than pretty Turtle, and no slower for the pod to read."""
    return (
        "@prefix solid: <http://www.w3.org/ns/solid/terms#> .\n"
        "_:patch a solid:InsertDeletePatch ;\n  solid:inserts {\n"
        + graph.serialize(format="nt")
        + "  } .\n"
    )
