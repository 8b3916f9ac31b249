"""The results site: a published release at one URL, HTML for people, Turtle or JSON-LD
for machines by the Accept header, listed on the index and in the DCAT catalog the index
links; unknown or odd paths are 404s."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from rdflib import RDF, Graph, URIRef
from rdflib.namespace import DCAT, DCTERMS, PROV, XSD

from apps.commons import approval, site, study
from apps.commons.cube import QB
from apps.commons.study import CM
from tests.unit.commons.conftest import make_parties
from tests.unit.commons.test_broker import make, population


@pytest.mark.parametrize(
    ("accept", "kind"),
    [
        ("text/html,application/xhtml+xml,*/*;q=0.8", site.HTML),
        ("text/turtle", site.TURTLE),
        ("application/ld+json;q=0.9, text/turtle;q=0.5", site.JSON_LD),
        ("text/turtle;q=0.2, */*;q=0.5", site.HTML),
        ("", site.HTML),
        ("image/png", site.HTML),
    ],
)
def test_preferred(accept: str, kind: str) -> None:
    assert site.preferred(accept) == kind


async def test_published_releases_are_served(tmp_path: Path) -> None:
    parties = make_parties(epsilon=Decimal(80), epsilon_per_release=Decimal(40))
    token = approval.approve(parties.study, parties.signing)
    broker = make(parties, tmp_path)
    urls = []
    for round_id in ("r1", "r2"):
        agents = population(parties, 12)
        await broker.collect(parties.study, study.turtle(parties.study), token, round_id, agents)  # type: ignore[arg-type]
        released = broker.release(parties.study, token, round_id)
        urls.append(site.publish(released, tmp_path / "results", "http://stats.example/"))
    assert urls[0].startswith("http://stats.example/") and urls[0].endswith("-r1/")
    async with TestClient(TestServer(site.site_app(tmp_path / "results"))) as client:
        index = await (await client.get("/")).text()
        assert index.count("<li>") == 2 and "12 contributions" in index
        path = "/" + urls[0].split("/", 3)[3]
        html = await client.get(path, headers={"Accept": "text/html"})
        assert html.status == 200 and html.content_type == site.HTML
        text = await html.text()
        assert parties.study.title in text and "suppressed" in text and "<svg" in text
        assert 'href="../catalog"' in text and 'href="../"' in text  # the index, from a release
        turtle = await client.get(path, headers={"Accept": "text/turtle"})
        assert turtle.content_type == site.TURTLE and turtle.headers["Vary"] == "Accept"
        g = Graph().parse(data=await turtle.text(), format="turtle")
        assert len(list(g.subjects(RDF.type, QB.Observation))) == len(
            parties.study.statistic.cells()
        )
        assert [x.toPython() for x in g.objects(None, CM.epsilonSpent)] == [Decimal(40)]
        ld = await client.get(path, headers={"Accept": "application/ld+json"})
        assert ld.content_type == site.JSON_LD
        assert len(Graph().parse(data=json.dumps(await ld.json()), format="json-ld")) == len(g)
        for missing in ("/0123456789ab-r9/", "/..%2F..%2Fetc/", "/nope/"):
            assert (await client.get(missing)).status == 404
            assert (await client.get(missing + "dataset")).status == 404
        assert (await client.post(path)).status == 405

        # The catalog: linked from the index, every release in it, oldest first by issue.
        assert 'href="catalog"' in index
        listed = await client.get("/catalog")
        assert listed.status == 200 and listed.content_type == site.TURTLE
        cat = Graph().parse(data=await listed.text(), format="turtle")
        [me] = cat.subjects(RDF.type, DCAT.Catalog)
        assert me == URIRef("http://stats.example/catalog")
        # issued to the microsecond: two rounds published in one second keep their order
        datasets = sorted(cat.objects(me, DCAT.dataset), key=lambda d: cat.value(d, DCTERMS.issued))
        assert [str(d) for d in datasets] == [u + "dataset" for u in urls]
        for ds, round_id in zip(datasets, ("r1", "r2"), strict=True):
            assert cat.value(ds, PROV.wasDerivedFrom) == URIRef(parties.study.iri)
            assert str(cat.value(ds, DCTERMS.identifier)) == round_id
            assert cat.value(ds, DCTERMS.issued).datatype == XSD.dateTime
            when = cat.value(ds, DCTERMS.temporal)
            assert str(cat.value(when, DCAT.startDate)) == "2025-01-01"
            assert str(cat.value(when, DCAT.endDate)) == "2025-12-31"
            assert (ds, RDF.type, QB.DataSet) in cat
            # the dataset's IRI and its distributions all answer with its cube
            places = {
                str(ds),
                *(str(cat.value(d, DCAT.accessURL)) for d in cat.objects(ds, DCAT.distribution)),
            }
            assert places == {str(ds), str(ds)[: -len("dataset")]}
            for where in places:
                got = await client.get(
                    "/" + where.split("/", 3)[3], headers={"Accept": "text/turtle"}
                )
                cube = Graph().parse(data=await got.text(), format="turtle")
                assert (ds, RDF.type, QB.DataSet) in cube
        # "/" for a machine is the catalog too, in JSON-LD when asked
        ld = await client.get("/", headers={"Accept": "application/ld+json"})
        assert ld.content_type == site.JSON_LD
        assert len(Graph().parse(data=await ld.text(), format="json-ld")) == len(cat)


async def test_an_empty_site_has_an_empty_catalog(tmp_path: Path) -> None:
    async with TestClient(TestServer(site.site_app(tmp_path))) as client:
        got = await client.get("/", headers={"Accept": "text/turtle"})
        cat = Graph().parse(data=await got.text(), format="turtle")
        [me] = cat.subjects(RDF.type, DCAT.Catalog)
        assert list(cat.objects(me, DCAT.dataset)) == []


def test_an_odd_round_id_is_refused(tmp_path: Path) -> None:
    parties = make_parties(epsilon=Decimal(80), epsilon_per_release=Decimal(40))
    from apps.commons.broker import Release

    bad = Release(parties.study, "../x", "", [], 0, Decimal(1), Decimal(1))
    with pytest.raises(ValueError, match="round id"):
        site.publish(bad, tmp_path, "http://stats.example/")
    assert not any(tmp_path.iterdir())
