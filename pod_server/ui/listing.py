"""A container's members as the browser page lists them: sorting, paging, breadcrumbs.

Pure functions over ``Meta``. A container of up to ``WHOLE_UP_TO`` members is read whole
and can be sorted by any column and paged by position; a larger one is read one page at
a time with the store's keyset paging (``ldp.paging``: name order, ``after=NAME``), so a
page of a million-member container costs one index range, and its columns sort within
the page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import unquote, urlencode

from pod_server.ldp import paths
from pod_server.storage.base import Meta

PAGE_SIZE = 100
WHOLE_UP_TO = 1000
COLUMNS = ("name", "type", "size", "modified")
CONTAINER_TYPE = "folder"  # sorts folders together, ahead of media types


@dataclass(frozen=True, slots=True)
class Entry:
    """One member as a row: its path, shown name and what the columns show."""

    path: str
    name: str  # decoded, without a container's trailing slash
    kind: str  # CONTAINER_TYPE or the media type's essence
    size: int | None  # None for a container
    modified: float

    @property
    def is_container(self) -> bool:
        return self.kind == CONTAINER_TYPE


@dataclass(frozen=True, slots=True)
class Sort:
    column: str = "name"
    descending: bool = False


def entry(meta: Meta) -> Entry:
    container = meta.is_container
    kind = CONTAINER_TYPE if container else meta.content_type.split(";", 1)[0].strip().lower()
    return Entry(
        meta.path,
        unquote(paths.name(meta.path)),
        kind,
        None if container else meta.size,
        meta.modified,
    )


def requested_sort(query: Mapping[str, str]) -> Sort:
    """``?sort=size&order=desc``; anything unknown falls back to name, ascending."""
    column = query.get("sort", "name")
    return Sort(column if column in COLUMNS else "name", query.get("order") == "desc")


def sort_entries(entries: Sequence[Entry], sort: Sort) -> list[Entry]:
    """Folders first whatever the column (as file managers do), then by the column,
    then by name so equal values keep a stable, predictable order."""

    def key(e: Entry) -> tuple[object, ...]:
        value: object
        if sort.column == "type":
            value = e.kind
        elif sort.column == "size":
            value = e.size or 0
        elif sort.column == "modified":
            value = e.modified
        else:
            value = e.name.casefold()
        return (value, e.name.casefold(), e.name)

    folders = sorted((e for e in entries if e.is_container), key=key, reverse=sort.descending)
    files = sorted((e for e in entries if not e.is_container), key=key, reverse=sort.descending)
    return folders + files


def requested_offset(query: Mapping[str, str]) -> int:
    value = query.get("start", "0")
    return int(value) if value.isdigit() and len(value) < 10 else 0


def window(
    entries: Sequence[Entry], offset: int, size: int = PAGE_SIZE
) -> tuple[list[Entry], int | None]:
    """The rows of one page of a whole listing, and where the next page starts (None: last)."""
    rows = list(entries[offset : offset + size])
    following = offset + size if offset + size < len(entries) else None
    return rows, following


def sort_link(query: Mapping[str, str], column: str, current: Sort) -> str:
    """The query of a column heading's link: that column, reversed if already sorted by it."""
    descending = column == current.column and not current.descending
    kept = {k: v for k, v in query.items() if k in ("lang",)}
    kept.update({"sort": column, "order": "desc" if descending else "asc"})
    return "?" + urlencode(kept)


def page_link(query: Mapping[str, str], **changes: str | int | None) -> str:
    """The current query with ``changes`` (None removes a key)."""
    kept = {k: v for k, v in query.items() if k in ("lang", "sort", "order", "start", "after")}
    for name, value in changes.items():
        if value is None:
            kept.pop(name, None)
        else:
            kept[name] = str(value)
    return "?" + urlencode(kept) if kept else "?"


@dataclass(frozen=True, slots=True)
class Crumb:
    name: str
    url: str


def breadcrumbs(base_url: str, storage_root: str | None, path: str) -> list[Crumb]:
    """From the storage root down to ``path``, each a link (the last is the page itself)."""
    chain = [*reversed(paths.ancestors(path)), path]
    root = storage_root or "/"
    crumbs: list[Crumb] = []
    for step in chain:
        if not step.startswith(root):
            continue
        label = (
            unquote(paths.name(step)) if step != "/" else base_url.split("//", 1)[-1].rstrip("/")
        )
        crumbs.append(Crumb(label, base_url + step[1:]))
    return crumbs


def iso_date(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")
