"""Pages escape what they show and carry the headers that keep them safe."""

from __future__ import annotations

from pod_server.idp import pages

PATHS = pages.Paths(
    "/idp/authorize",
    "/idp/login",
    "/idp/signup",
    "/idp/consent",
    "/idp/logout",
    "/idp/account",
    "/idp/password",
)


def test_consent_escapes_everything_an_app_chose() -> None:
    view = pages.ConsentView(
        app='<script>alert("x")</script>',
        named_by_app=True,
        origin="https://app.example",
        client_id='"><img src=x>',
        scopes=("openid", "webid", "offline_access"),
        webids=("https://a.example/#me", "https://b.example/#me"),
        email="a@example.org",
    )
    response = pages.consent(PATHS, view, "csrf-token", 'client_id=x&state="><b>')
    text = response.text or ""
    assert "<script>" not in text and "<img" not in text and '"><b>' not in text
    assert "&lt;script&gt;" in text and "the app chose this name itself" in text
    assert 'type="radio"' in text  # two WebIDs: the person chooses
    assert "stay signed in" in text
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"


def test_sign_in_is_accessible() -> None:
    text = pages.sign_in(PATHS, "t" * 30, "", error="The email or password is wrong.").text or ""
    assert '<html lang="en">' in text and "<main>" in text
    assert '<label for="email">' in text and '<label for="password">' in text
    assert 'role="alert"' in text and 'aria-describedby="form-error"' in text
    assert 'autocomplete="current-password"' in text
