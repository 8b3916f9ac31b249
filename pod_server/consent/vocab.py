"""The terms consent records and their WAC rules are written with: DPV here; our own
``consent:`` terms are the generated ``vocab.namespaces.CONSENT``."""

from __future__ import annotations

from rdflib.namespace import DefinedNamespace, Namespace
from rdflib.term import URIRef

from vocab.namespaces import CONSENT  # generated from vocab/consent/ontology.ttl


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


__all__ = ["CONSENT", "DPV"]
