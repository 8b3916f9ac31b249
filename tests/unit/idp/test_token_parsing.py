"""Token endpoint input: form bodies and HTTP Basic client credentials (RFC 6749 §2.3.1)."""

from __future__ import annotations

import base64

import pytest

from pod_server.idp.errors import OAuthError
from pod_server.idp.token import FORM, basic_credentials, parse_form


def basic(raw: str) -> str:
    return "Basic " + base64.b64encode(raw.encode()).decode()


def test_basic_parts_are_form_urlencoded() -> None:
    assert basic_credentials(basic("my+id%3A1:s%2Bcr%25t+x")) == ("my id:1", "s+cr%t x")
    assert basic_credentials(basic("id:")) == ("id", "")
    assert basic_credentials("DPoP abc") is None
    assert basic_credentials(None) is None


@pytest.mark.parametrize(
    "header", ["Basic !!!", basic("no colon"), "Basic " + base64.b64encode(b"\xff:x").decode()]
)
def test_malformed_basic_is_invalid_client(header: str) -> None:
    with pytest.raises(OAuthError) as caught:
        basic_credentials(header)
    assert (caught.value.error, caught.value.status) == ("invalid_client", 401)
    assert caught.value.headers["WWW-Authenticate"].startswith("Basic")


def test_forms() -> None:
    assert parse_form(b"a=1&b=&c=%20", FORM, 100) == {"a": "1", "b": "", "c": " "}
    for body, ctype, why in [
        (b"a=1&a=2", FORM, "more than once"),
        (b"a=1", "application/json", "must be"),
        (b"a=" + b"x" * 200, FORM, "too large"),
        (b"a=\xff", FORM, "not a valid form"),
    ]:
        with pytest.raises(OAuthError, match=why) as caught:
            parse_form(body, ctype, 100)
        assert caught.value.error == "invalid_request"
