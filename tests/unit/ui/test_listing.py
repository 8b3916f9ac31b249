"""A container's rows: folders first, sorted by any column, paged, with breadcrumbs."""

from __future__ import annotations

from urllib.parse import parse_qs

from pod_server.storage.base import Meta
from pod_server.ui import listing
from pod_server.ui.listing import Sort


def meta(path: str, ctype: str = "text/plain", size: int = 0, modified: float = 0) -> Meta:
    return Meta(path, ctype, size, "e", modified)


ENTRIES = [
    listing.entry(meta("/c/b.txt", size=30, modified=3)),
    listing.entry(meta("/c/A.png", "image/png", size=10, modified=2)),
    listing.entry(meta("/c/zeta/", "text/turtle", size=999, modified=9)),
    listing.entry(meta("/c/caf%C3%A9.csv", "text/csv; charset=utf-8", size=20, modified=1)),
]


def names(entries: list[listing.Entry]) -> list[str]:
    return [e.name for e in entries]


def test_entries_are_decoded_and_typed() -> None:
    folder, csv = ENTRIES[2], ENTRIES[3]
    assert (folder.name, folder.kind, folder.size, folder.is_container) == (
        "zeta",
        "folder",
        None,
        True,
    )
    assert (csv.name, csv.kind, csv.size) == ("café.csv", "text/csv", 20)


def test_sorting_keeps_folders_first() -> None:
    by_name = ["zeta", "A.png", "b.txt", "café.csv"]
    assert names(listing.sort_entries(ENTRIES, Sort())) == by_name
    assert names(listing.sort_entries(ENTRIES, Sort("name", True))) == ["zeta", *by_name[:0:-1]]
    by_size = ["zeta", "A.png", "café.csv", "b.txt"]
    assert names(listing.sort_entries(ENTRIES, Sort("size"))) == by_size
    by_date = ["b.txt", "A.png", "café.csv"]
    assert names(listing.sort_entries(ENTRIES, Sort("modified", True)))[1:] == by_date
    by_type = ["A.png", "café.csv", "b.txt"]
    assert names(listing.sort_entries(ENTRIES, Sort("type")))[1:] == by_type


def test_requested_sort_falls_back_to_name() -> None:
    assert listing.requested_sort({"sort": "size", "order": "desc"}) == Sort("size", True)
    assert listing.requested_sort({"sort": "evil"}) == Sort("name", False)


def test_a_heading_link_reverses_the_current_column_and_keeps_the_language() -> None:
    link = listing.sort_link({"lang": "fr", "start": "100"}, "name", Sort("name"))
    assert parse_qs(link[1:]) == {"lang": ["fr"], "sort": ["name"], "order": ["desc"]}
    link = listing.sort_link({}, "size", Sort("name"))
    assert parse_qs(link[1:]) == {"sort": ["size"], "order": ["asc"]}


def test_windows_of_a_whole_listing() -> None:
    rows = [listing.entry(meta(f"/c/{i:03d}")) for i in range(250)]
    first, following = listing.window(rows, 0)
    assert (len(first), following) == (100, 100)
    last, following = listing.window(rows, 200)
    assert (len(last), following) == (50, None)
    assert listing.window(rows, 999) == ([], None)
    assert listing.requested_offset({"start": "-5"}) == 0
    assert listing.requested_offset({"start": "20"}) == 20


def test_page_links_change_only_what_they_name() -> None:
    link = listing.page_link({"sort": "size", "after": "x", "junk": "1"}, after="y/", start=None)
    assert parse_qs(link[1:]) == {"sort": ["size"], "after": ["y/"]}


def test_breadcrumbs_from_the_storage_root() -> None:
    crumbs = listing.breadcrumbs("https://pods.example/", "/alice/", "/alice/photos/caf%C3%A9.jpg")
    assert [(c.name, c.url) for c in crumbs] == [
        ("alice", "https://pods.example/alice/"),
        ("photos", "https://pods.example/alice/photos/"),
        ("café.jpg", "https://pods.example/alice/photos/caf%C3%A9.jpg"),
    ]
    root = listing.breadcrumbs("https://pods.example/", "/", "/")
    assert [(c.name, c.url) for c in root] == [("pods.example", "https://pods.example/")]
