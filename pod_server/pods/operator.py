"""What a server's operator does to pods, for the operator pages and the CLI: suspend and
resume a pod, set its quota, and the counts and sizes the operator pages show. Nothing
here reads what a pod holds beyond its root's own triples (owner, suspension) and the
storage's byte counters.

Suspension is a server-managed triple on the pod's root (see ``access.suspension``),
written by the server itself (straight to the backend), so that no client rule stands in
its way and the access policy of every process sees it at the root's next etag.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from pod_server.access.owners import owners_in
from pod_server.access.suspension import suspended_since, with_suspension
from pod_server.errors import BadRequest, StaleState
from pod_server.ldp.store import ResourceStore
from pod_server.pods.hosting import HostingError, delete_user, pod_names, pod_owner
from pod_server.pods.provision import check_name, deprovision
from pod_server.state import IdpState
from pod_server.storage.base import Expect, Put, Staged

MAX_QUOTA = 2**53  # bytes: beyond any disk, and exact in JSON


@dataclass(frozen=True, slots=True)
class PodSummary:
    """One pod as the operator sees it: who owns it and how much it uses, no content."""

    name: str
    url: str
    owner: str
    email: str
    used: int
    limit: int | None  # its own limit (None: the server's default applies)
    default_limit: int | None
    suspended_since: str | None

    @property
    def effective_limit(self) -> int | None:
        return self.limit if self.limit is not None else self.default_limit


async def pod_summaries(store: ResourceStore, state: IdpState) -> list[PodSummary]:
    """Every pod of a multi-user server, with its owner's account email and its usage."""
    found = []
    for name in await pod_names(store):
        summary = await pod_summary(store, state, name)
        if summary is not None:
            found.append(summary)
    return found


async def pod_summary(store: ResourceStore, state: IdpState, name: str) -> PodSummary | None:
    """One pod as the operator sees it, or None when there is no such pod."""
    try:
        root = f"/{check_name(name)}/"
    except BadRequest:
        return None
    meta, graph = await store.graph_of(root)
    if meta is None:
        return None
    url = store.url(root)
    owners = owners_in(graph, url)
    owner = min(owners) if owners else ""
    account_id = await state.webid_owner(owner) if owner else None
    account = await state.get_account(account_id) if account_id else None
    usage = await store.usage(root)
    return PodSummary(
        name,
        url,
        owner,
        account.email if account else "",
        usage.used,
        usage.limit,
        store.limits.quota,
        suspended_since(graph, url),
    )


async def set_suspended(store: ResourceStore, name: str, suspended: bool) -> bool:
    """Suspend (or resume) the pod ``name``; False when it already was (or was not)."""
    root = f"/{_checked(name)}/"
    url = store.url(root)
    for _ in range(3):  # a concurrent write of the root: read it again
        meta, graph = await store.graph_of(root)
        if meta is None:
            raise HostingError(f"No pod named {name!r}")
        if (suspended_since(graph, url) is not None) == suspended:
            return False
        since = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if suspended else None
        turtle = with_suspension(graph, url, since).serialize(format="turtle").encode()
        try:
            # Straight to the backend: not counted against the pod's quota (an operator may
            # suspend a pod that is over it), every usage counter still kept exact.
            await store.backend.apply(
                [Expect(root, meta.etag)], [Put(root, meta.content_type, Staged.of(turtle))]
            )
            return True
        except StaleState:
            continue
    raise HostingError(f"The pod {name!r} kept changing; try again")


def parse_quota(text: str) -> int | None:
    """A quota as typed in a form: bytes, or with a unit (KB, MB, GB, decimal or binary
    ``MiB``); empty means "the server's default" (None)."""
    cleaned = text.strip().replace(" ", "").upper()
    if not cleaned:
        return None
    units = {"": 1, "B": 1, "K": 1000, "M": 1000**2, "G": 1000**3, "T": 1000**4}
    number, unit = cleaned, ""
    while number and not (number[-1].isdigit() or number[-1] == "."):
        number, unit = number[:-1], number[-1] + unit
    unit = unit.removesuffix("B") if unit not in ("B", "") else ""
    binary = unit.endswith("I")
    unit = unit.removesuffix("I")
    if unit not in units or not number:
        raise BadRequest(f"Not a size: {text!r} (use bytes, or e.g. 500 MB, 2 GB)")
    scale = 1024 ** ("KMGT".index(unit) + 1) if binary and unit else units[unit]
    try:
        size = int(float(number) * scale)
    except (ValueError, OverflowError):
        raise BadRequest(f"Not a size: {text!r} (use bytes, or e.g. 500 MB, 2 GB)") from None
    if size < 0 or size > MAX_QUOTA:
        raise BadRequest(f"A quota is between 0 and {MAX_QUOTA} bytes")
    return size


async def set_quota(store: ResourceStore, name: str, limit: int | None) -> None:
    """Give the pod its own limit in bytes (None: the server's default again)."""
    root = f"/{_checked(name)}/"
    if await store.meta(root) is None:
        raise HostingError(f"No pod named {name!r}")
    await store.backend.set_limit(root, limit)


def _checked(name: str) -> str:
    try:
        return check_name(name)
    except BadRequest as exc:
        raise HostingError(exc.message) from None


async def delete_pod(store: ResourceStore, state: IdpState, name: str) -> int:
    """Delete the pod ``name`` with its owner's account (and the account's other pods, as
    ``delete_user`` does), then erase each deleted pod's audit log, as an account's own
    deletion does. A pod whose owner has no account here goes alone. Returns how many
    resources went."""
    owner = await pod_owner(store, _checked(name))
    if owner is None:
        raise HostingError(f"No pod named {name!r}")
    account_id = await state.webid_owner(owner)
    names = [name]
    if account_id is None:
        removed = await deprovision(store, name)
    else:
        webids = set(await state.account_webids(account_id))
        names += [
            p for p in await pod_names(store) if p != name and await pod_owner(store, p) in webids
        ]
        removed = await delete_user(store, state, name)
    for gone in names:  # every entry (all are older than tomorrow) goes with its pod
        await store.backend.log_trim(time.time() + 86_400, f"/{gone}/")
    return removed
