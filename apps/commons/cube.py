"""A release as an RDF Data Cube (qb:) dataset, with its provenance (PROV-O): the study,
the authority's approval, the epsilon spent, the mechanism, contributors per cell."""

from __future__ import annotations

from rdflib import RDF, XSD, BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, PROV

from apps.commons.broker import Release
from apps.commons.mechanism import MECHANISM
from vocab.namespaces import COMMONS as CM

QB = Namespace("http://purl.org/linked-data/cube#")


def cube(release: Release, base: str) -> Graph:
    """The release's dataset at ``base`` (an IRI ending in / or #)."""
    g = Graph(bind_namespaces="none")
    for prefix, ns in (("qb", QB), ("prov", PROV), ("cm", CM), ("dcterms", DCTERMS)):
        g.bind(prefix, ns)
    study, stat = release.study, release.study.statistic
    ds, dsd = URIRef(base + "dataset"), URIRef(base + "structure")
    g.add((ds, RDF.type, QB.DataSet))
    g.add((ds, DCTERMS.title, Literal(f"{study.title}: round {release.round}")))
    g.add((ds, QB.structure, dsd))
    g.add((dsd, RDF.type, QB.DataStructureDefinition))
    for n, (prop, kind) in enumerate(
        (
            (CM.group, QB.dimension),
            (CM.period, QB.dimension),
            (CM.value, QB.measure),
            (CM.contributors, QB.measure),
            (CM.errorBound, QB.measure),
        ),
        1,
    ):
        comp = BNode()
        g.add((dsd, QB.component, comp))
        g.add((comp, kind, prop))
        g.add((comp, QB.order, Literal(n)))
    activity = URIRef(base + "release")
    g.add((ds, PROV.wasGeneratedBy, activity))
    g.add((ds, PROV.wasDerivedFrom, URIRef(study.iri)))
    g.add((activity, RDF.type, PROV.Activity))
    g.add((activity, PROV.used, URIRef(study.iri)))
    g.add((activity, CM.approval, Literal(release.approval)))
    g.add((activity, PROV.wasAssociatedWith, URIRef(study.broker)))
    g.add((activity, PROV.wasAssociatedWith, URIRef(study.authority)))
    g.add((activity, CM.mechanism, Literal(MECHANISM)))
    g.add((activity, CM.epsilonSpent, Literal(release.epsilon, datatype=XSD.decimal)))
    g.add((activity, CM.epsilonSpentTotal, Literal(release.spent, datatype=XSD.decimal)))
    g.add((activity, CM.contributions, Literal(release.contributions)))
    g.add((ds, CM.statistic, Literal(f"{stat.kind.value} of <{stat.measure}>")))
    for n, cell in enumerate(release.cells):
        obs = URIRef(f"{base}obs-{n}")
        g.add((obs, RDF.type, QB.Observation))
        g.add((obs, QB.dataSet, ds))
        g.add((obs, CM.group, Literal(cell.group)))
        g.add((obs, CM.period, Literal(cell.period, datatype=XSD.gYearMonth)))
        if cell.suppressed:
            g.add((obs, CM.suppressed, Literal(True)))
            continue
        g.add((obs, CM.contributors, Literal(cell.contributors)))
        if cell.value is not None:
            g.add((obs, CM.value, Literal(cell.value, datatype=XSD.decimal)))
        if cell.bound is not None:
            g.add((obs, CM.errorBound, Literal(cell.bound, datatype=XSD.decimal)))
        if cell.bins:
            g.add((obs, CM.binCounts, Literal(" ".join(str(b) for b in cell.bins))))
    return g
