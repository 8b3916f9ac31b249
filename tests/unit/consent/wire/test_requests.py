"""Access requests in their three wire forms: what each yields, and every refusal (status
and the field its message names first)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from pod_server.access.modes import Mode
from pod_server.consent.wire.requests import (
    MAX_BODY,
    ParsedRequest,
    RequestedTarget,
    Scope,
    parse_request,
)
from pod_server.errors import BadRequest, PodError, UnprocessableEntity, UnsupportedMediaType
from pod_server.ldp.layout import Layout

BANK = "https://bank.example/id#org"
POD = "https://pods.example/alice/"
SERVICE = POD + ".well-known/access-requests"
SCOPE = Scope(
    Layout("https://pods.example/", multiuser=True), "/alice/", datetime(2026, 1, 1, tzinfo=UTC)
)
PURPOSE = "https://w3id.org/solid-pods/vocab/consent#DataReturn"


def parse(body: bytes | str | dict[str, Any], ctype: str = "application/json") -> ParsedRequest:
    if isinstance(body, dict):
        body = json.dumps(body)
    data = body.encode() if isinstance(body, str) else body
    return parse_request(data, ctype, BANK, SCOPE, SERVICE)


def refused(body: Any, ctype: str = "application/json", status: int = 422) -> str:
    with pytest.raises(PodError) as caught:
        parse(body, ctype)
    assert caught.value.status == status, caught.value.message
    return caught.value.message


# --------------------------------------------------------------------------- LWS JSON


def lws(**changes: Any) -> dict[str, Any]:
    """The draft's example, aimed at alice's pod, with ``changes`` to the top or (keys
    starting ``access_``) to the one access policy."""
    policy: dict[str, Any] = {
        "type": ["AccessPolicy"],
        "action": ["read", "create"],
        "assignee": BANK,
        "target": {"type": "StorageResource", "value": [POD + "bank/"]},
        "constraint": [
            {"leftOperand": "purpose", "operator": "eq", "rightOperand": PURPOSE},
            {"leftOperand": "dateTime", "operator": "lteq", "rightOperand": "2026-04-01T00:00:00Z"},
        ],
    }
    document: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/lws/v1"],
        "type": ["AccessRequest"],
        "inbox": "https://bank.example/inbox/",
        "storage": POD,
        "access": [policy],
    }
    for key, value in changes.items():
        where, name = (policy, key[7:]) if key.startswith("access_") else (document, key)
        if value is None:
            where.pop(name, None)
        else:
            where[name] = value
    return document


def test_lws_request_as_the_draft_writes_it() -> None:
    parsed = parse(lws())
    assert parsed == ParsedRequest(
        recipient=BANK,
        targets=(RequestedTarget(POD + "bank/", frozenset({"Read", "Append"})),),
        purposes=(PURPOSE,),
        until=datetime(2026, 4, 1, tzinfo=UTC),
        inbox="https://bank.example/inbox/",
        form="lws",
    )


def test_lws_actions_map_to_wac_modes_and_policies_merge_per_target() -> None:
    second = {
        "type": "AccessPolicy",
        "action": ["modify", "delete"],
        "assignee": BANK,
        "target": {"value": [POD + "bank/", POD + "energy/meter.ttl"]},
        "constraint": [
            {
                "leftOperand": "purpose",
                "operator": "isAnyOf",
                "rightOperand": ["urn:p:a", "urn:p:b"],
            },
            {
                "leftOperand": "dateTime",
                "operator": "lt",
                "rightOperand": "2026-03-01T00:00:00+01:00",
            },
            {"leftOperand": "client", "operator": "eq", "rightOperand": "https://app.example/id"},
        ],
    }
    document = lws()
    document["access"].append(second)
    document["dataCategory"] = ["https://w3id.org/dpv/pd#Transaction"]
    document["description"] = "Monthly statements"
    parsed = parse(document, "application/lws+json")
    assert parsed.targets == (
        RequestedTarget(POD + "bank/", frozenset({"Read", "Append", "Write"})),
        RequestedTarget(POD + "energy/meter.ttl", frozenset({"Write"})),
    )
    assert parsed.purposes == (PURPOSE, "urn:p:a", "urn:p:b")
    assert parsed.until == datetime(2026, 2, 28, 23, tzinfo=UTC)  # the earliest end wins
    assert parsed.client == "https://app.example/id"
    assert parsed.data == ("https://w3id.org/dpv/pd#Transaction",)
    assert parsed.note == "Monthly statements"


def test_lws_as_json_ld_and_with_full_type_iris() -> None:
    document = lws(type="https://www.w3.org/ns/lws#AccessRequest")
    assert parse(document, "application/ld+json; charset=utf-8").form == "lws"
    plain = lws(**{"@context": None})  # application/json needs no context
    assert parse(plain).targets[0].url == POD + "bank/"


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"@context": ["https://example.org/other"]}, "@context: must include"),
        ({"type": None}, "type: required"),
        ({"type": ["Offer"]}, "type: must include AccessRequest"),
        ({"storage": None}, "storage: required"),
        (
            {"storage": "https://pods.example/bob/"},
            "storage: <https://pods.example/bob/> is not this storage",
        ),
        ({"inbox": "mailto:x@y"}, "inbox: must be an http(s) URL"),
        ({"access": None}, "access: required"),
        ({"access": []}, "access: required"),
        ({"access": ["read"]}, "access[0]: an access policy is a JSON object"),
        ({"access_type": ["Permission"]}, "access[0].type: must include AccessPolicy"),
        ({"access_action": None}, "access[0].action: required"),
        ({"access_action": ["read", "fly"]}, "access[0].action: unknown action 'fly'"),
        (
            {"access_assignee": "https://other.example/#me"},
            "access[0].assignee: must be the requesting agent",
        ),
        ({"access_assignee": None}, "access[0].assignee: must be the requesting agent"),
        ({"access_target": None}, "access[0].target: required"),
        (
            {"access_target": {"type": "Thing", "value": [POD]}},
            "access[0].target.type: unknown target type",
        ),
        ({"access_target": {"value": []}}, "access[0].target.value: required"),
        (
            {"access_target": {"value": ["https://elsewhere.example/x"]}},
            "access[].target: <https://elsewhere.example/x> is not a resource of this storage",
        ),
        (
            {"access_target": {"value": ["https://pods.example/bob/x"]}},
            "is not a resource of this storage",
        ),
        (
            {"access_target": {"value": [POD + ".well-known/audit"]}},
            "is not a resource of this storage",
        ),
        ({"access_constraint": {"leftOperand": "purpose"}}, "access[0].constraint: must be a list"),
        ({"access_constraint": ["x"]}, "access[0].constraint[0]: a constraint is a JSON object"),
        (
            {
                "access_constraint": [
                    {"leftOperand": "mediaType", "operator": "eq", "rightOperand": "image/png"}
                ]
            },
            "access[0].constraint[0]: unsupported constraint 'mediaType'",
        ),
        (
            {
                "access_constraint": [
                    {
                        "leftOperand": "dateTime",
                        "operator": "gteq",
                        "rightOperand": "2026-03-01T00:00:00Z",
                    }
                ]
            },
            "unsupported constraint 'dateTime' 'gteq'",
        ),
        (
            {
                "access_constraint": [
                    {
                        "leftOperand": "dateTime",
                        "operator": "lteq",
                        "rightOperand": "2025-03-01T00:00:00Z",
                    }
                ]
            },
            "constraint dateTime: 2025-03-01T00:00:00+00:00 is in the past",
        ),
        (
            {
                "access_constraint": [
                    {
                        "leftOperand": "dateTime",
                        "operator": "lteq",
                        "rightOperand": "2026-03-01T00:00:00",
                    }
                ]
            },
            "access[0].constraint[0].rightOperand: '2026-03-01T00:00:00' has no time zone",
        ),
        (
            {
                "access_constraint": [
                    {"leftOperand": "dateTime", "operator": "lteq", "rightOperand": "soon"}
                ]
            },
            "is not an ISO 8601 date-time",
        ),
        (
            {
                "access_constraint": [
                    {"leftOperand": "purpose", "operator": "eq", "rightOperand": "not an iri"}
                ]
            },
            "constraint purpose: 'not an iri' is not an absolute IRI",
        ),
        ({"dataCategory": [3]}, "dataCategory: 3 is not an absolute IRI"),
        ({"description": ["x"]}, "description: must be a string"),
    ],
)
def test_lws_refusals(changes: dict[str, Any], fragment: str) -> None:
    assert fragment in refused(lws(**changes))


def test_lws_policies_naming_two_clients_are_refused() -> None:
    document = lws()
    for client in ("https://a.example/id", "https://b.example/id"):
        policy = dict(document["access"][0])
        policy["constraint"] = [{"leftOperand": "client", "operator": "eq", "rightOperand": client}]
        document["access"].append(policy)
    assert refused(document).startswith("access: the access policies name different clients")


def test_too_many_targets() -> None:
    urls = [f"{POD}data/{n}" for n in range(101)]
    message = refused(lws(access_target={"value": urls}))
    assert message.startswith("access[].target: 101 targets; at most 100")
    assert len(parse(lws(access_target={"value": urls[:100]})).targets) == 100


def test_unparsable_and_oversized_bodies() -> None:
    assert refused(b"{not json", status=400).startswith("The body is not JSON")
    assert refused(b"\xff\xfe", status=400).startswith("The body is not JSON")
    assert refused(b"[1, 2]") == "body: an LWS access request is a JSON object"
    assert refused(b" " * (MAX_BODY + 1)).startswith("body: larger than the 65536-byte limit")
    with pytest.raises(UnsupportedMediaType):
        parse(b"hello", "text/plain")
    with pytest.raises(UnsupportedMediaType):
        parse(b"hello", "")


# --------------------------------------------------------------------------- SAI


SAI = f"""@prefix interop: <https://w3id.org/solid/interop#>.
@prefix acl: <http://www.w3.org/ns/auth/acl#>.
@prefix dpv: <https://w3id.org/dpv#>.
@prefix xsd: <http://www.w3.org/2001/XMLSchema#>.
<#request> a interop:AccessRequest;
    interop:fromSocialAgent <{BANK}>;
    interop:toSocialAgent <https://pods.example/alice/profile/card#me>;
    dpv:hasPurpose <{PURPOSE}>;
    <https://w3id.org/solid-pods/vocab/consent#expiresAt> "2026-06-30T00:00:00Z"^^xsd:dateTime;
    interop:hasAccessNeedGroup <#group>.
<#group> a interop:AccessNeedGroup;
    interop:accessNecessity interop:AccessRequired;
    interop:hasAccessNeed <#statements>, <#profile>.
<#statements> a interop:AccessNeed;
    interop:accessMode acl:Append;
    interop:hasDataInstance <{POD}bank/>;
    dpv:hasPersonalData <https://w3id.org/dpv/pd#Transaction>.
<#profile> a interop:AccessNeed;
    interop:accessMode acl:Read;
    interop:hasDataInstance <{POD}profile/card>.
"""


def test_sai_request() -> None:
    parsed = parse(SAI, "text/turtle")
    assert parsed == ParsedRequest(
        recipient=BANK,
        targets=(
            RequestedTarget(POD + "bank/", frozenset({"Append"})),
            RequestedTarget(POD + "profile/card", frozenset({"Read"})),
        ),
        purposes=(PURPOSE,),
        data=("https://w3id.org/dpv/pd#Transaction",),
        until=datetime(2026, 6, 30, tzinfo=UTC),
        form="sai",
    )


@pytest.mark.parametrize(
    ("old", "new", "fragment"),
    [
        (
            f"interop:fromSocialAgent <{BANK}>",
            "interop:fromSocialAgent <https://x.example/#i>",
            "interop:fromSocialAgent: must be the requesting agent",
        ),
        (
            "interop:accessMode acl:Append",
            "interop:accessMode acl:Fly",
            "interop:accessMode: an access need has one or more of",
        ),
        (
            "interop:accessMode acl:Append;",
            "",
            "interop:accessMode: an access need has one or more of",
        ),
        (
            f"interop:hasDataInstance <{POD}bank/>;",
            "interop:registeredShapeTree <https://shapes.example/Bank>;",
            "interop:hasDataInstance: the access need <",
        ),
        (
            f"interop:hasDataInstance <{POD}bank/>",
            'interop:hasDataInstance "bank"',
            "interop:hasDataInstance: a concrete target is a resource IRI",
        ),
        (
            "interop:hasAccessNeedGroup <#group>.",
            ".",
            "interop:hasAccessNeedGroup: an access request has at least one",
        ),
        (
            "interop:hasAccessNeed <#statements>, <#profile>.",
            "interop:accessNecessity interop:AccessOptional.",
            "interop:hasAccessNeed: an access need group has at least one",
        ),
        (
            f"<{POD}bank/>",
            "<https://pods.example/bob/bank/>",
            "interop:hasDataInstance: <https://pods.example/bob/bank/> is not a resource of this storage",
        ),
        (
            '"2026-06-30T00:00:00Z"',
            '"2025-06-30T00:00:00Z"',
            "consent:expiresAt: 2025-06-30T00:00:00+00:00 is in the past",
        ),
        (
            '"2026-06-30T00:00:00Z"',
            '"2026-06-30T00:00:00"',
            "consent:expiresAt: at most one, an xsd:dateTime with a time zone",
        ),
        (
            f"dpv:hasPurpose <{PURPOSE}>",
            'dpv:hasPurpose "saving"',
            "dpv:hasPurpose: a purpose is an IRI",
        ),
    ],
)
def test_sai_refusals(old: str, new: str, fragment: str) -> None:
    assert old in SAI
    assert fragment in refused(SAI.replace(old, new), "text/turtle")


def test_unparsable_turtle_is_a_400() -> None:
    with pytest.raises(BadRequest):
        parse(SAI + "<#x> <#y", "text/turtle")


def test_the_servers_nesting_limit_applies_to_rdf_requests() -> None:
    nested = SAI + "<#x> <#y> " + "[ <#p> " * 12 + "1" + " ]" * 12 + " .\n"
    parse_request(nested.encode(), "text/turtle", BANK, SCOPE, SERVICE, 20)  # within: parses
    with pytest.raises(BadRequest, match="nest"):
        parse_request(nested.encode(), "text/turtle", BANK, SCOPE, SERVICE, 8)


# --------------------------------------------------------------------------- our form


OURS = f"""@prefix consent: <https://w3id.org/solid-pods/vocab/consent#>.
@prefix odrl: <http://www.w3.org/ns/odrl/2/>.
@prefix acl: <http://www.w3.org/ns/auth/acl#>.
@prefix dpv: <https://w3id.org/dpv#>.
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#>.
@prefix xsd: <http://www.w3.org/2001/XMLSchema#>.
<> a consent:AccessRequest;
    consent:purpose consent:DataReturn;
    dpv:hasPersonalData <https://w3id.org/dpv/pd#Transaction>;
    consent:expiresAt "2026-04-01T00:00:00Z"^^xsd:dateTime;
    rdfs:comment "Your statements, each month";
    odrl:permission [ odrl:target <{POD}bank/>; acl:mode acl:Append ],
                    [ odrl:target <{POD}bank/>; acl:mode acl:Read ].
"""


def test_our_request() -> None:
    parsed = parse(OURS, "text/turtle")
    assert parsed == ParsedRequest(
        recipient=BANK,
        targets=(RequestedTarget(POD + "bank/", frozenset({"Append", "Read"})),),
        purposes=(PURPOSE,),
        data=("https://w3id.org/dpv/pd#Transaction",),
        until=datetime(2026, 4, 1, tzinfo=UTC),
        note="Your statements, each month",
        form="consent",
    )


def test_our_request_as_json_ld() -> None:
    document = {
        "@context": {
            "consent": "https://w3id.org/solid-pods/vocab/consent#",
            "odrl": "http://www.w3.org/ns/odrl/2/",
            "acl": "http://www.w3.org/ns/auth/acl#",
        },
        "@type": "consent:AccessRequest",
        "consent:purpose": {"@id": "consent:DataReturn"},
        "odrl:permission": {
            "odrl:target": {"@id": POD + "bank/"},
            "acl:mode": {"@id": "acl:Write"},
        },
    }
    parsed = parse(document, "application/ld+json")
    assert parsed.targets == (RequestedTarget(POD + "bank/", frozenset({"Write"})),)
    assert parsed.form == "consent"


@pytest.mark.parametrize(
    ("old", "new", "fragment"),
    [
        (
            "acl:mode acl:Append",
            "acl:mode acl:Fly",
            "acl:mode: each requested access has one or more of",
        ),
        (
            f"odrl:target <{POD}bank/>; acl:mode acl:Append",
            "acl:mode acl:Append",
            "odrl:target: each requested access names exactly one resource IRI",
        ),
        (
            f"odrl:target <{POD}bank/>; acl:mode acl:Append",
            f'odrl:target "{POD}"; acl:mode acl:Append',
            "odrl:target: each requested access names exactly one",
        ),
        (
            f"odrl:target <{POD}bank/>; acl:mode acl:Append",
            f"odrl:target <{POD}a>, <{POD}b>; acl:mode acl:Append",
            "odrl:target: each requested access names exactly one",
        ),
        (
            f"odrl:target <{POD}bank/>; acl:mode acl:Read",
            f"odrl:target <{POD}../bob/>; acl:mode acl:Read",
            "odrl:target: <https://pods.example/alice/../bob/> is not a resource of this storage",
        ),
        (
            f"odrl:target <{POD}bank/>; acl:mode acl:Read",
            f"odrl:target <{POD}bank/#x>; acl:mode acl:Read",
            "odrl:target: <https://pods.example/alice/bank/#x> is not a resource of this storage",
        ),
        (
            "consent:purpose consent:DataReturn",
            'consent:purpose "saving"',
            "consent:purpose: a purpose is an IRI",
        ),
        (
            "dpv:hasPersonalData <https://w3id.org/dpv/pd#Transaction>",
            'dpv:hasPersonalData "bank"',
            "dpv:hasPersonalData: a data category is an IRI",
        ),
        (
            'rdfs:comment "Your statements, each month"',
            'rdfs:comment "a", "b"',
            "rdfs:comment: at most one note",
        ),
        (
            '"2026-04-01T00:00:00Z"^^xsd:dateTime',
            '"2025-04-01T00:00:00Z"^^xsd:dateTime',
            "consent:expiresAt: 2025-04-01T00:00:00+00:00 is in the past",
        ),
        (
            '"2026-04-01T00:00:00Z"^^xsd:dateTime',
            '"2026-04-01"^^xsd:date',
            "consent:expiresAt: at most one, an xsd:dateTime",
        ),
    ],
)
def test_our_refusals(old: str, new: str, fragment: str) -> None:
    assert old in OURS
    assert fragment in refused(OURS.replace(old, new), "text/turtle")


def test_our_request_without_permissions() -> None:
    text = OURS.split("    odrl:permission")[0].rstrip().rstrip(";") + ".\n"
    assert refused(text, "text/turtle").startswith(
        "odrl:permission: an access request asks for at least one"
    )


def test_documents_without_or_with_two_requests() -> None:
    message = refused("<#a> <#b> <#c>.", "text/turtle")
    assert message == "rdf:type: no consent:AccessRequest or interop:AccessRequest found"
    two = OURS + "\n<#other> a <https://w3id.org/solid/interop#AccessRequest>.\n"
    assert refused(two, "text/turtle") == "rdf:type: one access request per document"


def test_refusals_are_unprocessable_entities() -> None:
    with pytest.raises(UnprocessableEntity):
        parse(lws(storage="https://elsewhere.example/"))


def test_targets_give_access_control_modes() -> None:
    target = RequestedTarget(POD, frozenset({"Read", "Append"}))
    assert target.wac_modes == Mode.READ | Mode.APPEND
    assert RequestedTarget(POD, frozenset({"Control"})).wac_modes == Mode.CONTROL
