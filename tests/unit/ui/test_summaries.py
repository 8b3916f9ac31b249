"""Consent records and audit entries in plain words (the owner's pages), in both languages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from pod_server.access.modes import Mode
from pod_server.audit.entry import Action, AuditEntry
from pod_server.consent import model
from pod_server.consent.model import AccessRequest, Target
from pod_server.ui import activity, requests, summaries, words

ROOT = "https://pods.example/alice/"
BANK = "https://bank.example/id#org"
VOCAB = "https://w3id.org/solid-pods/vocab/"
PURPOSE = "https://w3id.org/solid-pods/vocab/consent#DataReturn"
AT = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
EN, FR = words.translator("en"), words.translator("fr")


def record(until: datetime | None = datetime(2026, 6, 30, tzinfo=UTC)) -> model.ConsentRecord:
    asked = AccessRequest(
        BANK,
        (Target(ROOT + "bank/", Mode.APPEND | Mode.READ), Target(ROOT + "notes/a.ttl", Mode.READ)),
        (PURPOSE,),
        (),
        until,
        note="Monthly statements",
    )
    return model.new_record("r1", ROOT + ".well-known/consent/r1", "/alice/", "me", asked, AT)


def test_a_request_in_plain_words() -> None:
    view = summaries.request_view(record(), ROOT, EN, "en", VOCAB, {BANK: "Bank X"})
    assert view.who == "Bank X" and view.status_text == "waiting"
    assert view.targets == ["see and add to bank/", "see notes/a.ttl"]
    assert view.until_text == "until 30 June 2026" and view.until_max == "2026-06-30"
    assert view.asked_text == "Asked on 10 January 2026"
    assert [c.value for c in view.choices] == [
        "Read " + ROOT + "bank/",
        "Append " + ROOT + "bank/",
        "Read " + ROOT + "notes/a.ttl",
    ]
    assert [c.label for c in view.choices] == ["see bank/", "add to bank/", "see notes/a.ttl"]
    assert view.purposes == ["Return of personal data"]  # its label, not the IRI
    assert view.note == "Monthly statements"


def test_a_request_in_french_and_without_an_end() -> None:
    view = summaries.request_view(record(None), ROOT, FR, "fr", VOCAB, {})
    assert view.who == BANK  # no readable name: the WebID
    assert view.purposes == ["Restitution des données personnelles"]
    assert view.targets == ["voir et ajouter à bank/", "voir notes/a.ttl"]
    assert view.until_text == "sans date de fin" and view.until_max == ""


def test_a_partial_grant_shows_what_was_given_and_its_end() -> None:
    given = model.approve(
        record(), "me", AT, [Target(ROOT + "bank/", Mode.APPEND)], datetime(2026, 3, 1, tzinfo=UTC)
    )
    view = summaries.request_view(given, ROOT, EN, "en", VOCAB, {})
    assert view.granted == ["add to bank/"] and view.until_text == "until 1 March 2026"
    assert view.until_max == "2026-06-30"  # what was asked stays the limit
    pending, active, past = requests.sort_out([given, record()], AT + timedelta(days=1))
    assert [r.status for r in pending] == [model.Status.REQUESTED]
    assert active == [given] and past == []
    later = requests.sort_out([given], datetime(2026, 3, 2, tzinfo=UTC))
    assert later[1] == [] and later[2] == [given]  # past its end: no longer active


def entry(action: Action, resource: str, outcome: int, agent: str | None = BANK) -> AuditEntry:
    return AuditEntry("/alice/", action, resource, outcome, agent=agent, at=AT.timestamp())


@pytest.mark.parametrize(
    ("made", "english", "french"),
    [
        (
            entry(Action.CREATE, ROOT + "bank/2026-01.ttl", 201),
            "Bank X added 2026-01.ttl to bank/ — allowed",
            "Bank X a ajouté 2026-01.ttl dans bank/ — autorisé",
        ),
        (
            entry(Action.CREATE, ROOT + "energy/", 403, "https://energy.example/#y"),
            "Energy Y tried to add to energy/ — refused",
            "Energy Y a tenté d'ajouter dans energy/ — refusé",
        ),
        (
            entry(Action.READ, ROOT + "notes/a.ttl", 401, None),
            "Someone not signed in tried to look at notes/a.ttl — refused",
            "Quelqu'un de non connecté a tenté de consulter notes/a.ttl — refusé",
        ),
        (
            entry(Action.DELETE, ROOT, 204),
            "Bank X deleted your whole pod — allowed",
            "Bank X a supprimé tout votre pod — autorisé",
        ),
        (
            entry(Action.SIGN_IN, ROOT, 200, "https://pods.example/alice/profile/card#me"),
            "Alice signed in — allowed",
            "Alice a ouvert une session — autorisé",
        ),
    ],
)
def test_activity_lines(made: AuditEntry, english: str, french: str) -> None:
    names = {BANK: "Bank X", "https://energy.example/#y": "Energy Y"}
    names["https://pods.example/alice/profile/card#me"] = "Alice"
    assert summaries.activity_line(made, ROOT, EN, names) == english
    assert summaries.activity_line(made, ROOT, FR, names) == french


def test_an_app_is_named_in_the_line() -> None:
    made = AuditEntry("/alice/", Action.UPDATE, ROOT + "a.ttl", 200, BANK, "https://app.example/id")
    assert summaries.activity_line(made, ROOT, EN, {}) == (
        f"{BANK} changed a.ttl (with the app https://app.example/id) — allowed"
    )
    script = AuditEntry("/alice/", Action.UPDATE, ROOT + "a.ttl", 200, BANK, "cred_x")
    assert summaries.activity_line(script, ROOT, EN, {}) == f"{BANK} changed a.ttl — allowed"


def test_every_action_status_and_mode_has_words_in_both_languages() -> None:
    for lang in ("en", "fr"):
        table = words.MESSAGES[lang]
        for action in Action:
            assert f"act_{action.value}" in table and f"act_{action.value}_no" in table
        for status in model.Status:
            assert f"status_{status.value}" in table
        for name in model.MODE_NAMES.values():
            assert f"mode_{name}" in table
    en, fr = words.MESSAGES["en"], words.MESSAGES["fr"]
    assert en.keys() == fr.keys()
    for key in en:
        assert set(re.findall(r"{(\w+)}", en[key])) == set(re.findall(r"{(\w+)}", fr[key])), key


def test_the_activity_filters_become_the_audit_query() -> None:
    form = {
        "ui": "activity",
        "agent": BANK,
        "resource": "bank/",
        "outcome": "refused",
        "since": "2026-01-01",
        "until": "2026-01-31",
        "lang": "fr",
        "limit": "5",
    }
    assert activity.log_params(form, ROOT) == {
        "agent": BANK,
        "resource": ROOT + "bank/",
        "outcome": "refused",
        "since": "2026-01-01",
        "until": "2026-02-01",  # the whole of the last day
    }
    assert activity.log_params({"resource": ROOT + "x", "agent": " "}, ROOT) == {
        "resource": ROOT + "x"
    }
    link = activity.page_link(ROOT, form, before="7", agent=None)
    assert link.startswith(ROOT + "?ui=activity&") and "before=7" in link and "agent" not in link
