"""Which ``.well-known/`` service a path reaches, in one storage or in pods."""

from __future__ import annotations

import pytest

from pod_server.http.services import Services
from pod_server.ldp.layout import Layout


async def _audit(request, call):  # pragma: no cover - never called here
    return None


async def _consent(request, call):  # pragma: no cover - never called here
    return None


@pytest.fixture
def services() -> Services:
    table = Services()
    table.add("audit", _audit)
    table.add("consent/", _consent)
    return table


def test_pods_each_have_their_services(services: Services) -> None:
    layout = Layout("http://pods.test/", multiuser=True)
    handler, call = services.find(layout, "/alice/.well-known/audit")
    assert handler is _audit and call.root == "/alice/" and call.rest == ""
    handler, call = services.find(layout, "/bob/.well-known/consent/abc")
    assert handler is _consent and (call.root, call.name, call.rest) == ("/bob/", "consent/", "abc")


def test_single_storage_uses_the_server_root(services: Services) -> None:
    layout = Layout("http://me.test/")
    assert services.find(layout, "/.well-known/audit")[1].root == "/"


@pytest.mark.parametrize(
    "path",
    [
        "/alice/audit",
        "/alice/.well-known/audits",
        "/alice/x/.well-known/audit",
        "/.well-known/solid",
    ],
)
def test_other_paths_reach_no_service(services: Services, path: str) -> None:
    assert services.find(Layout("http://pods.test/", multiuser=True), path) is None


def test_names_are_unique(services: Services) -> None:
    with pytest.raises(ValueError):
        services.add("audit", _audit)
