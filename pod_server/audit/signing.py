"""The key that signs audit checkpoints: Ed25519, kept in a file beside the storage.

It lives outside the database on purpose: someone able to rewrite the log's rows (and
recompute the chain) still cannot sign a checkpoint matching them. Every process and host
of one deployment must share the file (the first start creates it, mode 0600).
``pod-server audit verify`` trusts the checkpoints signed by this key.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from pod_server.audit.chain import checkpoint_message
from pod_server.storage.base import Checkpoint, LogState

KEY_FILE = "audit-key.pem"


def key_id(public: Ed25519PublicKey) -> str:
    """The key's name in checkpoints: its raw public bytes, base64url."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@dataclass(frozen=True)
class CheckpointKey:
    private: Ed25519PrivateKey

    @property
    def id(self) -> str:
        return key_id(self.private.public_key())

    def sign(self, root: str, state: LogState, at: float) -> Checkpoint:
        message = checkpoint_message(root, state.seq, state.hash, at)
        return Checkpoint(root, state.seq, state.hash, at, self.id, self.private.sign(message))

    def check(self, cp: Checkpoint) -> bool | None:
        """True if ``cp`` carries this key's valid signature; None if another key signed it."""
        if cp.key != self.id:
            return None
        message = checkpoint_message(cp.root, cp.seq, cp.hash, cp.at)
        try:
            self.private.public_key().verify(cp.signature, message)
        except InvalidSignature:
            return False
        return True


def load_existing(directory: Path) -> CheckpointKey | None:
    """The deployment's key if its file exists (verifying never creates one)."""
    if not (directory / KEY_FILE).exists():
        return None
    return load_or_create(directory)


def load_or_create(directory: Path) -> CheckpointKey:
    """The deployment's key from ``directory/audit-key.pem``, created if missing."""
    path = directory / KEY_FILE
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        directory.mkdir(parents=True, exist_ok=True)
        fresh = Ed25519PrivateKey.generate()
        pem = fresh.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            return load_or_create(directory)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
            fh.flush()
            os.fsync(fh.fileno())
        return CheckpointKey(fresh)
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return CheckpointKey(key)
