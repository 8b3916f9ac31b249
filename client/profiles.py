"""Sessions kept between runs: one JSON file per profile, readable by its owner only.

Files live in ``<config dir>/sessions/<profile>.json``; the config dir is
``$POD_CONFIG_DIR`` if set, else ``%APPDATA%\\solid-pods`` on Windows,
``~/Library/Application Support/solid-pods`` on macOS and
``${XDG_CONFIG_HOME:-~/.config}/solid-pods`` elsewhere. Directories are made 0700 and
files 0600 (they hold the DPoP private key and the tokens), written atomically.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

from client.auth import Clock, Session

APP = "solid-pods"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def config_dir() -> Path:
    explicit = os.environ.get("POD_CONFIG_DIR")
    if explicit:
        return Path(explicit)
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming") / APP
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / APP
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / APP


class ProfileStore:
    """Named sessions on disk (``default`` unless told otherwise)."""

    def __init__(self, directory: Path | str | None = None) -> None:
        self.directory = Path(directory) if directory else config_dir() / "sessions"

    def path(self, name: str) -> Path:
        if not _NAME.fullmatch(name):
            raise ValueError(f"profile name {name!r}: use letters, digits, '.', '_' or '-'")
        return self.directory / f"{name}.json"

    def save(self, name: str, session: Session) -> Path:
        path = self.path(name)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        with contextlib.suppress(OSError):
            os.chmod(self.directory, 0o700)
        data = json.dumps(session.to_dict(), indent=2).encode()
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=self.directory)
        try:
            # mkstemp makes the file 0600 (owner only) before anything is written to it.
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return path

    def load(self, name: str, clock: Clock = time.time) -> Session | None:
        path = self.path(name)
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read the saved session {path}: {exc}") from None
        session = Session.from_dict(data, clock)
        session.on_change = lambda s: self.save(name, s)
        return session

    def delete(self, name: str) -> bool:
        try:
            self.path(name).unlink()
        except FileNotFoundError:
            return False
        return True

    def names(self) -> list[str]:
        if not self.directory.is_dir():
            return []
        return sorted(p.stem for p in self.directory.glob("*.json"))


__all__ = ["ProfileStore", "config_dir"]
