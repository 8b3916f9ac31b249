"""Web Access Control access modes, and the ``WAC-Allow`` header built from them."""

from __future__ import annotations

import enum


class Mode(enum.Flag):
    """The four WAC access modes; combine with ``|``, test with ``granted.covers(required)``."""

    READ = enum.auto()
    WRITE = enum.auto()
    APPEND = enum.auto()
    CONTROL = enum.auto()

    def implied(self) -> Mode:
        """These modes plus every mode they imply.

        WAC, Access Mode Classes note: "acl:Append is a subclass of acl:Write."
        WAC, Authorization Evaluation: "When a request requires an access mode (acl:mode)
        which is a limitation of another access mode, then access is granted if either
        mode is allowed by an Authorization. For example, when a request requires
        acl:Append, then access will be granted to agents having acl:Write."
        """
        return _IMPLIED[self._value_]

    def covers(self, required: Mode) -> bool:
        """Whether these granted modes (with what they imply) include all of ``required``."""
        return required._value_ & ~_IMPLIED[self._value_]._value_ == 0


# Flag arithmetic goes through enum machinery (about a microsecond an operation), so
# the hot paths work on the int values and look members up in these tables.
_WRITE, _APPEND = Mode.WRITE.value, Mode.APPEND.value
BY_VALUE: tuple[Mode, ...] = tuple(Mode(value) for value in range(1 << len(Mode)))
_IMPLIED: tuple[Mode, ...] = tuple(
    BY_VALUE[value | _APPEND if value & _WRITE else value] for value in range(len(BY_VALUE))
)
NO_MODES = BY_VALUE[0]

# The header's order: read write append control, as the brief and the ABNF list them.
_HEADER_TOKENS: tuple[tuple[Mode, str], ...] = (
    (Mode.READ, "read"),
    (Mode.WRITE, "write"),
    (Mode.APPEND, "append"),
    (Mode.CONTROL, "control"),
)


def _access_modes(modes: Mode) -> str:
    tokens = (token for mode, token in _HEADER_TOKENS if mode in modes.implied())
    return '"' + " ".join(tokens) + '"'


_HEADER_VALUES: tuple[str, ...] = tuple(_access_modes(mode) for mode in BY_VALUE)


def wac_allow(user: Mode, public: Mode) -> str:
    """The ``WAC-Allow`` field value, e.g. ``user="read write append",public="read"``.

    WAC, wac-allow HTTP Header::

        wac-allow        = "WAC-Allow" ":" OWS #access-param OWS
        access-param     = permission-group OWS "=" OWS access-modes
        permission-group = 1*ALPHA
        access-modes     = DQUOTE OWS *1(access-mode *(RWS access-mode)) OWS DQUOTE
        access-mode      = "read" / "write" / "append" / "control"

    "user: Permissions granted to the agent requesting the resource. public:
    Permissions granted to the public." Write is rendered together with the append it
    implies, so a client reading ``append`` need not know the subclass rule.
    """
    return f"user={_HEADER_VALUES[user._value_]},public={_HEADER_VALUES[public._value_]}"
