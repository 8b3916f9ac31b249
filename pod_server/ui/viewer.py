"""Who is looking at a page: the identity provider's browser session, for pages only.

The session cookie names a person only to the pod's own pages: the page views that
``negotiation.wants_page`` picks (GETs a browser navigates) and the pages' forms, whose
CSRF token ``forms`` checks before calling ``viewer``. The API never reads the cookie,
so no other site's script can act with it (the cookie is also SameSite=Lax). A page
request then acts as that WebID through the server's own pages, one app with full
access (``PAGES_CLIENT``), under the very same access policy as any API request.
"""

from __future__ import annotations

from aiohttp import web

from pod_server.auth import ANONYMOUS, Agent
from pod_server.idp.provider import Provider

PAGES_CLIENT = "idp/pages"  # under the issuer: the client id of the server's own pages


def pages_client_id(issuer: str) -> str:
    return issuer + PAGES_CLIENT


async def viewer(request: web.Request, provider: Provider) -> Agent:
    """The signed-in person (their first WebID) as the pages' app, else anonymous."""
    session = await provider.sessions.current(request)
    if session is None:
        return ANONYMOUS
    webids = await provider.state.account_webids(session.account_id)
    if not webids:
        return ANONYMOUS
    return Agent(
        webid=webids[0], client_id=pages_client_id(provider.issuer), issuer=provider.issuer
    )
