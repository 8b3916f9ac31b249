"""Resource identifiers: canonical percent-encoded paths, and the rules on them.

A request path is split on ``/``, each segment percent-decoded (strictly, as UTF-8),
checked, and re-encoded one fixed way, so ``/caf%c3%a9`` and ``/café`` name the same
resource and every name round-trips exactly. Refused, because they could escape the
storage or make two paths alias one resource: ``.``/``..`` segments (also encoded),
encoded ``/``, NUL and other control characters, empty inner segments (``a//b``).
"""

from __future__ import annotations

import functools
import re
from urllib.parse import quote

from pod_server.errors import BadRequest

# RFC 3986 pchar minus "%": what a segment may show unencoded.
_SEGMENT_SAFE = "!$&'()*+,;=:@-._~"
_PCT = re.compile(rb"%([0-9A-Fa-f]{2})")
_BAD_PCT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_PATH_LENGTH = 2048
MAX_SEGMENT_LENGTH = 255

ACL_SUFFIX = ".acl"
META_SUFFIX = ".meta"
AUX_SUFFIXES = (ACL_SUFFIX, META_SUFFIX)


def decode_segment(raw: str) -> str:
    """Percent-decode one raw segment as UTF-8, refusing anything ambiguous."""
    if _BAD_PCT.search(raw):
        raise BadRequest(f"Malformed percent-encoding in path segment {raw!r}")
    data = _PCT.sub(lambda m: bytes([int(m.group(1), 16)]), raw.encode("utf-8"))
    try:
        name = data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest(f"Path segment {raw!r} is not valid UTF-8") from None
    if "/" in name or "\\" in name:
        raise BadRequest("Encoded slashes are not allowed in paths")
    if _CONTROL.search(name):
        raise BadRequest("Control characters (such as NUL) are not allowed in paths")
    if name in (".", ".."):
        raise BadRequest("Dot segments ('.' and '..') are not allowed in paths")
    if len(name.encode("utf-8")) > MAX_SEGMENT_LENGTH:
        raise BadRequest(f"Path segment longer than {MAX_SEGMENT_LENGTH} bytes")
    return name


def encode_segment(name: str) -> str:
    return quote(name, safe=_SEGMENT_SAFE)


# Every request asks, mostly for the same few paths; a refused path is not remembered.
@functools.lru_cache(maxsize=4096)
def canonical(raw_path: str) -> str:
    """Turn a raw (still percent-encoded) request path into its canonical identifier."""
    if len(raw_path) <= _MEMO_PATH_LENGTH:
        return _canonical_memo(raw_path)
    return _canonical(raw_path)


def _canonical(raw_path: str) -> str:
    if not raw_path.startswith("/"):
        raise BadRequest("Path must be absolute")
    if len(raw_path) > MAX_PATH_LENGTH:
        raise BadRequest(f"Path longer than {MAX_PATH_LENGTH} characters")
    if raw_path == "/":
        return "/"
    parts = raw_path[1:].split("/")
    container = parts[-1] == ""
    if container:
        parts.pop()
    if any(p == "" for p in parts):
        raise BadRequest("Empty path segments ('//') are not allowed")
    encoded = "/".join(encode_segment(decode_segment(p)) for p in parts)
    return "/" + encoded + ("/" if container else "")


# Every request canonicalises its path, mostly the same few: memoised (errors are not).
_MEMO_PATH_LENGTH = 256
_canonical_memo = functools.lru_cache(maxsize=4096)(_canonical)


def is_container(path: str) -> bool:
    return path.endswith("/")


def parent(path: str) -> str | None:
    """The container holding ``path``; ``None`` for the root."""
    if path == "/":
        return None
    trimmed = path[:-1] if path.endswith("/") else path
    return trimmed[: trimmed.rfind("/") + 1]


def ancestors(path: str) -> list[str]:
    """Every container above ``path``, nearest first, ending with ``/``."""
    out: list[str] = []
    p = parent(path)
    while p is not None:
        out.append(p)
        p = parent(p)
    return out


def name(path: str) -> str:
    """The last segment, still encoded, without a container's trailing slash."""
    trimmed = path[:-1] if path.endswith("/") else path
    return trimmed[trimmed.rfind("/") + 1 :]


def twin(path: str) -> str:
    """The other of ``a`` / ``a/``: they may not both exist."""
    return path[:-1] if path.endswith("/") else path + "/"


def aux_subject(path: str) -> tuple[str, str] | None:
    """For an auxiliary resource (``x.acl``, ``c/.meta``) return (suffix, subject path)."""
    if path.endswith("/"):
        return None
    for suffix in AUX_SUFFIXES:
        if path.endswith(suffix):
            return suffix, path[: -len(suffix)]  # never empty: paths start with "/"
    return None


def aux_path(path: str, suffix: str) -> str:
    """The auxiliary resource of ``path``: ``/a/b`` -> ``/a/b.acl``, ``/a/`` -> ``/a/.acl``."""
    return path + suffix


def is_auxiliary(path: str) -> bool:
    return aux_subject(path) is not None
