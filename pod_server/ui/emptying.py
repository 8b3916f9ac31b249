"""A folder that is not empty cannot be deleted (the store refuses, as LDP has it): its
pages say so in words, with how many items it holds, instead of the store's error."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from pod_server.ldp import paths
from pod_server.storage.base import Meta

if TYPE_CHECKING:
    from pod_server.ui.views import _Request

COUNT_UP_TO = 1000  # counted exactly up to this many; "1000+" beyond


def visible_count(members: list[Meta]) -> int:
    """The members a person sees in the listing (auxiliary resources go with the folder)."""
    return sum(1 for m in members if not paths.is_auxiliary(m.path))


def count_text(count: int) -> str:
    return f"{COUNT_UP_TO}+" if count > COUNT_UP_TO else str(count)


async def not_empty(r: _Request) -> web.Response | None:
    """The page refusing to delete a folder that holds something, else None (go on)."""
    if not paths.is_container(r.path):
        return None
    members = await r.store.members(r.path, None, COUNT_UP_TO + 8)  # + its own .acl/.meta
    count = visible_count(members)
    if count == 0:
        return None
    back = {"url": r.store.url(r.path), "label": r.t("back_to_folder")}
    text = r.t("not_empty_text", count=count_text(count))
    return r.message(409, r.t("not_empty_title"), text, [back])
