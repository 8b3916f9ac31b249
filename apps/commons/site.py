"""The public results site: every published release, as its page (HTML with its charts)
for people and as its RDF Data Cube (Turtle or JSON-LD) for machines, at one URL each.

The broker publishes a release into a directory (``publish``: the cube, the page and a
small index entry, each written to a temporary file then renamed, so a reader never sees
half a release), then rewrites the site's index of every release, a DCAT catalog
(``catalog.ttl``, ``apps.commons.catalog``), under a lock: several brokers or restarts can
publish into the same directory. ``site_app`` serves that directory read-only, choosing
the form by the ``Accept`` header: ``/`` is the list for people (linking the catalog) or
the catalog for machines, ``/catalog`` the catalog (Turtle or JSON-LD), ``/<release>/``
a release's page or cube, ``/<release>/dataset`` its cube (the dataset's IRI).

    python -m apps.commons site --dir results/ --port 8080   # loopback; put a proxy in front
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from aiohttp import web
from rdflib import Graph

from apps.commons import catalog, cube, page
from apps.commons.broker import Release

TURTLE = "text/turtle"
JSON_LD = "application/ld+json"
HTML = "text/html"
CATALOG = "catalog.ttl"
_SLUG = re.compile(r"^[0-9a-f]{12}-[A-Za-z0-9._:-]{1,128}$")


def slug(release: Release) -> str:
    """A release's path segment: its study (hashed) and round."""
    return hashlib.sha256(release.study.iri.encode()).hexdigest()[:12] + "-" + release.round


def publish(release: Release, directory: Path, base: str) -> str:
    """Write ``release`` under ``directory``; its URL on the site at ``base``."""
    name = slug(release)
    if not _SLUG.match(name):
        raise ValueError(f"a round id unfit for a URL: {release.round!r}")
    url = base.rstrip("/") + "/" + name + "/"
    place = directory / name
    place.mkdir(parents=True, exist_ok=True)
    turtle = cube.cube(release, url).serialize(format="turtle")
    _write(place / "cube.ttl", turtle)
    _write(place / "index.html", page.page(release, url))
    stat = release.study.statistic
    now = datetime.now(UTC)
    entry = {
        "title": release.study.title,
        "round": release.round,
        "study": release.study.iri,
        "published": now.isoformat(timespec="seconds"),
        # the catalog's issue date, fine enough to order rounds published in one second
        "issued": now.isoformat(timespec="microseconds"),
        "contributions": release.contributions,
        "url": url,
        "statistic": f"{stat.kind.value} of <{stat.measure}>",
        "periods": [stat.periods[0], stat.periods[-1]] if stat.periods else [],
    }
    _write(place / "entry.json", json.dumps(entry))
    write_catalog(directory, base)
    return url


def write_catalog(directory: Path, base: str) -> None:
    """Rewrite the catalog from every entry, one publisher at a time: two publishing at
    once would each write a catalog lacking the other's release."""
    with (directory / ".catalog.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            graph = catalog.catalog(entries(directory, oldest_first=True), base)
            _write(directory / CATALOG, graph.serialize(format="turtle"))
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _write(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def entries(directory: Path, *, oldest_first: bool = False) -> list[dict[str, Any]]:
    """The published releases, newest first (unreadable entries skipped)."""
    found = []
    for item in directory.glob("*/entry.json"):
        try:
            found.append({**json.loads(item.read_text(encoding="utf-8")), "slug": item.parent.name})
        except (OSError, ValueError):
            continue

    def when(entry: dict[str, Any]) -> tuple[str, str]:
        return str(entry.get("issued") or entry.get("published", "")), entry["slug"]

    found.sort(key=when, reverse=not oldest_first)
    return found


def preferred(accept: str) -> str:
    """HTML unless the client prefers Turtle or JSON-LD (by q-value, then order)."""
    best, best_q = HTML, -1.0
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        kind = {TURTLE: TURTLE, JSON_LD: JSON_LD, HTML: HTML, "*/*": HTML}.get(media.lower())
        if kind is not None and q > best_q:
            best, best_q = kind, q
    return best


def _rdf(turtle: str, kind: str) -> web.Response:
    """A Turtle document as ``kind`` (Turtle or JSON-LD)."""
    headers = {"Vary": "Accept", "Access-Control-Allow-Origin": "*"}
    if kind == TURTLE:
        return web.Response(text=turtle, content_type=TURTLE, headers=headers)
    graph = Graph().parse(data=turtle, format="turtle")
    return web.Response(
        text=graph.serialize(format="json-ld"), content_type=JSON_LD, headers=headers
    )


def site_app(directory: Path) -> web.Application:
    def catalog_turtle(request: web.Request) -> str:
        """The catalog publishers wrote; before any release, an empty one here."""
        try:
            return (directory / CATALOG).read_text(encoding="utf-8")
        except FileNotFoundError:
            here = str(request.url.with_path("/").with_query(None))
            return catalog.catalog([], here).serialize(format="turtle")

    async def index(request: web.Request) -> web.Response:
        kind = preferred(request.headers.get("Accept", HTML))
        if kind != HTML:
            return _rdf(catalog_turtle(request), kind)
        items = "".join(
            f'<li><a href="{escape(e["slug"])}/">{escape(str(e.get("title", "")))}</a>: '
            f"round {escape(str(e.get('round', '')))}, {int(e.get('contributions', 0))} "
            f"contributions, published {escape(str(e.get('published', '')))}</li>"
            for e in entries(directory)
        )
        body = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{catalog.TITLE}</title>"
            '<link rel="alternate" type="text/turtle" href="catalog">'
            "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:auto;"
            "padding:0 .5rem}</style>"
            f"</head><body><h1>{catalog.TITLE}</h1>"
            f"<ul>{items or '<li>Nothing published yet.</li>'}</ul>"
            '<p>For programs: <a id="catalog" href="catalog">the index of every release</a> '
            "(a DCAT catalog, Turtle or JSON-LD).</p></body></html>"
        )
        return web.Response(text=body, content_type=HTML, headers={"Vary": "Accept"})

    async def catalog_document(request: web.Request) -> web.Response:
        kind = preferred(request.headers.get("Accept", TURTLE))
        return _rdf(catalog_turtle(request), JSON_LD if kind == JSON_LD else TURTLE)

    def place_of(request: web.Request) -> Path:
        name = request.match_info["slug"]
        place = directory / name
        if not _SLUG.match(name) or not (place / "cube.ttl").is_file():
            raise web.HTTPNotFound(text="No such release")
        return place

    async def release(request: web.Request) -> web.Response:
        place = place_of(request)
        kind = preferred(request.headers.get("Accept", HTML))
        if kind == HTML:
            text = (place / "index.html").read_text(encoding="utf-8")
            return web.Response(text=text, content_type=HTML, headers={"Vary": "Accept"})
        return _rdf((place / "cube.ttl").read_text(encoding="utf-8"), kind)

    async def dataset(request: web.Request) -> web.Response:
        """The dataset's IRI, dereferenced: its cube (never the page)."""
        place = place_of(request)
        kind = preferred(request.headers.get("Accept", TURTLE))
        turtle = (place / "cube.ttl").read_text(encoding="utf-8")
        return _rdf(turtle, JSON_LD if kind == JSON_LD else TURTLE)

    app = web.Application()
    app.router.add_get("/", index)
    app.router.add_get("/catalog", catalog_document)
    app.router.add_get("/{slug}/", release)
    app.router.add_get("/{slug}/dataset", dataset)
    return app
