"""The query filter: statuses per credential type, agents, periods and paging links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pod_server.access.modes import Mode
from pod_server.consent import model
from pod_server.consent.grants import credentials as vc
from pod_server.consent.grants import query as q
from pod_server.errors import BadRequest

T0 = datetime(2026, 1, 1, tzinfo=UTC)
OWNER, BOB = "https://pod.example/alice/card#me", "https://bob.example/#me"
NOTE = "https://pod.example/alice/note"


def pending(id: str, at: datetime = T0) -> model.ConsentRecord:
    asked = model.AccessRequest(BOB, (model.Target(NOTE, Mode.READ),), ("https://p/x",), (), None)
    return model.new_record(id, "u", "/alice/", OWNER, asked, at)


def statuses(record: model.ConsentRecord, now: datetime) -> dict[str, str | None]:
    return {i.kind: q.status_of(i, now) for i in q.items([record])}


def test_each_credential_has_the_clients_status() -> None:
    now = T0 + timedelta(days=1)
    given = model.approve(pending("a"), OWNER, T0 + timedelta(hours=1))
    assert statuses(pending("p"), now) == {vc.REQUEST: "Pending"}
    assert statuses(given, now) == {vc.REQUEST: "Granted", vc.GRANT: "Active"}
    revoked = model.withdraw(given, OWNER, T0 + timedelta(hours=2))
    assert statuses(revoked, now)[vc.GRANT] == "Revoked"
    assert statuses(model.deny(pending("d"), OWNER, T0), now) == {
        vc.REQUEST: "Denied",
        vc.DENIAL: None,
    }
    assert statuses(model.cancel(pending("c"), BOB, T0), now) == {vc.REQUEST: "Canceled"}


def test_filters_select_by_type_agents_resource_and_period() -> None:
    now = T0 + timedelta(days=10)
    old, new = pending("old", T0), model.approve(pending("new", now), OWNER, now)
    found = q.items([old, new])
    assert [(i.record.id, i.kind) for i in found] == [
        ("new", vc.REQUEST),
        ("new", vc.GRANT),
        ("old", vc.REQUEST),
    ]

    def ids(**params: str) -> list[tuple[str, str]]:
        wanted = q.parse_filter(params)
        return [(i.record.id, i.kind) for i in found if q.matches(i, wanted, now)]

    assert ids(type=vc.GRANT) == [("new", vc.GRANT)]
    assert ids(type=vc.REQUEST, fromAgent=BOB, toAgent=OWNER) == [
        ("new", vc.REQUEST),
        ("old", vc.REQUEST),
    ]
    assert ids(fromAgent=OWNER) == [("new", vc.GRANT)]
    assert ids(type=vc.REQUEST, issuedWithin="P7D") == [("new", vc.REQUEST)]
    assert ids(resource=NOTE + "x") == []
    assert ids(purpose="https://p/x", status="Pending") == [("old", vc.REQUEST)]
    for bad in ({"type": "Nope"}, {"type": vc.GRANT, "status": "Pending"}, {"pageSize": "0"}):
        with pytest.raises(BadRequest):
            q.parse_filter(bad)


def test_page_links_keep_the_filter_and_move_by_page_size() -> None:
    wanted = q.parse_filter({"type": vc.GRANT, "pageSize": "2", "page": "2"})
    links = q.page_links("https://s/query", {"type": vc.GRANT, "pageSize": "2"}, wanted, 5)
    assert links == [
        '<https://s/query?type=SolidAccessGrant&pageSize=2&page=0>; rel="first"',
        '<https://s/query?type=SolidAccessGrant&pageSize=2&page=4>; rel="last"',
        '<https://s/query?type=SolidAccessGrant&pageSize=2&page=0>; rel="prev"',
        '<https://s/query?type=SolidAccessGrant&pageSize=2&page=4>; rel="next"',
    ]
