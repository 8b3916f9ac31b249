"""Every typed key under which create_app stores a component on the aiohttp application.

Handlers read their components from ``request.app[KEY]``; tests reach them the same way.
The components' types are for the type checker only, so that any module may import these
keys without importing (and cycling through) the components' packages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from pod_server.access.policy import AccessPolicy
    from pod_server.audit.hook import AuditHook
    from pod_server.auth import Authenticator
    from pod_server.consent.service import ConsentService
    from pod_server.http.services import Services
    from pod_server.idp.provider import Provider
    from pod_server.ldp.store import ResourceStore
    from pod_server.notify.notifier import Notifier
    from pod_server.ui.views import Pages

STORE: web.AppKey[ResourceStore] = web.AppKey("store")
POLICY: web.AppKey[AccessPolicy] = web.AppKey("policy")
AUTHENTICATOR: web.AppKey[Authenticator] = web.AppKey("authenticator")
IDP: web.AppKey[Provider] = web.AppKey("idp")
NOTIFIER: web.AppKey[Notifier] = web.AppKey("notifier")
SERVICES: web.AppKey[Services] = web.AppKey("services")
CONSENT: web.AppKey[ConsentService] = web.AppKey("consent")
AUDIT: web.AppKey[AuditHook] = web.AppKey("audit")
PAGES: web.AppKey[Pages] = web.AppKey("pages")
