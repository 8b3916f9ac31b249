"""The index of the published releases as a DCAT catalog, for machines to discover them.

One ``dcat:Catalog`` (the site's ``catalog``) lists every release as a ``dcat:dataset``:
the release's Data Cube dataset (also a ``qb:DataSet``), with its title, when it was
issued (``dcterms:issued``), the study it answers (``prov:wasDerivedFrom``, as in the
cube), its round (``dcterms:identifier``), the months it covers (``dcterms:temporal``)
and where to read it (``dcat:distribution``: Turtle or JSON-LD at the release's URL).
Built from the small index entries ``site.publish`` writes beside each release (pure).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from rdflib import RDF, XSD, BNode, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, PROV

from apps.commons.cube import QB
from vocab.namespaces import COMMONS as CM

TITLE = "Public statistics from consenting pods"
MEDIA_TYPES = ("text/turtle", "application/ld+json")
IANA = "https://www.iana.org/assignments/media-types/"


def _month_bounds(first: str, last: str) -> tuple[date, date] | None:
    """The first day of ``first`` and the last day of ``last`` (both ``YYYY-MM``)."""
    try:
        y0, m0 = (int(p) for p in first.split("-"))
        y1, m1 = (int(p) for p in last.split("-"))
        return date(y0, m0, 1), date(y1, m1, calendar.monthrange(y1, m1)[1])
    except ValueError:
        return None


def catalog(entries: Iterable[Mapping[str, Any]], base: str) -> Graph:
    """The catalog at ``base + "catalog"`` listing ``entries`` (each with its ``url``,
    else its ``slug`` under ``base``)."""
    g = Graph(bind_namespaces="none")
    for prefix, ns in (("dcat", DCAT), ("dcterms", DCTERMS), ("prov", PROV), ("qb", QB)):
        g.bind(prefix, ns)
    g.bind("cm", CM)
    g.bind("xsd", XSD)
    base = base.rstrip("/") + "/"
    me = URIRef(base + "catalog")
    g.add((me, RDF.type, DCAT.Catalog))
    g.add((me, DCTERMS.title, Literal(TITLE)))
    g.add((me, DCAT.landingPage, URIRef(base)))
    for entry in entries:
        url = str(entry.get("url") or base + str(entry["slug"]) + "/")
        dataset = URIRef(url + "dataset")
        g.add((me, DCAT.dataset, dataset))
        for kind in (DCAT.Dataset, QB.DataSet):
            g.add((dataset, RDF.type, kind))
        title = f"{entry.get('title', '')}: round {entry.get('round', '')}"
        g.add((dataset, DCTERMS.title, Literal(title)))
        g.add((dataset, DCTERMS.identifier, Literal(str(entry.get("round", "")))))
        issued = entry.get("issued") or entry.get("published")
        if issued:
            g.add((dataset, DCTERMS.issued, Literal(str(issued), datatype=XSD.dateTime)))
        if entry.get("study"):
            g.add((dataset, PROV.wasDerivedFrom, URIRef(str(entry["study"]))))
        if entry.get("statistic"):
            g.add((dataset, CM.statistic, Literal(str(entry["statistic"]))))
        g.add((dataset, CM.contributions, Literal(int(entry.get("contributions", 0)))))
        periods = entry.get("periods") or []
        bounds = _month_bounds(str(periods[0]), str(periods[-1])) if periods else None
        if bounds is not None:
            when = BNode()
            g.add((dataset, DCTERMS.temporal, when))
            g.add((when, RDF.type, DCTERMS.PeriodOfTime))
            g.add((when, DCAT.startDate, Literal(bounds[0], datatype=XSD.date)))
            g.add((when, DCAT.endDate, Literal(bounds[1], datatype=XSD.date)))
        g.add((dataset, DCAT.landingPage, URIRef(url)))
        for media in MEDIA_TYPES:
            where = BNode()
            g.add((dataset, DCAT.distribution, where))
            g.add((where, RDF.type, DCAT.Distribution))
            g.add((where, DCAT.accessURL, URIRef(url)))
            g.add((where, DCAT.mediaType, URIRef(IANA + media)))
    return g
