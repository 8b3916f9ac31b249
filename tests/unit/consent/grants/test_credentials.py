"""Access credentials: signing and verifying, rendering records, parsing issue bodies."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pod_server.access.modes import Mode
from pod_server.consent import model
from pod_server.consent.grants import credentials as vc
from pod_server.consent.grants import proof
from pod_server.consent.grants.tokens import Minter, covers
from pod_server.errors import BadRequest

KEY = Ed25519PrivateKey.generate()
ISSUER = vc.Issuer(
    "https://pod.example/.well-known/vc/", "https://pod.example/.well-known/vc/key#k"
)
AT = datetime(2026, 1, 1, tzinfo=UTC)
OWNER, BOB = "https://pod.example/alice/profile/card#me", "https://bob.example/#me"
NOTE = "https://pod.example/alice/shared/note.txt"
CID = "https://pod.example/alice/.well-known/credentials/r1/"


def record() -> model.ConsentRecord:
    asked = model.AccessRequest(
        BOB, (model.Target(NOTE, Mode.READ | Mode.WRITE),), ("https://p.example/x",), (), None
    )
    return model.new_record("r1", "u", "/alice/", OWNER, asked, AT)


def signed(body: dict) -> dict:
    return proof.sign(body, KEY, ISSUER.method, body["issuanceDate"])


def test_a_signed_credential_verifies_and_any_change_breaks_it() -> None:
    doc = signed(vc.unsigned_credential(record(), vc.REQUEST, CID + "request", ISSUER))
    assert proof.verify(doc, KEY.public_key(), ISSUER.method) == []
    altered = copy.deepcopy(doc)
    altered["credentialSubject"]["hasConsent"]["forPersonalData"] = ["https://pod.example/"]
    assert proof.verify(altered, KEY.public_key(), ISSUER.method) != []
    other_key = Ed25519PrivateKey.generate()
    forged = proof.sign(doc, other_key, ISSUER.method, doc["issuanceDate"])
    assert proof.verify(forged, KEY.public_key(), ISSUER.method) != []
    assert proof.verify({**doc, "proof": None}, KEY.public_key(), ISSUER.method) != []
    assert proof.verify(doc, KEY.public_key(), "https://other/#k") != []


def test_multikey_and_base58_round_trip() -> None:
    assert proof.b58decode(proof.b58encode(b"\0\0abc")) == b"\0\0abc"
    public = proof.public_from_multikey(proof.multikey(KEY.public_key()))
    assert public.public_bytes_raw() == KEY.public_key().public_bytes_raw()


def test_a_partial_grant_renders_what_was_granted_and_names_its_request() -> None:
    granted = model.approve(
        record(), OWNER, AT, (model.Target(NOTE, Mode.READ),), AT + timedelta(days=1)
    )
    assert vc.credential_kinds(granted) == [vc.REQUEST, vc.GRANT]
    grant = vc.unsigned_credential(granted, vc.GRANT, CID + "grant", ISSUER)
    consent = grant["credentialSubject"]["providedConsent"]
    assert grant["type"] == ["VerifiableCredential", "SolidAccessGrant"]
    assert grant["credentialSubject"]["id"] == OWNER
    assert consent["isProvidedTo"] == BOB and consent["request"] == CID + "request"
    assert consent["mode"] == [vc.ACL + "Read"] and consent["hasStatus"] == vc.GIVEN
    assert grant["expirationDate"] == "2026-01-02T00:00:00.000Z"
    request = vc.unsigned_credential(granted, vc.REQUEST, CID + "request", ISSUER)
    assert request["credentialSubject"]["hasConsent"]["mode"] == [vc.ACL + "Read", vc.ACL + "Write"]
    with pytest.raises(BadRequest):
        vc.unsigned_credential(granted, vc.DENIAL, CID + "denial", ISSUER)


def test_issue_bodies_parse_into_targets_and_refuse_what_we_cannot_honour() -> None:
    body = {
        "credential": {
            "type": ["VerifiableCredential", "SolidAccessRequest"],
            "expirationDate": "2026-02-01T00:00:00Z",
            "credentialSubject": {
                "hasConsent": {
                    "mode": ["http://www.w3.org/ns/auth/acl#Read", "Append"],
                    "hasStatus": vc.REQUESTED,
                    "forPersonalData": [NOTE],
                    "isConsentForDataSubject": OWNER,
                }
            },
        }
    }
    issue = vc.parse_issue(body)
    assert issue.kind == vc.REQUEST and issue.owner == OWNER
    assert issue.targets == (model.Target(NOTE, Mode.READ | Mode.APPEND),)
    assert issue.until == datetime(2026, 2, 1, tzinfo=UTC)
    consent = body["credential"]["credentialSubject"]["hasConsent"]
    for bad in ({"mode": ["Control"]}, {"forPersonalData": []}, {"hasStatus": vc.GIVEN}):
        with pytest.raises(BadRequest):
            vc.parse_issue(
                {
                    "credential": {
                        **body["credential"],
                        "credentialSubject": {"hasConsent": {**consent, **bad}},
                    }
                }
            )
    with pytest.raises(BadRequest):
        vc.parse_issue({"credential": {**body["credential"], "type": ["VerifiableCredential"]}})
    with pytest.raises(BadRequest):
        vc.parse_issue([])


def test_tokens_are_sealed_expire_and_cover_only_the_grant() -> None:
    now = [1000.0]
    minter = Minter(b"secret", clock=lambda: now[0])
    token, _ = minter.token("/alice/", "r1", BOB)
    assert minter.read_token(token) is not None
    assert minter.read_token(token[:-2] + "xx") is None
    assert Minter(b"other").read_token(token) is None
    assert minter.ticket_valid(minter.ticket())
    now[0] += 3600
    assert minter.read_token(token) is None
    granted = model.approve(record(), OWNER, AT, (model.Target(NOTE, Mode.READ),))
    assert covers(granted, NOTE, "GET") and not covers(granted, NOTE, "PUT")
    assert not covers(granted, NOTE + "x", "GET")
