"""The middleware stack: CORS preflight, then the one place errors become responses.

CORS headers themselves are added in ``on_response_prepare`` rather than a middleware,
so that streamed responses (prepared inside handlers) and error responses carry them
too; without them, browsers hide the status and message from the app.
"""

from __future__ import annotations

import logging
import time

from aiohttp import web
from aiohttp.typedefs import Handler

from pod_server.errors import MethodNotAllowed, NotModified, PodError
from pod_server.http.headers import EXPOSED_HEADERS
from pod_server.storage.meta_cache import reads_since

log = logging.getLogger("pod_server")

PREFLIGHT_METHODS = "GET, HEAD, OPTIONS, POST, PUT, PATCH, DELETE"
ALLOWED_REQUEST_HEADERS = (
    "Accept, Authorization, Content-Type, DPoP, If-Match, If-Modified-Since, If-None-Match, "
    "If-Unmodified-Since, Link, Range, Slug"
)


# Most responses go to clients that send no Origin: their CORS headers never change.
_ANY_ORIGIN = (
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Expose-Headers", EXPOSED_HEADERS),
)


def _cors_headers(origin: str) -> dict[str, str]:
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Credentials": "true",
        # WAC §server-cors-acao-acah asks for this on granted responses too, not only preflights.
        "Access-Control-Allow-Headers": ALLOWED_REQUEST_HEADERS,
        "Access-Control-Expose-Headers": EXPOSED_HEADERS,
    }


def _add_vary(response: web.StreamResponse, value: str) -> None:
    vary = response.headers.get("Vary")
    if vary is None:
        response.headers["Vary"] = value
        return
    present = [v.strip() for v in vary.split(",") if v.strip()]
    if value not in present:
        response.headers["Vary"] = ", ".join([*present, value])


@web.middleware
async def preflight(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer CORS preflight requests before any resource logic (Solid Protocol §8.1)."""
    if request.method != "OPTIONS" or "Access-Control-Request-Method" not in request.headers:
        return await handler(request)
    response = web.Response(status=204)
    response.headers["Access-Control-Allow-Methods"] = PREFLIGHT_METHODS
    requested = request.headers.get("Access-Control-Request-Headers")
    if requested:
        response.headers["Access-Control-Allow-Headers"] = requested
    response.headers["Access-Control-Max-Age"] = "1728000"
    return response


async def add_cors_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare hook: every response, streamed or not, error or not, gets CORS."""
    origin = request.headers.get("Origin")
    headers = _cors_headers(origin).items() if origin else _ANY_ORIGIN
    for name, value in headers:
        response.headers.setdefault(name, value)  # a preflight's own answers win
    _add_vary(response, "Origin")


def error_response(exc: PodError) -> web.Response:
    if exc.body is not None:  # an error may carry a document, such as a SHACL report
        response = web.Response(status=exc.status, body=exc.body, headers=exc.headers)
        response.content_type = exc.content_type
    else:
        response = web.Response(status=exc.status, text=exc.message + "\n", headers=exc.headers)
    if isinstance(exc, MethodNotAllowed):
        response.headers["Allow"] = ", ".join(exc.allowed)
    return response


@web.middleware
async def request_reads(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Mark when the request arrived: its storage reads may share one sync of the metadata
    cache begun since (storage.meta_cache.reads_since)."""
    token = reads_since.set(time.monotonic())
    try:
        return await handler(request)
    finally:
        reads_since.reset(token)


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The one place a PodError (or anything unexpected) turns into an HTTP response."""
    try:
        return await handler(request)
    except PodError as exc:
        return error_response(exc)
    except NotModified as exc:
        headers = {"ETag": exc.etag} if exc.etag else {}
        if exc.last_modified:
            headers["Last-Modified"] = exc.last_modified
        return web.Response(status=304, headers=headers)
    except web.HTTPException:
        raise
    except Exception:  # the single catch-all: log it, never leak a traceback to clients
        log.exception("Unhandled error on %s %s", request.method, request.path)
        return web.Response(status=500, text="Internal server error\n")
