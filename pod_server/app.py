"""create_app(settings): all the wiring of a pod server, readable top to bottom."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

import vocab
from pod_server.access.groups import RemoteGroups
from pod_server.access.policy import AccessPolicy
from pod_server.access.rules import AccessRules
from pod_server.access.seed import root_acl
from pod_server.auth import (
    AiohttpFetcher,
    AuthConfig,
    Authenticator,
    MemoryReplayCache,
    SharedReplayCache,
    www_authenticate,
)
from pod_server.http import handlers, middleware
from pod_server.http.vocab_routes import add_vocab_routes
from pod_server.idp import IdpConfig, add_idp_routes
from pod_server.ldp import rdf
from pod_server.ldp.budget import QUEUED_PER_HEAVY_JOB, WorkLimits
from pod_server.ldp.store import Limits, ResourceStore
from pod_server.ldp.vocabulary import SOLID_OWNER
from pod_server.notify import add_notifications
from pod_server.pods.hosting import pods_of, provisioner
from pod_server.settings import Settings
from pod_server.state import DB_NAME, IdpState, PostgresState, SqliteState
from pod_server.storage.base import Backend
from pod_server.storage.file import FileBackend
from pod_server.storage.postgres import PostgresBackend

log = logging.getLogger("pod_server")


# Bodies up to this size live in the SQLite index: reading them there is about twice as
# fast as from a file (measured on 100 KB; SQLite's own guidance puts the crossover near it).
INLINE_BYTES = 128 * 1024


def open_backend(settings: Settings) -> Backend:
    """The storage the settings name: PostgreSQL for a postgresql:// URL, else files."""
    if settings.on_postgresql:
        dsn, schema = settings.postgresql
        return PostgresBackend(dsn, schema=schema)
    return FileBackend(settings.root, inline_threshold=INLINE_BYTES)


def open_state(settings: Settings) -> IdpState:
    """The identity provider's state store (accounts, sessions, one-time values): in the
    storage's PostgreSQL, shared by every host, else SQLite beside the files."""
    if settings.on_postgresql:
        dsn, schema = settings.postgresql
        return PostgresState(dsn, schema=schema)
    return SqliteState(settings.root / DB_NAME)


def create_app(settings: Settings, backend: Backend | None = None) -> web.Application:
    """A ready-to-run aiohttp application; ``backend`` overrides the one settings name."""
    backend = backend or open_backend(settings)
    store = ResourceStore(
        backend,
        settings.public_base,
        Limits(
            max_body_size=settings.max_body_size,
            max_rdf_size=settings.max_rdf_size,
            quota=settings.quota or None,
            work=WorkLimits(
                max_nesting=settings.max_nesting,
                max_solutions=settings.max_solutions,
                seconds=settings.work_timeout,
                jobs=settings.heavy_jobs,
                queue=QUEUED_PER_HEAVY_JOB * settings.heavy_jobs,
            ),
        ),
        # Access control's rules on ACL documents and storage roots, applied on writes.
        rules=AccessRules(),
        multiuser=settings.multiuser,
        vocab_base=settings.vocab_iri_base,
    )
    # Organisations' JSON-LD may name our vocabularies' contexts: resolve them locally.
    vocab.register_contexts(None, rdf.register_context, served_at=settings.vocab_iri_base)
    auth_config = AuthConfig(allow_bearer=settings.allow_bearer)
    state = open_state(settings)
    # Several processes (or hosts) must share the jti replay cache, else a proof accepted
    # by one could be replayed against another; one process keeps it in memory (faster).
    replay = SharedReplayCache(state) if settings.shared_replay_cache else MemoryReplayCache()
    authenticator = Authenticator(auth_config, replay)
    group_fetcher = AiohttpFetcher(auth_config.fetch_timeout, auth_config.max_document_bytes)
    policy = AccessPolicy(
        store,
        fetch_group=RemoteGroups(group_fetcher),
        challenge=lambda agent: www_authenticate(auth_config, agent),
        owner=settings.owner or None,
    )
    if settings.owner and not settings.multiuser:  # pods name their owners in their roots
        owner_line = f"<{store.url('/')}> <{SOLID_OWNER}> <{settings.owner}>."
        store.description_providers.append(lambda _root: owner_line)

    app = web.Application(middlewares=[middleware.preflight, middleware.errors])
    app.on_response_prepare.append(middleware.add_cors_headers)
    app[handlers.STORE] = store
    app[handlers.POLICY] = policy
    app[handlers.AUTHENTICATOR] = authenticator

    async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
        await backend.start()
        await store.ensure_root(root_acl(settings.owner or None, settings.open))
        yield
        await authenticator.close()
        await group_fetcher.close()
        await backend.close()
        store.runner.close()

    app.cleanup_ctx.append(lifecycle)
    # The identity provider: its routes go before the catch-all resource route, and its
    # page hook after the CORS one (it takes CORS off its own HTML pages).
    add_idp_routes(
        app,
        settings,
        state,
        provision=provisioner(store) if settings.multiuser else None,
        pods_of=pods_of(store) if settings.multiuser else None,
        config=IdpConfig(signup=settings.signup and settings.multiuser),
    )
    add_vocab_routes(app, settings.base_path, settings.vocab_iri_base)
    # Live updates (Solid Notifications): its routes, too, go before the catch-all.
    add_notifications(app, store, policy, authenticator, settings)
    app.router.add_route("*", "/{tail:.*}", handlers.handle)
    return app
