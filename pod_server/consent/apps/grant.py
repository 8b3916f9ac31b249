"""What an app may do with a person's WebID, and the rule the resource server applies.

The rule: a request through an app the person limited gets the modes WAC gives the
person, intersected with the modes the grant gives on that URL, plus what the public
may do anyway (an app can always read what anyone can, e.g. the WebID profile). A
full-access grant (or none recorded: apps signed in to before limits existed, client
credentials) changes nothing. Pure functions; the lookup with its cache is ``lookup``.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass

from pod_server.access.modes import NO_MODES, Mode
from pod_server.consent.apps.needs import AppNeeds
from pod_server.state.base import AppAccess

OWN_CONTAINER_MODES = Mode.READ | Mode.WRITE
_NAMES = (("Read", Mode.READ), ("Write", Mode.WRITE), ("Append", Mode.APPEND))


@dataclass(frozen=True, slots=True)
class AppGrant:
    webid: str
    client_id: str
    targets: tuple[tuple[str, Mode], ...]  # (URL; a URL ending in / covers what is below)
    full: bool
    until: float | None = None  # a limited grant gives nothing after this (POSIX seconds)

    def limit(self, modes: Mode, url: str) -> Mode:
        return limit(modes, url, self)


def covers(target: str, url: str) -> bool:
    return url == target or (target.endswith("/") and url.startswith(target))


def allowed(grant: AppGrant, url: str, now: float) -> Mode:
    """The modes (with those they imply) ``grant`` gives on ``url``."""
    if grant.full:
        return Mode.READ | Mode.WRITE | Mode.APPEND | Mode.CONTROL
    if grant.until is not None and now >= grant.until:
        return NO_MODES
    given = NO_MODES
    for target, modes in grant.targets:
        if covers(target, url):
            given |= modes
    return given.implied()


def limit(modes: Mode, target_url: str, grant: AppGrant | None, now: float | None = None) -> Mode:
    """What an app may do on ``target_url`` when WAC gives its person ``modes``."""
    if grant is None or grant.full:
        return modes
    return modes & allowed(grant, target_url, time.time() if now is None else now)


def is_full(grant: AppGrant | None) -> bool:
    """No grant recorded counts as full access: the behaviour before apps could be limited."""
    return grant is None or grant.full


def choose(
    webid: str,
    client_id: str,
    needs: AppNeeds,
    storage: str | None,
    chosen: Collection[str],
    *,
    full: bool = False,
    own_only: bool = False,
) -> AppGrant:
    """The grant for what the person chose on the consent page: ``full`` access; or the app's
    own container (if it declares one) plus every required need and the optional needs
    whose keys are in ``chosen`` (none of them when ``own_only``). Needs are placed in
    ``storage`` (the person's storage root URL, ending in /); without one, or for a need
    with only a shape tree, nothing is granted for them."""
    if full:
        return AppGrant(webid, client_id, (), True)
    targets: list[tuple[str, Mode]] = []
    if storage is not None:
        if needs.own_container is not None:
            targets.append((storage + needs.own_container, OWN_CONTAINER_MODES))
        for need in needs.needs:
            wanted = not own_only and (need.required or need.key in chosen)
            if wanted and need.target_path is not None:
                targets.append((storage + need.target_path, need.modes))
    return AppGrant(webid, client_id, tuple(targets), False)


def mode_names(modes: Mode) -> str:
    return " ".join(name for name, mode in _NAMES if mode in modes)


def from_names(names: str) -> Mode:
    table = dict(_NAMES)
    modes = NO_MODES
    for name in names.split():
        modes |= table.get(name, NO_MODES)  # an unknown name grants nothing
    return modes


def to_access(grant: AppGrant, now: float) -> AppAccess:
    targets = tuple((url, mode_names(modes)) for url, modes in grant.targets)
    return AppAccess(grant.webid, grant.client_id, grant.full, targets, grant.until, now)


def from_access(access: AppAccess) -> AppGrant:
    targets = tuple((url, from_names(names)) for url, names in access.targets)
    return AppGrant(access.webid, access.client_id, targets, access.full, access.until)
