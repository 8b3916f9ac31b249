"""The consent part of the SDK against a scripted server (MockTransport): parsing DPV
records, the access-request body and its discovery, the owner's decisions."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from rdflib import Graph

from client import BadRequest, InvalidResponse, Request, Response
from client.consent import (
    ConsentRecord,
    Target,
    access_request_service,
    decision_body,
    iso_until,
    narrowed,
    parse_record,
    request_body,
    status_name,
    targets_of,
)
from tests.unit.client.helpers import POD, TURTLE, WEBID, FakeServer, client

BANK = "https://bank.example/id#org"
BANK_POD = "https://bank.example/"
RECORDS = POD + ".well-known/consent/"
DESCRIPTION = POD + ".well-known/solid"
PURPOSE = "https://w3id.org/solid-pods/vocab/consent#DataReturn"
PREFIXES = """
@prefix dpv: <https://w3id.org/dpv#> .
@prefix consent: <https://w3id.org/solid-pods/vocab/consent#> .
@prefix acl: <http://www.w3.org/ns/auth/acl#> .
@prefix time: <http://www.w3.org/2006/time#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""


def record_turtle(id_: str, *statuses: str, recipient: str = BANK, granted: bool = False) -> str:
    """A record as the server writes it: DPV terms, an event list, targets and modes."""
    events = " ".join(
        f'[ a dpv:{s} ; dpv:isIndicatedAtTime "2026-01-0{i + 1}T10:00:00Z"^^xsd:dateTime ;'
        f" dpv:isIndicatedBy <{recipient if s == 'ConsentRequested' else WEBID}> ]"
        for i, s in enumerate(statuses)
    )
    grant = (
        f"consent:granted [ consent:target <{POD}bank/> ; consent:mode acl:Append ] ;"
        if granted
        else ""
    )
    return f"""{PREFIXES}
<{RECORDS}{id_}> a dpv:ConsentRecord ;
    dpv:hasDataSubject <{WEBID}> ;
    dpv:hasDataController <{recipient}> ;
    dpv:hasRecipient <{recipient}> ;
    dpv:hasPurpose <{PURPOSE}> ;
    dpv:hasPersonalData <https://w3id.org/dpv/pd#Transaction> ;
    dpv:hasConsentStatus ( {events} ) ;
    dpv:hasDuration [ a dpv:TemporalDuration ; time:hasEnd [ time:inXSDDateTimeStamp
        "2026-04-01T00:00:00Z"^^xsd:dateTimeStamp ] ] ;
    consent:requested [ consent:target <{POD}bank/> ; consent:mode acl:Append, acl:Read ] ,
        [ consent:target <{POD}energy/> ; consent:mode acl:Append ] ;
    {grant}
    consent:note "monthly statements" .
"""


def lws_body(
    groups: dict[tuple[str, ...], list[str]],
    until: str,
    requester: str = BANK,
    data: list[str] | None = None,
    note: str | None = None,
) -> dict[str, object]:
    """An LWS access request, written out in full (what the wire branch's parser reads)."""
    body: dict[str, object] = {
        "@context": ["https://www.w3.org/ns/lws/v1"],
        "type": ["AccessRequest"],
        "storage": POD,
        "access": [
            {
                "type": ["AccessPolicy"],
                "action": list(actions),
                "assignee": requester,
                "target": {"type": "StorageResource", "value": urls},
                "constraint": [
                    {"leftOperand": "purpose", "operator": "isAnyOf", "rightOperand": [PURPOSE]},
                    {"leftOperand": "dateTime", "operator": "lteq", "rightOperand": until},
                ],
            }
            for actions, urls in groups.items()
        ],
    }
    if data:
        body["dataCategory"] = data
    if note:
        body["description"] = note
    return body


def parsed(text: str, url: str) -> ConsentRecord:
    return parse_record(Graph().parse(data=text, format="turtle", publicID=url), url)


# -- parsing ------------------------------------------------------------------------------
def test_a_full_record_is_read() -> None:
    url = RECORDS + "abc"
    record = parsed(record_turtle("abc", "ConsentRequested", "ConsentGiven", granted=True), url)
    assert record.id == "abc" and record.url == url
    assert record.subject == WEBID and record.recipient == BANK
    assert record.purposes == [PURPOSE]
    assert record.data == ["https://w3id.org/dpv/pd#Transaction"]
    assert record.requested == [
        Target(POD + "bank/", frozenset({"Append", "Read"})),
        Target(POD + "energy/", frozenset({"Append"})),
    ]
    assert record.granted == [Target(POD + "bank/", frozenset({"Append"}))]
    assert record.until == datetime(2026, 4, 1, tzinfo=UTC)
    assert [e.status for e in record.events] == ["ConsentRequested", "ConsentGiven"]
    assert record.status == "ConsentGiven" and record.events[1].by == WEBID
    assert record.requested_at == datetime(2026, 1, 1, 10, tzinfo=UTC)
    assert record.note == "monthly statements"
    doc = record.to_json()
    assert doc["status"] == "ConsentGiven" and doc["granted"][0]["modes"] == ["Append"]
    assert json.loads(json.dumps(doc)) == doc


def test_events_are_ordered_by_time_when_not_a_list() -> None:
    text = f"""{PREFIXES}
<r> a dpv:ConsentRecord ;
  dpv:hasConsentStatus
    [ a dpv:ConsentWithdrawn ; dpv:isIndicatedAtTime "2026-03-01T00:00:00Z"^^xsd:dateTime ] ,
    [ a dpv:ConsentRequested ; dpv:isIndicatedAtTime "2026-01-01T00:00:00Z"^^xsd:dateTime ] ,
    [ a dpv:ConsentGiven ; dpv:isIndicatedAtTime "2026-02-01T00:00:00Z"^^xsd:dateTime ] .
"""
    record = parsed(text, RECORDS + "r")
    assert [e.status for e in record.events] == [
        "ConsentRequested",
        "ConsentGiven",
        "ConsentWithdrawn",
    ]
    assert record.status == "ConsentWithdrawn"


def test_missing_optional_parts_are_left_empty() -> None:
    text = f"{PREFIXES}<x> a dpv:ConsentRecord ; dpv:hasConsentStatus dpv:ConsentRequested ."
    record = parsed(text, RECORDS + "x")
    assert record.status == "ConsentRequested" and record.events[0].at is None
    assert record.recipient is None and record.purposes == [] and record.requested == []
    assert record.until is None and record.note is None
    # The record node found by its type when the document's URL is not its subject.
    other = parsed(f"{PREFIXES}<#it> a dpv:ConsentRecord .", RECORDS + "y")
    assert other.url == RECORDS + "y" and other.status is None
    with pytest.raises(InvalidResponse, match="no consent record"):
        parsed(f"{PREFIXES}<#it> a dpv:Purpose .", RECORDS + "z")


def test_status_names_and_until() -> None:
    assert status_name("given") == status_name("dpv:ConsentGiven") == "ConsentGiven"
    assert (
        status_name("pending") == "ConsentRequested" and status_name("denied") == "ConsentRefused"
    )
    with pytest.raises(ValueError, match="unknown consent status"):
        status_name("maybe")
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert iso_until("90d", now) == "2026-04-01T00:00:00Z"
    assert iso_until(timedelta(hours=12), now) == "2026-01-01T12:00:00Z"
    assert iso_until("2027-03-31") == "2027-03-31T23:59:59Z"
    assert iso_until(date(2027, 3, 31)) == "2027-03-31T23:59:59Z"
    assert iso_until(datetime(2027, 1, 1, 8)) == "2027-01-01T08:00:00Z"  # naive = UTC
    assert iso_until("2027-01-01T10:00:00+02:00") == "2027-01-01T08:00:00Z"
    with pytest.raises(ValueError, match="not a date"):
        iso_until("next week")


# -- bodies -------------------------------------------------------------------------------
def test_request_and_decision_bodies() -> None:
    targets = targets_of([POD + "bank/"], "append")
    until = "2026-04-01T00:00:00Z"
    assert request_body(BANK, POD, targets, [PURPOSE], until, note="hi") == lws_body(
        {("create",): [POD + "bank/"]}, until, note="hi"
    )
    both = targets_of(
        [
            (POD + "a", "read,append"),
            Target(POD + "b", frozenset({"Write"})),
            (POD + "c", "append"),
        ]
    )
    assert [t.to_json()["modes"] for t in both] == [["Read", "Append"], ["Write"], ["Append"]]
    assert request_body(BANK, POD, both, [PURPOSE], until, data=["urn:d"]) == lws_body(
        {("create", "read"): [POD + "a"], ("modify",): [POD + "b"], ("create",): [POD + "c"]},
        until,
        data=["urn:d"],
    )
    with pytest.raises(ValueError, match="purpose"):
        request_body(BANK, POD, targets, [], until)
    with pytest.raises(ValueError, match="Control cannot be requested"):
        request_body(BANK, POD, targets_of([POD], "control"), [PURPOSE], until)
    with pytest.raises(ValueError, match="no access mode"):
        targets_of([POD + "a"])
    with pytest.raises(ValueError, match="unknown access mode"):
        targets_of([POD + "a"], "fly")
    assert decision_body("deny") == {"decision": "deny"}
    assert decision_body("approve", targets, "2026-02-01T00:00:00Z") == {
        "decision": "approve",
        "targets": [{"url": POD + "bank/", "modes": ["Append"]}],
        "until": "2026-02-01T00:00:00Z",
    }
    with pytest.raises(ValueError, match="unknown decision"):
        decision_body("maybe")


def test_narrowing_an_approval() -> None:
    record = parsed(record_turtle("n", "ConsentRequested"), RECORDS + "n")
    assert narrowed(record, None, None) is None
    assert narrowed(record, None, "append") == [
        Target(POD + "bank/", frozenset({"Append"})),
        Target(POD + "energy/", frozenset({"Append"})),
    ]
    assert narrowed(record, [POD + "bank/"], None) == [
        Target(POD + "bank/", frozenset({"Append", "Read"}))
    ]
    below = narrowed(record, [POD + "bank/2026/"], None)  # covered by the bank container
    assert below == [Target(POD + "bank/2026/", frozenset({"Append", "Read"}))]
    with pytest.raises(ValueError, match="was not requested"):
        narrowed(record, [POD + "health/"], None)


def test_the_storage_description_names_the_service() -> None:
    ours = Graph().parse(
        data=f"<{POD}> <https://w3id.org/solid-pods/vocab/consent#accessRequestService> "
        f"<{POD}.well-known/requests> .",
        format="turtle",
    )
    assert access_request_service(ours, POD) == POD + ".well-known/requests"
    lws = Graph().parse(
        data=f"""@prefix lws: <https://www.w3.org/ns/lws#> .
<{POD}> lws:service [ a lws:AccessRequestService ; lws:serviceEndpoint <{POD}ask> ] ,
    [ a lws:AccessGrantService ; lws:serviceEndpoint <{POD}grants> ] .""",
        format="turtle",
    )
    assert access_request_service(lws, POD) == POD + "ask"
    assert access_request_service(Graph(), POD) is None


# -- requester side over HTTP -------------------------------------------------------------
OWNER = "https://alice.example/profile/card#me"


def owner_server(description: Response | None = None) -> FakeServer:
    server = FakeServer()
    server.on(
        "GET",
        "https://alice.example/profile/card",
        Response(200, TURTLE, f"<{OWNER}> <http://www.w3.org/ns/pim/space#storage> <{POD}> ."),
    )
    server.on(
        "HEAD",
        POD,
        Response(
            200,
            {"Link": f'<{DESCRIPTION}>; rel="http://www.w3.org/ns/solid/terms#storageDescription"'},
        ),
    )
    if description is not None:
        server.on("GET", DESCRIPTION, description)
    return server


async def test_request_access_discovers_the_service_and_posts_json() -> None:
    desc = Response(
        200,
        TURTLE,
        f"<{POD}> <https://w3id.org/solid-pods/vocab/consent#accessRequestService> "
        f"<{POD}.well-known/access-requests> .",
    )
    server = owner_server(desc)
    server.on(
        "POST",
        POD + ".well-known/access-requests",
        Response(201, {"Location": "consent/r1"}),
    )
    async with client(server) as pod:
        url = await pod.request_access(
            OWNER, [POD + "bank/"], "Append", PURPOSE, "2026-04-01", note="statements"
        )
    assert url == POD + ".well-known/consent/r1"
    post = server.sent("POST")[0]
    assert post.headers["Content-Type"] == "application/json"
    assert json.loads(post.body or b"") == lws_body(
        {("create",): [POD + "bank/"]}, "2026-04-01T23:59:59Z", WEBID, note="statements"
    )


async def test_request_access_falls_back_and_reports_refusals() -> None:
    server = owner_server()  # no description: the conventional path
    seen: list[Request] = []

    def refuse(request: Request) -> Response:
        seen.append(request)
        return Response(422, {"Content-Type": "text/plain"}, "until is in the past")

    server.on("POST", POD + ".well-known/access-requests", refuse)
    async with client(server) as pod:
        with pytest.raises(BadRequest, match="until is in the past") as info:
            await pod.request_access(OWNER, POD + "bank/", "append", PURPOSE, "90d")
    assert info.value.status == 422 and len(seen) == 1
    server.on("POST", POD + ".well-known/access-requests", Response(201))
    async with client(server) as pod:
        with pytest.raises(InvalidResponse, match="without a Location"):
            await pod.request_access(OWNER, POD + "bank/", "append", PURPOSE, "90d")
    lws = owner_server(
        Response(
            200,
            {"Content-Type": "application/json"},
            json.dumps(
                {"service": [{"type": "AccessRequestService", "serviceEndpoint": POD + "ask"}]}
            ),
        )
    )
    lws.on("POST", POD + "ask", Response(201, {"Location": POD + ".well-known/consent/x"}))
    async with client(lws) as pod:
        assert (
            await pod.request_access(OWNER, POD + "bank/", "append", PURPOSE, "90d")
            == POD + ".well-known/consent/x"
        )


# -- owner side over HTTP -----------------------------------------------------------------
def records_server() -> FakeServer:
    server = FakeServer()
    members = ", ".join(f"<{RECORDS}{n}>" for n in ("b", "a", "gone", "c"))
    server.on(
        "GET",
        RECORDS,
        Response(
            200,
            TURTLE,
            f"<{RECORDS}> <http://www.w3.org/ns/ldp#contains> {members}, <{RECORDS}a.acl> .",
        ),
    )
    server.on("GET", RECORDS + "a", Response(200, TURTLE, record_turtle("a", "ConsentRequested")))
    later = record_turtle("b", "ConsentRequested", "ConsentGiven", granted=True).replace(
        "2026-01-0", "2026-02-0"
    )
    server.on("GET", RECORDS + "b", Response(200, TURTLE, later))
    server.on(
        "GET",
        RECORDS + "c",
        Response(
            200,
            TURTLE,
            record_turtle(
                "c", "ConsentRequested", "ConsentRefused", recipient="https://energy.example/#org"
            ),
        ),
    )
    return server


async def test_listing_reads_each_record_and_filters_by_status() -> None:
    server = records_server()
    async with client(server) as pod:
        every = await pod.access_requests(storage=POD)
        pending = await pod.access_requests("requested", storage=POD)
        with pytest.raises(ValueError, match="unknown consent status"):
            await pod.access_requests("maybe", storage=POD)
    assert [r.id for r in every] == ["a", "c", "b"]  # by request time; "gone" is skipped
    assert [r.status for r in every] == ["ConsentRequested", "ConsentRefused", "ConsentGiven"]
    assert [r.id for r in pending] == ["a"]
    assert not any(r.url.endswith(".acl") for r in server.sent("GET"))


async def test_listing_defaults_to_the_signed_in_owners_storage() -> None:
    server = records_server()
    server.on(
        "GET",
        POD + "profile/card",
        Response(200, TURTLE, f"<{WEBID}> <http://www.w3.org/ns/pim/space#storage> <{POD}> ."),
    )
    async with client(server) as pod:
        assert len(await pod.access_requests()) == 3
    async with client(server, signed_in=False) as anonymous:
        with pytest.raises(Exception, match="nobody is signed in"):
            await anonymous.access_requests()
    empty = FakeServer()  # no consent container yet: nothing asked
    async with client(empty) as pod:
        assert await pod.access_requests(storage=POD) == []


async def test_decisions_post_json_and_read_the_answer() -> None:
    server = records_server()
    bodies: list[object] = []

    def decide(request: Request) -> Response:
        bodies.append(json.loads(request.body or b""))
        return Response(
            200, TURTLE, record_turtle("a", "ConsentRequested", "ConsentGiven", granted=True)
        )

    server.on("POST", RECORDS + "a", decide)
    server.on("DELETE", RECORDS + "a", Response(204))
    now = datetime.now(UTC)
    async with client(server) as pod:
        record = await pod.approve("a", storage=POD)
        assert record.status == "ConsentGiven" and record.granted
        await pod.approve("a", modes=["append"], until=timedelta(days=30), storage=POD)
        await pod.approve(RECORDS + "a", targets=[POD + "bank/"], modes="append")
        refused = await pod.deny("a", storage=POD)
        assert refused.id == "a"
        await pod.withdraw("a", storage=POD)
        with pytest.raises(ValueError, match="not a consent record id"):
            await pod.approve("../a", storage=POD)
    assert bodies[0] == {"decision": "approve"}
    second = bodies[1]
    assert isinstance(second, dict) and second["targets"] == [
        {"url": POD + "bank/", "modes": ["Append"]},
        {"url": POD + "energy/", "modes": ["Append"]},
    ]
    until = datetime.fromisoformat(second["until"].replace("Z", "+00:00"))
    assert timedelta(days=29) < until - now <= timedelta(days=30, seconds=5)
    assert bodies[2] == {
        "decision": "approve",
        "targets": [{"url": POD + "bank/", "modes": ["Append"]}],
    }
    assert bodies[3] == {"decision": "deny"}
    assert [r.method for r in server.sent() if r.url == RECORDS + "a"][-1] == "DELETE"


async def test_a_decision_answered_without_a_body_is_read_back() -> None:
    server = records_server()
    server.on("POST", RECORDS + "a", Response(204))
    async with client(server) as pod:
        record = await pod.deny("a", storage=POD)
    assert record.id == "a" and server.sent("GET")[-1].url == RECORDS + "a"
    conflict = records_server()
    conflict.on(
        "POST", RECORDS + "c", Response(409, {"Content-Type": "text/plain"}, "already refused")
    )
    async with client(conflict) as pod:
        with pytest.raises(Exception, match="already refused") as info:
            await pod.approve("c", storage=POD)
    assert info.value.status == 409  # type: ignore[attr-defined]


async def test_a_requester_who_may_not_read_the_root_still_finds_the_service() -> None:
    server = owner_server()
    server.on("HEAD", POD, Response(403, {"Content-Type": "text/plain"}, "no"))
    server.on(
        "GET",
        DESCRIPTION,  # the description is public, at its conventional place
        Response(
            200,
            TURTLE,
            f"<{POD}> <https://w3id.org/solid-pods/vocab/consent#accessRequestService> <{POD}ask> .",
        ),
    )
    server.on("POST", POD + "ask", Response(201, {"Location": POD + ".well-known/consent/q"}))
    async with client(server) as pod:
        url = await pod.request_access(OWNER, POD + "bank/", "append", PURPOSE, "90d")
    assert url == POD + ".well-known/consent/q"
    assert [r.method for r in server.sent()][-3:] == ["HEAD", "GET", "POST"]


def test_a_record_as_the_consent_branch_writes_it() -> None:
    """The shape of pod_server/consent/records.py: the current status on the record, dated
    events in consent:statusHistory, an UntilTimeDuration's rdf:value, requested and
    granted access nodes."""
    url = RECORDS + "Zx9"
    text = f"""{PREFIXES}
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<{url}> a dpv:ConsentRecord ;
    dpv:hasDataSubject <{WEBID}> ; dpv:hasDataController <{BANK}> ; dpv:hasRecipient <{BANK}> ;
    dpv:hasPurpose <{PURPOSE}> ;
    dpv:hasConsentStatus dpv:ConsentWithdrawn ;
    consent:statusHistory ( <{url}#event-0> <{url}#event-1> <{url}#event-2> ) ;
    dpv:hasDuration <{url}#duration> ;
    consent:requestedUntil "2027-01-01T00:00:00+00:00"^^xsd:dateTime ;
    consent:requestedAccess <{url}#requested-0> ;
    consent:grantedAccess <{url}#granted-0> ;
    consent:createdRule <{POD}bank/.acl#consent-Zx9-0> ;
    consent:client <https://bank.example/app> ;
    rdfs:comment "statements" .
<{url}#event-0> a consent:ConsentEvent ; dpv:hasConsentStatus dpv:ConsentRequested ;
    dpv:isIndicatedAtTime "2026-01-01T10:00:00+00:00"^^xsd:dateTime ; dpv:isIndicatedBy <{BANK}> .
<{url}#event-1> a consent:ConsentEvent ; dpv:hasConsentStatus dpv:ConsentGiven ;
    dpv:isIndicatedAtTime "2026-01-02T10:00:00+00:00"^^xsd:dateTime ; dpv:isIndicatedBy <{WEBID}> .
<{url}#event-2> a consent:ConsentEvent ; dpv:hasConsentStatus dpv:ConsentWithdrawn ;
    dpv:isIndicatedAtTime "2026-01-03T10:00:00+00:00"^^xsd:dateTime ; dpv:isIndicatedBy <{WEBID}> .
<{url}#duration> a dpv:UntilTimeDuration ; rdf:value "2026-04-01T00:00:00+00:00"^^xsd:dateTime .
<{url}#requested-0> a consent:AccessGrant ; consent:target <{POD}bank/> ;
    consent:mode acl:Append, acl:Read .
<{url}#granted-0> a consent:AccessGrant ; consent:target <{POD}bank/> ; consent:mode acl:Append .
"""
    record = parsed(text, url)
    assert record.status == "ConsentWithdrawn"
    assert [(e.status, e.by) for e in record.events] == [
        ("ConsentRequested", BANK),
        ("ConsentGiven", WEBID),
        ("ConsentWithdrawn", WEBID),
    ]
    assert record.until == datetime(2026, 4, 1, tzinfo=UTC)
    assert record.requested_until == datetime(2027, 1, 1, tzinfo=UTC)
    assert record.requested == [Target(POD + "bank/", frozenset({"Append", "Read"}))]
    assert record.granted == [Target(POD + "bank/", frozenset({"Append"}))]
    assert record.client == "https://bank.example/app" and record.note == "statements"
    assert record.recipient == BANK and record.subject == WEBID and record.purposes == [PURPOSE]
    # A pending record without an end: dpv:EndlessDuration.
    pending = parsed(
        f"""{PREFIXES}<{url}> a dpv:ConsentRecord ; dpv:hasConsentStatus dpv:ConsentRequested ;
        dpv:hasDuration <{url}#duration> . <{url}#duration> a dpv:EndlessDuration .""",
        url,
    )
    assert pending.status == "ConsentRequested" and pending.until is None


async def test_an_anonymous_client_cannot_ask() -> None:
    async with client(owner_server(), signed_in=False) as pod:
        with pytest.raises(Exception, match="nobody is signed in"):
            await pod.request_access(OWNER, POD + "bank/", "append", PURPOSE, "90d")
