"""The identity provider's two error boundaries map state errors onto responses."""

from __future__ import annotations

import json

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from pod_server.idp.routes import _oauth, _page
from pod_server.state import InvalidValue, StateBusy
from tests.unit.idp.test_pages import PATHS


async def failing(_request: web.Request) -> web.StreamResponse:
    raise InvalidValue("NUL")


async def busy(_request: web.Request) -> web.StreamResponse:
    raise StateBusy("busy")


@pytest.mark.parametrize(("handler", "status", "error"), [
    (failing, 400, "invalid_request"), (busy, 503, "temporarily_unavailable"),
])  # fmt: skip
async def test_machine_endpoints(handler: object, status: int, error: str) -> None:
    response = await _oauth(handler)(make_mocked_request("POST", "/idp/token"))  # type: ignore[arg-type]
    assert response.status == status
    assert json.loads(response.body)["error"] == error  # type: ignore[attr-defined]


@pytest.mark.parametrize(("handler", "status"), [(failing, 400), (busy, 503)])
async def test_pages(handler: object, status: int) -> None:
    response = await _page(handler, PATHS)(make_mocked_request("GET", "/idp/login"))  # type: ignore[arg-type]
    assert response.status == status
