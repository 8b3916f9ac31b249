"""A WebID profile document as a card for people (pure): name, photo and links.

A document is a profile when it says so (``foaf:PersonalProfileDocument``) or names its
``foaf:primaryTopic``; the card is about that topic (else the one agent the document
describes as a ``foaf:Person``). RDF clients still get the document itself: which
requests get a page is decided in ``http.negotiation``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from rdflib import FOAF, RDF, Graph, Literal, Namespace, URIRef
from rdflib.term import Node

from pod_server.ldp.vocabulary import LDP, PIM, SOLID, VCARD

SCHEMA = Namespace("http://schema.org/")
LDP_INBOX = LDP.inbox

_NAMES = (FOAF.name, VCARD.fn, SCHEMA.name)
_PHOTOS = (FOAF.img, VCARD.hasPhoto, FOAF.depiction, SCHEMA.image)
# (message key, properties): the card's links, in the order shown.
_LINKS: tuple[tuple[str, tuple[URIRef, ...]], ...] = (
    ("profile_storage", (PIM.storage, SOLID.storage)),
    ("profile_inbox", (LDP_INBOX,)),
    ("profile_homepage", (FOAF.homepage, VCARD.url, SCHEMA.url)),
    ("profile_email", (FOAF.mbox, VCARD.hasEmail)),
    ("profile_issuer", (SOLID.oidcIssuer,)),
)


@dataclass(frozen=True, slots=True)
class Link:
    key: str  # the i18n key naming the link
    url: str
    text: str


@dataclass(frozen=True, slots=True)
class Card:
    webid: str
    name: str | None
    photo: str | None  # the image's URL
    links: tuple[Link, ...] = ()
    knows: tuple[Link, ...] = field(default=())


def card(graph: Graph, document_url: str) -> Card | None:
    """The card of the person the profile document at ``document_url`` is about, or None
    when the document is not a profile."""
    doc = URIRef(document_url)
    topic = next((o for o in graph.objects(doc, FOAF.primaryTopic) if isinstance(o, URIRef)), None)
    if topic is None:
        if (doc, RDF.type, FOAF.PersonalProfileDocument) not in graph:
            return None
        people = [s for s in graph.subjects(RDF.type, FOAF.Person) if isinstance(s, URIRef)]
        if len(people) != 1:
            return None
        topic = people[0]
    links: list[Link] = []
    seen: set[str] = set()
    for key, predicates in _LINKS:
        for value in _values(graph, topic, predicates):
            url = _url_of(graph, value)
            if url is None or (key, url) in seen:
                continue
            seen.add((key, url))  # type: ignore[arg-type]
            links.append(Link(key, url, _shown(url)))
    knows = [
        Link("profile_knows", str(o), _name(graph, o) or str(o))
        for o in sorted(_values(graph, topic, (FOAF.knows,)), key=str)
        if isinstance(o, URIRef)
    ]
    photo = next(
        (u for v in _values(graph, topic, _PHOTOS) if (u := _url_of(graph, v)) is not None),
        None,
    )
    return Card(str(topic), _name(graph, topic), photo, tuple(links), tuple(knows))


def same_origin(url: str, base: str) -> bool:
    """Whether ``url`` is on the server at ``base`` (the pages show only such images:
    their Content-Security-Policy loads nothing from other sites)."""
    a, b = urlsplit(url), urlsplit(base)
    return (a.scheme, a.netloc.lower()) == (b.scheme, b.netloc.lower())


def _values(graph: Graph, subject: Node, predicates: tuple[URIRef, ...]) -> list[Node]:
    found: list[Node] = []
    for predicate in predicates:
        found += sorted(graph.objects(subject, predicate), key=lambda n: n.n3())
    return found


def _url_of(graph: Graph, value: Node) -> str | None:
    """An IRI value, or the ``vcard:value`` of a node standing for one (vcard emails)."""
    if isinstance(value, URIRef):
        return str(value)
    for inner in graph.objects(value, VCARD.value):
        if isinstance(inner, URIRef):
            return str(inner)
    return None


def _name(graph: Graph, subject: Node) -> str | None:
    for predicate in _NAMES:
        for value in graph.objects(subject, predicate):
            if isinstance(value, Literal) and str(value).strip():
                return str(value).strip()
    return None


def _shown(url: str) -> str:
    return url.removeprefix("mailto:").removeprefix("tel:")
