"""Reading request bodies with a size bound, and redirects no cache keeps."""

from __future__ import annotations

from urllib.parse import parse_qsl

from aiohttp import web

from pod_server.idp.errors import NO_STORE


async def read_body(request: web.Request, limit: int) -> bytes | None:
    """The whole body, or None as soon as it exceeds ``limit`` (nothing more is read)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    body = bytearray()
    async for chunk in request.content.iter_chunked(65_536):
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


async def read_form(request: web.Request, limit: int) -> dict[str, str] | None:
    """A urlencoded form (first value of each field), or None when too large."""
    body = await read_body(request, limit)
    if body is None:
        return None
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        return {}
    form: dict[str, str] = {}
    for name, value in pairs:
        form.setdefault(name, value)
    return form


def redirect(location: str, status: int = 302) -> web.Response:
    """A redirect no cache keeps: it may carry an authorization code."""
    return web.Response(status=status, headers={"Location": location, **NO_STORE})
