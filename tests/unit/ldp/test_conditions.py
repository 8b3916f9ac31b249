from __future__ import annotations

import pytest

from pod_server.errors import NotModified, PreconditionFailed
from pod_server.ldp.conditions import Conditions, evaluate, parse_etag_list, parse_http_date

T0 = 1_700_000_000.0


def test_parse_etag_list() -> None:
    assert parse_etag_list(None) is None
    assert parse_etag_list(" * ") == ("*",)
    assert parse_etag_list('"a", W/"b" ,"c-d"') == ('"a"', 'W/"b"', '"c-d"')
    assert parse_etag_list("garbage") == ()


def test_http_date() -> None:
    assert parse_http_date("Tue, 14 Nov 2023 22:13:20 GMT") == T0
    assert parse_http_date("nonsense") is None


@pytest.mark.parametrize(
    ("cond", "method", "state", "outcome"),
    [
        (Conditions(if_match=('"abc"',)), "PUT", "abc", None),
        (Conditions(if_match=('"abc-jsonld"',)), "PUT", "abc", None),
        (Conditions(if_match=('W/"abc"',)), "PUT", "abc", PreconditionFailed),
        (Conditions(if_match=('"x"',)), "PUT", "abc", PreconditionFailed),
        (Conditions(if_match=("*",)), "PUT", None, PreconditionFailed),
        (Conditions(if_none_match=("*",)), "PUT", "abc", PreconditionFailed),
        (Conditions(if_none_match=("*",)), "PUT", None, None),
        (Conditions(if_none_match=('"abc"',)), "GET", "abc", NotModified),
        (Conditions(if_none_match=('W/"abc"',)), "GET", "abc", NotModified),
        (Conditions(if_none_match=('"zzz"',)), "GET", "abc", None),
        (Conditions(if_modified_since=T0), "GET", "abc", NotModified),
        (Conditions(if_modified_since=T0 - 1), "GET", "abc", None),
        (Conditions(if_modified_since=T0), "PUT", "abc", None),
        (Conditions(if_unmodified_since=T0 - 1), "PUT", "abc", PreconditionFailed),
        (Conditions(if_unmodified_since=T0), "PUT", "abc", None),
        # If-Match takes precedence over If-Unmodified-Since (RFC 9110 §13.2.2 step 2).
        (Conditions(if_match=('"abc"',), if_unmodified_since=T0 - 1), "PUT", "abc", None),
        # If-None-Match takes precedence over If-Modified-Since (step 4).
        (Conditions(if_none_match=('"zzz"',), if_modified_since=T0), "GET", "abc", None),
    ],
)
def test_evaluate(cond: Conditions, method: str, state: str | None, outcome: type | None) -> None:
    def run() -> None:
        evaluate(cond, method, state, f'"{state}"' if state else None, T0 if state else None)

    if outcome is None:
        run()
    else:
        with pytest.raises(outcome):
            run()
