"""What the HTTP server writes to logs: the optional access log, and malformed requests.

``--access-log [FILE|-]`` writes one line per response in the common log format, plus the
time taken in milliseconds::

    127.0.0.1 - - [07/Dec/2026:00:45:01 +0000] "GET /notes/ HTTP/1.1" 200 1234 3.2

aiohttp's low-level server reports a client's malformed request (garbage on the socket,
a bad request line or header) as an ERROR with a traceback, as if the server had failed;
:class:`ServerLog`, the logger we give it, writes those as one INFO line instead.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
import time
from typing import Any

from aiohttp.abc import AbstractAccessLogger
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web import BaseRequest, StreamResponse

ACCESS_LOGGER = "pod_server.access"
MAX_DETAIL = 200  # characters of a parser's complaint kept in the one line


class CommonLogFormat(AbstractAccessLogger):
    """host ident user [time] "request line" status bytes milliseconds."""

    def log(self, request: BaseRequest, response: StreamResponse, time_taken: float) -> None:
        now = time.strftime("%d/%b/%Y:%H:%M:%S %z", time.localtime())
        version = request.version
        line = f"{request.method} {request.raw_path} HTTP/{version.major}.{version.minor}"
        self.logger.info(
            '%s - - [%s] "%s" %d %s %.1f',
            request.remote or "-",
            now,
            line.replace('"', "%22"),
            response.status,
            _body_bytes(request, response),
            time_taken * 1000,
        )


def _body_bytes(request: BaseRequest, response: StreamResponse) -> str:
    """The body's size as sent ("-" for none, as CLF has it, or when streamed unsized)."""
    length = response.content_length
    if request.method == "HEAD" or not length:
        return "-"
    return str(length)


def access_logger(target: str, debug: bool) -> logging.Logger | None:
    """The logger responses are written to: ``target`` "-" is stderr, another value a
    file (appended to, reopened when rotated away); none unless asked for (or debugging,
    where they go with the rest of the log)."""
    if not target:
        return logging.getLogger("aiohttp.access") if debug else None
    logger = logging.getLogger(ACCESS_LOGGER)
    logger.setLevel(logging.INFO)
    logger.propagate = False  # its own format, not the application log's
    handler: logging.Handler
    if target == "-":
        handler = logging.StreamHandler(sys.stderr)
    else:
        handler = logging.handlers.WatchedFileHandler(target, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(message)s"))
    for old in list(logger.handlers):
        logger.removeHandler(old)
        old.close()
    logger.addHandler(handler)
    return logger


def _malformed(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str, str] | None:
    """(client, complaint) when aiohttp is reporting a request it could not parse."""
    exc = kwargs.get("exc_info")
    if not isinstance(exc, HttpProcessingError):
        return None
    client = str(args[0]) if args else "-"
    detail = " ".join(str(exc.message or type(exc).__name__).split())
    return client, detail[:MAX_DETAIL]


class ServerLog(logging.LoggerAdapter):  # type: ignore[type-arg]
    """The logger for aiohttp's request handler (it calls ``exception`` and ``debug``)."""

    def __init__(self, logger: logging.Logger) -> None:
        super().__init__(logger, {})

    def exception(self, msg: object, *args: Any, **kwargs: Any) -> None:
        found = _malformed(args, kwargs)
        if found is None:
            self.logger.exception(msg, *args, **kwargs)
        else:
            self.logger.info("Malformed request from %s: %s", *found)

    def debug(self, msg: object, *args: Any, **kwargs: Any) -> None:
        found = _malformed(args, kwargs)  # a bad method on a fresh connection comes here
        if found is None:
            self.logger.debug(msg, *args, **kwargs)
        else:
            self.logger.info("Malformed request from %s: %s", *found)
