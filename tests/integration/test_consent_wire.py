"""Access requests, owners' decisions and the inbox hook over HTTP, through a real server
and issuer, with a fake consent service behind the wire's port (tests.consent_port)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pod_server.consent.wire.routes import CONSENT_PORT
from tests.consent_port import FakeConsent
from tests.integration import test_access
from tests.integration.challenge import uma_then_dpop
from tests.integration.test_access import World

POD = "/alice/"
REQUESTS = POD + ".well-known/access-requests"
LWS_CONTEXT = "https://www.w3.org/ns/lws/v1"

pod_world = test_access.pod_world  # alice's provisioned pod, bob and carol at an issuer
world = test_access.world  # a single-user storage whose configured owner is alice


@pytest.fixture
def backend_name() -> str:
    return "file"  # these tests are about the wire, not the storages: one is enough


@pytest.fixture
def consent(pod_world: World) -> FakeConsent:
    fake = FakeConsent(pod_world.pod.base)
    pod_world.pod.app[CONSENT_PORT].port = fake  # type: ignore[index]
    return fake


def lws_request(world: World, **changes: Any) -> str:
    document: dict[str, Any] = {
        "@context": [LWS_CONTEXT],
        "type": ["AccessRequest"],
        "storage": world.pod.url(POD),
        "access": [
            {
                "type": ["AccessPolicy"],
                "action": ["create"],
                "assignee": world.bob.webid,
                "target": {"type": "StorageResource", "value": [world.pod.url(POD + "bank/")]},
                "constraint": [
                    {
                        "leftOperand": "dateTime",
                        "operator": "lteq",
                        "rightOperand": "2099-01-01T00:00:00Z",
                    }
                ],
            }
        ],
    }
    document.update(changes)
    return json.dumps(document)


def sai_request(world: World, sender: str | None = None) -> str:
    return f"""@prefix interop: <https://w3id.org/solid/interop#>.
@prefix acl: <http://www.w3.org/ns/auth/acl#>.
<#request> a interop:AccessRequest;
    interop:fromSocialAgent <{sender or world.bob.webid}>;
    interop:hasAccessNeedGroup [ interop:hasAccessNeed [
        interop:accessMode acl:Append; interop:hasDataInstance <{world.pod.url(POD + "bank/")}> ] ].
"""


async def requested(world: World, consent: FakeConsent) -> str:
    """bob asks; the id of the new record."""
    status, headers, _ = await world.call(
        world.bob, "POST", REQUESTS, lws_request(world), "application/json"
    )
    assert status == 201
    return headers["Location"].rpartition("/")[2]


# --------------------------------------------------------------------------- access requests


async def test_storage_description_names_the_services(pod_world: World) -> None:
    status, _, text = await pod_world.call(None, "GET", POD + ".well-known/solid")
    assert status == 200
    assert "<https://www.w3.org/ns/lws#AccessRequestService>" in text
    assert f"<{pod_world.pod.url(REQUESTS)}>" in text
    assert f"<{pod_world.pod.url(POD + '.well-known/consent/')}>" in text
    status, _, text = await pod_world.call(None, "GET", "/.well-known/solid")  # the server's own
    assert status == 200 and "AccessRequestService" not in text


async def test_lws_request_is_recorded(pod_world: World, consent: FakeConsent) -> None:
    world = pod_world
    status, headers, _ = await world.call(
        world.bob, "POST", REQUESTS, lws_request(world), "application/json"
    )
    assert status == 201
    record = consent.records[headers["Location"].rpartition("/")[2]]
    assert headers["Location"] == record.url
    assert record.url.startswith(world.pod.url(POD + ".well-known/consent/"))
    assert record.root == POD and record.request.recipient == world.bob.webid
    assert [(t.url, set(t.modes)) for t in record.request.targets] == [
        (world.pod.url(POD + "bank/"), {"Append"})
    ]


async def test_sai_request_is_recorded(pod_world: World, consent: FakeConsent) -> None:
    world = pod_world
    status, _, _ = await world.call(world.bob, "POST", REQUESTS, sai_request(world))
    assert status == 201
    assert [r.request.form for r in consent.records.values()] == ["sai"]


async def test_bad_requests_store_nothing(pod_world: World, consent: FakeConsent) -> None:
    world = pod_world
    cases = [
        ("{not json", "application/json", 400, "The body is not JSON"),
        ("<#a> <#b", "text/turtle", 400, ""),
        (lws_request(world, storage="https://else.example/"), "application/json", 422, "storage: "),
        (lws_request(world, access=[]), "application/json", 422, "access: required"),
        (
            sai_request(world, "https://x.example/#i"),
            "text/turtle",
            422,
            "interop:fromSocialAgent: ",
        ),
        (
            sai_request(world).replace("acl:Append", "acl:Fly"),
            "text/turtle",
            422,
            "interop:accessMode: ",
        ),
        ("x" * 70_000, "application/json", 422, "body: larger than"),
        ("hello", "text/plain", 415, ""),
    ]
    for body, ctype, status, fragment in cases:
        got, _, text = await world.call(world.bob, "POST", REQUESTS, body, ctype)
        assert got == status, (body[:40], text)
        assert fragment in text
    assert consent.records == {}


async def test_anonymous_requests_are_challenged(pod_world: World, consent: FakeConsent) -> None:
    status, headers, text = await pod_world.call(
        None, "POST", REQUESTS, lws_request(pod_world), "application/json"
    )
    assert status == 401
    assert uma_then_dpop(headers["WWW-Authenticate"])
    assert "access request" in text and consent.records == {}


async def test_other_methods_on_the_request_service(pod_world: World) -> None:
    for method in ("GET", "PUT", "DELETE", "PATCH"):
        status, headers, _ = await pod_world.call(pod_world.bob, method, REQUESTS)
        assert status == 405, method
        assert headers["Allow"] == "POST"


# --------------------------------------------------------------------------- decisions


async def test_owner_decides(pod_world: World, consent: FakeConsent) -> None:
    world = pod_world
    record_id = await requested(world, consent)
    path = POD + ".well-known/consent/" + record_id
    decision = {
        "decision": "approve",
        "targets": [{"url": world.pod.url(POD + "bank/"), "modes": ["Append"]}],
        "until": "2098-01-01T00:00:00Z",
    }
    status, headers, text = await world.call(
        world.alice, "POST", path, json.dumps(decision), "application/json"
    )
    assert status == 200, text
    assert headers["Content-Type"].startswith("text/turtle")
    assert '"ConsentGiven"' in text
    record = consent.records[record_id]
    assert record.by == world.alice.webid and record.until is not None
    # An impossible transition is the service's 409, passed on.
    status, _, _ = await world.call(
        world.alice, "POST", path, json.dumps(decision), "application/json"
    )
    assert status == 409


async def test_decision_from_a_web_form(pod_world: World, consent: FakeConsent) -> None:
    world = pod_world
    path = POD + ".well-known/consent/" + await requested(world, consent)
    status, _, text = await world.call(
        world.alice, "POST", path, "decision=deny", "application/x-www-form-urlencoded"
    )
    assert status == 200 and '"ConsentRefused"' in text


async def test_only_owners_decide(pod_world: World, consent: FakeConsent) -> None:
    world = pod_world
    path = POD + ".well-known/consent/" + await requested(world, consent)
    body = json.dumps({"decision": "approve"})
    assert await world.status(world.bob, "POST", path, body, ctype="application/json") == 403
    status, headers, _ = await world.call(None, "POST", path, body, "application/json")
    assert status == 401 and uma_then_dpop(headers["WWW-Authenticate"])
    bad = json.dumps({"decision": "approve", "until": "2001-01-01T00:00:00Z"})
    status, _, text = await world.call(world.alice, "POST", path, bad, "application/json")
    assert status == 422 and text.startswith("until: ")
    status, _, _ = await world.call(world.alice, "POST", path, "{", "application/json")
    assert status == 400
    unknown = POD + ".well-known/consent/nosuchrecord"
    assert await world.status(world.alice, "POST", unknown, body, ctype="application/json") == 404
    assert [c[0] for c in consent.calls] == ["request"]


async def test_withdrawal_by_recipient_or_owner(pod_world: World, consent: FakeConsent) -> None:
    world = pod_world
    carol = world.issuer.caller("carol")
    first = POD + ".well-known/consent/" + await requested(world, consent)
    assert await world.status(carol, "DELETE", first) == 403
    assert await world.status(None, "DELETE", first) == 401
    assert await world.status(world.bob, "DELETE", first) == 204
    second = POD + ".well-known/consent/" + await requested(world, consent)
    assert await world.status(world.alice, "DELETE", second) == 204
    assert await world.status(world.alice, "DELETE", POD + ".well-known/consent/gone") == 404
    assert await world.status(carol, "DELETE", POD + ".well-known/consent/gone") == 403
    withdrawals = [c for c in consent.calls if c[0] == "withdraw"]
    assert [c[3] for c in withdrawals] == [world.bob.webid, world.alice.webid]


async def test_reads_of_records_fall_through(pod_world: World, consent: FakeConsent) -> None:
    world = pod_world
    path = POD + ".well-known/consent/" + await requested(world, consent)
    # The fake stores nothing: the ordinary read answers (404 to the owner), not the service.
    assert await world.status(world.alice, "GET", path) == 404
    assert await world.status(None, "GET", path) == 401
    assert await world.status(world.alice, "PUT", path, "<#a> <#b> 1.") == 405


# --------------------------------------------------------------------------- inbox


async def inbox_members(world: World) -> int:
    status, _, text = await world.call(world.alice, "GET", POD + "inbox/")
    assert status == 200
    return text.count("ldp:contains") + text.count("<http://www.w3.org/ns/ldp#contains>")


async def test_access_request_in_the_inbox(pod_world: World, consent: FakeConsent) -> None:
    world = pod_world
    status, headers, _ = await world.call(world.bob, "POST", POD + "inbox/", sai_request(world))
    assert status == 201
    member = headers["Location"][len(world.pod.base) - 1 :]
    status, _, text = await world.call(world.alice, "GET", member)
    assert status == 200 and "AccessRequest" in text  # stored as usual
    (record,) = consent.records.values()
    assert record.root == POD and record.request.recipient == world.bob.webid
    # An ordinary notification is only stored.
    note = "<#n> a <https://www.w3.org/ns/activitystreams#Announce>."
    assert await world.status(world.bob, "POST", POD + "inbox/", note) == 201
    assert len(consent.records) == 1


async def test_malformed_access_request_in_the_inbox(
    pod_world: World, consent: FakeConsent
) -> None:
    world = pod_world
    before = await inbox_members(world)
    forged = sai_request(world, sender=world.alice.webid)
    status, _, text = await world.call(world.bob, "POST", POD + "inbox/", forged)
    assert status == 422 and text.startswith("interop:fromSocialAgent: ")
    no_need = sai_request(world).replace("interop:accessMode acl:Append; ", "")
    status, _, text = await world.call(world.bob, "POST", POD + "inbox/", no_need)
    assert status == 422 and text.startswith("interop:accessMode: ")
    broken = "<#r> a <https://w3id.org/solid/interop#AccessRequest"
    assert await world.status(world.bob, "POST", POD + "inbox/", broken) == 400
    status, headers, _ = await world.call(None, "POST", POD + "inbox/", sai_request(world))
    assert status == 401 and uma_then_dpop(headers["WWW-Authenticate"])
    assert await inbox_members(world) == before
    assert consent.records == {}


async def test_single_user_storage(world: World) -> None:
    """The storage at the server root, its owner configured (not named in the root)."""
    fake = FakeConsent(world.pod.base)
    world.pod.app[CONSENT_PORT].port = fake  # type: ignore[index]
    status, _, text = await world.call(None, "GET", "/.well-known/solid")
    assert status == 200 and f"<{world.pod.url('/.well-known/access-requests')}>" in text
    body = json.dumps(
        {
            "type": "AccessRequest",
            "storage": world.pod.url("/"),
            "access": [
                {
                    "type": "AccessPolicy",
                    "action": ["read"],
                    "assignee": world.bob.webid,
                    "target": {"value": [world.pod.url("/photos/")]},
                }
            ],
        }
    )
    status, headers, text = await world.call(
        world.bob, "POST", "/.well-known/access-requests", body, "application/json"
    )
    assert status == 201, text
    path = headers["Location"][len(world.pod.base) - 1 :]
    assert path.startswith("/.well-known/consent/")
    decision = json.dumps({"decision": "approve"})
    assert await world.status(world.bob, "POST", path, decision, ctype="application/json") == 403
    assert await world.status(world.alice, "POST", path, decision, ctype="application/json") == 200
    other_pod = body.replace(world.pod.url("/photos/"), "https://elsewhere.example/photos/")
    status, _, text = await world.call(
        world.bob, "POST", "/.well-known/access-requests", other_pod, "application/json"
    )
    assert status == 422 and text.startswith("access[].target: <https://elsewhere.example/photos/>")
