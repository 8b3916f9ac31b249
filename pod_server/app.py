"""create_app(settings): all the wiring of a pod server, readable top to bottom.

Every component is built here from the settings, in dependency order; the application
then gets its middlewares, response hooks, routes and one lifecycle, each list in the
order it runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from aiohttp import web

import vocab
from pod_server.access.groups import RemoteGroups
from pod_server.access.policy import AccessPolicy
from pod_server.access.rules import AccessRules
from pod_server.access.seed import root_acl
from pod_server.audit.hook import AuditHook, FullAccess
from pod_server.audit.sign_in import sign_in_recorder
from pod_server.audit.signing import load_or_create
from pod_server.audit.upkeep import Upkeep
from pod_server.audit.writer import AuditWriter, Checkpoints
from pod_server.auth import (
    AiohttpFetcher,
    AuthConfig,
    Authenticator,
    MemoryReplayCache,
    SharedReplayCache,
    www_authenticate,
)
from pod_server.auth.fetch import GuardedFetcher
from pod_server.components import INLINE_BYTES, open_backend, open_state
from pod_server.consent.apps import AppGrants
from pod_server.consent.contribution import NAME as CONTRIBUTION_SERVICE
from pod_server.consent.contribution import contribution_service
from pod_server.consent.grants.routes import (
    add_access_grants,
    challenge,
    credential_service,
    grant_token_verifier,
)
from pod_server.consent.grants.service import CREDENTIALS, Grants
from pod_server.consent.service import ConsentService
from pod_server.consent.wire.adapter import ServicePort
from pod_server.consent.wire.routes import add_consent_wire
from pod_server.http import handlers, middleware
from pod_server.http.audit_log import NAME as AUDIT_SERVICE
from pod_server.http.audit_log import audit_service, describe_audit_log
from pod_server.http.keys import (
    AUDIT,
    AUTHENTICATOR,
    CONSENT,
    IDP,
    NOTIFIER,
    PAGES,
    POLICY,
    SERVICES,
    STORE,
)
from pod_server.http.services import Services
from pod_server.http.vocab_routes import add_vocab_routes
from pod_server.idp import IdpConfig, add_idp_routes, build_provider, no_cors_on_pages, serving
from pod_server.idp.accounts import PASSWORDS
from pod_server.ldp import rdf
from pod_server.ldp.budget import QUEUED_PER_HEAVY_JOB, WorkLimits
from pod_server.ldp.store import Limits, ResourceStore
from pod_server.ldp.vocabulary import SOLID_OWNER
from pod_server.notify import NotifyConfig, add_notifications, updates_via
from pod_server.notify.deploy import open_hub, webhook_targets
from pod_server.notify.notifier import Notifier
from pod_server.pods.hosting import pods_of, provisioner, storage_of
from pod_server.query import entailment
from pod_server.query.pool import QueryPool
from pod_server.query.service import NAME as QUERY_SERVICE
from pod_server.query.service import describe_endpoint, query_service
from pod_server.settings import Settings
from pod_server.storage.base import Backend
from pod_server.ui import render as ui_render
from pod_server.ui.account import add_account_pages
from pod_server.ui.admin import add_admin_pages
from pod_server.ui.profile_names import REMOTE_NAMES, RemoteNames
from pod_server.ui.views import Pages

log = logging.getLogger("pod_server")

__all__ = ["INLINE_BYTES", "create_app", "open_backend", "open_state"]


def create_app(
    settings: Settings,
    backend: Backend | None = None,
    is_full_access: FullAccess | None = None,
) -> web.Application:
    """A ready-to-run aiohttp application; ``backend`` overrides the one settings name.
    ``is_full_access(agent, root)``: whether an owner's app acts with the owner's full
    access, which keeps its requests out of the storage's audit log (default: what the
    owner chose for that app on the consent page)."""
    # -- components, each from the settings and the ones before it --------------------------
    backend = backend or open_backend(settings)
    store = ResourceStore(
        backend,
        settings.public_base,
        store_limits(settings),
        # Access control's rules on ACL documents and storage roots, applied on writes.
        rules=AccessRules(),
        multiuser=settings.multiuser,
        vocab_base=settings.vocab_iri_base,
        description_providers=owner_description(settings),
    )
    # Organisations' JSON-LD may name our vocabularies' contexts: resolve them locally.
    vocab.register_contexts(None, rdf.register_context, served_at=settings.vocab_iri_base)
    state = open_state(settings)
    auth_config = AuthConfig(allow_bearer=settings.allow_bearer)
    # Several processes (or hosts) must share the jti replay cache, else a proof accepted
    # by one could be replayed against another; one process keeps it in memory (faster).
    replay = SharedReplayCache(state) if settings.shared_replay_cache else MemoryReplayCache()
    authenticator = Authenticator(auth_config, replay)
    group_fetcher = AiohttpFetcher(auth_config.fetch_timeout, auth_config.max_document_bytes)
    # What each person let each app do (the consent page), enforced on top of WAC.
    app_grants = AppGrants(state)
    # Consent records and the WAC rules they make (the wire protocols call it).
    consent = ConsentService(store, owner=settings.owner or None)
    # The deployment's signing key (beside the storage): audit checkpoints and credentials.
    signing_key = load_or_create(settings.root)
    # The Access Grants API (Inrupt's SDKs): credentials signed with the deployment's key.
    grants = Grants(consent, signing_key.private, settings.public_base)
    authenticator.token_verifiers.append(grant_token_verifier(grants))
    policy = AccessPolicy(
        store,
        fetch_group=RemoteGroups(group_fetcher),
        challenge=challenge(grants, lambda agent: www_authenticate(auth_config, agent)),
        owner=settings.owner or None,
        app_limits=app_grants.limited,
    )
    notify_config = NotifyConfig.from_settings(settings)
    notifier = Notifier(
        store,
        policy,
        open_hub(settings, notify_config),
        notify_config,
        webhook_targets(settings, notify_config),
    )
    # The notifier reads the store, so it joins the store's listeners once both exist.
    store.listeners.append(notifier.on_changes)
    store.description_providers.append(notifier.describe_storage)
    # The audit log: checkpoints signed with the deployment's key (beside the storage),
    # reads and refusals appended in batches, writes' entries committed with the write.
    checkpoints = Checkpoints(backend, signing_key, settings.audit_checkpoint_every)
    audit_writer = AuditWriter(backend, checkpoints)
    audit_upkeep = Upkeep(backend, checkpoints, settings.audit_retention_days)
    store.description_providers.append(describe_audit_log(store))
    # SPARQL over what each caller may read, in engine processes bounded like heavy work.
    query_pool = QueryPool(store.limits.work)
    store.description_providers.append(describe_endpoint(store))
    idp_config = IdpConfig(signup=settings.signup and settings.multiuser)
    idp_fetcher = AiohttpFetcher(  # Client ID Documents
        idp_config.dpop.fetch_timeout, idp_config.max_registration_bytes * 4
    )
    provider = build_provider(
        settings.public_base,
        state,
        idp_fetcher,
        config=idp_config,
        passwords=PASSWORDS,
        provision=provisioner(store) if settings.multiuser else None,
        pods_of=pods_of(store) if settings.multiuser else None,
        app_grants=app_grants,
        storage_of=storage_of(store),
    )

    # The owner's sign-ins are recorded in their pods' audit logs.
    provider.on_sign_in = sign_in_recorder(
        backend, storage_of(store), store.local_path, policy.owners_of
    )

    # -- the application ----------------------------------------------------------------------
    # Order matters: preflights are answered before anything else; errors of every later
    # stage (and of the handlers) become responses in one place.
    app = web.Application(
        middlewares=[middleware.preflight, middleware.request_reads, middleware.errors]
    )
    app[STORE] = store
    app[POLICY] = policy
    app[AUTHENTICATOR] = authenticator
    app[NOTIFIER] = notifier
    app[IDP] = provider
    app[CONSENT] = consent
    app[PAGES] = Pages()  # the pod's own pages, for browsers (see http.negotiation)
    # Requesters' names from their WebID profiles elsewhere, for the owner's pages.
    app[REMOTE_NAMES] = RemoteNames(
        GuardedFetcher(
            idp_fetcher,
            idp_config.dpop.fetch_timeout,
            idp_config.max_registration_bytes * 4,
            idp_config.dpop.max_concurrent_fetches,
        ).get
    )
    # Services under each storage's .well-known/ (audit log, access requests, consent).
    app[SERVICES] = Services()
    # Access requests, owners' decisions and the inbox hook, over the consent service.
    add_consent_wire(app, store).port = ServicePort(consent)
    app[SERVICES].add(
        AUDIT_SERVICE,
        audit_service(store, policy, authenticator, lambda a: www_authenticate(auth_config, a)),
    )
    entail = entailment.for_setting(settings.query_entailment)
    app[SERVICES].add(
        QUERY_SERVICE, query_service(store, policy, authenticator, query_pool, entail)
    )
    # What the pod contributed to public-interest statistics, in the owner's log (issue 23).
    app[SERVICES].add(CONTRIBUTION_SERVICE, contribution_service(store, policy, authenticator))
    app[AUDIT] = AuditHook(
        store, policy, audit_writer, is_full_access or app_grants.is_full_access, settings.audit
    )
    # Response hooks run in this order: CORS on every response, then the IdP takes it off
    # its HTML pages again, then resource responses name the legacy WebSocket.
    app.on_response_prepare.append(middleware.add_cors_headers)
    app.on_response_prepare.append(no_cors_on_pages(provider))
    app.on_response_prepare.append(ui_render.strip_cors)  # and the pod's pages too
    if notify_config.legacy_websocket:
        app.on_response_prepare.append(updates_via(notifier))
    # Routes: every fixed path before the catch-all resource route.
    add_idp_routes(app, provider)
    add_account_pages(app, provider)  # the account's pods, credentials, deletion
    add_admin_pages(app, settings.base_path, settings.admins)  # the operators' (--admin)
    add_vocab_routes(app, settings.base_path, settings.vocab_iri_base)
    add_notifications(app, notifier, authenticator, settings)
    add_access_grants(app, grants, settings.base_path)
    app[SERVICES].add(CREDENTIALS + "/", credential_service)
    app.router.add_route("*", "/{tail:.*}", handlers.handle)

    async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
        """Start every component in order; close them in reverse, however far start got."""
        async with contextlib.AsyncExitStack() as started:
            started.callback(store.runner.close)
            started.push_async_callback(query_pool.close)
            await backend.start()
            started.push_async_callback(backend.close)
            started.push_async_callback(group_fetcher.close)
            started.push_async_callback(authenticator.close)
            await store.ensure_root(root_acl(settings.owner or None, settings.open))
            await state.start()
            started.push_async_callback(state.close)
            started.push_async_callback(idp_fetcher.close)
            await started.enter_async_context(serving(provider))
            await notifier.start()
            started.push_async_callback(notifier.stop)
            started.push_async_callback(consent.close)
            sweeper = asyncio.create_task(consent.sweep(settings.consent_sweep_seconds))
            started.push_async_callback(stop_task, sweeper)
            audit_upkeep.start()
            started.push_async_callback(audit_upkeep.stop)
            started.push_async_callback(audit_writer.close)
            yield

    app.cleanup_ctx.append(lifecycle)
    # Live notification connections close first, before the server waits for its handlers.
    app.on_shutdown.append(notifier.shutdown)
    return app


async def stop_task(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def store_limits(settings: Settings) -> Limits:
    """What one request may cost the store: sizes, quota and bounded work."""
    return Limits(
        max_body_size=settings.max_body_size,
        max_rdf_size=settings.max_rdf_size,
        quota=settings.quota or None,
        work=WorkLimits(
            max_nesting=settings.max_nesting,
            max_solutions=settings.max_solutions,
            seconds=settings.work_timeout,
            jobs=settings.heavy_jobs,
            queue=QUEUED_PER_HEAVY_JOB * settings.heavy_jobs,
            processes=settings.validation_processes,
        ),
    )


def owner_description(settings: Settings) -> list[Callable[[str], str]]:
    """A single storage names its owner in its description (pods name theirs in their roots)."""
    if not settings.owner or settings.multiuser:
        return []
    owner_line = f"<{settings.public_base}> <{SOLID_OWNER}> <{settings.owner}>."
    return [lambda _root: owner_line]
