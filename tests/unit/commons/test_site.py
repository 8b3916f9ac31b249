"""The results site: a published release at one URL, HTML for people, Turtle or JSON-LD
for machines by the Accept header, listed on the index; unknown or odd paths are 404s."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from rdflib import RDF, Graph

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
        assert (await client.post(path)).status == 405


def test_an_odd_round_id_is_refused(tmp_path: Path) -> None:
    parties = make_parties(epsilon=Decimal(80), epsilon_per_release=Decimal(40))
    from apps.commons.broker import Release

    bad = Release(parties.study, "../x", "", [], 0, Decimal(1), Decimal(1))
    with pytest.raises(ValueError, match="round id"):
        site.publish(bad, tmp_path, "http://stats.example/")
    assert not any(tmp_path.iterdir())
