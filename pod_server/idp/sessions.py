"""Sign-in sessions at the provider (a cookie naming a stored session) and form safety.

The session cookie is HttpOnly and SameSite=Lax (so an app's top-level redirect to the
authorization endpoint still carries it, while cross-site form posts do not), scoped to
the server's base path (the pod's pages name the viewer by it), and Secure on https.
The cookie holds a random id; the store keeps only its digest.

Forms are protected against cross-site request forgery (OWASP CSRF cheat sheet) by what
browsers really send: a post whose ``Sec-Fetch-Site`` says another site or origin, or
whose ``Origin`` is another origin, is refused; and every post must repeat the
double-submit token (a cookie its form holds). ``Origin: null`` (what a browser sends
under a no-referrer policy, or in privacy modes) is accepted only with that token. Ports
do not separate cookies, so another server on this host could plant a token cookie;
``Sec-Fetch-Site`` (sent by current browsers whatever the referrer policy) refuses its
posts, as ``Origin`` does when it is not null.
"""

from __future__ import annotations

import enum
import hmac
import re
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

from aiohttp import web

from pod_server.idp.config import IdpConfig
from pod_server.idp.crypto import digest, new_secret
from pod_server.state.base import IdpState, LoginSession

SESSION_COOKIE = "pod_idp_session"
CSRF_COOKIE = "pod_idp_csrf"
CSRF_FIELD = "csrf"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,100}")
# Fetch Metadata: a form of our own is "same-origin"; "none" is a person's own action.
_OWN_FETCH_SITES = frozenset({"same-origin", "none"})


class FormCheck(enum.Enum):
    TRUSTED = "trusted"
    CROSS_SITE = "cross-site"  # another origin sent it: refused whatever it holds
    EXPIRED = "expired"  # the double-submit token is missing or does not match


def check_form(
    own_origin: str,
    origin: str | None,
    fetch_site: str | None,
    cookie_token: str,
    form_token: str,
) -> FormCheck:
    """Whether a posted form came from one of the provider's own pages."""
    if fetch_site is not None and fetch_site.lower() not in _OWN_FETCH_SITES:
        return FormCheck.CROSS_SITE
    if origin is not None and origin not in (own_origin, "null"):
        return FormCheck.CROSS_SITE
    if not _TOKEN.fullmatch(cookie_token) or not hmac.compare_digest(
        cookie_token.encode("ascii"), form_token.encode("utf-8", "surrogatepass")
    ):
        return FormCheck.EXPIRED
    return FormCheck.TRUSTED


class Sessions:
    def __init__(
        self, state: IdpState, config: IdpConfig, issuer: str, clock: Callable[[], float]
    ) -> None:
        parts = urlsplit(issuer)
        self._state = state
        self._config = config
        self._clock = clock
        self._secure = parts.scheme == "https"
        # The whole server's path: the pod's own pages (pod_server.ui) read the session
        # too, only for page views, their CSRF-checked forms and their same-origin links
        # to the data (pod_server.http.negotiation), never for the API.
        self._path = parts.path or "/"
        self.origin = f"{parts.scheme}://{parts.netloc}"

    async def current(self, request: web.Request) -> LoginSession | None:
        value = request.cookies.get(SESSION_COOKIE, "")
        if not _TOKEN.fullmatch(value):
            return None
        return await self._state.get_session(digest(value), self._clock())

    async def begin(self, response: web.StreamResponse, account_id: str) -> LoginSession:
        now = self._clock()
        value = new_secret()
        session = LoginSession(digest(value), account_id, now, now + self._config.session_ttl)
        await self._state.add_session(session)
        self._set(response, SESSION_COOKIE, value, int(self._config.session_ttl))
        return session

    async def end(self, request: web.Request, response: web.StreamResponse) -> None:
        value = request.cookies.get(SESSION_COOKIE, "")
        if _TOKEN.fullmatch(value):
            await self._state.delete_session(digest(value))
        response.del_cookie(SESSION_COOKIE, path=self._path)

    def csrf_token(self, request: web.Request) -> str:
        """The double-submit token for a form: the browser's own, or a new one."""
        value = request.cookies.get(CSRF_COOKIE, "")
        return value if _TOKEN.fullmatch(value) else new_secret()

    def set_csrf(self, response: web.StreamResponse, token: str) -> None:
        self._set(response, CSRF_COOKIE, token, int(self._config.session_ttl))

    def check_form(self, request: web.Request, form: Mapping[str, str]) -> FormCheck:
        """Whether the form was posted by one of our own pages (see ``check_form``)."""
        return check_form(
            self.origin,
            request.headers.get("Origin"),
            request.headers.get("Sec-Fetch-Site"),
            request.cookies.get(CSRF_COOKIE, ""),
            form.get(CSRF_FIELD, ""),
        )

    def _set(self, response: web.StreamResponse, name: str, value: str, max_age: int) -> None:
        response.set_cookie(
            name,
            value,
            path=self._path,
            max_age=max_age,
            httponly=True,
            secure=self._secure,
            samesite="Lax",
        )
