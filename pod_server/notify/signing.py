"""Webhook signatures: HTTP Message Signatures (RFC 9421) with the pod's own ES256 key.

Every webhook POST carries::

    Content-Type: application/ld+json
    Content-Digest: sha-256=:<base64 of SHA-256(body)>:                      (RFC 9530)
    Signature-Input: solid=("@method" "@target-uri" "content-type" "content-digest")
        ;created=<unix time>;keyid="<JWK thumbprint>";alg="ecdsa-p256-sha256"
        ;tag="solid-notifications"                                (one line on the wire)
    Signature: solid=:<base64 of the 64-byte r||s ECDSA P-256 SHA-256 signature>:

A receiver verifies it by (1) checking ``Content-Digest`` against the body, (2) rebuilding
the RFC 9421 signature base from the request (method, the URL it registered as ``sendTo``,
the two headers, and the ``Signature-Input`` parameters verbatim), (3) checking the
signature with the key whose ``kid`` is ``keyid`` in the pod's JWKS (published at the
channel's ``sender`` URL), and (4) refusing a ``created`` time far from its own clock.
``verify_request`` does exactly that and may be used as is.

The key is kept where the deployment's notification hub keeps its state, created by
whichever process starts first, so every process on every host signs with the same key:
``notify-key.jwk`` under the server root (readable by its owner only) beside the SQLite
hub, the ``notify_keys`` table beside the PostgreSQL one.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import re
import secrets
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from jwcrypto import jwk

KEY_FILE = "notify-key.jwk"
LABEL = "solid"
TAG = "solid-notifications"
ALG = "ecdsa-p256-sha256"
COMPONENTS = ("@method", "@target-uri", "content-type", "content-digest")
MAX_SKEW = 300.0  # seconds a receiver should tolerate between created and its own clock


class SignatureError(Exception):
    """A webhook request's signature is missing, malformed or does not verify."""


class Signer:
    """Signs webhook requests with the pod's notification key."""

    def __init__(self, key: jwk.JWK) -> None:
        self.key = key
        self.kid = key.thumbprint()
        private = key.get_op_key("sign")
        assert isinstance(private, ec.EllipticCurvePrivateKey)
        self._private = private

    @classmethod
    def from_private_jwk(cls, text: str) -> Signer:
        return cls(jwk.JWK.from_json(text))

    @classmethod
    def load_or_create(cls, root: Path) -> Signer:
        """The key under ``root``, made (atomically, once for all processes) if missing."""
        return cls.from_private_jwk(key_in_file(Path(root) / KEY_FILE, new_private_jwk))

    def jwks(self) -> dict[str, Any]:
        public = json.loads(self.key.export_public())
        public.update(kid=self.kid, alg="ES256", use="sig")
        return {"keys": [public]}

    def sign(self, method: str, url: str, body: bytes, content_type: str) -> dict[str, str]:
        """The headers that sign a request: Content-Digest, Signature-Input, Signature."""
        digest = content_digest(body)
        inner = " ".join('"' + component + '"' for component in COMPONENTS)
        params = f'({inner});created={int(time.time())};keyid="{self.kid}";alg="{ALG}";tag="{TAG}"'
        values = {"content-type": content_type, "content-digest": digest}
        base = signature_base(method, url, values, params)
        der = self._private.sign(base, ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return {
            "Content-Digest": digest,
            "Signature-Input": f"{LABEL}={params}",
            "Signature": f"{LABEL}=:{base64.b64encode(raw).decode()}:",
        }


def new_private_jwk() -> str:
    """A fresh signing key, as private JWK JSON."""
    return str(jwk.JWK.generate(kty="EC", crv="P-256").export_private())


def key_in_file(path: Path, make: Callable[[], str]) -> str:
    """The key JSON in ``path``, made with ``make`` and written (atomically, once for
    all processes, readable by the owner only) if missing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return path.read_text()
    except FileNotFoundError:
        pass
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, make().encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(temp, path)  # fails if another process got there first: use theirs
    except FileExistsError:
        pass
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
    return path.read_text()


def content_digest(body: bytes) -> str:
    return f"sha-256=:{base64.b64encode(hashlib.sha256(body).digest()).decode()}:"


def signature_base(method: str, url: str, headers: Mapping[str, str], params: str) -> bytes:
    """RFC 9421 §2.5 signature base over COMPONENTS; ``params`` is the inner list with its
    parameters exactly as sent in Signature-Input."""
    lines = []
    for component in COMPONENTS:
        if component == "@method":
            value = method.upper()
        elif component == "@target-uri":
            value = url
        else:
            value = headers[component].strip()
        lines.append(f'"{component}": {value}')
    lines.append(f'"@signature-params": {params}')
    return "\n".join(lines).encode()


_INPUT = re.compile(r'^\s*([a-z][a-z0-9_.*-]*)=(\([^)]*\)(?:;[a-z]+=(?:"[^"]*"|\d+))*)\s*$')
_PARAM = re.compile(r';([a-z]+)=("[^"]*"|\d+)')
_SIGNATURE = re.compile(r"^\s*([a-z][a-z0-9_.*-]*)=:([A-Za-z0-9+/=]+):\s*$")


def verify_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    jwks: Mapping[str, Any],
    *,
    now: float | None = None,
    max_skew: float = MAX_SKEW,
) -> str:
    """Check a webhook request signed by ``Signer``; the key id on success.

    ``headers`` must be case-insensitive (aiohttp's are); ``url`` is the sendTo URL;
    ``jwks`` the pod's key set. Raises SignatureError saying what failed.
    """
    digest = headers.get("Content-Digest")
    if digest is None or digest.strip() != content_digest(body):
        raise SignatureError("Content-Digest is missing or does not match the body")
    match = _INPUT.match(headers.get("Signature-Input", ""))
    sig = _SIGNATURE.match(headers.get("Signature", ""))
    if match is None or sig is None or match.group(1) != sig.group(1):
        raise SignatureError("Signature-Input or Signature is missing or malformed")
    params_text = match.group(2)
    covered = re.findall(r'"([^"]+)"', params_text.split(")", 1)[0])
    if tuple(covered) != COMPONENTS:
        raise SignatureError(f"The signature must cover {COMPONENTS}, not {covered}")
    params = {k: v.strip('"') for k, v in _PARAM.findall(params_text.split(")", 1)[1])}
    if params.get("alg", ALG) != ALG or params.get("tag") != TAG:
        raise SignatureError("Unexpected signature algorithm or tag")
    created = int(params.get("created", "0"))
    if abs((time.time() if now is None else now) - created) > max_skew:
        raise SignatureError("The signature's created time is too far from now")
    keyid = str(params.get("keyid", ""))
    key = next((k for k in jwks.get("keys", []) if k.get("kid") == keyid), None)
    if key is None:
        raise SignatureError(f"No key {keyid!r} in the sender's JWKS")
    public = jwk.JWK(**key).get_op_key("verify")
    raw = base64.b64decode(sig.group(2))
    if len(raw) != 64 or not isinstance(public, ec.EllipticCurvePublicKey):
        raise SignatureError("The signature is not an ECDSA P-256 signature")
    values = {name: headers.get(name, "") for name in ("content-type", "content-digest")}
    base = signature_base(method, url, values, params_text)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        public.verify(der, base, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise SignatureError("The signature does not verify") from None
    return keyid
