"""Where resources live: the mapping between request paths and public URLs.

A small frozen value, so code that only needs to name resources (access control,
notifications, pod provisioning) can take it instead of the whole resource store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from pod_server.errors import BadRequest
from pod_server.ldp import paths

WELL_KNOWN = ".well-known/"
STORAGE_DESCRIPTION = ".well-known/solid"


@dataclass(frozen=True, slots=True)
class Layout:
    """The server's URL space: one storage at the root, or with ``multiuser`` one per
    top-level container (``/NAME/``)."""

    base_url: str
    multiuser: bool = False
    base_path: str = field(init=False)

    def __post_init__(self) -> None:
        base = self.base_url.rstrip("/") + "/"
        object.__setattr__(self, "base_url", base)
        object.__setattr__(self, "base_path", urlsplit(base).path or "/")

    def url(self, path: str) -> str:
        return self.base_url + path[1:]

    def local_path(self, url: str) -> str | None:
        """The path of ``url`` when this server hosts it, else None."""
        if not url.startswith(self.base_url):
            return None
        try:
            return paths.canonical("/" + url[len(self.base_url) :].split("#", 1)[0])
        except BadRequest:
            return None

    def storage_root_of(self, path: str) -> str | None:
        """The storage holding ``path``: the server root, or with several users each pod
        (``/NAME/``); storages never overlap (Solid Protocol §4.1)."""
        if not self.multiuser:
            return "/"
        cut = path.find("/", 1)
        return None if cut < 0 else path[: cut + 1]

    def is_storage_root(self, path: str) -> bool:
        return path == self.storage_root_of(path)

    def is_root_acl(self, path: str) -> bool:
        aux = paths.aux_subject(path)
        return aux is not None and aux[0] == paths.ACL_SUFFIX and self.is_storage_root(aux[1])

    def storage_description_path(self, path: str) -> str:
        """Where the storage description of ``path``'s storage lives (Solid Protocol §4.1.2)."""
        return (self.storage_root_of(path) or "/") + STORAGE_DESCRIPTION

    def is_well_known(self, path: str) -> bool:
        """``.well-known`` at the server root or at a storage root is the server's own."""
        for root in {"/", self.storage_root_of(path) or "/"}:
            if path.startswith(root + WELL_KNOWN) or path == root + WELL_KNOWN[:-1]:
                return True
        return False
