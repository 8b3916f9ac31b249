"""One small error hierarchy for everything the client reports.

    PodClientError                 any failure; ``status``, ``url``, ``method``, ``message``
    ├── BadRequest                 400, 422: the server could not use what was sent
    ├── Unauthorized               401: not signed in, or the session is no longer valid
    ├── Forbidden                  403: signed in, but without the access this needs
    ├── NotFound                   404, 410
    ├── MethodNotAllowed           405
    ├── Conflict                   409: the server's state forbids it (a vs a/, bad patch...)
    ├── PreconditionFailed         412: someone changed the resource since you read it
    ├── TooLarge                   413
    ├── ServerError                5xx
    ├── ConnectionFailed           no HTTP answer: unreachable, TLS, timeout
    ├── InvalidResponse            an answer the client cannot use (bad RDF, bad JSON)
    ├── AuthenticationError        signing in failed (the provider's OAuth error)
    └── IncompleteTransfer         a transfer or import stopped part way

``message`` is the server's own explanation when it sent one (plain text or an OAuth
``error_description``), so scripts can show it as it is.
"""

from __future__ import annotations

from typing import ClassVar


class PodClientError(Exception):
    """Base of every error the client raises."""

    default: ClassVar[str] = "the request failed"

    def __init__(
        self,
        message: str = "",
        *,
        status: int | None = None,
        url: str | None = None,
        method: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message or self.default
        self.status = status
        self.url = url
        self.method = method
        self.hint = hint  # what to do about it, when the client knows
        super().__init__(self.message)

    def __str__(self) -> str:
        where = f"{self.method} {self.url}" if self.method and self.url else self.url or ""
        head = f"{self.status} " if self.status else ""
        text = f"{head}{where}: {self.message}" if where or head else self.message
        return f"{text}\n{self.hint}" if self.hint else text


class BadRequest(PodClientError):
    default = "the server could not use the request"


class Unauthorized(PodClientError):
    default = "authentication is needed"


class Forbidden(PodClientError):
    default = "access is denied"


class NotFound(PodClientError):
    default = "no such resource"


class MethodNotAllowed(PodClientError):
    default = "the resource does not allow this method"


class Conflict(PodClientError):
    default = "the request conflicts with the resource's state"


class PreconditionFailed(PodClientError):
    default = "the resource changed since it was read"


class TooLarge(PodClientError):
    default = "the request body is too large for the server"


class ServerError(PodClientError):
    default = "the server failed"


class ConnectionFailed(PodClientError):
    default = "could not reach the server"


class InvalidResponse(PodClientError):
    default = "the server's answer could not be used"


class AuthenticationError(PodClientError):
    """Signing in failed; ``error`` is the OAuth error code when the provider sent one."""

    default = "signing in failed"

    def __init__(self, message: str = "", *, error: str | None = None, **kw: object) -> None:
        self.error = error
        super().__init__(message, **kw)  # type: ignore[arg-type]


class IncompleteTransfer(PodClientError):
    """A transfer stopped part way; ``done`` of ``total`` items (or bytes) were moved."""

    default = "the transfer did not complete"

    def __init__(
        self, message: str = "", *, done: int = 0, total: int | None = None, **kw: object
    ) -> None:
        self.done = done
        self.total = total
        super().__init__(message, **kw)  # type: ignore[arg-type]


_BY_STATUS: dict[int, type[PodClientError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    409: Conflict,
    410: NotFound,
    412: PreconditionFailed,
    413: TooLarge,
    422: BadRequest,
}


def error_for_status(
    status: int, url: str, method: str, message: str = "", hint: str | None = None
) -> PodClientError:
    """The error for an HTTP status that is not a success."""
    kind = _BY_STATUS.get(status)
    if kind is None:
        kind = ServerError if status >= 500 else PodClientError
    return kind(message, status=status, url=url, method=method, hint=hint)


__all__ = [
    "AuthenticationError",
    "BadRequest",
    "Conflict",
    "ConnectionFailed",
    "Forbidden",
    "IncompleteTransfer",
    "InvalidResponse",
    "MethodNotAllowed",
    "NotFound",
    "PodClientError",
    "PreconditionFailed",
    "ServerError",
    "TooLarge",
    "Unauthorized",
    "error_for_status",
]
