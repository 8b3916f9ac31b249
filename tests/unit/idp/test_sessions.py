"""The CSRF decision for the provider's forms: what real browsers send passes, the rest not."""

from __future__ import annotations

import pytest

from pod_server.idp.sessions import FormCheck, check_form

OWN = "http://127.0.0.1:3000"
TOKEN = "t" * 43


@pytest.mark.parametrize(
    ("origin", "fetch_site"),
    [
        (OWN, "same-origin"),  # a browser under a same-origin referrer policy
        ("null", "same-origin"),  # under no-referrer, or a privacy setting
        ("null", None),  # a browser without Fetch Metadata
        (None, None),  # a non-browser client that kept the cookie
        (OWN, None),
        (OWN, "SAME-ORIGIN"),
        (None, "none"),  # a person's own action
    ],
)
def test_own_forms_with_the_token_pass(origin: str | None, fetch_site: str | None) -> None:
    assert check_form(OWN, origin, fetch_site, TOKEN, TOKEN) is FormCheck.TRUSTED


@pytest.mark.parametrize(
    ("origin", "fetch_site"),
    [
        ("http://127.0.0.2:3000", "cross-site"),
        ("http://127.0.0.1:4000", "same-site"),  # another port: same site, other origin
        ("null", "same-site"),  # hides its origin, but Fetch Metadata tells
        ("null", "cross-site"),
        ("https://evil.example", None),
        ("http://127.0.0.1:30000", None),  # a prefix of ours is not ours
        (OWN + "/", None),
        (None, "cross-site"),
    ],
)
def test_posts_from_elsewhere_are_refused_even_with_the_token(
    origin: str | None, fetch_site: str | None
) -> None:
    assert check_form(OWN, origin, fetch_site, TOKEN, TOKEN) is FormCheck.CROSS_SITE


@pytest.mark.parametrize(
    ("cookie", "sent"),
    [
        ("", ""),  # no cookie: it expired, or was never set
        ("", TOKEN),
        (TOKEN, ""),
        (TOKEN, "u" * 43),
        ("short", "short"),  # not a token we make
        ("t" * 43 + "!", "t" * 43 + "!"),
        (TOKEN, TOKEN + "\udcff"),  # undecodable form text is a mismatch, not a crash
        (TOKEN, "ü" * 43),
    ],
)
def test_a_missing_or_wrong_token_is_an_expired_form(cookie: str, sent: str) -> None:
    for origin in (OWN, "null", None):
        assert check_form(OWN, origin, "same-origin", cookie, sent) is FormCheck.EXPIRED
