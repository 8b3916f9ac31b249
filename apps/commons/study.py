"""A study: what a public body wants to learn, under which privacy terms, as pure values
and as RDF (validated by ``shapes.ttl``), with the canonical bytes the authority signs.

A study has one statistic over a vocabulary property (``measure``) of the pods' records,
summed per pod and per period (the month of ``time_property``) and grouped by a coarse
attribute of the pod (``group_by``, one of ``groups``). Each pod's value for a cell is
clipped to ``[lower, upper]`` and encoded as an integer in units of ``1 / resolution``.
"""

from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from rdflib import RDF, XSD, BNode, Graph, Literal, Namespace, URIRef
from rdflib.compare import to_canonical_graph
from rdflib.namespace import DCTERMS, PROV

import vocab
from vocab.namespaces import COMMONS as CM

DPV = Namespace("https://w3id.org/dpv#")
DOMAIN = "commons"  # the vocabulary whose shapes a study must pass (vocab/commons)


class StudyError(ValueError):
    """A study that is malformed, unapproved, altered or out of its terms."""


class Kind(enum.StrEnum):
    COUNT = "count"  # contributors per cell
    SUM = "sum"  # sum of the clipped per-pod values
    MEAN = "mean"  # sum / count
    HISTOGRAM = "histogram"  # contributors per bin of the clipped value


@dataclass(frozen=True, slots=True)
class Statistic:
    name: str  # short token, e.g. "monthly-consumption"
    kind: Kind
    measure: str  # property IRI whose values a pod sums per period
    time_property: str  # property IRI giving each value's date-time
    group_by: str  # property IRI of the coarse attribute (e.g. a region)
    groups: tuple[str, ...]  # the attribute's values released (others: not contributed)
    periods: tuple[str, ...]  # "YYYY-MM"
    lower: Decimal
    upper: Decimal
    resolution: int = 1  # integer units per unit of the measure
    bins: int = 0  # histogram only: equal bins over [lower, upper]

    def cells(self) -> tuple[tuple[str, str], ...]:
        return tuple((g, p) for g in self.groups for p in self.periods)

    def slots(self) -> int:
        """Integers per cell: the contributor count first, then the value or the bins."""
        return 1 + {Kind.COUNT: 0, Kind.SUM: 1, Kind.MEAN: 1, Kind.HISTOGRAM: self.bins}[self.kind]

    def encoded_upper(self) -> int:
        """The largest integer a pod may put in a value slot."""
        return int(self.upper * self.resolution)


@dataclass(frozen=True, slots=True)
class Study:
    iri: str
    title: str
    purposes: tuple[str, ...]  # DPV purpose IRIs
    body: str  # the public body's WebID (proposes, receives results)
    authority: str  # the data protection authority's WebID (approves, aggregates)
    broker: str  # the broker's WebID (aggregates, runs rounds)
    statistic: Statistic
    epsilon: Decimal  # total privacy budget of the study
    epsilon_per_release: Decimal
    min_contributors: int
    start: date
    end: date
    broker_key: dict[str, Any] = field(default_factory=dict)  # public JWK for its shares
    authority_key: dict[str, Any] = field(default_factory=dict)
    delta: Decimal = Decimal(0)  # pure DP (discrete Laplace): no delta
    proposed: datetime | None = None  # when the body proposed it (prov:generatedAtTime)


def check(study: Study) -> None:
    """StudyError unless the terms are coherent (the shape checks the RDF)."""
    s = study.statistic
    if not s.lower < s.upper or s.lower < 0:
        raise StudyError("clipping bounds must satisfy 0 <= lower < upper")
    if s.resolution < 1:
        raise StudyError("resolution must be at least 1")
    if s.kind is Kind.HISTOGRAM and s.bins < 2:
        raise StudyError("a histogram needs at least 2 bins")
    if not s.groups or not s.periods:
        raise StudyError("a study needs groups and periods")
    if not 0 < study.epsilon_per_release <= study.epsilon:
        raise StudyError("0 < epsilon per release <= epsilon")
    if study.min_contributors < 1:
        raise StudyError("the minimum of contributors per cell is at least 1")
    if study.end < study.start:
        raise StudyError("the study ends before it starts")
    if study.proposed is None or study.proposed.tzinfo is None:
        raise StudyError("a study says when it was proposed, with a time zone")
    if study.delta != 0:
        raise StudyError("the discrete Laplace mechanism is pure DP: delta must be 0")


def to_graph(study: Study) -> Graph:
    g = Graph(bind_namespaces="none")
    g.bind("commons", CM)
    g.bind("dpv", DPV)
    g.bind("dcterms", DCTERMS)
    g.bind("prov", PROV)
    me, s = URIRef(study.iri), study.statistic
    g.add((me, RDF.type, CM.Study))
    g.add((me, DCTERMS.title, Literal(study.title)))
    for purpose in study.purposes:
        g.add((me, DPV.hasPurpose, URIRef(purpose)))
    g.add((me, CM.proposedBy, URIRef(study.body)))
    g.add((me, PROV.wasAttributedTo, URIRef(study.body)))
    if study.proposed is not None:
        g.add(
            (me, PROV.generatedAtTime, Literal(study.proposed.isoformat(), datatype=XSD.dateTime))
        )
    g.add((me, CM.authority, URIRef(study.authority)))
    g.add((me, CM.broker, URIRef(study.broker)))
    g.add((me, CM.epsilon, _decimal(study.epsilon)))
    g.add((me, CM.epsilonPerRelease, _decimal(study.epsilon_per_release)))
    g.add((me, CM.delta, _decimal(study.delta)))
    g.add((me, CM.minContributors, Literal(study.min_contributors, datatype=XSD.integer)))
    g.add((me, CM.startDate, Literal(study.start, datatype=XSD.date)))
    g.add((me, CM.endDate, Literal(study.end, datatype=XSD.date)))
    g.add((me, CM.brokerKey, Literal(_json(study.broker_key))))
    g.add((me, CM.authorityKey, Literal(_json(study.authority_key))))
    stat = BNode()
    g.add((me, CM.statistic, stat))
    g.add((stat, RDF.type, CM.Statistic))
    g.add((stat, CM.name, Literal(s.name)))
    g.add((stat, CM.kind, Literal(s.kind.value)))
    g.add((stat, CM.measure, URIRef(s.measure)))
    g.add((stat, CM.timeProperty, URIRef(s.time_property)))
    g.add((stat, CM.groupBy, URIRef(s.group_by)))
    for value in s.groups:
        g.add((stat, CM.group, Literal(value)))
    for period in s.periods:
        g.add((stat, CM.period, Literal(period)))
    g.add((stat, CM.lower, _decimal(s.lower)))
    g.add((stat, CM.upper, _decimal(s.upper)))
    g.add((stat, CM.resolution, Literal(s.resolution, datatype=XSD.integer)))
    g.add((stat, CM.bins, Literal(s.bins, datatype=XSD.integer)))
    return g


def from_graph(graph: Graph, iri: str) -> Study:
    """The study ``iri`` described in ``graph``; StudyError if the shape or terms fail."""
    report = vocab.validate(graph, DOMAIN)
    if not report.conforms:
        raise StudyError(f"the study does not conform to its shape: {report.summary(5)}")
    me = URIRef(iri)
    if (me, RDF.type, CM.Study) not in graph:
        raise StudyError(f"no study {iri} in the graph")
    stat = graph.value(me, CM.statistic)
    one = _one(graph)
    try:
        statistic = Statistic(
            name=str(one(stat, CM.name)),
            kind=Kind(str(one(stat, CM.kind))),
            measure=str(one(stat, CM.measure)),
            time_property=str(one(stat, CM.timeProperty)),
            group_by=str(one(stat, CM.groupBy)),
            groups=tuple(sorted(str(v) for v in graph.objects(stat, CM.group))),
            periods=tuple(sorted(str(v) for v in graph.objects(stat, CM.period))),
            lower=Decimal(str(one(stat, CM.lower))),
            upper=Decimal(str(one(stat, CM.upper))),
            resolution=int(one(stat, CM.resolution)),
            bins=int(one(stat, CM.bins)),
        )
        study = Study(
            iri=iri,
            title=str(one(me, DCTERMS.title)),
            purposes=tuple(sorted(str(p) for p in graph.objects(me, DPV.hasPurpose))),
            body=str(one(me, CM.proposedBy)),
            authority=str(one(me, CM.authority)),
            broker=str(one(me, CM.broker)),
            statistic=statistic,
            epsilon=Decimal(str(one(me, CM.epsilon))),
            epsilon_per_release=Decimal(str(one(me, CM.epsilonPerRelease))),
            min_contributors=int(one(me, CM.minContributors)),
            start=date.fromisoformat(str(one(me, CM.startDate))),
            end=date.fromisoformat(str(one(me, CM.endDate))),
            broker_key=json.loads(str(one(me, CM.brokerKey))),
            authority_key=json.loads(str(one(me, CM.authorityKey))),
            delta=Decimal(str(one(me, CM.delta))),
            proposed=datetime.fromisoformat(str(graph.value(me, PROV.generatedAtTime))),
        )
    except (ValueError, TypeError) as err:
        raise StudyError(f"malformed study: {err}") from None
    check(study)
    return study


def parse(text: str, iri: str) -> Study:
    graph = Graph()
    try:
        graph.parse(data=text, format="turtle", publicID=iri)
    except Exception as err:  # rdflib raises many kinds
        raise StudyError(f"the study is not Turtle: {err}") from None
    return from_graph(graph, iri)


def turtle(study: Study) -> str:
    return to_graph(study).serialize(format="turtle")


def canonical(graph: Graph) -> bytes:
    """The graph's canonical N-Triples (RDF canonicalization of blank nodes, sorted lines):
    the same bytes for the same content, however it was serialized."""
    lines = to_canonical_graph(graph).serialize(format="nt").splitlines()
    return ("\n".join(sorted(line for line in lines if line.strip())) + "\n").encode()


def digest(study: Study) -> str:
    """SHA-256 (hex) of the study's canonical form: what the authority's approval names."""
    return hashlib.sha256(canonical(to_graph(study))).hexdigest()


def _decimal(value: Decimal) -> Literal:
    """xsd:decimal in one lexical form (2000 and 2000.00 sign the same)."""
    text = format(value.normalize(), "f")
    return Literal(text if "." in text else text + ".0", datatype=XSD.decimal)


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _one(graph: Graph) -> Any:
    def one(node: Any, prop: URIRef) -> Any:
        values = list(graph.objects(node, prop))
        if len(values) != 1:
            raise ValueError(f"{prop} needs exactly one value, has {len(values)}")
        return values[0].toPython() if isinstance(values[0], Literal) else values[0]

    return one
