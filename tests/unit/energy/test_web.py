"""The energy app's HTTP side without a pod: the published statistics read once for every
visitor (the releases the broker's index lists, oldest first, then those configured), a
bad index told on the page, not a crash; and a refusal page in the app's own words."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from aiohttp.test_utils import TestClient, TestServer

from apps.energy import homes
from apps.energy.__main__ import main
from apps.energy.records import EXAMPLE_TARIFF, Reading
from apps.energy.web import Settings, dashboard, make_app, published
from apps.webapp.documents import NoAccess
from apps.webapp.site import VISITS
from client import ConnectionFailed, MockTransport, Request, Response
from tests.unit.energy.synthetic import release

RELEASE = "https://broker.example/results/grid/r1/dataset"
TURTLE = release(2024, {("Bretagne", "2024-01"): Decimal("612.4")}).serialize(format="turtle")


def answer(request: Request) -> Response:
    if request.url == RELEASE:
        return Response(200, {"Content-Type": "text/turtle"}, TURTLE)
    raise ConnectionFailed("cannot connect", url=request.url)


@pytest.fixture
async def transport() -> MockTransport:
    return MockTransport(answer)


@pytest.fixture
async def app(transport: MockTransport) -> AsyncIterator[TestClient]:
    settings = Settings("http://app.example", statistics=(RELEASE, "https://gone.example/r"))
    client = TestClient(TestServer(make_app(settings, transport)))
    await client.start_server()
    yield client
    await client.close()


async def test_the_statistics_are_read_once_for_all_visitors(
    app: TestClient, transport: MockTransport
) -> None:
    first, second = await asyncio.gather(*(published(app.server.app) for _ in range(2)))
    assert first == second and [(m.group, m.period, m.kwh) for m in first.means] == [
        ("Bretagne", "2024-01", Decimal("612.4"))
    ]  # the address that does not answer is left out, and said
    assert first.problems == [
        "the release at https://gone.example/r could not be read: "
        "https://gone.example/r: cannot connect"
    ]
    await published(app.server.app)
    assert [r.url for r in transport.requests].count(RELEASE) == 1


async def test_without_statistics_nothing_is_fetched(transport: MockTransport) -> None:
    client = TestClient(TestServer(make_app(Settings("http://app.example"), transport)))
    await client.start_server()
    try:
        assert await published(client.server.app) == homes.Statistics()
        assert transport.requests == []
    finally:
        await client.close()


async def test_a_refused_folder_gets_the_apps_own_words(app: TestClient) -> None:
    await app.get("/")
    (visit,) = app.server.app[VISITS].values()
    visit.pod, visit.webid = object(), "https://p/alice/profile/card#me"  # signed in
    visit.reading = asyncio.get_running_loop().create_future()
    visit.reading.set_exception(NoAccess("This app may not read your energy data at X."))
    response = await app.get("/")
    text = await response.text()
    assert response.status == 403 and "Energy cannot show your energy use" in text
    assert "may not read your energy data" in text


# The broker's index: two releases of the same month, listed newest first; the app reads
# them oldest first by issue date, so the newer one's figure wins.
INDEX = "https://broker.example/results/catalog"
R1, R2 = "https://broker.example/results/r1/", "https://broker.example/results/r2/"
CATALOG = f"""@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dcterms: <http://purl.org/dc/terms/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<{INDEX}> a dcat:Catalog ; dcat:dataset <{R2}dataset> , <{R1}dataset> .
<{R2}dataset> a dcat:Dataset ; dcterms:issued "2024-03-02T09:00:00Z"^^xsd:dateTime ;
    dcat:distribution [ dcat:accessURL <{R2}> ] .
<{R1}dataset> a dcat:Dataset ; dcterms:issued "2024-03-02T10:30:00+02:00"^^xsd:dateTime ;
    dcat:distribution [ dcat:accessURL <{R1}> ] .
"""
PAGES = {
    INDEX: ("text/turtle", CATALOG),
    R1: ("text/turtle", release(2024, {("Bretagne", "2024-01"): Decimal("500.0")}, base=R1)),
    R2: ("text/turtle", release(2024, {("Bretagne", "2024-01"): Decimal("510.0")}, base=R2)),
    RELEASE: ("text/turtle", TURTLE),
}


def index_answer(pages: dict[str, tuple[str, object]]) -> MockTransport:
    def answer(request: Request) -> Response:
        if request.url not in pages:
            return Response(404, {"Content-Type": "text/plain"}, "Not found")
        kind, body = pages[request.url]
        text = body if isinstance(body, str) else body.serialize(format="turtle")  # type: ignore[attr-defined]
        return Response(200, {"Content-Type": kind}, text)

    return MockTransport(answer)


async def read_statistics(pages: dict[str, tuple[str, object]], *urls: str) -> homes.Statistics:
    transport = index_answer(pages)
    app = make_app(
        Settings("http://app.example", statistics=urls, statistics_index=INDEX), transport
    )
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        return await published(client.server.app)
    finally:
        await client.close()


async def test_the_releases_the_index_lists_are_read_oldest_first() -> None:
    found = await read_statistics(PAGES, RELEASE)
    assert found.problems == []
    assert [(m.period, m.kwh) for m in found.means] == [
        ("2024-01", Decimal("500.0")),  # r1, issued at 08:30 UTC (10:30 at +02:00)
        ("2024-01", Decimal("510.0")),  # r2, issued at 09:00 UTC
        ("2024-01", Decimal("612.4")),  # then the one configured with --statistics
    ]
    mine = homes.like_mine(found.means[:2], "Bretagne", ["2024-01"])
    assert mine["2024-01"].kwh == Decimal("510.0")


@pytest.mark.parametrize(
    ("index", "problem"),
    [
        (None, "the index at https://broker.example/results/catalog could not be read: 404"),
        (("text/html", "<html>Results</html>"), "text/html is not RDF"),
        (("text/turtle", "<a> <b> <c"), "not valid"),
        (
            ("text/turtle", "<https://x/c> a <http://www.w3.org/ns/dcat#Catalog> ."),
            "lists no releases",
        ),
    ],
)
async def test_a_bad_index_is_said_not_raised(index: tuple[str, str] | None, problem: str) -> None:
    pages = {RELEASE: PAGES[RELEASE]} | ({INDEX: index} if index else {})
    found = await read_statistics(pages, RELEASE)  # --statistics still read
    [said] = found.problems
    assert problem in said and INDEX in said
    assert [m.kwh for m in found.means] == [Decimal("612.4")]
    nothing = await read_statistics(pages)
    assert nothing.means == [] and len(nothing.problems) == 1


def test_the_page_says_when_the_statistics_could_not_be_read() -> None:
    readings = [Reading("m", datetime(2024, 1, 5, tzinfo=UTC), Decimal(3))]
    said = dashboard(readings, None, EXAMPLE_TARIFF, [], "Bretagne", unavailable=True)
    assert said["statistics_unavailable"] and said["like_mine"] is None
    assert not dashboard(readings, None, EXAMPLE_TARIFF, [], None, unavailable=True)[
        "statistics_unavailable"
    ]  # no region: no comparison was to be made
    assert not dashboard(readings, None, EXAMPLE_TARIFF, [], "Bretagne")["statistics_unavailable"]


@pytest.mark.parametrize("option", ["--statistics-index", "--statistics"])
def test_an_index_that_is_not_a_web_address_is_a_usage_error(
    option: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main([option, "results/catalog"])
    assert stopped.value.code == 2
    assert "'results/catalog' is not an http(s) URL" in capsys.readouterr().err
