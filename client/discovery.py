"""From a WebID to the rest: storages, inbox, type indexes; registering and finding
where an app keeps its data types (Solid Type Indexes)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from urllib.parse import urldefrag

from rdflib import RDF, Graph, Namespace, URIRef
from rdflib.namespace import FOAF

from client import rdf
from client.access import Access, _parent
from client.core import normalize_url, origin
from client.errors import Forbidden, InvalidResponse, NotFound, PodClientError, Unauthorized

SOLID = Namespace("http://www.w3.org/ns/solid/terms#")
PIM = Namespace("http://www.w3.org/ns/pim/space#")
LDP_NS = Namespace("http://www.w3.org/ns/ldp#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
STORAGE_DESCRIPTION = str(SOLID.storageDescription)
# Answers to a HEAD that still let the walk up go on: missing, or not for this caller.
_NOT_READABLE = (401, 403, 404, 410)


@dataclass
class Profile:
    """What a WebID profile says about its subject."""

    webid: str
    name: str | None = None
    issuers: list[str] = field(default_factory=list)
    storages: list[str] = field(default_factory=list)
    inbox: str | None = None
    preferences_file: str | None = None
    public_type_index: str | None = None
    private_type_index: str | None = None


@dataclass(frozen=True)
class TypeRegistration:
    """One ``solid:TypeRegistration``: where instances of ``for_class`` are kept."""

    id: str
    index: str
    for_class: str
    instances: tuple[str, ...] = ()
    containers: tuple[str, ...] = ()
    private: bool = False

    @property
    def locations(self) -> tuple[str, ...]:
        return self.instances + self.containers


def _urls(graph: Graph, subject: URIRef, *predicates: URIRef) -> list[str]:
    found: list[str] = []
    for pred in predicates:
        for obj in graph.objects(subject, pred):
            if isinstance(obj, URIRef) and str(obj) not in found:
                found.append(str(obj))
    return found


class Discovery(Access):
    async def profile(self, webid: str | None = None) -> Profile:
        """Read a WebID profile (default: the signed-in person's)."""
        webid = webid or self.webid
        if not webid:
            raise PodClientError("no WebID given and nobody is signed in")
        doc = normalize_url(urldefrag(webid)[0])
        res = await self.get(doc, accept=rdf.RDF_ACCEPT)
        graph = await self._graph_of(res)
        me = URIRef(webid)

        def first(*predicates: URIRef) -> str | None:
            return next(iter(_urls(graph, me, *predicates)), None)

        name = graph.value(me, FOAF.name) or graph.value(me, VCARD.fn)
        profile = Profile(
            webid=webid,
            name=str(name) if name is not None else None,
            issuers=_urls(graph, me, SOLID.oidcIssuer),
            storages=_urls(graph, me, PIM.storage, SOLID.storage),
            inbox=first(LDP_NS.inbox),
            preferences_file=first(PIM.preferencesFile),
            public_type_index=first(SOLID.publicTypeIndex),
            private_type_index=first(SOLID.privateTypeIndex),
        )
        if profile.preferences_file and not profile.private_type_index:
            try:  # the private index is usually named only in the (private) preferences
                prefs = await self.read_graph(profile.preferences_file)
                profile.private_type_index = next(
                    iter(_urls(prefs, me, SOLID.privateTypeIndex)), None
                )
                profile.public_type_index = profile.public_type_index or next(
                    iter(_urls(prefs, me, SOLID.publicTypeIndex)), None
                )
            except (Unauthorized, Forbidden, NotFound):
                pass
        return profile

    async def find_storage(self, url: str) -> str | None:
        """The storage root holding ``url``: the nearest container (itself included)
        that the server says is a ``pim:Storage``.

        Solid Protocol §4.1 (Storage Resource): the server answers a storage's URI with
        ``Link: <pim:Storage>; rel="type"``, and every GET/HEAD about a resource in a
        storage links (``rel=solid:storageDescription``) the storage description, which
        states ``<storage> a pim:Storage``. A container the caller may not read answers
        401/403, and neither our server nor CSS 7.2 puts the type link on that answer;
        such a container is the storage when a description linked from a response met
        on the way up (the resource itself, a readable container below) names it."""
        described: dict[str, set[str] | None] = {}  # description URL -> storages named
        current: str | None = normalize_url(url)
        while current is not None:
            res = await self.head(current, ok=_NOT_READABLE)
            for link in res.links.get(STORAGE_DESCRIPTION, []):
                described.setdefault(link, None)  # read only if a 401/403 needs it
            if current.endswith("/"):
                if res.is_storage:
                    return current
                if res.status in (401, 403) and current in await self._described(described):
                    return current
            current = _parent(current)
        return None

    async def _described(self, described: dict[str, set[str] | None]) -> set[str]:
        """The storages named by the descriptions in ``described``, reading those not
        read yet (servers give them to anyone: ours and CSS do, signed in or not)."""
        for link, storages in described.items():
            if storages is None:
                described[link] = await self._storages_in(link)
        return {storage for storages in described.values() for storage in storages or ()}

    async def _storages_in(self, description: str) -> set[str]:
        """What a storage description types ``pim:Storage`` (nothing when unreadable);
        only URLs of the description's own origin, as only its server may speak for them."""
        try:
            graph = await self.read_graph(description)
        except (NotFound, Forbidden, Unauthorized, InvalidResponse):
            return set()
        home = origin(description)
        return {
            str(s)
            for s in graph.subjects(RDF.type, PIM.Storage)
            if isinstance(s, URIRef) and origin(str(s)) == home
        }

    async def storages(self, webid: str | None = None) -> list[str]:
        """The storages of a WebID: as its profile lists them, else the storage holding
        the profile document."""
        profile = await self.profile(webid)
        if profile.storages:
            return profile.storages
        found = await self.find_storage(profile.webid)
        return [found] if found else []

    async def type_registrations(
        self, webid: str | None = None, for_class: str | None = None
    ) -> list[TypeRegistration]:
        """Registrations in the public type index and, when readable, the private one."""
        profile = await self.profile(webid)
        found: list[TypeRegistration] = []
        for index, private in (
            (profile.public_type_index, False),
            (profile.private_type_index, True),
        ):
            if not index:
                continue
            try:
                graph = await self.read_graph(index)
            except (Unauthorized, Forbidden, NotFound):
                continue
            found += _registrations(graph, index, private, for_class)
        return found

    async def lookup_type(self, for_class: str, webid: str | None = None) -> list[str]:
        """Where instances of ``for_class`` are kept (documents and containers)."""
        return [
            loc for reg in await self.type_registrations(webid, for_class) for loc in reg.locations
        ]

    async def register_type(
        self,
        for_class: str,
        location: str,
        *,
        private: bool = False,
        webid: str | None = None,
        index: str | None = None,
    ) -> TypeRegistration:
        """Record in the (public or private) type index that ``for_class`` instances are
        in ``location`` (a container when it ends with '/', else a document).

        ``index`` names the type index to write to: the profile and the indexes are then
        not read, which suits an agent given only Append on someone else's index (an
        organisation under consent). The entry's IRI comes from the class and the
        location, so registering twice adds nothing."""
        location = normalize_url(location)
        if index is None:
            profile = await self.profile(webid)
            index = profile.private_type_index if private else profile.public_type_index
            if not index:
                kind = "private" if private else "public"
                raise NotFound(f"the profile names no {kind} type index", url=profile.webid)
            for reg in await self.type_registrations(profile.webid, for_class):
                if reg.index == index and location in reg.locations:
                    return reg
        tag = hashlib.sha256(f"{for_class} {location}".encode()).hexdigest()[:12]
        node = URIRef(f"{index}#reg-{tag}")
        pred = SOLID.instanceContainer if location.endswith("/") else SOLID.instance
        inserts = [
            (node, RDF.type, SOLID.TypeRegistration),
            (node, SOLID.forClass, URIRef(for_class)),
            (node, pred, URIRef(location)),
        ]
        await self.patch(index, rdf.n3_patch([], inserts), "text/n3", if_match=None)
        containers = (location,) if location.endswith("/") else ()
        instances = () if containers else (location,)
        return TypeRegistration(str(node), index, for_class, instances, containers, private)


def _registrations(
    graph: Graph, index: str, private: bool, for_class: str | None
) -> list[TypeRegistration]:
    found = []
    for node in sorted(set(graph.subjects(SOLID.forClass, None)), key=str):
        for cls in graph.objects(node, SOLID.forClass):
            if for_class is not None and str(cls) != for_class:
                continue
            found.append(
                TypeRegistration(
                    str(node),
                    index,
                    str(cls),
                    tuple(sorted(str(o) for o in graph.objects(node, SOLID.instance))),
                    tuple(sorted(str(o) for o in graph.objects(node, SOLID.instanceContainer))),
                    private,
                )
            )
    return found


__all__ = ["Discovery", "Profile", "TypeRegistration"]
