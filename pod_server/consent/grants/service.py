"""The Access Grants API over the consent service: issue, read, revoke, verify, find.

Every decision goes through :class:`ConsentService` (one commit of the record, the WAC
rules and the audit entry), so a grant made here is a consent like any other and a
withdrawal anywhere ends it here. Credentials are rendered from records and signed on
the way out; Ed25519 signatures are deterministic, so the same record always renders to
the same signed credential.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pod_server.auth.agent import Agent
from pod_server.consent.grants import credentials as vc
from pod_server.consent.grants import proof
from pod_server.consent.grants import query as q
from pod_server.consent.grants.tokens import Minter
from pod_server.consent.model import AccessRequest, ConsentRecord, Credential, Status
from pod_server.consent.service import ConsentService
from pod_server.errors import BadRequest, Forbidden, NotFound, Unauthorized

CREDENTIALS = "credentials"  # the service name under each storage's .well-known/
_KIND_OF_SEGMENT = {segment: kind for kind, segment in vc.KINDS.items()}


@dataclass(frozen=True, slots=True)
class Located:
    root: str
    record: str
    kind: str


class Grants:
    """One per server: the signing key, the issuer's URLs and the consent service."""

    def __init__(self, consent: ConsentService, key: Ed25519PrivateKey, public_base: str) -> None:
        self.consent = consent
        self.store = consent.store
        self.key = key
        self.base = public_base  # ends in /
        self.service_url = public_base + ".well-known/vc/"
        self.issuer = vc.Issuer(self.service_url, self.service_url + "key#ed25519")
        secret = key.private_bytes_raw()
        self.minter = Minter(hashlib.sha256(b"access-grant-tokens" + secret).digest())

    # -- identifiers ---------------------------------------------------------------------

    def credential_id(self, record: ConsentRecord, kind: str) -> str:
        return (
            self.store.url(record.root) + f".well-known/{CREDENTIALS}/{record.id}/{vc.KINDS[kind]}"
        )

    def locate(self, credential_id: Any) -> Located:
        """The storage, record and kind a credential id of ours names (else 404)."""
        path = self.store.local_path(credential_id) if isinstance(credential_id, str) else None
        root = None if path is None else self.store.storage_root_of(path)
        prefix = f"{root}.well-known/{CREDENTIALS}/"
        if root is None or path is None or not path.startswith(prefix):
            raise NotFound(f"{credential_id} is not a credential of this server")
        record, _, segment = path[len(prefix) :].partition("/")
        if not record or segment not in _KIND_OF_SEGMENT:
            raise NotFound(f"{credential_id} is not a credential of this server")
        return Located(root, record, _KIND_OF_SEGMENT[segment])

    def _root_or_none(self, url: str) -> str | None:
        path = self.store.local_path(url)
        return None if path is None else self.store.storage_root_of(path)

    def root_of_url(self, url: str) -> str:
        root = self._root_or_none(url)
        if root is None:
            raise BadRequest(f"{url} is not a resource of this server")
        return root

    # -- credentials ---------------------------------------------------------------------

    def signed(self, record: ConsentRecord, kind: str) -> dict[str, Any]:
        cid = self.credential_id(record, kind)
        body = vc.unsigned_credential(record, kind, cid, self.issuer)
        return proof.sign(body, self.key, self.issuer.method, body["issuanceDate"])

    async def read(self, agent: Agent, located: Located) -> dict[str, Any]:
        """A credential for its subject, its counterparty or an owner of the storage."""
        record = await self.consent.get(located.root, located.record)
        await self._require_party(agent, record, "read this credential")
        if located.kind not in vc.credential_kinds(record):
            raise NotFound(f"Consent {record.id} has no {located.kind}")
        return self.signed(record, located.kind)

    async def _require_party(self, agent: Agent, record: ConsentRecord, what: str) -> None:
        if not agent.authenticated:
            raise Unauthorized(f"Sign in to {what}")
        if agent.webid in (record.recipient, record.subject):
            return
        if agent.webid not in await self.consent.owners(record.root):
            raise Forbidden(f"Only the parties to consent {record.id} may {what}")

    # -- issuing -------------------------------------------------------------------------

    async def issue(self, agent: Agent, body: Any) -> dict[str, Any]:
        if not agent.authenticated or agent.webid is None:
            raise Unauthorized("Sign in to issue access credentials")
        wanted = vc.parse_issue(body)
        if wanted.kind == vc.REQUEST:
            record = await self._request(agent, wanted)
        elif wanted.request is None:
            record = await self._grant_unasked(agent, wanted)
        else:
            located = self.locate(wanted.request)
            record = await self.consent.get(located.root, located.record)
            if wanted.recipient != record.recipient:
                raise BadRequest(f"isProvidedTo must be the requester {record.recipient}")
            if wanted.kind == vc.GRANT:
                record = await self.consent.approve(
                    located.root,
                    located.record,
                    agent.webid,
                    wanted.targets,
                    wanted.until,
                    self._credential(record),
                )
            else:
                record = await self.consent.deny(located.root, located.record, agent.webid)
        return self.signed(record, wanted.kind)

    async def _request(self, agent: Agent, wanted: vc.Issue) -> ConsentRecord:
        root = self._one_root(t.url for t in wanted.targets)
        if wanted.owner is not None and wanted.owner not in await self.consent.owners(root):
            raise Forbidden(f"{wanted.owner} does not own {self.store.url(root)}")
        request = AccessRequest(
            recipient=str(agent.webid),
            targets=wanted.targets,
            purposes=wanted.purposes,
            data=(),
            until=wanted.until,
            client=agent.client_id,
        )
        return await self.consent.request(root, agent, request)

    async def _grant_unasked(self, agent: Agent, wanted: vc.Issue) -> ConsentRecord:
        """``issueAccessGrant``: an owner grants without a request. Recorded as a request
        noted as the owner's own initiative, approved at once (two commits)."""
        root = self._one_root(t.url for t in wanted.targets)
        if agent.webid not in await self.consent.owners(root):
            raise Forbidden("Only an owner of the storage can grant access to it")
        recipient = Agent(webid=wanted.recipient)
        request = AccessRequest(
            recipient=str(wanted.recipient),
            targets=wanted.targets,
            purposes=wanted.purposes,
            data=(),
            until=wanted.until,
            note=f"Granted by {agent.webid} without a request (Access Grants API)",
        )
        record = await self.consent.request(root, recipient, request)
        return await self.consent.approve(
            root, record.id, str(agent.webid), credential=self._credential(record)
        )

    def _credential(self, record: ConsentRecord) -> Credential:
        """The record's note of the grant credential and where its status is kept."""
        return Credential(self.credential_id(record, vc.GRANT), self.issuer.status)

    def _one_root(self, urls: Iterable[str]) -> str:
        roots = {self.root_of_url(u) for u in urls}
        if len(roots) != 1:
            raise BadRequest("All resources of one credential must be in one storage")
        return roots.pop()

    # -- status ----------------------------------------------------------------------------

    async def revoke(self, agent: Agent, body: Any) -> None:
        """Revoke a grant (withdraw), cancel a pending request (its requester) or refuse it
        (an owner); a credential already ended or denied is left as it is."""
        if not agent.authenticated or agent.webid is None:
            raise Unauthorized("Sign in to change a credential's status")
        credential_id = body.get("credentialId") if isinstance(body, dict) else None
        located = self.locate(credential_id)
        record = await self.consent.get(located.root, located.record)
        await self._require_party(agent, record, "revoke this credential")
        if record.status is Status.GIVEN:
            await self.consent.withdraw(located.root, located.record, agent.webid)
        elif record.status is Status.REQUESTED and agent.webid == record.recipient:
            await self.consent.cancel(located.root, located.record, agent.webid)  # cancel
        elif record.status is Status.REQUESTED:
            await self.consent.deny(located.root, located.record, agent.webid)

    # -- verifying -------------------------------------------------------------------------

    async def verify(self, credential: Any, now: datetime) -> dict[str, list[str]]:
        """``{checks, warnings, errors}`` for a presented credential."""
        checks = ["proof", "issuer", "expirationDate", "credentialStatus"]
        if not isinstance(credential, dict):
            return {"checks": checks, "warnings": [], "errors": ["no credential object"]}
        errors: list[str] = []
        if credential.get("issuer") != self.issuer.url:
            errors.append(f"the issuer is not {self.issuer.url}")
        errors += proof.verify(credential, self.key.public_key(), self.issuer.method)
        if errors:
            return {"checks": checks, "warnings": [], "errors": errors}
        until = vc.parse_time(credential.get("expirationDate"), "expirationDate")
        if until is not None and until <= now:
            errors.append("the credential has expired")
        record = await self._record_of(credential.get("id"))
        if record is None:
            errors.append("the credential's consent record no longer exists")
        elif vc.GRANT in credential.get("type", []) and not record.active(now):
            errors.append(f"the grant is no longer in force ({record.status.value})")
        elif vc.REQUEST in credential.get("type", []) and _cancelled(record):
            errors.append("the request was cancelled by its requester")
        return {"checks": checks, "warnings": [], "errors": errors}

    async def _record_of(self, credential_id: Any) -> ConsentRecord | None:
        try:
            located = self.locate(credential_id)
            return await self.consent.get(located.root, located.record)
        except NotFound:
            return None

    # -- finding ---------------------------------------------------------------------------

    async def query(
        self, agent: Agent, wanted: q.Filter, now: datetime
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of the caller's credentials matching ``wanted``, and how many match."""
        if not agent.authenticated:
            raise Unauthorized("Sign in to look up access credentials")
        if wanted.resource is not None:
            root = self._root_or_none(wanted.resource)
            roots = [] if root is None else [root]
        else:
            roots = await self.consent.roots()
        visible: list[ConsentRecord] = []
        for root in roots:
            owner = agent.webid in await self.consent.owners(root)
            visible += [
                record
                for record in await self.consent.records(root)
                if owner or agent.webid in (record.recipient, record.subject)
            ]
        selected = [item for item in q.items(visible) if q.matches(item, wanted, now)]
        page = selected[wanted.offset : wanted.offset + wanted.page_size]
        return [self.signed(item.record, item.kind) for item in page], len(selected)

    async def find(
        self, agent: Agent, shape: Any, now: datetime, include_expired: bool
    ) -> list[dict[str, Any]]:
        """The caller's credentials matching a ``QueryByExample``-like shape."""
        if not agent.authenticated:
            raise Unauthorized("Sign in to look up access credentials")
        shape = shape if isinstance(shape, dict) else {}
        types = shape.get("type") or []
        types = {t.removeprefix("vc:") for t in (types if isinstance(types, list) else [types])}
        kinds = [k for k in vc.KINDS if k in types] or list(vc.KINDS)
        subject = (
            shape.get("credentialSubject")
            if isinstance(shape.get("credentialSubject"), dict)
            else {}
        )
        consent = subject.get("providedConsent") or subject.get("hasConsent") or {}
        consent = consent if isinstance(consent, dict) else {}
        resources = consent.get("forPersonalData") or []
        resources = resources if isinstance(resources, list) else [resources]
        provided_to = consent.get("isProvidedTo")
        # The client asks once per ancestor container; one outside any storage finds nothing.
        roots = (
            {root for r in resources if isinstance(r, str) and (root := self._root_or_none(r))}
            if resources
            else set(await self.consent.roots())
        )
        owned = {r for r in roots if agent.webid in await self.consent.owners(r)}
        found: list[dict[str, Any]] = []
        for root in sorted(roots):
            for record in await self.consent.records(root):
                if agent.webid not in (record.recipient, record.subject) and root not in owned:
                    continue
                if provided_to is not None and provided_to != record.recipient:
                    continue
                for kind in vc.credential_kinds(record):
                    if kind not in kinds or not _matches(
                        record, kind, resources, now, include_expired
                    ):
                        continue
                    found.append(self.signed(record, kind))
        return found


def _cancelled(record: ConsentRecord) -> bool:
    statuses = [e.status for e in record.events]
    return Status.WITHDRAWN in statuses and Status.GIVEN not in statuses


def _matches(
    record: ConsentRecord, kind: str, resources: list[Any], now: datetime, include_expired: bool
) -> bool:
    targets = record.requested if kind != vc.GRANT else record.granted
    if resources and not {t.url for t in targets} & set(resources):
        return False
    # A grant no longer in force is left out unless expired ones are asked for.
    return include_expired or kind != vc.GRANT or record.active(now)
