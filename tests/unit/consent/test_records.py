"""Consent records as DPV Turtle: every state round-trips, and the terms are DPV 2.x."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from rdflib import RDF, Graph, URIRef

from pod_server.access.modes import Mode
from pod_server.consent import model
from pod_server.consent.model import AccessRequest, Credential, Target
from pod_server.consent.records import record_from_graph, record_graph, record_turtle
from pod_server.consent.vocab import DPV
from pod_server.errors import UnprocessableEntity

T0 = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
ALICE = "https://pod.example/alice/profile/card#me"
BANK = "https://bank.example/id#me"
POD = "https://pod.example/alice/"
URL = POD + ".well-known/consent/Xy_z-1"


def requested(until: datetime | None = T0 + timedelta(days=90)) -> model.ConsentRecord:
    request = AccessRequest(
        BANK,
        (Target(POD + "bank/", Mode.WRITE), Target(POD + "notes/n1", Mode.READ | Mode.APPEND)),
        (
            "https://w3id.org/dpv#ServiceProvision",
            "https://w3id.org/solid-pods/vocab/consent#DataReturn",
        ),
        ("https://w3id.org/dpv/pd#Transaction",),
        until,
        client="https://app.example/id",
        note="Vos relevés de compte, chaque mois",
    )
    return model.new_record("Xy_z-1", URL, "/alice/", ALICE, request, T0)


def parsed(record: model.ConsentRecord) -> model.ConsentRecord:
    graph = Graph().parse(data=record_turtle(record), format="turtle", publicID=URL)
    return record_from_graph(graph, URL, "/alice/")


def states() -> list[model.ConsentRecord]:
    at = T0 + timedelta(hours=1)
    given = model.approve(
        requested(),
        ALICE,
        at,
        granted=[Target(POD + "bank/2026/", Mode.APPEND)],
        until=T0 + timedelta(days=30),
    )
    return [
        requested(),
        requested(until=None),
        model.approve(requested(until=None), ALICE, at),
        given,
        model.deny(requested(), ALICE, at),
        model.withdraw(given, BANK, at + timedelta(days=1)),
        model.expire(given, POD, T0 + timedelta(days=31)),
        replace(
            given, credential=Credential("urn:uuid:1234", "https://bank.example/status/1#94567")
        ),
        replace(given, credential=Credential("urn:uuid:1234"), client=None, note=None),
    ]


@pytest.mark.parametrize("record", states(), ids=lambda r: r.status.value)
def test_every_state_round_trips(record: model.ConsentRecord) -> None:
    assert parsed(record) == record


def test_dpv_terms() -> None:
    given = states()[3]
    g = record_graph(given)
    me = URIRef(URL)
    assert (me, RDF.type, DPV.ConsentRecord) in g
    assert g.value(me, DPV.hasConsentStatus) == DPV.ConsentGiven
    assert g.value(me, DPV.hasDataSubject) == URIRef(ALICE)
    assert g.value(me, DPV.hasDataController) == URIRef(BANK)
    duration = g.value(me, DPV.hasDuration)
    assert g.value(duration, RDF.type) == DPV.UntilTimeDuration
    assert str(g.value(duration, RDF.value)) == "2026-03-31T12:30:00+00:00"
    times = sorted(str(t) for t in g.objects(None, DPV.isIndicatedAtTime))
    assert times == ["2026-03-01T12:30:00+00:00", "2026-03-01T13:30:00+00:00"]
    assert "hasExpiryTime" not in record_turtle(given).decode()
    endless = record_graph(requested(until=None))
    assert endless.value(endless.value(me, DPV.hasDuration), RDF.type) == DPV.EndlessDuration


def test_a_damaged_record_is_refused_naming_what_is_missing() -> None:
    graph = record_graph(requested())
    graph.remove((URIRef(URL), DPV.hasRecipient, None))
    with pytest.raises(UnprocessableEntity, match="hasRecipient"):
        record_from_graph(graph, URL, "/alice/")
    with pytest.raises(UnprocessableEntity, match="not a dpv:ConsentRecord"):
        record_from_graph(Graph(), URL, "/alice/")


def test_every_consent_term_the_server_writes_is_in_the_ontology() -> None:
    from pod_server.consent.vocab import CONSENT
    from vocab.namespaces import CONSENT as PUBLISHED

    used = [name for name in CONSENT.__annotations__]
    assert used and all(hasattr(PUBLISHED, name) for name in used)
