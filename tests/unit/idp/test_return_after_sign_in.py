"""Where sign-in may send a person back to: a page of this server, never another site."""

from __future__ import annotations

import pytest

from pod_server.idp.interaction import own_page

ACCOUNT = "/base/idp/account"


@pytest.mark.parametrize("value", ["/base/", "/base/alice/photos/?sort=size", "/base/a%20b"])
def test_pages_of_this_server_are_kept(value: str) -> None:
    assert own_page(value, ACCOUNT) == value


@pytest.mark.parametrize(
    "value",
    [
        "",
        "/elsewhere/",  # outside the server's base path
        "//evil.example/base/",
        "https://evil.example/base/",
        "/base/\\\\evil.example",
        "/base/x\r\nSet-Cookie: a=b",
        "/base/" + "a" * 2100,
    ],
)
def test_anything_else_is_refused(value: str) -> None:
    assert own_page(value, ACCOUNT) is None


def test_at_the_root_base() -> None:
    assert own_page("/alice/", "/idp/account") == "/alice/"
    assert own_page("//evil.example/", "/idp/account") is None
