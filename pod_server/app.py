"""create_app(settings): all the wiring of a pod server, readable top to bottom."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from pod_server.http import handlers, middleware
from pod_server.ldp.store import Limits, ResourceStore
from pod_server.settings import Settings
from pod_server.storage.base import Backend
from pod_server.storage.file import FileBackend


def create_app(settings: Settings, backend: Backend | None = None) -> web.Application:
    """A ready-to-run aiohttp application; ``backend`` overrides the one settings name."""
    backend = backend or FileBackend(settings.root)
    store = ResourceStore(
        backend,
        settings.public_base,
        Limits(max_body_size=settings.max_body_size, max_rdf_size=settings.max_rdf_size),
    )
    app = web.Application(middlewares=[middleware.preflight, middleware.errors])
    app.on_response_prepare.append(middleware.add_cors_headers)
    app[handlers.STORE] = store

    async def storage_lifecycle(_app: web.Application) -> AsyncIterator[None]:
        await backend.start()
        await store.ensure_root()
        yield
        await backend.close()

    app.cleanup_ctx.append(storage_lifecycle)
    app.router.add_route("*", "/{tail:.*}", handlers.handle)
    return app
