"""Copies of the vocabularies served locally: ``BASE/vocab/<domain>`` and friends.

``vocab/<domain>`` is the ontology (Turtle, JSON-LD or any RDF format, or an HTML page for
people), ``vocab/<domain>/shapes`` its SHACL shapes, ``vocab/<domain>/context.jsonld`` its
JSON-LD context. The documents are the same on every server: their terms are the
canonical ``https://w3id.org/solid-pods/vocab/...`` IRIs, whatever URL serves them, so
data written against one server's copy validates on any other. Documents are immutable
for a running server, so each representation is built once and served with a strong ETag.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from aiohttp import web

import vocab
from pod_server.errors import NotFound
from pod_server.ldp import rdf
from pod_server.ldp.media_types import JSON_LD
from pod_server.ldp.store import negotiate

HTML = "text/html"
ONTOLOGY_TYPES = (rdf.TURTLE, HTML, *[t for t in rdf.RDF_TYPES if t != rdf.TURTLE])
Builder = Callable[[str, str], bytes]


class VocabularyDocuments:
    def __init__(self, served_at: str) -> None:
        self.base = served_at  # where the copies are published: links only, never terms
        self._built: dict[tuple[str, str, str], bytes] = {}

    def get(self, domain: str, kind: str, media: str) -> bytes:
        key = (domain, kind, media)
        if key not in self._built:
            if domain not in vocab.domains():
                raise NotFound(f"No vocabulary named {domain!r}; see {self.base}")
            self._built[key] = self._build(domain, kind, media)
        return self._built[key]

    def _build(self, domain: str, kind: str, media: str) -> bytes:
        if kind == "context":
            return json.dumps(vocab.context(domain), indent=2).encode()
        if media == HTML:
            return vocab.html_page(domain, served_at=self.base).encode()
        name = "ontology.ttl" if kind == "ontology" else "shapes.ttl"
        turtle = vocab.read_text(domain, name).encode()
        if media == rdf.TURTLE:
            return turtle
        iri = vocab.ontology_iri(domain) if kind == "ontology" else vocab.shapes_iri(domain)
        return rdf.serialize(rdf.parse(turtle, rdf.TURTLE, iri), media, iri)

    def index(self) -> bytes:
        items = "".join(
            f'<li><a href="{self.base}{d}">{d}</a></li>\n'
            for d in vocab.domains()
        )
        return (
            '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            "<title>Vocabularies</title></head>\n<body><main><h1>Vocabularies</h1>\n"
            f"<ul>\n{items}</ul></main></body></html>\n"
        ).encode()


def _respond(request: web.Request, body: bytes, media: str) -> web.Response:
    tag = '"' + hashlib.sha256(body).hexdigest()[:24] + '"'
    headers = {"ETag": tag, "Cache-Control": "public, max-age=3600", "Vary": "Accept"}
    if request.headers.get("If-None-Match") == tag:
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, content_type=media, headers=headers)


def add_vocab_routes(app: web.Application, base_path: str, served_at: str) -> None:
    """Serve the vocabularies under ``base_path + 'vocab/'`` (before the resource routes);
    ``served_at`` is the URL the pages link to for the copies (BASE/vocab/ or a mirror)."""
    docs = VocabularyDocuments(served_at)

    async def index(request: web.Request) -> web.Response:
        return _respond(request, docs.index(), HTML)

    async def ontology(request: web.Request) -> web.Response:
        media = negotiate(request.headers.get("Accept"), ONTOLOGY_TYPES)
        return _respond(request, docs.get(request.match_info["domain"], "ontology", media), media)

    async def shapes(request: web.Request) -> web.Response:
        media = negotiate(request.headers.get("Accept"), rdf.RDF_TYPES)
        return _respond(request, docs.get(request.match_info["domain"], "shapes", media), media)

    async def context(request: web.Request) -> web.Response:
        body = docs.get(request.match_info["domain"], "context", JSON_LD)
        return _respond(request, body, JSON_LD)

    prefix = base_path + "vocab/"
    app.router.add_get(prefix, index)
    app.router.add_get(prefix + "{domain}", ontology)
    app.router.add_get(prefix + "{domain}/shapes", shapes)
    app.router.add_get(prefix + "{domain}/context.jsonld", context)
