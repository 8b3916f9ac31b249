"""A consent record as RDF: DPV 2.x terms, plus ``consent:`` ones for what DPV lacks.

Shape (``<>`` is the record, fragments are nodes inside it)::

    <> a dpv:ConsentRecord;
       dpv:hasDataSubject <person>; dpv:hasDataController <requester>; dpv:hasRecipient <requester>;
       dpv:hasPurpose <p>; dpv:hasPersonalData <category>;
       dpv:hasConsentStatus dpv:ConsentGiven;                  # the current status
       consent:statusHistory (<#event-0> <#event-1>);          # every dated status, in order
       dpv:hasDuration <#duration>; consent:requestedUntil "..."^^xsd:dateTime;
       consent:requestedAccess <#requested-0>; consent:grantedAccess <#granted-0>;
       consent:createdRule <target.acl#consent-ID-0>; consent:client <client_id>;
       consent:verifiableCredential <vc>; consent:credentialStatus <status entry>.
    <#event-0> a consent:ConsentEvent; dpv:hasConsentStatus dpv:ConsentRequested;
       dpv:isIndicatedAtTime "..."^^xsd:dateTime; dpv:isIndicatedBy <webid>.
    <#duration> a dpv:UntilTimeDuration; rdf:value "..."^^xsd:dateTime.  # or dpv:EndlessDuration
    <#granted-0> a consent:AccessGrant; consent:target <url>; consent:mode acl:Append.

DPV 2 dropped ``hasExpiryTime``; an end date is a ``dpv:UntilTimeDuration`` ("Duration that
has a fixed end date") whose value is given with ``rdf:value``, as DPV does for durations.
"""

from __future__ import annotations

from datetime import UTC, datetime

from rdflib import RDF, RDFS, XSD, BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from pod_server.access.modes import NO_MODES, Mode
from pod_server.consent.model import (
    ConsentRecord,
    Credential,
    Event,
    Status,
    Target,
)
from pod_server.consent.vocab import CONSENT, DPV
from pod_server.errors import UnprocessableEntity
from pod_server.ldp.vocabulary import ACL

MODE_IRIS = {
    Mode.READ: ACL.Read,
    Mode.WRITE: ACL.Write,
    Mode.APPEND: ACL.Append,
    Mode.CONTROL: ACL.Control,
}
_MODES_BY_IRI = {iri: mode for mode, iri in MODE_IRIS.items()}
STATUS_IRIS = {status: URIRef(str(DPV) + status.value) for status in Status}
_STATUS_BY_IRI = {iri: status for status, iri in STATUS_IRIS.items()}


def record_graph(record: ConsentRecord) -> Graph:
    """The record's triples, with absolute IRIs (``record.url`` is the document)."""
    g = Graph(bind_namespaces="none")
    g.bind("dpv", str(DPV))
    g.bind("consent", str(CONSENT))
    g.bind("acl", str(ACL))
    g.bind("rdf", str(RDF))
    g.bind("xsd", str(XSD))
    me = URIRef(record.url)
    g.add((me, RDF.type, DPV.ConsentRecord))
    g.add((me, DPV.hasDataSubject, URIRef(record.subject)))
    g.add((me, DPV.hasDataController, URIRef(record.recipient)))
    g.add((me, DPV.hasRecipient, URIRef(record.recipient)))
    for purpose in record.purposes:
        g.add((me, DPV.hasPurpose, URIRef(purpose)))
    for category in record.data:
        g.add((me, DPV.hasPersonalData, URIRef(category)))
    g.add((me, DPV.hasConsentStatus, STATUS_IRIS[record.status]))
    events: list[Node] = []
    for n, event in enumerate(record.events):
        node = URIRef(f"{record.url}#event-{n}")
        g.add((node, RDF.type, CONSENT.ConsentEvent))
        g.add((node, DPV.hasConsentStatus, STATUS_IRIS[event.status]))
        g.add((node, DPV.isIndicatedAtTime, _time(event.at)))
        g.add((node, DPV.isIndicatedBy, URIRef(event.by)))
        events.append(node)
    history = BNode()
    Collection(g, history, events)
    g.add((me, CONSENT.statusHistory, history))
    duration = URIRef(record.url + "#duration")
    g.add((me, DPV.hasDuration, duration))
    if record.until is None:
        g.add((duration, RDF.type, DPV.EndlessDuration))
    else:
        g.add((duration, RDF.type, DPV.UntilTimeDuration))
        g.add((duration, RDF.value, _time(record.until)))
    if record.requested_until is not None:
        g.add((me, CONSENT.requestedUntil, _time(record.requested_until)))
    _add_targets(g, me, CONSENT.requestedAccess, "requested", record.requested)
    _add_targets(g, me, CONSENT.grantedAccess, "granted", record.granted)
    for rule in record.rules:
        g.add((me, CONSENT.createdRule, URIRef(rule)))
    if record.client is not None:
        g.add((me, CONSENT.client, URIRef(record.client)))
    if record.note is not None:
        g.add((me, RDFS.comment, Literal(record.note)))
    if record.credential is not None:
        g.add((me, CONSENT.verifiableCredential, URIRef(record.credential.id)))
        if record.credential.status is not None:
            g.add((me, CONSENT.credentialStatus, URIRef(record.credential.status)))
    return g


def record_turtle(record: ConsentRecord) -> bytes:
    return record_graph(record).serialize(format="turtle", encoding="utf-8")


def record_from_graph(graph: Graph, url: str, root: str) -> ConsentRecord:
    """Read back what ``record_graph`` wrote (the store parses it with base ``url``).

    A record is only ever written by the server, so a missing part means a damaged
    document: 422 naming it.
    """
    me = URIRef(url)
    if (me, RDF.type, DPV.ConsentRecord) not in graph:
        raise UnprocessableEntity(f"{url} is not a dpv:ConsentRecord")
    history = _one(graph, me, CONSENT.statusHistory, url)
    events = tuple(_event(graph, node, url) for node in Collection(graph, history))
    if not events:
        raise UnprocessableEntity(f"{url} has no status history")
    duration = _one(graph, me, DPV.hasDuration, url)
    until = graph.value(duration, RDF.value)
    requested_until = graph.value(me, CONSENT.requestedUntil)
    credential_id = graph.value(me, CONSENT.verifiableCredential)
    credential_status = graph.value(me, CONSENT.credentialStatus)
    client = graph.value(me, CONSENT.client)
    note = graph.value(me, RDFS.comment)
    return ConsentRecord(
        id=url.rsplit("/", 1)[-1],
        url=url,
        root=root,
        subject=str(_one(graph, me, DPV.hasDataSubject, url)),
        recipient=str(_one(graph, me, DPV.hasRecipient, url)),
        client=None if client is None else str(client),
        purposes=_iris(graph, me, DPV.hasPurpose),
        data=_iris(graph, me, DPV.hasPersonalData),
        requested=_targets(graph, me, CONSENT.requestedAccess, url),
        granted=_targets(graph, me, CONSENT.grantedAccess, url),
        until=None if until is None else _datetime(until, url),
        events=events,
        rules=_iris(graph, me, CONSENT.createdRule),
        credential=None
        if credential_id is None
        else Credential(
            str(credential_id), None if credential_status is None else str(credential_status)
        ),
        requested_until=None if requested_until is None else _datetime(requested_until, url),
        note=None if note is None else str(note),
    )


def modes_of(graph: Graph, node: Node) -> Mode:
    modes = NO_MODES
    for iri in graph.objects(node, CONSENT.mode):
        modes |= _MODES_BY_IRI.get(iri, NO_MODES)  # type: ignore[call-overload]
    return modes


def _add_targets(
    g: Graph, me: URIRef, predicate: URIRef, kind: str, targets: tuple[Target, ...]
) -> None:
    for n, target in enumerate(targets):
        node = URIRef(f"{me}#{kind}-{n}")
        g.add((me, predicate, node))
        g.add((node, RDF.type, CONSENT.AccessGrant))
        g.add((node, CONSENT.target, URIRef(target.url)))
        for mode, iri in MODE_IRIS.items():
            if mode in target.modes:
                g.add((node, CONSENT.mode, iri))


def _targets(graph: Graph, me: URIRef, predicate: URIRef, url: str) -> tuple[Target, ...]:
    # Nodes are named #requested-<n> / #granted-<n>: their number keeps the order.
    nodes = sorted(graph.objects(me, predicate), key=lambda node: _index(node, url))
    return tuple(
        Target(str(_one(graph, node, CONSENT.target, url)), modes_of(graph, node)) for node in nodes
    )


def _index(node: Node, url: str) -> int:
    try:
        return int(str(node).rsplit("-", 1)[1])
    except (IndexError, ValueError):
        raise UnprocessableEntity(f"{url}: unexpected access node {node.n3()}") from None


def _event(graph: Graph, node: Node, url: str) -> Event:
    status = _STATUS_BY_IRI.get(_one(graph, node, DPV.hasConsentStatus, url))  # type: ignore[call-overload]
    if status is None:
        raise UnprocessableEntity(f"{url}: {node.n3()} has an unknown consent status")
    at = _datetime(_one(graph, node, DPV.isIndicatedAtTime, url), url)
    return Event(status, at, str(_one(graph, node, DPV.isIndicatedBy, url)))


def _one(graph: Graph, node: Node, predicate: URIRef, url: str) -> Node:
    value = graph.value(node, predicate)
    if value is None:
        raise UnprocessableEntity(
            f"{url}: {node.n3()} has no {predicate.n3(graph.namespace_manager)}"
        )
    return value


def _iris(graph: Graph, node: Node, predicate: URIRef) -> tuple[str, ...]:
    return tuple(sorted(str(o) for o in graph.objects(node, predicate) if isinstance(o, URIRef)))


def _time(at: datetime) -> Literal:
    return Literal(at.astimezone(UTC).isoformat(), datatype=XSD.dateTime)


def _datetime(value: Node, url: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise UnprocessableEntity(f"{url}: {value!s} is not a date and time") from None
    if parsed.tzinfo is None:
        raise UnprocessableEntity(f"{url}: {value!s} has no time zone")
    return parsed.astimezone(UTC)
