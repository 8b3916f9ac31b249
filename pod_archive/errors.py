"""The one error of the archive format: each side translates it into its own."""

from __future__ import annotations


class ArchiveError(Exception):
    """The archive is not one this format reads, or fails its own checksums."""

    def __init__(self, message: str = "not a usable pod archive") -> None:
        super().__init__(message)
        self.message = message
