"""How requests reach a server: a small interface, an aiohttp implementation and a mock.

The client builds a :class:`Request` and hands it to a transport's ``send``, which
returns a :class:`Response` whose body may still be streaming. Nothing above this module
knows about aiohttp, so tests swap in :class:`MockTransport` (as httpx's ``MockTransport``
does): a function from request to response, no server and no sockets.

Transports never follow redirects (a DPoP proof is bound to one URL; the client follows
them itself) and never raise for an HTTP status: only for no answer at all, as
:class:`~client.errors.ConnectionFailed`.
"""

from __future__ import annotations

import inspect
import ssl
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, Protocol

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from client.errors import ConnectionFailed, IncompleteTransfer

Body = bytes | AsyncIterable[bytes] | None
CHUNK = 256 * 1024


class Request:
    """One HTTP request: method, absolute URL, headers (multi-valued) and body."""

    def __init__(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | CIMultiDict[str] | None = None,
        body: Body = None,
    ) -> None:
        self.method = method.upper()
        self.url = url
        self.headers: CIMultiDict[str] = CIMultiDict(headers or {})
        self.body = body

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.url}>"


class Response:
    """An HTTP response. The body is read with :meth:`read` or streamed with
    :meth:`iter_bytes`; :meth:`aclose` releases a body that is not wanted."""

    def __init__(
        self,
        status: int,
        headers: Mapping[str, str] | CIMultiDict[str] | list[tuple[str, str]] | None = None,
        body: bytes | str | AsyncIterable[bytes] = b"",
        *,
        url: str = "",
        release: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.status = status
        self.headers: CIMultiDictProxy[str] = CIMultiDictProxy(CIMultiDict(headers or {}))
        self.url = url
        if isinstance(body, str):
            body = body.encode()
        self._body: bytes | None = body if isinstance(body, bytes) else None
        self._stream: AsyncIterable[bytes] | None = None if isinstance(body, bytes) else body
        self._release = release

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    async def read(self) -> bytes:
        """The whole body (read once, then kept)."""
        if self._body is None:
            parts = [chunk async for chunk in self.iter_bytes()]
            self._body = b"".join(parts)
        return self._body

    async def text(self) -> str:
        return (await self.read()).decode("utf-8", errors="replace")

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        """The body in chunks as it arrives; the response is released at the end."""
        if self._body is not None:
            if self._body:
                yield self._body
            return
        stream, self._stream = self._stream, None
        try:
            if stream is not None:
                async for chunk in stream:
                    yield chunk
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        release, self._release = self._release, None
        if release is not None:
            await release()

    async def __aenter__(self) -> Response:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<Response {self.status} {self.url}>"


class Transport(Protocol):
    """What the client needs from a transport."""

    async def send(self, request: Request) -> Response: ...

    async def aclose(self) -> None: ...


class AiohttpTransport:
    """The default transport: one aiohttp session, opened on first use.

    ``ssl_context`` replaces the system's trust store (a private CA, say); ``timeout``
    bounds connecting and each read (not whole transfers, which may be long).
    """

    def __init__(
        self,
        *,
        timeout: float = 60.0,
        ssl_context: ssl.SSLContext | None = None,
        user_agent: str = "solid-pods-client/0.1",
    ) -> None:
        self._timeout = aiohttp.ClientTimeout(
            total=None, connect=timeout, sock_connect=timeout, sock_read=timeout
        )
        self._ssl: ssl.SSLContext | bool = ssl_context if ssl_context is not None else True
        self._user_agent = user_agent
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=self._timeout,
                headers={"User-Agent": self._user_agent},
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=True,
            )
        return self._session

    async def send(self, request: Request) -> Response:
        kwargs: dict[str, Any] = {
            "headers": request.headers,
            "allow_redirects": False,
            "ssl": self._ssl,
        }
        if request.body is not None:
            kwargs["data"] = request.body
        try:
            raw = await self._http().request(
                request.method, URL(request.url, encoded=True), **kwargs
            )
        except aiohttp.ClientSSLError as exc:
            raise ConnectionFailed(
                f"TLS failed: {_reason(exc)}",
                url=request.url,
                method=request.method,
                hint="Check the server's certificate (or the URL's scheme).",
            ) from exc
        except aiohttp.ClientConnectorError as exc:
            raise ConnectionFailed(
                f"cannot connect to {exc.host}:{exc.port} ({_reason(exc)})",
                url=request.url,
                method=request.method,
                hint="Is the server running, and is the URL right?",
            ) from exc
        except TimeoutError as exc:
            raise ConnectionFailed(
                "the server did not answer in time", url=request.url, method=request.method
            ) from exc
        except aiohttp.ClientError as exc:
            raise ConnectionFailed(
                f"HTTP failed: {_reason(exc)}", url=request.url, method=request.method
            ) from exc

        async def chunks() -> AsyncIterator[bytes]:
            try:
                async for chunk in raw.content.iter_chunked(CHUNK):
                    yield chunk
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise IncompleteTransfer(
                    f"the response body stopped part way ({_reason(exc)})",
                    url=request.url,
                    method=request.method,
                    status=raw.status,
                ) from exc

        async def release() -> None:
            raw.release()

        return Response(
            raw.status,
            CIMultiDict(raw.headers),
            chunks(),
            url=request.url,
            release=release,
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    cause = exc.__cause__ or exc.__context__
    if isinstance(exc, aiohttp.ClientConnectorError) and cause is not None:
        text = getattr(cause, "strerror", None) or str(cause) or text
    return text


Handler = Callable[[Request], "Response | Awaitable[Response]"]


class MockTransport:
    """A transport that answers with ``handler(request)`` (sync or async).

    Streaming request bodies are read into bytes first, so the handler always sees
    ``request.body`` as ``bytes`` or ``None``. Every request is kept in ``requests``.
    """

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[Request] = []
        self.closed = False

    async def send(self, request: Request) -> Response:
        if request.body is not None and not isinstance(request.body, bytes):
            request.body = b"".join([chunk async for chunk in request.body])
        self.requests.append(request)
        answer = self.handler(request)
        if inspect.isawaitable(answer):
            answer = await answer
        assert isinstance(answer, Response)
        if not answer.url:
            answer.url = request.url
        return answer

    async def aclose(self) -> None:
        self.closed = True


__all__ = ["AiohttpTransport", "Body", "MockTransport", "Request", "Response", "Transport"]
