"""Client-initiated paging of container listings, after LDP Paging 1.0 (W3C Note).

A client that wants pages says so with ``Prefer: return=representation; page-size="N"``
(``max-member-count`` is taken as a synonym); the server answers 303 See Other to the
first page. A page is the container's URL with ``?page-size=N`` and, past the first,
``&after=NAME``: the members whose names sort after NAME, at most N of them, in name
order (keyset paging: each page is one index range scan, however large the container).
Pages carry ``Link: <ldp#Page>; rel="type"``, ``rel="canonical"`` to the container and
``rel="next"`` while there are more. Without a page preference a GET gets the whole
listing, as every Solid client expects.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

from pod_server.errors import BadRequest
from pod_server.ldp.vocabulary import LDP

MAX_PAGE_SIZE = 10_000
LDP_PAGE = LDP.Page
_SIZE_PARAMS = ("page-size", "max-member-count")
_PREFER_PARAM = re.compile(r';\s*([A-Za-z-]+)\s*=\s*"?([^";,]*)"?')


@dataclass(frozen=True, slots=True)
class PageRequest:
    size: int
    after: str | None  # a member's name (a trailing "/" for a container), None: first page


def _size(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= MAX_PAGE_SIZE:
        raise BadRequest(f"page-size must be a whole number from 1 to {MAX_PAGE_SIZE}")
    return int(value)


def requested_page(query: Mapping[str, str]) -> PageRequest | None:
    """The page a container URL's query names, None for the whole listing; 400 if bad."""
    if "page-size" not in query:
        if "after" in query:
            raise BadRequest("after needs page-size")
        return None
    after = query.get("after")
    if after is not None:
        name = after.removesuffix("/")
        if not name or "/" in name or name in (".", ".."):
            raise BadRequest("after must be the name of a member of the container")
    return PageRequest(_size(query["page-size"]), after)


def preferred_page_size(prefer_values: list[str]) -> int | None:
    """The page size a ``Prefer: return=representation; page-size=...`` asks for, at most
    ``MAX_PAGE_SIZE``. A size that is no positive number is ignored, as RFC 7240 §2 has a
    server do with a preference it cannot honour: the listing is then served whole."""
    for value in prefer_values:
        for pref in value.split(","):
            if not pref.strip().lower().startswith("return=representation"):
                continue
            for name, param in _PREFER_PARAM.findall(pref):
                size = param.strip()
                if name.lower() in _SIZE_PARAMS and size.isdigit() and int(size) > 0:
                    return min(int(size), MAX_PAGE_SIZE)
    return None


def page_url(container_url: str, size: int, after: str | None = None) -> str:
    url = f"{container_url}?page-size={size}"
    return url if after is None else f"{url}&after={quote(after, safe='/')}"
