"""The authority's approval of a study: a compact JWS (ES256) over the study's IRI and the
digest of its canonical form, signed with a key published in the authority's WebID profile.

Pods and the broker act only on a study whose approval verifies with one of the keys the
authority publishes and whose digest matches the study as they received it: any change to
the study (a wider bound, a bigger budget, another recipient) breaks it.
"""

from __future__ import annotations

import json
import time
from typing import Any

from jwcrypto import jwk, jws
from jwcrypto.common import JWException
from rdflib import Graph, Literal, URIRef

from apps.commons.study import Study, StudyError, digest
from client import PodClient

# The profile triple publishing a public JWK (W3C Security Vocabulary, JSON literal).
PUBLIC_KEY_JWK = URIRef("https://w3id.org/security#publicKeyJwk")
TYPE = "commons-approval+jws"


def new_signing_key(kid: str) -> jwk.JWK:
    return jwk.JWK.generate(kty="EC", crv="P-256", kid=kid, use="sig")


def approve(study: Study, key: jwk.JWK, at: float | None = None) -> str:
    """The authority's approval of ``study`` (compact JWS)."""
    payload = {
        "iss": study.authority,
        "study": study.iri,
        "digest": digest(study),
        "iat": int(time.time() if at is None else at),
    }
    token = jws.JWS(json.dumps(payload, sort_keys=True).encode())
    header = {"alg": "ES256", "kid": key.get("kid"), "typ": TYPE}
    token.add_signature(key, alg="ES256", protected=json.dumps(header))
    return str(token.serialize(compact=True))


def verify(study: Study, approval: str, keys: list[dict[str, Any]]) -> dict[str, Any]:
    """The approval's payload if it verifies with one of ``keys`` (the authority's published
    public JWKs) and names ``study`` unchanged; StudyError otherwise."""
    token = jws.JWS()
    try:
        token.deserialize(approval)
        header = token.jose_header
    except (JWException, ValueError) as err:
        raise StudyError(f"the approval is not a JWS: {err}") from None
    if header.get("alg") != "ES256" or header.get("typ") != TYPE:
        raise StudyError("the approval is not an ES256 study approval")
    candidates = [k for k in keys if k.get("kid") == header.get("kid")]
    if not candidates:
        raise StudyError(f"no published key of the authority has kid {header.get('kid')!r}")
    try:
        token.verify(jwk.JWK(**candidates[0]), alg="ES256")
        payload: dict[str, Any] = json.loads(token.payload)
    except (JWException, ValueError) as err:
        raise StudyError(f"the approval's signature does not verify: {err}") from None
    if payload.get("iss") != study.authority or payload.get("study") != study.iri:
        raise StudyError("the approval is for another study or by another authority")
    if payload.get("digest") != digest(study):
        raise StudyError("the study was changed after its approval")
    return payload


def publish_key(profile: Graph, webid: str, key: jwk.JWK) -> None:
    """Add ``key``'s public half to ``profile`` (the authority's WebID document)."""
    public = key.export_public(as_dict=True)
    profile.add((URIRef(webid), PUBLIC_KEY_JWK, Literal(json.dumps(public, sort_keys=True))))


async def publish_in_profile(client: PodClient, webid: str, key: jwk.JWK) -> None:
    """Add ``key``'s public half to the profile document of ``webid`` (its owner signed in
    with ``client``), where pods and aggregators look for it."""
    graph = Graph()
    publish_key(graph, webid, key)
    await client.patch(
        webid.split("#")[0],
        "INSERT DATA { " + graph.serialize(format="nt") + " }",
        "application/sparql-update",
        if_match=None,
    )


def published_keys(profile: Graph, webid: str) -> list[dict[str, Any]]:
    """The public JWKs ``webid`` publishes in its profile (malformed ones skipped)."""
    keys = []
    for value in profile.objects(URIRef(webid), PUBLIC_KEY_JWK):
        try:
            key = json.loads(str(value))
        except ValueError:
            continue
        if isinstance(key, dict) and "d" not in key:  # never a private key
            keys.append(key)
    return keys
