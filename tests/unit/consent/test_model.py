"""Consent records: every transition, and every refusal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pod_server.access.modes import NO_MODES, Mode
from pod_server.consent import model
from pod_server.consent.model import AccessRequest, Status, Target
from pod_server.errors import BadRequest, Conflict

T0 = datetime(2026, 1, 1, tzinfo=UTC)
BANK = "https://bank.example/id#me"
ALICE = "https://pod.example/alice/profile/card#me"
POD = "https://pod.example/alice/"
ASKED = (
    Target(POD + "bank/", Mode.WRITE),
    Target(POD + "energy/", Mode.READ | Mode.APPEND),
)


def requested(until: datetime | None = T0 + timedelta(days=90)) -> model.ConsentRecord:
    request = AccessRequest(BANK, ASKED, ("https://w3id.org/dpv#Banking",), (), until)
    return model.new_record("abc", POD + ".well-known/consent/abc", "/alice/", ALICE, request, T0)


def given(**kw: object) -> model.ConsentRecord:
    return model.approve(requested(), ALICE, T0 + timedelta(hours=1), **kw)  # type: ignore[arg-type]


def test_a_new_record_is_requested_by_its_recipient() -> None:
    record = requested()
    assert record.status is Status.REQUESTED
    assert record.events == (model.Event(Status.REQUESTED, T0, BANK),)
    assert record.requested == ASKED and record.granted == () and record.rules == ()
    assert not record.active(T0)


@pytest.mark.parametrize(
    ("targets", "until", "message"),
    [
        ((), None, "at least one target"),
        ((Target(POD + "a", NO_MODES),), None, "names no access mode"),
        ((Target(POD + "a", Mode.CONTROL),), None, "Control cannot"),
        ((Target(POD + "a", Mode.READ), Target(POD + "a", Mode.APPEND)), None, "named twice"),
        ((Target(POD + "a", Mode.READ),), T0, "already past"),
    ],
)
def test_a_malformed_request_is_refused(
    targets: tuple[Target, ...], until: datetime | None, message: str
) -> None:
    request = AccessRequest(BANK, targets, (), (), until)
    with pytest.raises(BadRequest, match=message):
        model.new_record("x", POD + "x", "/alice/", ALICE, request, T0)


def test_approving_everything_grants_what_was_asked() -> None:
    record = given()
    assert record.status is Status.GIVEN
    assert record.granted == ASKED
    assert record.until == T0 + timedelta(days=90)
    assert record.events[-1] == model.Event(Status.GIVEN, T0 + timedelta(hours=1), ALICE)
    assert record.rules == (
        POD + "bank/.acl#consent-abc-0",
        POD + "energy/.acl#consent-abc-1",
    )
    assert record.active(T0 + timedelta(days=89))
    assert not record.active(T0 + timedelta(days=90))


def test_partial_approval_fewer_targets_deeper_targets_fewer_modes_shorter() -> None:
    part = (
        Target(POD + "bank/2026/", Mode.APPEND),  # below the container, Append within Write
        Target(POD + "energy/meter", Mode.READ),  # a document below a requested container
    )
    record = given(granted=part, until=T0 + timedelta(days=30))
    assert record.granted == part
    assert record.until == T0 + timedelta(days=30)
    assert record.requested_until == T0 + timedelta(days=90)
    assert record.requested == ASKED


@pytest.mark.parametrize(
    ("granted", "message"),
    [
        ((Target(POD + "other/", Mode.READ),), "Cannot grant Read on .*other/"),
        ((Target(POD + "energy/", Mode.WRITE),), "Cannot grant Write on .*energy/"),
        ((Target(POD + "bank", Mode.APPEND),), "Cannot grant"),  # the document twin
        ((Target(POD, Mode.APPEND),), "Cannot grant"),  # above the container
        ((), "at least one target"),
    ],
)
def test_a_grant_wider_than_the_request_is_refused(
    granted: tuple[Target, ...], message: str
) -> None:
    with pytest.raises(BadRequest, match=message):
        given(granted=granted)


def test_a_longer_or_past_end_is_refused() -> None:
    with pytest.raises(BadRequest, match="asked until"):
        given(until=T0 + timedelta(days=91))
    with pytest.raises(BadRequest, match="already past"):
        given(until=T0 + timedelta(minutes=30))


def test_an_open_ended_request_can_be_given_with_or_without_an_end() -> None:
    forever = model.approve(requested(until=None), ALICE, T0)
    assert forever.until is None and forever.active(T0 + timedelta(days=10000))
    bounded = model.approve(requested(until=None), ALICE, T0, until=T0 + timedelta(days=1))
    assert bounded.until == T0 + timedelta(days=1)


def test_deny() -> None:
    record = model.deny(requested(), ALICE, T0 + timedelta(hours=1))
    assert record.status is Status.REFUSED and record.granted == () and record.rules == ()
    assert not record.active(T0 + timedelta(hours=2))


def test_withdraw_ends_a_given_consent_at_once() -> None:
    at = T0 + timedelta(days=2)
    record = model.withdraw(given(), BANK, at)
    assert record.status is Status.WITHDRAWN
    assert record.events[-1] == model.Event(Status.WITHDRAWN, at, BANK)
    assert record.granted == ASKED  # what had been granted stays on record
    assert not record.active(at)


def test_expire_only_once_the_end_is_reached() -> None:
    record = given()
    with pytest.raises(Conflict, match="not reached"):
        model.expire(record, POD, T0 + timedelta(days=89))
    assert record.due(T0 + timedelta(days=90))
    expired = model.expire(record, POD, T0 + timedelta(days=90))
    assert expired.status is Status.EXPIRED and not expired.due(T0 + timedelta(days=91))
    with pytest.raises(Conflict, match="no end"):
        model.expire(model.approve(requested(until=None), ALICE, T0), POD, T0 + timedelta(days=1))


@pytest.mark.parametrize(
    ("state", "transition", "message"),
    [
        ("given", "approve", "is ConsentGiven; only a ConsentRequested consent can be approved"),
        ("given", "deny", "can be denied"),
        ("requested", "withdraw", "is ConsentRequested; only a ConsentGiven consent"),
        ("requested", "expire", "can be expired"),
        ("refused", "approve", "is ConsentRefused"),
        ("refused", "withdraw", "is ConsentRefused"),
        ("withdrawn", "approve", "is ConsentWithdrawn"),
        ("withdrawn", "withdraw", "is ConsentWithdrawn"),
        ("expired", "withdraw", "is ConsentExpired"),
        ("expired", "expire", "is ConsentExpired"),
    ],
)
def test_impossible_transitions_conflict(state: str, transition: str, message: str) -> None:
    late = T0 + timedelta(days=100)
    records = {
        "requested": requested(),
        "given": given(),
        "refused": model.deny(requested(), ALICE, T0),
        "withdrawn": model.withdraw(given(), ALICE, T0 + timedelta(days=1)),
        "expired": model.expire(given(), POD, late),
    }
    record = records[state]
    with pytest.raises(Conflict, match=message):
        if transition == "approve":
            model.approve(record, ALICE, T0)
        elif transition == "deny":
            model.deny(record, ALICE, T0)
        elif transition == "withdraw":
            model.withdraw(record, ALICE, late)
        else:
            model.expire(record, POD, late)


def test_cancel_takes_back_a_pending_request_by_its_requester_only() -> None:
    pending = requested()
    cancelled = model.cancel(pending, pending.recipient, T0 + timedelta(hours=1))
    assert cancelled.status is Status.WITHDRAWN and cancelled.rules == ()
    with pytest.raises(Conflict):
        model.cancel(pending, ALICE, T0 + timedelta(hours=1))
    with pytest.raises(Conflict):
        model.cancel(cancelled, pending.recipient, T0 + timedelta(hours=2))
