"""Rendering a page: the Jinja2 templates, the chrome every page shares, its headers.

``Chrome`` is what the base layout needs about the request: the language (and the link
to switch it), who is signed in, where to sign in and come back, the CSRF token of the
page's forms and the nonce of its one small script.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import jinja2
from aiohttp import web

from pod_server.http.language import remember_choice, switch_link
from pod_server.http.style import STYLESHEET
from pod_server.ui import i18n

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("pod_server.ui", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,  # a missing value is a bug, not an empty string
)
# Marks a request answered with a page: the CORS hook's headers come off (see strip_cors).
PAGE_KEY: web.RequestKey[bool] = web.RequestKey("pod_server.ui.page", bool)
# The operators' WebIDs (the ``admin`` setting): their pages' header links to ``ui.admin``.
OPERATORS: web.AppKey[frozenset[str]] = web.AppKey("pod_server.ui.operators", frozenset)
_CORS_HEADERS = (
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Credentials",
    "Access-Control-Expose-Headers",
)


def content_security_policy(nonce: str) -> str:
    """Pages load only their own images and frames (previews), run only their own
    inline script, post forms only to this server, and are never framed."""
    return (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; frame-src 'self';"
        f" script-src 'nonce-{nonce}'; connect-src 'self'; form-action 'self';"
        " frame-ancestors 'none'; base-uri 'none'"
    )


def sign_in_link(login: str, raw_path: str) -> str:
    return f"{login}?return={quote(raw_path, safe='')}"


@dataclass
class Chrome:
    request: web.Request
    lang: str
    webid: str | None
    home_url: str
    account_url: str
    login_url: str
    csrf: str
    nonce: str

    @property
    def t(self) -> i18n.Translate:
        return i18n.translator(self.lang)

    def values(self) -> dict[str, Any]:
        other = next(lang for lang in i18n.LANGUAGES if lang != self.lang)
        raw = self.request.raw_path
        return {
            "lang": self.lang,
            "other_lang": other,
            "t": self.t,
            "style": jinja2.utils.markupsafe.Markup(STYLESHEET),
            "webid": self.webid,
            "home_url": self.home_url,
            "account_url": self.account_url,
            "sign_in_url": sign_in_link(self.login_url, raw),
            "switch_url": switch_link(raw, other),
            "csrf": self.csrf,
            "nonce": self.nonce,
            "crumbs": [],
            "note": None,
            "admin_url": self.admin_url(),
        }

    def admin_url(self) -> str | None:
        """The operator pages (beside the account's, under the IdP), for an operator."""
        if self.webid is None or self.webid not in self.request.app.get(OPERATORS, frozenset()):
            return None
        return self.account_url.removesuffix("account") + "admin"


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def page(
    chrome: Chrome, template: str, title: str, status: int = 200, **values: Any
) -> web.Response:
    context = chrome.values()
    context.update(values)
    context.setdefault("heading", title)
    text = _ENV.get_template(template).render(title=title, **context)
    response = web.Response(status=status, text=text, content_type="text/html", charset="utf-8")
    hdrs = response.headers
    hdrs["Content-Security-Policy"] = content_security_policy(chrome.nonce)
    hdrs["Cache-Control"] = "no-store"
    hdrs["X-Frame-Options"] = "DENY"
    hdrs["X-Content-Type-Options"] = "nosniff"
    hdrs["Referrer-Policy"] = "same-origin"
    hdrs["Vary"] = "Accept, Accept-Language, Cookie, Authorization"
    chrome.request[PAGE_KEY] = True
    remember_choice(chrome.request, response, chrome.lang)
    return response


async def strip_cors(request: web.Request, response: web.StreamResponse) -> None:
    """Response hook (after the CORS hook): what the session cookie was read for (pages,
    their links to the data) is for people, not other origins, nor any shared cache."""
    if request.get(PAGE_KEY):
        for name in _CORS_HEADERS:
            response.headers.popall(name, None)
        response.headers["Cache-Control"] = "no-store"
        if "Cookie" not in response.headers.get("Vary", ""):
            vary = response.headers.get("Vary")
            response.headers["Vary"] = f"{vary}, Cookie" if vary else "Cookie"
