"""Audit entries as Linked Data: an Activity Streams 2.0 ``OrderedCollectionPage``; pure.

Each item is rendered from the entry's hashed bytes (never from the storage's filter
columns) and carries its ``consent:seq``, ``consent:prevHash``, ``consent:hash`` and the
exact ``consent:canonical`` JSON, so a client can recompute the chain itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from rdflib import RDF, XSD, BNode, Graph, Literal, URIRef
from rdflib.collection import Collection

from pod_server.audit.entry import AuditEntry
from pod_server.ldp.vocabulary import AS
from pod_server.storage.base import LogRow
from vocab.namespaces import CONSENT

PREFIXES = {"as": str(AS), "consent": str(CONSENT)}


def page_graph(log_url: str, page_url: str, rows: Sequence[LogRow], next_url: str | None) -> Graph:
    """One page of the log at ``log_url``: ``rows`` newest first, ``next_url`` after them."""
    graph = Graph(bind_namespaces="none")
    page = URIRef(page_url)
    graph.add((page, RDF.type, AS.OrderedCollectionPage))
    graph.add((page, AS.partOf, URIRef(log_url)))
    graph.add((URIRef(log_url), RDF.type, AS.OrderedCollection))
    if next_url is not None:
        graph.add((page, AS.next, URIRef(next_url)))
    items = [_item(graph, log_url, row) for row in rows]
    head = BNode()
    Collection(graph, head, items)
    graph.add((page, AS.orderedItems, head))
    return graph


def _item(graph: Graph, log_url: str, row: LogRow) -> URIRef:
    item = URIRef(f"{log_url}#entry-{row.seq}")
    graph.add((item, CONSENT.seq, Literal(row.seq)))
    graph.add((item, CONSENT.prevHash, Literal(row.prev.hex(), datatype=XSD.hexBinary)))
    graph.add((item, CONSENT.hash, Literal(row.hash.hex(), datatype=XSD.hexBinary)))
    graph.add((item, CONSENT.canonical, Literal(row.body.decode())))
    try:
        entry = AuditEntry.parse(row.body)
    except ValueError:  # altered in storage: show what is there, `audit verify` says what
        graph.add((item, RDF.type, AS.Activity))
        return item
    graph.add((item, RDF.type, AS[str(entry.action)]))
    if entry.agent is not None:
        graph.add((item, AS.actor, URIRef(entry.agent)))
    graph.add((item, AS.object, URIRef(entry.resource)))
    for instrument in (entry.client, entry.consent):
        if instrument is not None:
            graph.add((item, AS.instrument, URIRef(instrument)))
    graph.add((item, AS.result, Literal(entry.outcome)))
    published = datetime.fromtimestamp(entry.at, UTC)
    graph.add((item, AS.published, Literal(published.isoformat(), datatype=XSD.dateTime)))
    if entry.detail:
        graph.add((item, AS.summary, Literal(entry.detail)))
    return item
