"""What a host does with accounts and their pods, as plain functions for the CLI and sign-up.

An account (in the IdP state) owns WebIDs; a pod (in the resource store) names its owner's
WebID in its root (``solid:owner``). These functions keep the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import URIRef

from pod_server.errors import BadRequest, Conflict, PodError
from pod_server.idp import (
    AccountError,
    ProvisionRefused,
    create_account,
    create_credentials,
    delete_account,
    link_webid,
)
from pod_server.idp.provider import PodsOf, Provision, StorageOf
from pod_server.ldp.store import ResourceStore
from pod_server.ldp.vocabulary import SOLID_OWNER
from pod_server.pods.provision import NameTaken, check_name, deprovision, provision
from pod_server.state import IdpState


class HostingError(Exception):
    """A user-management request that cannot be done; the message says why."""


@dataclass(frozen=True, slots=True)
class UserInfo:
    name: str
    email: str
    webid: str
    pod: str
    used: int
    limit: int | None


async def pod_owner(store: ResourceStore, name: str) -> str | None:
    """The WebID a pod names as its owner, or None when there is no such pod."""
    root = f"/{check_name(name)}/"
    meta, graph = await store.graph_of(root)
    if meta is None:
        return None
    owner = graph.value(URIRef(store.url(root)), URIRef(SOLID_OWNER))
    return str(owner) if owner is not None else None


async def add_user(
    store: ResourceStore,
    state: IdpState,
    name: str,
    email: str,
    password: str,
    webid: str | None = None,
) -> UserInfo:
    """Create an account and its pod ``BASE/NAME/`` (WebID ``BASE/NAME/profile/card#me``
    unless ``webid`` names one hosted elsewhere); on any failure, neither remains."""
    try:
        check_name(name)
        if await pod_owner(store, name) is not None:
            raise HostingError(f"A pod named {name!r} already exists")
        account = await create_account(state, email, password)
    except (AccountError, PodError) as exc:
        raise HostingError(str(exc)) from None
    try:
        info = await provision(store, name, store.base_url, webid)
        await link_webid(state, account.id, info.webid)
    except (AccountError, PodError) as exc:
        await delete_account(state, account.id)
        await deprovision(store, name)
        raise HostingError(str(exc)) from None
    usage = await store.usage(f"/{name}/")
    return UserInfo(name, account.email, info.webid, info.root, usage.used, usage.limit)


async def _account_of(store: ResourceStore, state: IdpState, name: str) -> tuple[str, str]:
    try:
        owner = await pod_owner(store, name)
    except BadRequest as exc:
        raise HostingError(str(exc)) from None
    if owner is None:
        raise HostingError(f"No pod named {name!r}")
    account_id = await state.webid_owner(owner)
    if account_id is None:
        raise HostingError(f"The owner of {name!r} ({owner}) has no account on this server")
    return account_id, owner


async def user_credentials(
    store: ResourceStore, state: IdpState, name: str, label: str = ""
) -> dict[str, str]:
    """Client credentials acting as the pod owner's WebID (shown once)."""
    account_id, webid = await _account_of(store, state, name)
    try:
        issued = await create_credentials(state, store.base_url, account_id, webid, label)
    except AccountError as exc:
        raise HostingError(str(exc)) from None
    return {**issued, "pod": store.url(f"/{name}/")}


async def list_users(store: ResourceStore, state: IdpState) -> list[UserInfo]:
    """Every pod on this server with its owner's account and the bytes it uses."""
    users: list[UserInfo] = []
    for name in await pod_names(store):
        owner = await pod_owner(store, name)
        account_id = await state.webid_owner(owner) if owner else None
        account = await state.get_account(account_id) if account_id else None
        usage = await store.usage(f"/{name}/")
        email = account.email if account else ""
        pod = store.url(f"/{name}/")
        users.append(UserInfo(name, email, owner or "", pod, usage.used, usage.limit))
    return users


async def delete_user(store: ResourceStore, state: IdpState, name: str) -> int:
    """Erase an account (right to erasure): its pods, WebIDs, credentials and tokens."""
    account_id, _ = await _account_of(store, state, name)
    webids = set(await delete_account(state, account_id))
    removed = 0
    for pod in await pod_names(store):
        if pod == name or await pod_owner(store, pod) in webids:
            removed += await deprovision(store, pod)
    return removed


async def pod_names(store: ResourceStore) -> list[str]:
    """Names of the pods: the containers at the top of a multi-user server."""
    names = []
    for meta in await store.backend.children("/"):
        name = meta.path.strip("/")
        if meta.is_container and "/" not in name:
            try:
                names.append(check_name(name))
            except BadRequest:
                continue  # a container the host made by hand, not a pod
    return names


def pods_of(store: ResourceStore) -> PodsOf:
    """The account page's view: each pod the WebIDs own, its use and its effective quota."""

    async def pods(webids: list[str]) -> list[tuple[str, int, int | None]]:
        owned = set(webids)
        found = []
        for name in await pod_names(store):
            if await pod_owner(store, name) in owned:
                usage = await store.usage(f"/{name}/")
                limit = usage.limit if usage.limit is not None else store.limits.quota
                found.append((store.url(f"/{name}/"), usage.used, limit))
        return found

    return pods


def provisioner(store: ResourceStore) -> Provision:
    """The sign-up callback: make the new account's pod, or say why not."""

    async def make_pod(account_id: str, name: str) -> str:
        del account_id  # the IdP links the returned WebID to the account
        try:
            check_name(name)
        except BadRequest as exc:
            raise ProvisionRefused(exc.message, "pod_name_unusable", name=name) from None
        try:
            return (await provision(store, name, store.base_url)).webid
        except NameTaken as exc:
            raise ProvisionRefused(exc.message, "pod_name_taken", name=name) from None
        except (BadRequest, Conflict) as exc:
            raise ProvisionRefused(exc.message) from None

    return make_pod


def storage_of(store: ResourceStore) -> StorageOf:
    """Where a person's storage is, for placing the access needs apps declare: the one
    storage of a single-user server; else the pod the WebID owns (its own pod first:
    ``BASE/NAME/profile/card#me`` names ``BASE/NAME/``)."""

    async def find(webid: str) -> str | None:
        if not store.multiuser:
            return store.url("/")
        path = store.local_path(webid.split("#", 1)[0])
        root = store.storage_root_of(path) if path else None
        if root is not None and root != "/":
            try:
                if await pod_owner(store, root.strip("/")) == webid:
                    return store.url(root)
            except PodError:
                pass  # not a pod name: look through the pods
        found = await pods_of(store)([webid])
        return found[0][0] if found else None

    return find
