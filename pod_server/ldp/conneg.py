"""Content negotiation (RFC 9110 §12.5.1) and Content-Type parsing.

Pure functions over header strings; the HTTP layer calls ``choose`` and turns ``None``
into 406. Parsing is lenient on purpose: real clients send odd headers (``*; q=.2``
from Java, params after ``q``), and a garbled entry should cost the client that entry,
not the whole request.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pod_server.errors import BadRequest, UnsupportedMediaType

# RFC 9110 §5.6.2 token characters.
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
# Split on a delimiter only outside double-quoted strings (which may hold , and ;).
_LIST_ITEM = re.compile(r'(?:"(?:\\.|[^"\\])*"?|[^,"])+')
_PARAM_ITEM = re.compile(r'(?:"(?:\\.|[^"\\])*"?|[^;"])+')
_QUOTED_PAIR = re.compile(r"\\(.)")
# RFC qvalue is 0[.ddd] / 1[.000]; also take more digits and Java's ".2".
_QVALUE = re.compile(r"^(?:[01](?:\.\d*)?|\.\d+)$")


@dataclass(frozen=True)
class MediaRange:
    """One element of an Accept header: ``type/subtype;params`` with weight ``q``."""

    type: str
    subtype: str
    params: Mapping[str, str] = field(default_factory=dict)
    q: float = 1.0

    @property
    def essence(self) -> str:
        """``type/subtype`` without parameters."""
        return f"{self.type}/{self.subtype}"

    @property
    def specificity(self) -> int:
        """0 for ``*/*``, 1 for ``type/*``, 2 for ``type/sub``, 3 with parameters."""
        if self.type == "*":
            return 0
        if self.subtype == "*":
            return 1
        return 3 if self.params else 2

    def matches(self, essence: str, params: Mapping[str, str]) -> bool:
        """Whether this range covers the offered ``essence`` with ``params``.

        Range parameters are compared only when the offered type carries parameters of
        its own: a client asking for e.g. a JSON-LD ``profile`` we do not distinguish
        still gets plain JSON-LD instead of a 406 (JSON-LD 1.1 lets servers ignore it).
        """
        type_, _, subtype = essence.partition("/")
        if self.type != "*" and self.type != type_:
            return False
        if self.subtype != "*" and self.subtype != subtype:
            return False
        if params:
            return all(params.get(name) == value for name, value in self.params.items())
        return True


def _split(pattern: re.Pattern[str], text: str) -> list[str]:
    return [item.strip() for item in pattern.findall(text) if item.strip()]


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return _QUOTED_PAIR.sub(r"\1", value[1:-1])
    return value


def _parse_params(items: Sequence[str]) -> dict[str, str] | None:
    """``name=value`` pairs with lower-cased names; None if any is malformed."""
    params: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name, value = name.strip().lower(), value.strip()
        if not sep or not _TOKEN.match(name) or not value:
            return None
        params[name] = _unquote(value)
    return params


def _parse_essence(text: str) -> tuple[str, str] | None:
    type_, sep, subtype = text.strip().lower().partition("/")
    if not sep or not _TOKEN.match(type_) or not _TOKEN.match(subtype):
        return None
    return type_, subtype


def _parse_qvalue(text: str) -> float | None:
    text = text.strip()
    if not _QVALUE.match(text):
        return None
    q = float(text)
    return q if q <= 1.0 else None


def _parse_range(item: str) -> MediaRange | None:
    """One Accept element, or None when it is garbage (the caller drops it)."""
    parts = _split(_PARAM_ITEM, item)
    if not parts:
        return None
    # Some clients send a bare "*" for "*/*".
    essence = ("*", "*") if parts[0] == "*" else _parse_essence(parts[0])
    if essence is None or (essence[0] == "*" and essence[1] != "*"):
        return None
    q = 1.0
    range_params = parts[1:]
    for index, part in enumerate(parts[1:], start=1):
        name, _, value = part.partition("=")
        if name.strip().lower() == "q":
            parsed_q = _parse_qvalue(value)
            if parsed_q is None:
                return None
            q = parsed_q
            # Parameters after the weight are old "accept-ext"s, not part of the range.
            range_params = parts[1:index]
            break
    params = _parse_params(range_params)
    if params is None:
        return None
    return MediaRange(essence[0], essence[1], params, q)


def parse_accept(header: str | None) -> list[MediaRange]:
    """Parse an Accept header into media ranges, in header order.

    A missing or blank header means ``*/*``. Malformed elements (bad syntax, bad
    ``q``) are dropped, so a header of only garbage yields an empty list.
    """
    if header is None or not header.strip():
        return [MediaRange("*", "*")]
    ranges = (_parse_range(item) for item in _split(_LIST_ITEM, header))
    return [media_range for media_range in ranges if media_range is not None]


def _weight(
    ranges: Sequence[MediaRange], essence: str, params: Mapping[str, str]
) -> tuple[float, int] | None:
    """(q, specificity) of the most specific range matching the offer, if any.

    RFC 9110: the most specific matching range decides the weight; among equally
    specific duplicates the most generous one wins.
    """
    best: tuple[int, float] | None = None
    for media_range in ranges:
        if media_range.matches(essence, params):
            candidate = (media_range.specificity, media_range.q)
            if best is None or candidate > best:
                best = candidate
    return None if best is None else (best[1], best[0])


# Clients send the same few Accept headers again and again: their choices are memoised,
# for headers short enough that hostile ones cannot make the memo large.
MEMO_HEADER_LENGTH = 512


def choose(accept: str | None, offered: Sequence[str]) -> str | None:
    """Pick the offered media type the client prefers, or None if none is acceptable.

    Highest ``q`` wins; ``q=0`` excludes. Between equal weights, a type the client named
    more specifically wins (``text/turtle`` over ``text/*`` over ``*/*``), then the
    server's preference, which is the order of ``offered``. The offered string is
    returned unchanged. A header with nothing parseable is treated like no header.
    """
    if isinstance(offered, tuple) and (accept is None or len(accept) <= MEMO_HEADER_LENGTH):
        return _choose_memo(accept, offered)
    return _choose(accept, offered)


def _choose(accept: str | None, offered: Sequence[str]) -> str | None:
    ranges = parse_accept(accept) or [MediaRange("*", "*")]
    best: tuple[tuple[float, int, int], str] | None = None
    for index, offer in enumerate(offered):
        essence, params = parse_content_type(offer)
        if not essence:
            continue
        weight = _weight(ranges, essence, params)
        if weight is None or weight[0] <= 0:
            continue
        key = (weight[0], weight[1], -index)
        if best is None or key > best[0]:
            best = (key, offer)
    return None if best is None else best[1]


_choose_memo = functools.lru_cache(maxsize=1024)(_choose)


def parse_content_type(header: str | None) -> tuple[str, dict[str, str]]:
    """Split a Content-Type into its lower-cased ``type/subtype`` and parameters.

    Parameter names are lower-cased and quoted values unquoted. A missing, empty or
    malformed header gives ``("", {})``, which callers treat as "no type given".
    Malformed parameters are dropped rather than failing the whole header.
    """
    if not header:
        return "", {}
    parts = _split(_PARAM_ITEM, header)
    essence = _parse_essence(parts[0]) if parts else None
    if essence is None or "*" in essence:
        return "", {}
    params: dict[str, str] = {}
    for part in parts[1:]:
        parsed = _parse_params([part])
        if parsed:
            params.update(parsed)
    return f"{essence[0]}/{essence[1]}", params


# A whole Content-Type (RFC 9110 §8.3.1): type "/" subtype *( OWS ";" OWS [ parameter ] ),
# a parameter value being a token or a quoted-string.
_TOKEN_CHARS = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_QUOTED_STRING = r'"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x20-\x7e\x80-\xff])*"'
_OWS = r"[ \t]*"


def _parameter(group: str) -> str:
    """``; name=value`` or a bare ``;``; ``group`` is "?:" for no capturing groups.
    Each run of spaces has one place in the pattern, so a failing match cannot backtrack
    through every way of splitting it."""
    value = f"{_TOKEN_CHARS}|{_QUOTED_STRING}"
    return rf";(?:{_OWS}({group}{_TOKEN_CHARS}){_OWS}={_OWS}({group}{value}))?{_OWS}"


_STRICT_TYPE = re.compile(rf"({_TOKEN_CHARS})/({_TOKEN_CHARS}){_OWS}((?:{_parameter('?:')})*)")
_STRICT_PARAM = re.compile(_parameter(""))
# The charsets an RDF or patch body may declare: all of them are read as UTF-8.
UTF8_CHARSETS = frozenset({"utf-8", "utf8", "us-ascii"})


def parse_media_type(header: str) -> tuple[str, dict[str, str]]:
    """A request's Content-Type, strictly: lower-cased ``type/subtype`` and parameters.

    Unlike ``parse_content_type`` (lenient, for headers we only read), a body whose type
    does not parse cannot be stored faithfully, so this raises BadRequest: a wildcard, a
    missing subtype, an unterminated quoted string, a parameter without a value, or one
    parameter named twice with different values.
    """
    essence, params = _parse_media_type(header)
    return essence, dict(params)


@functools.lru_cache(maxsize=256)  # every write parses one, mostly the same few
def _parse_media_type(header: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    match = _STRICT_TYPE.fullmatch(header.strip(" \t"))
    if match is None or "*" in match.group(1) + match.group(2):
        raise BadRequest(
            f"Content-Type {_shown(header)} is not a media type (type/subtype;name=value)"
        )
    params: dict[str, str] = {}
    for param in _STRICT_PARAM.finditer(match.group(3)):
        if param.group(1) is None:
            continue  # an empty parameter (";;") is allowed by the grammar
        name, value = param.group(1).lower(), _unquote(param.group(2))
        if params.setdefault(name, value) != value:
            raise BadRequest(f"Content-Type {_shown(header)} names {name!r} twice")
    return f"{match.group(1)}/{match.group(2)}".lower(), tuple(params.items())


def require_utf8(
    essence: str, params: Mapping[str, str], headers: Mapping[str, str] | None = None
) -> None:
    """Refuse a charset other than UTF-8 (or its subset US-ASCII) for a body we parse:
    RDF syntaxes and patches are read as UTF-8, so another charset would be misread.
    ``headers`` go with the 415 (Accept-Patch for a patch, RFC 5789 §2.2)."""
    charset = params.get("charset")
    if charset is not None and charset.lower() not in UTF8_CHARSETS:
        raise UnsupportedMediaType(
            f"Unsupported charset {_shown(charset)} for {essence}; RDF and patches are UTF-8",
            headers=headers,
        )


def _shown(text: str) -> str:
    """``text`` quoted for an error message, cut short: headers can be kilobytes long."""
    return repr(text if len(text) <= 80 else text[:77] + "...")
