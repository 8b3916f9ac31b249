"""The terms consent records and their WAC rules are written with."""

from __future__ import annotations

from rdflib.namespace import DefinedNamespace, Namespace
from rdflib.term import URIRef

from pod_server.ldp.vocabulary import AS


class DPV(DefinedNamespace):
    """Data Privacy Vocabulary 2.x (https://w3id.org/dpv), the terms records use."""

    _fail = True
    _NS = Namespace("https://w3id.org/dpv#")

    ConsentRecord: URIRef
    ConsentRequested: URIRef
    ConsentGiven: URIRef
    ConsentRefused: URIRef
    ConsentWithdrawn: URIRef
    ConsentExpired: URIRef
    UntilTimeDuration: URIRef
    EndlessDuration: URIRef
    hasDataSubject: URIRef
    hasDataController: URIRef
    hasRecipient: URIRef
    hasPurpose: URIRef
    hasPersonalData: URIRef
    hasConsentStatus: URIRef
    hasDuration: URIRef
    isIndicatedAtTime: URIRef
    isIndicatedBy: URIRef


class CONSENT(DefinedNamespace):
    """This project's consent vocabulary (vocab/consent/ontology.ttl)."""

    _fail = True
    _NS = Namespace("https://w3id.org/solid-pods/vocab/consent#")

    AccessGrant: URIRef
    ConsentEvent: URIRef
    requestedAccess: URIRef
    grantedAccess: URIRef
    target: URIRef
    mode: URIRef
    statusHistory: URIRef
    requestedUntil: URIRef
    client: URIRef
    createdRule: URIRef
    grantedBy: URIRef
    until: URIRef
    copiedFrom: URIRef
    verifiableCredential: URIRef
    credentialStatus: URIRef


# Activity Streams 2.0, for the activities announced to a requester's inbox.
AS2 = AS
