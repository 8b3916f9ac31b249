"""The Access Grants API through a real server: discovery, issuing requests and grants
over the consent model, the UMA token exchange bound to the holder, and what refuses."""

from __future__ import annotations

import asyncio
import base64
import copy
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pod_server.consent.grants import proof
from pod_server.consent.model import Status
from pod_server.http.keys import CONSENT
from pod_server.settings import Settings
from pod_server.storage.memory import MemoryBackend
from tests.conftest import Pod, running_pod
from tests.fake_issuer import Caller, running_issuer

ACL = "http://www.w3.org/ns/auth/acl#"
GC = "https://w3id.org/GConsent#"
VC = "/.well-known/vc/"


@dataclass
class World:
    pod: Pod
    alice: Caller  # the owner
    bob: Caller  # the requester
    carol: Caller  # a third party

    async def call(
        self, who: Caller | None, method: str, path: str, body: Any = None, **hdrs: str
    ) -> tuple[int, dict[str, str], str]:
        url = self.pod.url(path)
        sent: dict[str, Any] = dict(hdrs)
        if who is not None:
            sent.update(who.headers(method, url.split("?")[0]))
        data = body
        if isinstance(body, dict):
            data, sent["Content-Type"] = json.dumps(body), "application/json"
        async with self.pod.session.request(method, url, data=data, headers=sent) as r:
            return r.status, dict(r.headers), await r.text()

    async def issue(self, who: Caller | None, credential: dict[str, Any]) -> tuple[int, Any]:
        status, _, text = await self.call(who, "POST", VC + "issue", {"credential": credential})
        return status, json.loads(text) if status == 201 else text

    async def exchange(
        self, who: Caller | None, grant: Any, ticket: str | None = None
    ) -> tuple[int, Any]:
        if ticket is None:
            _, headers, _ = await self.call(None, "GET", "/shared/doc.ttl")
            ticket = headers["WWW-Authenticate"].split('ticket="')[1].split('"')[0]
        vp = {"type": ["VerifiablePresentation"], "verifiableCredential": [grant]}
        form = {
            "grant_type": "urn:ietf:params:oauth:grant-type:uma-ticket",
            "ticket": ticket,
            "claim_token": base64.b64encode(json.dumps(vp).encode()).decode(),
            "claim_token_format": "https://www.w3.org/TR/vc-data-model/#json-ld",
        }
        url = self.pod.url(VC + "token")
        sent = {} if who is None else who.headers("POST", url)
        async with self.pod.session.post(url, data=form, headers=sent) as r:
            return r.status, await r.json()

    async def bearer(self, token: str, method: str, path: str, body: str | None = None) -> int:
        sent = {"Authorization": f"Bearer {token}", "Content-Type": "text/turtle"}
        async with self.pod.session.request(
            method, self.pod.url(path), data=body, headers=sent
        ) as r:
            return r.status


def request_body(
    world: World, *urls: str, owner: str | None = None, modes: tuple[str, ...] = ("Read",)
) -> dict[str, Any]:
    return {
        "type": ["VerifiableCredential", "SolidAccessRequest"],
        "credentialSubject": {
            "hasConsent": {
                "mode": [ACL + m for m in modes],
                "hasStatus": GC + "ConsentStatusRequested",
                "forPersonalData": [world.pod.url(u) for u in urls],
                "isConsentForDataSubject": owner or world.alice.webid,
            }
        },
    }


def grant_body(
    world: World,
    request: dict[str, Any],
    modes: tuple[str, ...] = ("Read",),
    until: datetime | None = None,
) -> dict[str, Any]:
    asked = request["credentialSubject"]["hasConsent"]
    body: dict[str, Any] = {
        "type": ["VerifiableCredential", "SolidAccessGrant"],
        "credentialSubject": {
            "id": world.alice.webid,
            "providedConsent": {
                "mode": [ACL + m for m in modes],
                "hasStatus": GC + "ConsentStatusExplicitlyGiven",
                "forPersonalData": asked["forPersonalData"],
                "isProvidedTo": request["credentialSubject"]["id"],
                "request": request["id"],
            },
        },
    }
    if until is not None:
        body["expirationDate"] = until.isoformat()
    return body


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with running_issuer() as issuer:
        alice_id = issuer.add_person("alice")
        issuer.add_person("bob")
        issuer.add_person("carol")
        async with running_pod(tmp_path, MemoryBackend(), Settings(owner=alice_id)) as pod:
            world = World(pod, issuer.caller("alice"), issuer.caller("bob"), issuer.caller("carol"))
            for path in ("/shared/doc.ttl", "/shared/other.ttl"):
                status, _, _ = await world.call(
                    world.alice, "PUT", path, "<#a> <#b> <#c>.", **{"Content-Type": "text/turtle"}
                )
                assert status == 201
            yield world


async def granted(
    world: World, modes: tuple[str, ...] = ("Read",), until: datetime | None = None
) -> dict[str, Any]:
    status, request = await world.issue(
        world.bob, request_body(world, "/shared/doc.ttl", modes=("Read", "Write"))
    )
    assert status == 201, request
    status, grant = await world.issue(world.alice, grant_body(world, request, modes, until))
    assert status == 201, grant
    return grant


async def test_discovery_puts_uma_first_and_names_the_services(world: World) -> None:
    status, headers, _ = await world.call(None, "GET", "/shared/doc.ttl")
    challenge = headers["WWW-Authenticate"]
    assert status == 401
    assert challenge.startswith(f'UMA as_uri="{world.pod.url("/")}", ticket="umt.')
    assert ", DPoP " in challenge
    status, _, text = await world.call(None, "GET", "/.well-known/uma2-configuration")
    uma = json.loads(text)
    assert uma["verifiable_credential_issuer"] == world.pod.url(VC)
    assert uma["token_endpoint"] == world.pod.url(VC + "token")
    for path in ("/.well-known/vc-configuration", VC + ".well-known/vc-configuration"):
        status, headers, text = await world.call(None, "GET", path)
        assert status == 200 and headers["Content-Type"].startswith("application/ld+json")
        config = json.loads(text)
        assert config["statusService"] == world.pod.url(VC + "status")
        assert config["verifierService"] == world.pod.url(VC + "verify")
        assert config["derivationService"] == world.pod.url(VC + "derive")
    _, _, description = await world.call(None, "GET", "/.well-known/solid")
    ui = f"<http://inrupt.com/ns/ess#ConsentManagementUI> <{world.pod.url('/')}?ui=requests>"
    assert ui in description
    status, _, text = await world.call(None, "GET", VC + "key")
    key = json.loads(text)["verificationMethod"][0]
    assert proof.public_from_multikey(key["publicKeyMultibase"])


async def test_a_grant_is_a_consent_used_through_a_holder_bound_token(world: World) -> None:
    grant = await granted(world)
    consent = world.pod.app[CONSENT]  # type: ignore[index]
    [record] = await consent.records("/")
    assert record.status is Status.GIVEN and record.recipient == world.bob.webid
    assert record.credential is not None and record.credential.id == grant["id"]
    # In the owner's audit log like any consent: offered by bob, accepted by alice.
    status, _, log = await world.call(world.alice, "GET", "/.well-known/audit")
    assert status == 200 and "Accept" in log and "Offer" in log
    # The grant answers the request it names; both are readable by the parties only.
    for who, expected in ((world.bob, 200), (world.alice, 200), (world.carol, 403), (None, 401)):
        assert (await world.call(who, "GET", grant["id"].removeprefix(world.pod.url("/")[:-1])))[
            0
        ] == expected
    status, token = await world.exchange(world.bob, grant)
    assert status == 200, token
    access = token["access_token"]
    assert await world.bearer(access, "GET", "/shared/doc.ttl") == 200
    # Read only, this resource only.
    assert await world.bearer(access, "PUT", "/shared/doc.ttl", "<#x> <#y> <#z>.") == 401
    assert await world.bearer(access, "GET", "/shared/other.ttl") == 401
    # Not a bearer credential: another WebID, or nobody, gets no token for it.
    assert (await world.exchange(world.carol, grant))[0] == 403
    assert (await world.exchange(None, grant))[0] == 401
    assert (await world.exchange(world.bob, grant, ticket="umt.forged.x"))[0] == 400
    # Withdrawn in the consent model (the owner's DELETE of the record): the token ends.
    status, _, _ = await world.call(world.alice, "DELETE", f"/.well-known/consent/{record.id}")
    assert status == 204
    assert await world.bearer(access, "GET", "/shared/doc.ttl") == 401
    assert (await world.exchange(world.bob, grant))[0] == 400
    status, _, text = await world.call(None, "POST", VC + "verify", {"verifiableCredential": grant})
    assert "ConsentWithdrawn" in json.loads(text)["errors"][0]


async def test_forged_altered_and_expired_grants_are_refused(world: World) -> None:
    grant = await granted(world, until=datetime.now(UTC) + timedelta(seconds=2))
    altered = copy.deepcopy(grant)
    altered["credentialSubject"]["providedConsent"]["forPersonalData"] = [world.pod.url("/")]
    forged = proof.sign(
        grant,
        Ed25519PrivateKey.generate(),
        grant["proof"]["verificationMethod"],
        grant["issuanceDate"],
    )
    for bad in (altered, forged):
        status, answer = await world.exchange(world.bob, bad)
        assert (status, answer["error"]) == (400, "invalid_grant")
        _, _, text = await world.call(None, "POST", VC + "verify", {"verifiableCredential": bad})
        assert json.loads(text)["errors"]
    assert (await world.exchange(world.bob, grant))[0] == 200
    await asyncio.sleep(2.2)
    status, answer = await world.exchange(world.bob, grant)
    assert status == 400 and "expired" in answer["error_description"]


async def test_revoking_through_status_and_finding_grants(world: World) -> None:
    grant = await granted(world)
    body = {
        "verifiableCredential": {
            "type": ["VerifiableCredential", "SolidAccessGrant"],
            "credentialSubject": {
                "providedConsent": {"forPersonalData": [world.pod.url("/shared/doc.ttl")]}
            },
        }
    }
    for who, count in ((world.bob, 1), (world.alice, 1), (world.carol, 0)):
        status, _, text = await world.call(who, "POST", VC + "derive", body)
        assert status == 200 and len(json.loads(text)["verifiableCredential"]) == count
    query = {
        "query": [
            {
                "type": "QueryByExample",
                "credentialQuery": [{"example": body["verifiableCredential"]}],
            }
        ]
    }
    status, _, text = await world.call(world.bob, "POST", VC + "query", query)
    assert [c["id"] for c in json.loads(text)["verifiableCredential"]] == [grant["id"]]
    revoke = {
        "credentialId": grant["id"],
        "credentialStatus": [{"type": "RevocationList2020Status", "status": "1"}],
    }
    assert (await world.call(world.carol, "POST", VC + "status", revoke))[0] == 403
    assert (await world.call(world.alice, "POST", VC + "status", revoke))[0] == 204
    [record] = await world.pod.app[CONSENT].records("/")  # type: ignore[index]
    assert record.status is Status.WITHDRAWN
    status, _, text = await world.call(world.bob, "POST", VC + "derive", body)
    assert json.loads(text)["verifiableCredential"] == []


async def test_bad_issues_are_refused_and_store_nothing(world: World) -> None:
    status, headers, _ = await world.call(
        None, "POST", VC + "issue", {"credential": request_body(world, "/shared/doc.ttl")}
    )
    assert status == 401 and "DPoP" in headers["WWW-Authenticate"]
    # A request for another person's data, a grant by a non-owner, malformed bodies.
    assert (
        await world.issue(
            world.bob, request_body(world, "/shared/doc.ttl", owner=world.carol.webid)
        )
    )[0] == 403
    assert (
        await world.issue(world.bob, request_body(world, "/shared/doc.ttl", modes=("Control",)))
    )[0] == 400
    assert (await world.issue(world.bob, request_body(world, "/.well-known/audit")))[0] == 400
    assert (
        await world.call(
            world.bob, "POST", VC + "issue", "not json", **{"Content-Type": "application/json"}
        )
    )[0] == 400
    assert await world.pod.app[CONSENT].records("/") == []  # type: ignore[index]
    status, request = await world.issue(world.bob, request_body(world, "/shared/doc.ttl"))
    assert status == 201
    assert (await world.issue(world.carol, grant_body(world, request)))[0] == 403
    assert (await world.issue(world.alice, grant_body(world, request, modes=("Write",))))[0] == 400
    [record] = await world.pod.app[CONSENT].records("/")  # type: ignore[index]
    assert record.status is Status.REQUESTED


async def test_the_requester_cancels_a_pending_request(world: World) -> None:
    status, request = await world.issue(world.bob, request_body(world, "/shared/doc.ttl"))
    assert status == 201
    cancel = {"credentialId": request["id"]}
    assert (await world.call(world.carol, "POST", VC + "status", cancel))[0] == 403
    assert (await world.call(world.bob, "POST", VC + "status", cancel))[0] == 204
    [record] = await world.pod.app[CONSENT].records("/")  # type: ignore[index]
    assert record.status is Status.WITHDRAWN
    _, _, text = await world.call(None, "POST", VC + "verify", {"verifiableCredential": request})
    assert json.loads(text)["errors"] == ["the request was cancelled by its requester"]
    # Nothing left to approve.
    assert (await world.issue(world.alice, grant_body(world, request)))[0] == 409
    assert (await world.call(world.bob, "POST", VC + "status", {"credentialId": "x"}))[0] == 404


async def test_query_filters_and_pages_the_callers_credentials(world: World) -> None:
    for _ in range(3):
        await granted(world)
    status, headers, text = await world.call(
        world.bob, "GET", VC + "query?type=SolidAccessGrant&status=Active&pageSize=2"
    )
    assert status == 200
    first = json.loads(text)["items"]
    assert len(first) == 2 and all("SolidAccessGrant" in c["type"] for c in first)
    assert 'rel="next"' in headers["Link"] and "page=2" in headers["Link"]
    _, _, text = await world.call(
        world.bob, "GET", VC + "query?type=SolidAccessGrant&status=Active&pageSize=2&page=2"
    )
    rest = json.loads(text)["items"]
    assert len(rest) == 1 and rest[0]["id"] not in {c["id"] for c in first}
    # Only the parties see them; bad filters are refused.
    _, _, text = await world.call(world.carol, "GET", VC + "query?type=SolidAccessGrant")
    assert json.loads(text)["items"] == []
    assert (await world.call(world.bob, "GET", VC + "query?status=Nope"))[0] == 400
    assert (await world.call(None, "GET", VC + "query"))[0] == 401
