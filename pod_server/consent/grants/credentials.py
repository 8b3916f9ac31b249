"""Access requests, grants and denials as Verifiable Credentials, and issue bodies parsed.

Pure functions: a credential is a rendering of a consent record (no credential is stored;
the record is the truth, so revoking in any protocol revokes here too), and an issue body
becomes an :class:`Issue` the routes turn into consent-service calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pod_server.access.modes import NO_MODES, Mode
from pod_server.consent.model import ConsentRecord, Status, Target
from pod_server.errors import BadRequest
from pod_server.ldp import vocabulary

VC_V1 = "https://www.w3.org/2018/credentials/v1"
INRUPT_V1 = "https://schema.inrupt.com/credentials/v1.jsonld"
INRUPT_V2 = "https://schema.inrupt.com/credentials/v2.jsonld"
DATA_INTEGRITY = "https://w3id.org/security/data-integrity/v1"
# Only contexts in the Inrupt client's offline list: it never fetches others.
CONTEXT = [VC_V1, INRUPT_V2, DATA_INTEGRITY]

ACL = str(vocabulary.ACL)
GC = "https://w3id.org/GConsent#"
REQUESTED = GC + "ConsentStatusRequested"
GIVEN = GC + "ConsentStatusExplicitlyGiven"
DENIED = GC + "ConsentStatusDenied"

REQUEST, GRANT, DENIAL = "SolidAccessRequest", "SolidAccessGrant", "SolidAccessDenial"
KINDS = {REQUEST: "request", GRANT: "grant", DENIAL: "denial"}
_MODES = {Mode.READ: "Read", Mode.APPEND: "Append", Mode.WRITE: "Write"}
_STATUSES = {
    REQUESTED: REQUESTED,
    "ConsentStatusRequested": REQUESTED,
    GIVEN: GIVEN,
    "ConsentStatusExplicitlyGiven": GIVEN,
    DENIED: DENIED,
    "ConsentStatusDenied": DENIED,
}


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(value: Any, what: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{what} must be an ISO-8601 date-time string")
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"{what} is not an ISO-8601 date-time: {value}") from None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def mode_iris(modes: Mode) -> list[str]:
    return [ACL + name for mode, name in _MODES.items() if mode in modes]


def parse_modes(values: Any) -> Mode:
    """``mode`` of a body: acl IRIs or their local names (Read, Append, Write)."""
    items = values if isinstance(values, list) else [values]
    modes = NO_MODES
    for value in items:
        name = value.removeprefix(ACL).removeprefix("acl:") if isinstance(value, str) else None
        match = [mode for mode, known in _MODES.items() if known == name]
        if not match:
            raise BadRequest(f"Unknown access mode {value!r}: use acl:Read, acl:Append, acl:Write")
        modes |= match[0]
    if modes == NO_MODES:
        raise BadRequest("The credential names no access mode")
    return modes


# -- rendering records -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Issuer:
    """Where this server's credential service lives (all absolute URLs)."""

    url: str  # the issuer: the VC service base, ending in /
    method: str  # the verification method of its key

    @property
    def status(self) -> str:
        return self.url + "status"


def credential_kinds(record: ConsentRecord) -> list[str]:
    """The credentials a record has: its request, and its decision once made."""
    kinds = [REQUEST]
    if Status.GIVEN in {e.status for e in record.events}:
        kinds.append(GRANT)
    elif Status.REFUSED in {e.status for e in record.events}:
        kinds.append(DENIAL)
    return kinds


def unsigned_credential(
    record: ConsentRecord, kind: str, credential_id: str, issuer: Issuer
) -> dict[str, Any]:
    """The credential of ``kind`` for ``record``, without its proof."""
    if kind not in credential_kinds(record):
        raise BadRequest(f"Consent {record.id} has no {kind}")
    if kind == REQUEST:
        targets, until, at = record.requested, record.requested_until, record.events[0].at
    else:
        decided = next(e for e in record.events if e.status in (Status.GIVEN, Status.REFUSED))
        targets = record.granted if kind == GRANT else record.requested
        until, at = (record.until if kind == GRANT else None), decided.at
    consent: dict[str, Any] = {
        "mode": mode_iris(_union(targets)),
        "forPersonalData": [t.url for t in targets],
        # A container target covers what is below it (WAC acl:default): always inherited.
        "inherit": True,
    }
    if record.purposes:
        consent["forPurpose"] = list(record.purposes)
    subject: dict[str, Any]
    if kind == REQUEST:
        consent |= {"hasStatus": REQUESTED, "isConsentForDataSubject": record.subject}
        subject = {"id": record.recipient, "hasConsent": consent}
    else:
        request_id = credential_id.rsplit("/", 1)[0] + "/request"
        consent |= {
            "hasStatus": GIVEN if kind == GRANT else DENIED,
            "isProvidedTo": record.recipient,
            "request": request_id,
        }
        subject = {"id": record.subject, "providedConsent": consent}
    body: dict[str, Any] = {
        "@context": CONTEXT,
        "id": credential_id,
        "type": ["VerifiableCredential", kind],
        "issuer": issuer.url,
        "issuanceDate": iso(at),
        "credentialSubject": subject,
        "credentialStatus": {
            "id": credential_id + "#status",
            "type": "RevocationList2020Status",
            "revocationListCredential": issuer.status,
            "revocationListIndex": "0",
        },
    }
    if until is not None:
        body["expirationDate"] = iso(until)
    return body


def _union(targets: tuple[Target, ...]) -> Mode:
    modes = NO_MODES
    for target in targets:
        modes |= target.modes
    return modes


# -- parsing issue bodies --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Issue:
    """What a POST to ``issue`` asks for."""

    kind: str  # REQUEST, GRANT or DENIAL
    targets: tuple[Target, ...]
    purposes: tuple[str, ...]
    until: datetime | None
    owner: str | None  # request: isConsentForDataSubject; grant: credentialSubject.id
    recipient: str | None  # grant/denial: isProvidedTo
    request: str | None  # grant/denial: the request credential's id


def parse_issue(body: Any) -> Issue:
    """The ``credential`` of an issue body; 400 naming what is wrong."""
    credential = body.get("credential") if isinstance(body, dict) else None
    if not isinstance(credential, dict):
        raise BadRequest('The body must be a JSON object with a "credential" object')
    types = credential.get("type")
    types = types if isinstance(types, list) else [types]
    kinds = [t.removeprefix("vc:") for t in types if isinstance(t, str)]
    kind = next((k for k in kinds if k in KINDS), None)
    if kind is None:
        raise BadRequest("The credential must be a SolidAccessRequest, Grant or Denial")
    subject = credential.get("credentialSubject")
    if not isinstance(subject, dict):
        raise BadRequest("The credential has no credentialSubject object")
    consent = subject.get("hasConsent" if kind == REQUEST else "providedConsent")
    if not isinstance(consent, dict):
        raise BadRequest(f"A {kind} needs {'hasConsent' if kind == REQUEST else 'providedConsent'}")
    resources = consent.get("forPersonalData")
    resources = resources if isinstance(resources, list) else [resources]
    if not resources or not all(isinstance(r, str) and r.startswith("http") for r in resources):
        raise BadRequest("forPersonalData must list the resources' http(s) URLs")
    modes = parse_modes(consent.get("mode"))
    if consent.get("inherit") is False and any(r.endswith("/") for r in resources):
        raise BadRequest("inherit: false on a container is not supported (WAC acl:default)")
    status = _STATUSES.get(str(consent.get("hasStatus")))
    expected = {REQUEST: REQUESTED, GRANT: GIVEN, DENIAL: DENIED}[kind]
    # The client's denial helper sends ExplicitlyGiven before correcting it; accept both.
    if status != expected and not (kind == DENIAL and status == GIVEN):
        raise BadRequest(f"A {kind} must have hasStatus {expected}")
    purposes = consent.get("forPurpose", [])
    purposes = purposes if isinstance(purposes, list) else [purposes]
    if not all(isinstance(p, str) for p in purposes):
        raise BadRequest("forPurpose must be IRIs")
    owner = consent.get("isConsentForDataSubject") if kind == REQUEST else subject.get("id")
    recipient = consent.get("isProvidedTo")
    request = consent.get("request") or consent.get("verifiedRequest")
    for name, value in (("owner", owner), ("isProvidedTo", recipient), ("request", request)):
        if value is not None and not isinstance(value, str):
            raise BadRequest(f"{name} must be an IRI")
    if kind != REQUEST and recipient is None:
        raise BadRequest(f"A {kind} needs isProvidedTo")
    return Issue(
        kind=kind,
        targets=tuple(Target(r, modes) for r in dict.fromkeys(resources)),
        purposes=tuple(purposes),
        until=parse_time(credential.get("expirationDate"), "expirationDate"),
        owner=owner,
        recipient=recipient,
        request=request,
    )
