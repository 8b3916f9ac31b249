"""The budget app's HTTP side without a pod: its Client ID Document, and what it does
with forms it should not trust."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from apps.budget.web import Settings, make_app
from apps.webapp import site
from apps.webapp.documents import NoAccess, Place, Progress
from apps.webapp.site import VISITS, Visit
from client import ConnectionFailed, MockTransport, Request, Response, Unauthorized


def unreachable(request: Request) -> Response:
    raise ConnectionFailed("cannot connect", url=request.url)


@pytest.fixture
async def app() -> AsyncIterator[TestClient]:
    transport = MockTransport(unreachable)
    client = TestClient(TestServer(make_app(Settings("http://app.example"), transport)))
    await client.start_server()
    yield client
    await client.close()


async def test_the_client_id_document_is_served_as_json_ld(app: TestClient) -> None:
    response = await app.get("/id")
    assert response.status == 200
    assert response.content_type == "application/ld+json"
    doc = await response.json()
    assert doc["client_id"] == "http://app.example/id"
    assert doc["redirect_uris"] == ["http://app.example/callback"]
    assert doc["consent:ownContainer"] == "apps/budget/"


async def test_a_first_visit_gets_the_sign_in_form_and_a_visit(app: TestClient) -> None:
    response = await app.get("/")
    assert response.status == 200
    assert 'name="webid"' in await response.text()
    assert "budget_visit" in response.cookies
    assert len(app.server.app[VISITS]) == 1


async def test_forms_without_the_visits_token_are_refused(app: TestClient) -> None:
    await app.get("/")
    for path in ("/login", "/category", "/logout"):
        response = await app.post(path, data={"token": "forged", "webid": "https://x/#me"})
        assert response.status == 403, path
        assert "expired" in await response.text()


async def test_a_webid_that_is_no_address_is_explained(app: TestClient) -> None:
    await app.get("/")
    (visit,) = app.server.app[VISITS].values()
    response = await app.post("/login", data={"token": visit.token, "webid": "alice"})
    assert response.status == 200 and response.url.path == "/"
    assert "Type your WebID" in await response.text()


async def test_an_unreachable_profile_is_explained_not_a_crash(app: TestClient) -> None:
    await app.get("/")
    (visit,) = app.server.app[VISITS].values()
    webid = "https://nowhere.example/profile/card#me"
    response = await app.post("/login", data={"token": visit.token, "webid": webid})
    assert response.status == 200 and response.url.path == "/"
    text = await response.text()
    assert f"Cannot sign in with {webid}" in text and "cannot connect" in text


async def test_signed_out_pages_send_to_the_start(app: TestClient) -> None:
    for path in ("/export.csv?month=2024-01", "/callback?code=x&state=y"):
        response = await app.get(path, allow_redirects=False)
        assert response.status == 303 and response.headers["Location"] == "/"
    assert isinstance(Visit().token, str)


async def test_a_long_first_read_shows_how_far_it_is_and_refreshes(app: TestClient) -> None:
    await app.get("/")
    (visit,) = app.server.app[VISITS].values()
    visit.pod, visit.webid = object(), "https://p/alice/profile/card#me"  # signed in
    visit.reading = asyncio.get_running_loop().create_future()  # a read still going on
    visit.progress = Progress(total=72, done=30)
    response = await app.get("/")
    text = await response.text()
    assert response.status == 200 and '<meta http-equiv="refresh" content="2">' in text
    assert "30 of 72 documents read." in text
    visit.reading.set_exception(NoAccess("This app may not read your bank transactions at X."))
    response = await app.get("/")
    assert response.status == 403 and "may not read your bank transactions" in await response.text()
    assert visit.reading is None  # the next visit starts a new read


async def test_a_sign_in_the_pod_no_longer_accepts_starts_again(app: TestClient) -> None:
    await app.get("/")
    (visit,) = app.server.app[VISITS].values()
    visit.pod, visit.webid = object(), "https://p/alice/profile/card#me"
    visit.reading = asyncio.get_running_loop().create_future()
    visit.reading.set_exception(Unauthorized("token expired", url="https://p/alice/bank/"))
    response = await app.get("/")
    assert response.status == 200 and response.url.path == "/"
    assert "Your sign-in has ended" in await response.text() and visit.pod is None


async def test_a_category_outside_the_vocabulary_or_a_foreign_transaction_is_refused(
    app: TestClient,
) -> None:
    await app.get("/")
    (visit,) = app.server.app[VISITS].values()
    visit.pod, visit.webid = object(), "https://p/alice/profile/card#me"
    visit.place = Place("https://p/alice/", "https://p/alice/bank/", False, "https://p/alice/apps/budget/")  # fmt: skip
    for category, tx in (
        ("Nonsense", "https://p/alice/bank/d#t-1"),
        ("Leisure", "https://p/alice/apps/budget/categories.ttl#x"),
    ):
        form = {"token": visit.token, "category": category, "tx": tx}
        response = await app.post("/category", data=form)
        assert response.status == 400
        assert "Unknown category or transaction" in await response.text()


async def test_visits_are_bounded_the_oldest_forgotten(
    app: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(site, "MAX_VISITS", 3)
    for _ in range(5):
        app.session.cookie_jar.clear()
        await app.get("/")
    assert len(app.server.app[VISITS]) == 3
