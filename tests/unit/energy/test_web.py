"""The energy app's HTTP side without a pod: the published statistics read once for every
visitor, and a refusal page in the app's own words."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from aiohttp.test_utils import TestClient, TestServer

from apps.energy.web import Settings, make_app, published
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
    assert first == second and [(m.group, m.period, m.kwh) for m in first] == [
        ("Bretagne", "2024-01", Decimal("612.4"))
    ]  # the address that does not answer is left out
    await published(app.server.app)
    assert [r.url for r in transport.requests].count(RELEASE) == 1


async def test_without_statistics_nothing_is_fetched(transport: MockTransport) -> None:
    client = TestClient(TestServer(make_app(Settings("http://app.example"), transport)))
    await client.start_server()
    try:
        assert await published(client.server.app) == [] and transport.requests == []
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
