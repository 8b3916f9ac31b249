"""Known deviations: checks a server is known to fail, one table, with the reason for each.

Strict, like pytest's ``xfail_strict``: a listed check that passes fails the run, so a fixed
bug forces its entry out. Keys are server profiles: "ours" (this project's pod server) and
"css" (the Community Solid Server 7.2.0, as conformance/peer.sh runs it). A reason says what
the server does; the check's quote says what the spec requires.
"""

from __future__ import annotations

CSS_APPEND_PUT = (
    "PUT creating a resource is allowed with acl:Append alone; WAC asks for acl:Write on the new"
    " resource (note 'HTTP Method and Access Mode Mapping')"
)
NO_SD_OPTIONS = "no storageDescription Link on OPTIONS responses"
CSS_ACAH = "Access-Control-Allow-Headers is sent on preflight responses only"

DEVIATIONS: dict[str, dict[str, str]] = {
    "ours": {
        "oidc.pod.refuses-missing-ath": (
            "a DPoP proof without ath is accepted with an access token (ath is compared only"
            " when present, because Inrupt's solid-client-authn-core 5 sends none)"
        ),
    },
    "css": {
        "protocol.resource.options": "OPTIONS answers 204 without an Allow header",
        "protocol.aux.put-description": (
            "PUT on a description resource (.meta) is refused (405): PATCH only"
        ),
        "protocol.storage.description-link-options-document": NO_SD_OPTIONS,
        "protocol.storage.description-link-options-container": NO_SD_OPTIONS,
        "protocol.root.delete-405": (
            "DELETE on the root is an authorization failure (401/403), not 405"
        ),
        "protocol.root.acl-allow-no-delete": "the root ACL's Allow lists DELETE",
        "patch.n3.accept-patch-options": "OPTIONS responses carry no Accept-Patch",
        "patch.n3.insert-container": (
            "PATCH on a container is refused (409) even without containment triples"
        ),
        "patch.n3.invalid-inserts-not-formula-422": (
            "solid:inserts with a literal, not a formula, is applied (205)"
        ),
        "patch.n3.non-rdf-target": "an N3 Patch on text/plain fails with 501 (no conversion path)",
        "wac.table.public.append.create-put": CSS_APPEND_PUT,
        "wac.table.public.read-append.create-put": CSS_APPEND_PUT,
        "wac.table.bob.append.create-put": CSS_APPEND_PUT,
        "wac.table.bob.read-append.create-put": CSS_APPEND_PUT,
        "wac.inherit.acl-deleted-reverts": (
            "deleting an ACL resource needs more than acl:Control on its subject (refused with only"
            " Control)"
        ),
        "wac.origin.other-denied": "acl:origin is not evaluated: any Origin is granted",
        "wac.origin.cors-headers-when-granted": CSS_ACAH,
        "notifications.subscription.unknown-profile-415": (
            "an unknown profile parameter is ignored (200)"
        ),
        "oidc.pod.refuses-missing-ath": "a DPoP proof without ath is accepted with an access token",
    },
}


def deviation_for(profile: str, check_id: str) -> str | None:
    return DEVIATIONS.get(profile, {}).get(check_id)
