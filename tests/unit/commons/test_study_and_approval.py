"""A study round-trips through RDF and its shape; the authority's approval verifies only
for the unchanged study with a published key."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from rdflib import Graph, Literal, URIRef

from apps.commons import approval, study
from apps.commons.study import CM, StudyError
from tests.unit.commons.conftest import AUTHORITY, Parties


def test_round_trip_through_turtle(parties: Parties) -> None:
    text = study.turtle(parties.study)
    back = study.parse(text, parties.study.iri)
    assert back == parties.study
    assert study.digest(back) == study.digest(parties.study)


def test_canonical_form_ignores_serialization(parties: Parties) -> None:
    g = study.to_graph(parties.study)
    again = Graph().parse(data=g.serialize(format="json-ld"), format="json-ld")
    assert study.canonical(g) == study.canonical(again)


def test_shape_refuses_a_malformed_study(parties: Parties) -> None:
    g = study.to_graph(parties.study)
    g.remove((URIRef(parties.study.iri), CM.minContributors, None))
    with pytest.raises(StudyError, match="shape"):
        study.from_graph(g, parties.study.iri)
    g = study.to_graph(parties.study)
    stat = g.value(URIRef(parties.study.iri), CM.statistic)
    g.set((stat, CM.kind, Literal("median")))
    with pytest.raises(StudyError, match="shape"):
        study.from_graph(g, parties.study.iri)


def test_incoherent_terms_are_refused(parties: Parties) -> None:
    too_much = dataclasses.replace(parties.study, epsilon_per_release=Decimal(5))
    with pytest.raises(StudyError, match="epsilon"):
        study.check(too_much)
    stat = dataclasses.replace(parties.study.statistic, lower=Decimal(10), upper=Decimal(1))
    with pytest.raises(StudyError, match="bounds"):
        study.check(dataclasses.replace(parties.study, statistic=stat))


def test_approval_verifies(parties: Parties) -> None:
    token = approval.approve(parties.study, parties.signing)
    payload = approval.verify(parties.study, token, parties.published)
    assert payload["iss"] == AUTHORITY and payload["digest"] == study.digest(parties.study)


@pytest.mark.parametrize(
    "change",
    [
        {"epsilon": Decimal(20)},
        {"min_contributors": 1},
        {"broker": "https://evil.example/#me"},
        {"title": "Something else"},
    ],
)
def test_an_altered_study_is_refused(parties: Parties, change: dict[str, object]) -> None:
    token = approval.approve(parties.study, parties.signing)
    altered = dataclasses.replace(parties.study, **change)  # type: ignore[arg-type]
    with pytest.raises(StudyError):
        approval.verify(altered, token, parties.published)


def test_wider_bounds_break_the_approval(parties: Parties) -> None:
    token = approval.approve(parties.study, parties.signing)
    stat = dataclasses.replace(parties.study.statistic, upper=Decimal(99999))
    with pytest.raises(StudyError, match="changed"):
        approval.verify(
            dataclasses.replace(parties.study, statistic=stat), token, parties.published
        )


def test_unpublished_or_forged_keys_are_refused(parties: Parties) -> None:
    other = approval.new_signing_key("cnil-2026")  # same kid, not the published key
    with pytest.raises(StudyError, match="does not verify"):
        approval.verify(parties.study, approval.approve(parties.study, other), parties.published)
    stranger = approval.new_signing_key("someone")
    with pytest.raises(StudyError, match="no published key"):
        approval.verify(parties.study, approval.approve(parties.study, stranger), parties.published)
    with pytest.raises(StudyError, match="not a JWS"):
        approval.verify(parties.study, "not.a.jws", parties.published)


def test_tampered_token_is_refused(parties: Parties) -> None:
    head, body, sig = approval.approve(parties.study, parties.signing).split(".")
    flipped = sig[:-2] + ("AA" if sig[-2:] != "AA" else "BB")
    with pytest.raises(StudyError):
        approval.verify(parties.study, f"{head}.{body}.{flipped}", parties.published)


def test_keys_from_a_profile(parties: Parties) -> None:
    profile = Graph()
    approval.publish_key(profile, AUTHORITY, parties.signing)
    keys = approval.published_keys(profile, AUTHORITY)
    assert keys == parties.published and all("d" not in k for k in keys)
    token = approval.approve(parties.study, parties.signing)
    assert approval.verify(parties.study, token, keys)["study"] == parties.study.iri
