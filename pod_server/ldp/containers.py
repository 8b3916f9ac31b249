"""Container representations: the server-managed containment and member descriptions.

Written as Turtle text directly rather than through rdflib: a listing of a thousand
members is the hot path of every file browser, and string building is two orders of
magnitude faster than building and serialising a graph. Member IRIs are relative to
the container, which is the document base, so the text is valid wherever it is served.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

from rdflib.namespace import DCTERMS, XSD

from pod_server.ldp import paths
from pod_server.ldp.vocabulary import IANA_MEDIA_TYPES, LDP, PIM, POSIX, turtle_prefixes
from pod_server.storage.base import Meta

PREFIXES = turtle_prefixes(ldp=LDP, dc=DCTERMS, posix=POSIX, xsd=XSD)
# A media type safe to put inside an IRI (RFC 6838 restricted names).
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")


def xsd_datetime(timestamp: float) -> str:
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _types(meta: Meta, storage: bool = False) -> str:
    if meta.is_container:
        kinds = "ldp:Container, ldp:BasicContainer, ldp:Resource"
        return kinds + (f", <{PIM.Storage}>" if storage else "")
    essence = meta.content_type.split(";", 1)[0].strip().lower()
    if not _MEDIA_TYPE.fullmatch(essence):
        return "ldp:Resource"
    return f"ldp:Resource, <{IANA_MEDIA_TYPES}{essence}#Resource>"


def _describe(subject: str, meta: Meta, storage: bool = False) -> str:
    stamp = xsd_datetime(meta.modified)
    text = (
        f"{subject} a {_types(meta, storage)};\n"
        f'    dc:modified "{stamp}"^^xsd:dateTime;\n'
        f"    posix:mtime {int(meta.modified)}"
    )
    if not meta.is_container:
        text += f";\n    posix:size {meta.size}"
    return text + ".\n"


def _describe_member(subject: str, meta: Meta) -> str:
    """A member as its container lists it. A member container's time is left out: it
    changes with every write below it, which does not touch (re-version) the container
    listing it, so the listing would change under one unchanged ETag."""
    if meta.is_container:
        return f"{subject} a {_types(meta)}.\n"
    return _describe(subject, meta)


def visible_members(children: Iterable[Meta]) -> list[Meta]:
    """Members shown in ``ldp:contains``: auxiliary resources are not members."""
    return [m for m in children if not paths.is_auxiliary(m.path)]


def render(container: Meta, members: list[Meta], user_turtle: bytes, storage: bool) -> bytes:
    """The container's Turtle: the client's own triples plus what the server manages."""
    parts = [PREFIXES, _describe("<>", container, storage)]
    if members:
        refs = ", ".join(f"<{_relative(m.path)}>" for m in members)
        parts.append(f"<> ldp:contains {refs}.\n")
        parts.extend(_describe_member(f"<{_relative(m.path)}>", m) for m in members)
    generated = "".join(parts).encode("utf-8")
    return user_turtle + b"\n" + generated if user_turtle.strip() else generated


def _relative(path: str) -> str:
    leaf = paths.name(path)
    return leaf + "/" if path.endswith("/") else leaf
