"""Webhook signatures (RFC 9421 with ES256): what a receiver verifies."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest
from multidict import CIMultiDict

from pod_server.notify.signing import (
    KEY_FILE,
    SignatureError,
    Signer,
    content_digest,
    verify_request,
)

URL = "https://hooks.example/inbox?k=1"
BODY = json.dumps({"type": "Update", "object": "https://pod.example/doc"}).encode()


def signed(signer: Signer, body: bytes = BODY) -> CIMultiDict[str]:
    headers = CIMultiDict({"Content-Type": "application/ld+json"})
    headers.update(signer.sign("POST", URL, body, "application/ld+json"))
    return headers


def test_round_trip_and_tampering(tmp_path: Path) -> None:
    signer = Signer.load_or_create(tmp_path)
    jwks = signer.jwks()
    assert jwks["keys"][0]["kid"] == signer.kid and "d" not in jwks["keys"][0]
    headers = signed(signer)
    assert headers["Content-Digest"] == content_digest(BODY)
    assert headers["Signature-Input"].startswith(
        'solid=("@method" "@target-uri" "content-type" "content-digest");created='
    )
    assert verify_request("POST", URL, headers, BODY, jwks) == signer.kid
    with pytest.raises(SignatureError, match="Content-Digest"):
        verify_request("POST", URL, headers, BODY + b" ", jwks)
    with pytest.raises(SignatureError, match="does not verify"):
        verify_request("PUT", URL, headers, BODY, jwks)
    with pytest.raises(SignatureError, match="does not verify"):
        verify_request("POST", URL + "2", headers, BODY, jwks)
    other = Signer.load_or_create(tmp_path / "elsewhere")
    with pytest.raises(SignatureError, match="No key"):
        verify_request("POST", URL, headers, BODY, other.jwks())
    forged = CIMultiDict(headers)
    forged["Signature-Input"] = forged["Signature-Input"].replace('"content-type" ', "")
    with pytest.raises(SignatureError, match="cover"):
        verify_request("POST", URL, forged, BODY, jwks)
    forged = CIMultiDict(headers)
    raw = bytearray(base64.b64decode(forged["Signature"][len("solid=:") : -1]))
    raw[5] ^= 1
    forged["Signature"] = f"solid=:{base64.b64encode(bytes(raw)).decode()}:"
    with pytest.raises(SignatureError, match="does not verify"):
        verify_request("POST", URL, forged, BODY, jwks)
    del forged["Signature"]
    with pytest.raises(SignatureError, match="malformed"):
        verify_request("POST", URL, forged, BODY, jwks)


def test_replayed_signatures_age_out(tmp_path: Path) -> None:
    signer = Signer.load_or_create(tmp_path)
    headers = signed(signer)
    created = int(headers["Signature-Input"].split("created=")[1].split(";")[0])
    verify_request("POST", URL, headers, BODY, signer.jwks(), now=created + 299)
    with pytest.raises(SignatureError, match="created"):
        verify_request("POST", URL, headers, BODY, signer.jwks(), now=created + 301)


def test_one_key_for_every_process(tmp_path: Path) -> None:
    first = Signer.load_or_create(tmp_path)
    second = Signer.load_or_create(tmp_path)
    assert first.kid == second.kid
    mode = os.stat(tmp_path / KEY_FILE).st_mode
    assert stat.S_IMODE(mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [KEY_FILE]  # no temporary file left
