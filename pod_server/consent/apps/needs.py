"""The access needs an app declares in its Client ID Document (SAI ``interop:hasAccessNeedGroup``).

The document is JSON-LD that names remote contexts (Solid-OIDC's) which the server does
not fetch, so it is read as compacted JSON, the way apps write it: a property is
recognised under its full IRI, its ``interop:`` (or ``consent:``, ``skos:``, ``rdfs:``)
compact name, or its bare term. Groups and needs are objects inline or ``@id``
references to nodes elsewhere in the same document.

What this server supports (the rest of SAI is ignored):

- ``interop:hasAccessNeedGroup`` -> groups, each with ``interop:hasAccessNeed`` -> needs;
  ``interop:accessNecessity`` (``interop:AccessRequired`` / ``interop:AccessOptional``)
  on a need, else on its group, else required; ``interop:accessMode`` ``acl:Read``,
  ``acl:Write``, ``acl:Append`` (never ``acl:Control``);
- a concrete target, our extension: ``consent:targetPath "bank/"``, a path relative to the
  person's storage (a container when it ends in ``/``). A need with only
  ``interop:registeredShapeTree`` is shown but cannot be granted (shape trees are not
  resolved to places in a pod here);
- ``consent:ownContainer "apps/notes/"``: the app's own container, read and written by it
  whatever else the person grants (unless they give it nothing at all);
- a label and description: ``skos:prefLabel`` / ``rdfs:label`` and ``skos:definition`` /
  ``rdfs:comment`` on the need or its group.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pod_server.access.modes import NO_MODES, Mode
from pod_server.ldp import vocabulary
from pod_server.ldp.vocabulary import INTEROP_LEGACY

INTEROP = (INTEROP_LEGACY, str(vocabulary.INTEROP))
CONSENT = "https://w3id.org/solid-pods/vocab/consent#"
ACL = str(vocabulary.ACL)
SKOS = "http://www.w3.org/2004/02/skos/core#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
MAX_NEEDS = 32
MAX_PATH = 512
MAX_TEXT = 300
_MODES = {"Read": Mode.READ, "Write": Mode.WRITE, "Append": Mode.APPEND}


class NeedsError(ValueError):
    """The document's access needs cannot be understood; the message says why (shown to
    the person on the consent page)."""


@dataclass(frozen=True, slots=True)
class AccessNeed:
    key: str  # stable within one document: the consent form's field value
    label: str
    description: str
    modes: Mode
    target_path: str | None  # relative to the person's storage; None: cannot be placed
    shape_tree: str | None
    required: bool


@dataclass(frozen=True, slots=True)
class AppNeeds:
    needs: tuple[AccessNeed, ...] = ()
    own_container: str | None = None

    @property
    def declared(self) -> bool:
        """Whether the app said what it needs at all (else it asks for full access)."""
        return bool(self.needs) or self.own_container is not None


NO_NEEDS = AppNeeds()


def _names(local: str, spaces: tuple[str, ...], prefix: str) -> tuple[str, ...]:
    return (*(ns + local for ns in spaces), f"{prefix}:{local}", local)


def _get(node: Mapping[str, Any], local: str, spaces: tuple[str, ...], prefix: str) -> Any:
    for name in _names(local, spaces, prefix):
        if name in node:
            return node[name]
    return None


def _interop(node: Mapping[str, Any], local: str) -> Any:
    return _get(node, local, INTEROP, "interop")


def _consent(node: Mapping[str, Any], local: str) -> Any:
    return _get(node, local, (CONSENT,), "consent")


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, Mapping) and "@list" in value:
        value = value["@list"]
    return list(value) if isinstance(value, list) else [value]


def _nodes(doc: Any, depth: int = 0) -> Iterator[Mapping[str, Any]]:
    """Every JSON object with an ``@id`` in the document (for references by id)."""
    if depth > 16:
        return
    if isinstance(doc, Mapping):
        if isinstance(doc.get("@id"), str):
            yield doc
        for key, value in doc.items():
            if key != "@context":
                yield from _nodes(value, depth + 1)
    elif isinstance(doc, list):
        for item in doc:
            yield from _nodes(item, depth + 1)


def _term(value: Any) -> str | None:
    """An IRI value: a string or ``{"@id": ...}``; a compact ``x:Local`` or bare ``Local``."""
    if isinstance(value, Mapping):
        value = value.get("@id")
    return value if isinstance(value, str) else None


def _local(iri: str, spaces: tuple[str, ...], prefix: str) -> str:
    for ns in spaces:
        if iri.startswith(ns):
            return iri[len(ns) :]
    return iri.removeprefix(prefix + ":")


def _text(node: Mapping[str, Any], *locals_: tuple[str, tuple[str, ...], str]) -> str:
    for local, spaces, prefix in locals_:
        for value in _list(_get(node, local, spaces, prefix)):
            if isinstance(value, Mapping):
                value = value.get("@value")
            if isinstance(value, str) and value.strip():
                return " ".join(value.split())[:MAX_TEXT]
    return ""


def _label(node: Mapping[str, Any]) -> str:
    return _text(node, ("prefLabel", (SKOS,), "skos"), ("label", (RDFS,), "rdfs"))


def _description(node: Mapping[str, Any]) -> str:
    return _text(node, ("definition", (SKOS,), "skos"), ("comment", (RDFS,), "rdfs"))


def check_path(path: Any, what: str) -> str:
    """A path relative to a storage root: no scheme, no leading ``/``, no ``..``."""
    if not isinstance(path, str) or not path or len(path) > MAX_PATH:
        raise NeedsError(f"{what} must be a non-empty text of at most {MAX_PATH} characters")
    segments = path.rstrip("/").split("/")
    bad = (
        path.startswith("/")
        or ":" in path.split("/", 1)[0]
        or any(c in path for c in "?#\\")
        or any(ord(c) < 0x21 for c in path)
        or any(s in ("", ".", "..") for s in segments)
    )
    if bad:
        raise NeedsError(f"{what} {path!r} is not a path inside the person's storage")
    return path


class _Reader:
    def __init__(self, doc: Mapping[str, Any]) -> None:
        self.by_id = {node["@id"]: node for node in _nodes(doc)}

    def resolve(self, value: Any, what: str) -> Mapping[str, Any]:
        if isinstance(value, Mapping):
            if set(value) == {"@id"}:
                return self.resolve(value["@id"], what)
            return value
        if isinstance(value, str):
            node = self.by_id.get(value)
            if node is None:
                raise NeedsError(f"the {what} {value!r} is not described in the document")
            return node
        raise NeedsError(f"an {what} must be an object or an @id")

    def necessity(self, node: Mapping[str, Any], inherited: bool) -> bool:
        value = _interop(node, "accessNecessity")
        if value is None:
            return inherited
        name = _local(_term(value) or "", INTEROP, "interop")
        if name not in ("AccessRequired", "AccessOptional"):
            raise NeedsError(
                f"accessNecessity must be interop:AccessRequired or interop:AccessOptional, "
                f"not {value!r}"
            )
        return name == "AccessRequired"

    def modes(self, node: Mapping[str, Any]) -> Mode:
        values = _list(_interop(node, "accessMode"))
        if not values:
            raise NeedsError("an access need names no accessMode")
        modes = NO_MODES
        for value in values:
            name = _local(_term(value) or "", (ACL,), "acl")
            if name not in _MODES:
                raise NeedsError(
                    f"accessMode must be acl:Read, acl:Write or acl:Append, not {value!r}"
                )
            modes |= _MODES[name]
        return modes

    def need(
        self, node: Mapping[str, Any], n: int, group: Mapping[str, Any], required: bool
    ) -> AccessNeed:
        target = _consent(node, "targetPath")
        tree = _term(_interop(node, "registeredShapeTree"))
        if target is None and tree is None:
            raise NeedsError("an access need names neither consent:targetPath nor a shape tree")
        return AccessNeed(
            key=f"need-{n}",
            label=_label(node) or _label(group) or (target or tree or ""),
            description=_description(node) or _description(group),
            modes=self.modes(node),
            target_path=None if target is None else check_path(target, "consent:targetPath"),
            shape_tree=tree,
            required=self.necessity(node, required),
        )


def parse_needs(doc: Mapping[str, Any]) -> AppNeeds:
    """The needs a Client ID Document declares (none: the app asks for full access).
    Raises NeedsError saying what is wrong with a malformed declaration."""
    reader = _Reader(doc)
    own = _consent(doc, "ownContainer")
    if own is not None:
        own = check_path(own, "consent:ownContainer")
        if not own.endswith("/"):
            raise NeedsError("consent:ownContainer must be a container path ending in /")
    needs: list[AccessNeed] = []
    for group_value in _list(_interop(doc, "hasAccessNeedGroup")):
        group = reader.resolve(group_value, "access need group")
        required = reader.necessity(group, True)
        members = _list(_interop(group, "hasAccessNeed"))
        if not members:
            raise NeedsError("an access need group has no interop:hasAccessNeed")
        for value in members:
            node = reader.resolve(value, "access need")
            needs.append(reader.need(node, len(needs), group, required))
            if len(needs) > MAX_NEEDS:
                raise NeedsError(f"more than {MAX_NEEDS} access needs")
    return AppNeeds(tuple(needs), own)
