"""The pod server's one error hierarchy.

Every layer below HTTP raises these; exactly one place (``pod_server.http.errors``)
turns them into responses. Nothing below ``http/`` knows about aiohttp.

    PodError                      500
    ├── BadRequest                400  malformed input (bad RDF, bad path, bad header)
    ├── Unauthorized              401  anonymous caller denied
    ├── Forbidden                 403  authenticated caller denied
    │   └── Suspended             403  the storage's host suspended it (anyone)
    ├── NotFound                  404
    ├── MethodNotAllowed          405  (carries the allowed methods)
    ├── NotAcceptable             406  no representation matches Accept
    ├── Conflict                  409  state conflict (a vs a/, non-empty container, ...)
    ├── PreconditionFailed        412
    ├── PayloadTooLarge           413
    ├── UnsupportedMediaType      415
    ├── RangeNotSatisfiable       416
    ├── UnprocessableEntity       422  well-formed but semantically unusable (bad patch)
    └── ServiceUnavailable        503
    NotModified (304) is not an error but a short-circuit, so it lives beside them.
"""

from __future__ import annotations

from collections.abc import Iterable


class PodError(Exception):
    """Base of all errors the server reports to a client."""

    status: int = 500
    title: str = "Internal Server Error"
    body: bytes | None = None  # a document to send instead of the message (e.g. a report)
    content_type: str = "text/plain"

    def __init__(self, message: str = "", *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message or self.title)
        self.message = message or self.title
        self.headers: dict[str, str] = dict(headers or {})


class BadRequest(PodError):
    status, title = 400, "Bad Request"


class Unauthorized(PodError):
    status, title = 401, "Unauthorized"


class Forbidden(PodError):
    status, title = 403, "Forbidden"


class Suspended(Forbidden):
    """The storage's host suspended it: refused to everyone, its owner too."""


class NotFound(PodError):
    status, title = 404, "Not Found"


class MethodNotAllowed(PodError):
    status, title = 405, "Method Not Allowed"

    def __init__(self, message: str = "", *, allowed: Iterable[str] = ()) -> None:
        self.allowed = tuple(allowed)
        super().__init__(message, headers={"Allow": ", ".join(self.allowed)})


class NotAcceptable(PodError):
    status, title = 406, "Not Acceptable"


class Conflict(PodError):
    status, title = 409, "Conflict"


class PreconditionFailed(PodError):
    status, title = 412, "Precondition Failed"


class PayloadTooLarge(PodError):
    status, title = 413, "Payload Too Large"


class UnsupportedMediaType(PodError):
    status, title = 415, "Unsupported Media Type"


class RangeNotSatisfiable(PodError):
    status, title = 416, "Range Not Satisfiable"


class UnprocessableEntity(PodError):
    status, title = 422, "Unprocessable Entity"


class ServiceUnavailable(PodError):
    status, title = 503, "Service Unavailable"


class NotModified(Exception):
    """Raised by conditional-request evaluation to answer 304 (RFC 9110 §13.2.2)."""

    def __init__(self, etag: str | None = None, last_modified: str | None = None) -> None:
        super().__init__("Not Modified")
        self.etag = etag
        self.last_modified = last_modified


class StaleState(Exception):
    """A backend's optimistic precondition failed: a concurrent writer won; plan again.

    Internal only: the resource store retries and never lets this reach HTTP.
    """
