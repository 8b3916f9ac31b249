"""The check registry: each check has an id, an area, the spec section it verifies and the
requirement it quotes. Checks are ``async def check(ctx) -> None`` and signal their outcome
by returning (pass), raising ``Failed`` or raising ``Skipped``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

if TYPE_CHECKING:
    from conformance.context import Context
    from conformance.http import Reply

CheckFn = Callable[["Context"], Awaitable[None]]
Row = TypeVar("Row")

AREAS = ("protocol", "patch", "wac", "oidc", "notifications", "extensions")

# Spec documents, by the version this suite reads.
PROTOCOL = "https://solidproject.org/TR/2024/protocol-20240512"
WAC = "https://solidproject.org/TR/2024/wac-20240512"
OIDC = "https://solidproject.org/TR/2022/oidc-20220328"
NOTIFICATIONS = "https://solidproject.org/TR/2024/notifications-protocol-20240512"
WEBSOCKET_CHANNEL = "https://solid.github.io/notifications/websocket-channel-2023"
WEBHOOK_CHANNEL = "https://solid.github.io/notifications/webhook-channel-2023"
STREAMING_CHANNEL = "https://solid.github.io/notifications/streaming-http-channel-2023"
RFC9110 = "https://www.rfc-editor.org/rfc/rfc9110"
RFC9449 = "https://www.rfc-editor.org/rfc/rfc9449"
RFC5789 = "https://www.rfc-editor.org/rfc/rfc5789"
LDP = "https://www.w3.org/TR/ldp/"
FETCH = "https://fetch.spec.whatwg.org/"
SPARQL_UPDATE = "https://www.w3.org/TR/sparql11-update/"


class Failed(AssertionError):
    """The server did not do what the quoted requirement says."""


class Skipped(Exception):
    """The check cannot run here (a missing identity, a feature not advertised)."""


@dataclass(frozen=True)
class Check:
    id: str
    area: str
    spec: str  # URL with the section anchor
    quote: str  # the requirement, verbatim from the spec
    fn: CheckFn
    needs: tuple[str, ...] = ()  # "alice", "bob": identities the check logs in as
    extension: bool = False  # our own extensions: skipped when not advertised


REGISTRY: dict[str, Check] = {}


def register(item: Check) -> Check:
    if item.area not in AREAS:
        raise ValueError(f"{item.id}: unknown area {item.area!r}")
    if item.id in REGISTRY:
        raise ValueError(f"duplicate check id {item.id!r}")
    REGISTRY[item.id] = item
    return item


def check(
    id: str, spec: str, quote: str, *, needs: tuple[str, ...] = (), extension: bool = False
) -> Callable[[CheckFn], CheckFn]:
    """Register the decorated coroutine as one check; the area is the id's first segment."""

    def decorate(fn: CheckFn) -> CheckFn:
        register(Check(id, id.split(".")[0], spec, quote, fn, needs, extension))
        return fn

    return decorate


def check_each(
    rows: Iterable[Row],
    id: Callable[[Row], str],
    spec: str | Callable[[Row], str],
    quote: str | Callable[[Row], str],
    *,
    needs: tuple[str, ...] | Callable[[Row], tuple[str, ...]] = (),
) -> Callable[[Callable[[Context, Row], Awaitable[None]]], None]:
    """One check per row of a table (each row checks a distinct thing)."""

    def decorate(fn: Callable[[Context, Row], Awaitable[None]]) -> None:
        for row in rows:
            check(
                id(row),
                spec(row) if callable(spec) else spec,
                quote(row) if callable(quote) else quote,
                needs=needs(row) if callable(needs) else needs,
            )(_bind(fn, row))

    return decorate


def _bind(fn: Callable[[Context, Any], Awaitable[None]], row: Any) -> CheckFn:
    async def bound(ctx: Context) -> None:
        await fn(ctx, row)

    return bound


# Assertion helpers: short, and their messages say what the server did.


def fail(message: str) -> NoReturn:
    raise Failed(message)


def skip(reason: str) -> NoReturn:
    raise Skipped(reason)


def expect(condition: object, message: str) -> None:
    if not condition:
        raise Failed(message)


def expect_status(reply: Reply, *codes: int) -> Reply:
    """The reply's status is one of ``codes``; any 2xx when none are given."""
    good = reply.status in codes if codes else reply.ok
    wanted = " or ".join(map(str, codes)) if codes else "2xx"
    expect(good, f"expected {wanted}: {reply.describe()}")
    return reply
