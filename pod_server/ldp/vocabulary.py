"""The vocabularies the server speaks, defined once as closed namespaces.

Each class is an rdflib ``DefinedNamespace`` with ``_fail = True``: only the listed
terms exist, so a typo such as ``ACL.Wirte`` raises ``AttributeError`` at first use
instead of silently minting an IRI nobody understands. A term the server needs but
the class lacks is added here (the namespace stays closed). rdflib ships closed
RDF, RDFS, OWL, XSD (open), DCTERMS, DC, FOAF, SKOS and PROV; it has none of the Solid
ones below.

Terms are ``URIRef``s, and a ``URIRef`` never equals a plain ``str`` (though it hashes
like one): compare with ``str(TERM)`` where the other side is a plain string.
"""

from __future__ import annotations

from rdflib.namespace import DefinedNamespace, Namespace
from rdflib.term import URIRef


class LDP(DefinedNamespace):
    """Linked Data Platform 1.0 and LDP Paging 1.0."""

    _fail = True
    _NS = Namespace("http://www.w3.org/ns/ldp#")

    Resource: URIRef
    RDFSource: URIRef
    NonRDFSource: URIRef
    Container: URIRef
    BasicContainer: URIRef
    DirectContainer: URIRef
    IndirectContainer: URIRef
    Page: URIRef
    contains: URIRef
    member: URIRef
    membershipResource: URIRef
    hasMemberRelation: URIRef
    isMemberOfRelation: URIRef
    insertedContentRelation: URIRef
    constrainedBy: URIRef
    pageSortCriteria: URIRef
    inbox: URIRef


class ACL(DefinedNamespace):
    """Web Access Control."""

    _fail = True
    _NS = Namespace("http://www.w3.org/ns/auth/acl#")

    Access: URIRef
    Append: URIRef
    AuthenticatedAgent: URIRef
    Authorization: URIRef
    ClientCondition: URIRef
    Control: URIRef
    Read: URIRef
    Write: URIRef
    accessControl: URIRef
    accessTo: URIRef
    agent: URIRef
    agentClass: URIRef
    agentGroup: URIRef
    client: URIRef
    clientClass: URIRef
    condition: URIRef
    default: URIRef
    mode: URIRef
    origin: URIRef
    owner: URIRef


class INTEROP(DefinedNamespace):
    """Solid Application Interoperability: ``https://w3id.org/solid/interop#`` (access
    requests and the access needs apps declare)."""

    _fail = True
    _NS = Namespace("https://w3id.org/solid/interop#")

    AccessRequest: URIRef
    accessMode: URIRef
    fromSocialAgent: URIRef
    hasAccessNeed: URIRef
    hasAccessNeedGroup: URIRef
    hasDataInstance: URIRef


# Inrupt's Access Grants vocabulary (its discovery documents name their services with it).
SOLID_VC_NS = "http://www.w3.org/ns/solid/vc#"

# The same vocabulary under its earlier namespace, still met in Client ID Documents.
INTEROP_LEGACY = "http://www.w3.org/ns/solid/interop#"


class SOLID(DefinedNamespace):
    """Solid terms (Solid Protocol, Solid-OIDC, N3 Patch, Notifications discovery)."""

    _fail = True
    _NS = Namespace("http://www.w3.org/ns/solid/terms#")

    InsertDeletePatch: URIRef
    Patch: URIRef
    deletes: URIRef
    inserts: URIRef
    notificationGateway: URIRef
    oidcIssuer: URIRef
    owner: URIRef
    storage: URIRef
    storageDescription: URIRef
    where: URIRef


class PIM(DefinedNamespace):
    """Workspace ontology: storages."""

    _fail = True
    _NS = Namespace("http://www.w3.org/ns/pim/space#")

    Storage: URIRef
    preferencesFile: URIRef
    storage: URIRef


class NOTIFY(DefinedNamespace):
    """Solid Notifications Protocol: channel types and features."""

    _fail = True
    _NS = Namespace("http://www.w3.org/ns/solid/notifications#")

    StreamingHTTPChannel2023: URIRef
    WebSocketChannel2023: URIRef
    WebhookChannel2023: URIRef
    accept: URIRef
    channelType: URIRef
    endAt: URIRef
    feature: URIRef
    rate: URIRef
    startAt: URIRef
    state: URIRef
    subscription: URIRef


class AS(DefinedNamespace):
    """Activity Streams 2.0: the activities notifications and the audit log describe."""

    _fail = True
    _NS = Namespace("https://www.w3.org/ns/activitystreams#")

    Accept: URIRef
    Activity: URIRef
    Add: URIRef
    Announce: URIRef
    Create: URIRef
    Delete: URIRef
    Join: URIRef
    Move: URIRef
    Offer: URIRef
    OrderedCollection: URIRef
    OrderedCollectionPage: URIRef
    Reject: URIRef
    Remove: URIRef
    Undo: URIRef
    Update: URIRef
    View: URIRef
    actor: URIRef
    instrument: URIRef
    next: URIRef
    object: URIRef
    orderedItems: URIRef
    partOf: URIRef
    published: URIRef
    result: URIRef
    summary: URIRef
    target: URIRef


class POSIX(DefinedNamespace):
    """POSIX stat: sizes and times in container listings."""

    _fail = True
    _NS = Namespace("http://www.w3.org/ns/posix/stat#")

    mtime: URIRef
    size: URIRef


class VCARD(DefinedNamespace):
    """vCard: the group membership WAC agent groups use, and what profile cards show."""

    _fail = True
    _NS = Namespace("http://www.w3.org/2006/vcard/ns#")

    Group: URIRef
    fn: URIRef
    hasEmail: URIRef
    hasMember: URIRef
    hasPhoto: URIRef
    url: URIRef
    value: URIRef


class CERT(DefinedNamespace):
    """Cert ontology: public keys in WebID profiles (a prefix the server writes)."""

    _fail = True
    _NS = Namespace("http://www.w3.org/ns/auth/cert#")

    RSAPublicKey: URIRef
    exponent: URIRef
    key: URIRef
    modulus: URIRef


class JSONLD(DefinedNamespace):
    """JSON-LD: the ``profile`` parameters of ``application/ld+json``."""

    _fail = True
    _NS = Namespace("http://www.w3.org/ns/json-ld#")

    compacted: URIRef
    expanded: URIRef
    flattened: URIRef


# Open by nature: one IRI per media type (``<prefix>text/turtle#Resource``).
IANA_MEDIA_TYPES = "http://www.w3.org/ns/iana/media-types/"

# JSON-LD context documents (URLs of documents, not namespaces).
AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
NOTIFY_CONTEXT = "https://www.w3.org/ns/solid/notification/v1"
NOTIFY_CONTEXT_DRAFT = "https://www.w3.org/ns/solid/notifications-context/v1"

# Plain-string forms for code that compares with strings (a URIRef never equals a str).
LDP_RESOURCE = str(LDP.Resource)
LDP_CONTAINER = str(LDP.Container)
LDP_BASIC_CONTAINER = str(LDP.BasicContainer)
LDP_RDF_SOURCE = str(LDP.RDFSource)
LDP_NON_RDF_SOURCE = str(LDP.NonRDFSource)
LDP_CONTAINS = str(LDP.contains)
PIM_STORAGE = str(PIM.Storage)
SOLID_STORAGE_DESCRIPTION = str(SOLID.storageDescription)
SOLID_OWNER = str(SOLID.owner)
CONTAINER_TYPES = frozenset({LDP_CONTAINER, LDP_BASIC_CONTAINER})


def turtle_prefixes(**namespaces: str | type[DefinedNamespace]) -> str:
    """``@prefix name: <iri>.`` lines, one per keyword, in the order given."""
    return "".join(f"@prefix {name}: <{iri}>.\n" for name, iri in namespaces.items())
