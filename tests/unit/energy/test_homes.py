""" "Homes like mine": the broker's published release read back by the energy app, matched
to the home's region and the person's months, and drawn on the page only when it exists."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from rdflib import Graph

from apps.commons.study import Kind
from apps.energy import homes
from apps.energy.records import EXAMPLE_TARIFF, Reading
from apps.energy.source import extract
from apps.energy.web import dashboard
from tests.unit.energy.synthetic import (
    documents,
    home_document,
    made_release,
    pod_readings,
    release,
    source_files,
)

MEANS = {
    ("Bretagne", "2024-01"): Decimal("612.4"),
    ("Bretagne", "2024-02"): Decimal("580.0"),
    ("Bretagne", "2024-03"): None,  # suppressed: too few homes
    ("Occitanie", "2024-01"): Decimal("401.9"),
}


def published(graph: Graph) -> list[homes.Mean]:
    # through Turtle, as the app reads the published document
    text = graph.serialize(format="turtle")
    return homes.published_means(Graph().parse(data=text, format="turtle"))


@pytest.fixture(scope="module")
def readings(tmp_path_factory: pytest.TempPathFactory) -> list[Reading]:
    files = source_files(tmp_path_factory.mktemp("src"), months=3, first="2024-01")
    return pod_readings(files)


def test_the_published_cells_are_read_suppressed_ones_left_out() -> None:
    means = published(release(2024, MEANS))
    got = {(m.group, m.period): (m.kwh, m.bound, m.homes) for m in means}
    assert got == {
        ("Bretagne", "2024-01"): (Decimal("612.4"), Decimal("12.5"), 40),
        ("Bretagne", "2024-02"): (Decimal("580.0"), Decimal("12.5"), 40),
        ("Occitanie", "2024-01"): (Decimal("401.9"), Decimal("12.5"), 40),
    }
    assert all(m.source.startswith("Mean monthly electricity consumption by region") for m in means)


def test_another_statistic_is_not_taken_for_the_mean() -> None:
    assert published(release(2024, MEANS, kind=Kind.SUM)) == []
    assert homes.published_means(Graph()) == []


def test_like_mine_is_the_homes_region_over_the_persons_months() -> None:
    means = published(release(2024, MEANS))
    mine = homes.like_mine(means, "Bretagne", ["2023-12", "2024-01", "2024-02", "2024-03"])
    assert {m: v.kwh for m, v in mine.items()} == {
        "2024-01": Decimal("612.4"),
        "2024-02": Decimal("580.0"),
    }
    assert homes.like_mine(means, None, ["2024-01"]) == {}
    assert homes.like_mine(means, "Corse", ["2024-01"]) == {}
    later = [*means, homes.Mean("Bretagne", "2024-01", Decimal(1), None, 9, "round 2")]
    assert homes.like_mine(later, "Bretagne", ["2024-01"])["2024-01"].source == "round 2"


def test_the_region_comes_from_the_energy_folder_and_survives_the_cache(tmp_path: Path) -> None:
    graph = Graph().parse(
        data=home_document("Bretagne"), format="turtle", publicID="https://p/e/home"
    )
    assert homes.region_of(graph) == "Bretagne"
    assert extract(graph)["region"] == "Bretagne"
    assert homes.region_of(Graph()) is None
    # as the energy supplier's connector writes it, with the meter
    [doc, *_] = documents(source_files(tmp_path, months=1, first="2024-01"), region="Bretagne")
    pushed = Graph().parse(data=doc.graph.serialize(format="turtle"), format="turtle")
    assert homes.region_of(pushed) == "Bretagne" and extract(pushed)["region"] == "Bretagne"


def test_the_page_shows_the_line_only_when_the_data_exists(readings: list[Reading]) -> None:
    means = published(release(2024, MEANS))
    values = dashboard(readings, "2024-02", EXAMPLE_TARIFF, means, "Bretagne")
    assert values["like_mine"].kwh == Decimal("580.0")
    assert values["like_mine_months"] == 2
    chart = values["monthly_chart"]
    assert chart.count("<circle") == 2 and "Homes like mine (Bretagne)" in chart
    assert "580.0" in chart  # the point's tooltip
    # March: its cell was suppressed; the line still shows the other months
    march = dashboard(readings, "2024-03", EXAMPLE_TARIFF, means, "Bretagne")
    assert march["like_mine"] is None and march["monthly_chart"].count("<circle") == 2
    for hidden in (
        dashboard(readings, "2024-02", EXAMPLE_TARIFF),  # no statistics published
        dashboard(readings, "2024-02", EXAMPLE_TARIFF, means, None),  # region unknown
        dashboard(readings, "2024-02", EXAMPLE_TARIFF, means, "Corse"),  # none for it
    ):
        assert hidden["like_mine"] is None and hidden["like_mine_months"] == 0
        assert "<circle" not in hidden["monthly_chart"]
        assert "Homes like mine" not in hidden["monthly_chart"]


async def test_fetch_leaves_out_an_address_that_does_not_answer(tmp_path: Path) -> None:
    from client import PodClient

    async with PodClient() as pod:
        found = await homes.fetch(pod, ["http://127.0.0.1:9/none.ttl"])
    assert found.means == [] and "http://127.0.0.1:9/none.ttl" in found.problems[0]


def test_the_brokers_own_index_lists_its_releases_oldest_first(tmp_path: Path) -> None:
    """The catalog ``apps.commons.site`` writes, read as the app reads it: each release's
    address (where its cube answers), oldest first whatever the order of the rounds."""
    from apps.commons import site

    made = made_release(2024, MEANS)
    first, second = (
        site.publish(replace(made, round=r), tmp_path, "https://stats.example/")
        for r in ("r1", "r2")
    )
    # r2 was issued the day before r1 (a broker's clock, or a round published late)
    entry = tmp_path / second.rstrip("/").rsplit("/", 1)[1] / "entry.json"
    record = json.loads(entry.read_text(encoding="utf-8"))
    entry.write_text(json.dumps({**record, "issued": "2020-01-01T00:00:00.000001+00:00"}))
    site.write_catalog(tmp_path, "https://stats.example/")
    text = (tmp_path / site.CATALOG).read_text(encoding="utf-8")
    index = "https://stats.example/catalog"
    graph = Graph().parse(data=text, format="turtle", publicID=index)
    assert homes.releases_of(graph, index) == [second, first]


def test_an_index_listing_nothing_is_refused() -> None:
    empty = Graph().parse(
        data="<https://s/catalog> a <http://www.w3.org/ns/dcat#Catalog> .", format="turtle"
    )
    with pytest.raises(homes.NoReleases, match="lists no releases"):
        homes.releases_of(empty, "https://s/catalog")


def test_an_index_is_followed_only_on_its_own_site() -> None:
    index = "https://stats.example/catalog"
    graph = Graph().parse(
        data=f"""@prefix dcat: <http://www.w3.org/ns/dcat#> .
        <{index}> a dcat:Catalog ;
            dcat:dataset <https://stats.example/r1/dataset>, <https://elsewhere.example/r2> .""",
        format="turtle",
    )
    assert homes.releases_of(graph, index) == ["https://stats.example/r1/dataset"]
    with pytest.raises(homes.NoReleases, match="on its own site"):
        homes.releases_of(graph, "https://other.example/catalog")
