"""Parsing request headers into plain values and formatting response headers.

Pure functions: no aiohttp types cross this module's boundary.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

from pod_server.errors import RangeNotSatisfiable
from pod_server.ldp import conditions, paths
from pod_server.ldp.conditions import Conditions
from pod_server.ldp.vocabulary import (
    ACL,
    LDP_BASIC_CONTAINER,
    LDP_CONTAINER,
    LDP_NON_RDF_SOURCE,
    LDP_RDF_SOURCE,
    LDP_RESOURCE,
    PIM_STORAGE,
    SOLID_STORAGE_DESCRIPTION,
)

EXPOSED_HEADERS = (
    "Accept-Patch, Accept-Post, Accept-Put, Allow, Content-Range, ETag, Last-Modified, "
    "Link, Location, Updates-Via, WAC-Allow, WWW-Authenticate"
)

_LINK = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]+)*)")
_REL = re.compile(r'rel\s*=\s*"?([^";,]+)"?', re.IGNORECASE)
_RANGE = re.compile(r"bytes=\s*(\d*)\s*-\s*(\d*)\s*")


def link_types(values: list[str]) -> list[str]:
    """The IRIs given with ``rel="type"`` in one or more ``Link`` headers."""
    found: list[str] = []
    for value in values:
        for match in _LINK.finditer(value):
            rel = _REL.search(match.group(2) or "")
            if rel and "type" in rel.group(1).split():
                found.append(match.group(1).strip())
    return found


_CONDITIONAL = ("If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since")


def request_conditions(headers: Mapping[str, str]) -> Conditions:
    if not any(name in headers for name in _CONDITIONAL):
        return conditions.NONE  # most requests: nothing to parse
    return Conditions(
        if_match=conditions.parse_etag_list(headers.get("If-Match")),
        if_none_match=conditions.parse_etag_list(headers.get("If-None-Match")),
        if_modified_since=conditions.parse_http_date(headers.get("If-Modified-Since")),
        if_unmodified_since=conditions.parse_http_date(headers.get("If-Unmodified-Since")),
    )


@functools.lru_cache(maxsize=64)
def allow(methods: tuple[str, ...]) -> str:
    """The ``Allow`` value for ``methods`` (a handful of distinct tuples)."""
    return ", ".join(methods)


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The ``[start, end)`` a ``Range`` header selects, None for the whole body (RFC 9110 §14).

    Several ranges, or a unit other than bytes, are answered with the whole body, as the
    RFC allows; a range that lies wholly past the end is 416.
    """
    if not header or "," in header:
        return None
    match = _RANGE.fullmatch(header.strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":  # suffix range: the last N bytes
        length = int(last)
        if length == 0:
            raise RangeNotSatisfiable(
                "Empty suffix range", headers={"Content-Range": f"bytes */{size}"}
            )
        return max(0, size - length), size
    start = int(first)
    end = size if last == "" else min(int(last) + 1, size)
    if start >= size or (last != "" and int(last) < start):
        raise RangeNotSatisfiable(
            f"Range starts past the end ({size} bytes)",
            headers={"Content-Range": f"bytes */{size}"},
        )
    return start, end


@functools.lru_cache(maxsize=4096)  # the same resources' links on every response
def resource_links(
    url: str, path: str, description_url: str, rdf_source: bool | None, *, storage: bool
) -> str:
    """The ``Link`` header every response about ``path`` carries (Solid Protocol §4, §5)."""
    types = [LDP_RESOURCE]
    if paths.is_container(path):
        types += [LDP_CONTAINER, LDP_BASIC_CONTAINER]
        if storage:
            types.append(PIM_STORAGE)
    elif rdf_source is not None:
        types.append(LDP_RDF_SOURCE if rdf_source else LDP_NON_RDF_SOURCE)
    links = [f'<{t}>; rel="type"' for t in types]
    if not paths.is_auxiliary(path):
        links.append(f'<{url}{paths.ACL_SUFFIX}>; rel="acl"')
        links.append(f'<{url}{paths.META_SUFFIX}>; rel="describedby"')
    elif path.endswith(paths.ACL_SUFFIX):
        # WAC (draft), ACL Resource Condition Discovery: each condition type evaluated.
        links.append(f'<{ACL.ClientCondition}>; rel="{ACL.condition}"')
    links.append(f'<{description_url}>; rel="{SOLID_STORAGE_DESCRIPTION}"')
    return ", ".join(links)
