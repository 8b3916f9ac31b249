"""Small loopback web servers for browser tests: an app's redirect target, another site.

Each runs a threaded ``http.server`` on a loopback address and port of its own, serves
the pages a test gives it, and records every request path it sees (so a test knows
whether the browser arrived, and with which query).
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Loopback:
    """A web server on ``host`` (any 127.0.0.0/8 address) serving ``pages`` by path."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.pages: dict[str, str] = {}
        self.types: dict[str, str] = {}  # path -> media type, when not HTML
        self.seen: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.seen.append(self.path)
                path = self.path.split("?", 1)[0]
                text = owner.pages.get(path)
                body = (text or "<!DOCTYPE html><title>Not found</title>").encode("utf-8")
                self.send_response(200 if text is not None else 404)
                kind = owner.types.get(path, "text/html") if text is not None else "text/html"
                self.send_header("Content-Type", f"{kind}; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet test output

        self._server = ThreadingHTTPServer((host, 0), Handler)
        port = self._server.server_address[1]
        self.origin = f"http://{host}:{port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return self.origin + path

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def auto_post(action: str, fields: dict[str, str], *, referrer: str | None = None) -> str:
    """A page that posts a form to ``action`` as soon as it loads, as a forging site would.

    The form is submitted by a script, so a browser sends it like any form post from
    this page (its ``Origin``, its referrer policy).
    """
    inputs = "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in fields.items()
    )
    meta = f'<meta name="referrer" content="{escape(referrer)}">' if referrer else ""
    return (
        f"<!DOCTYPE html><html><head>{meta}<title>A harmless page</title></head><body>"
        f'<form id="f" method="post" action="{escape(action)}">{inputs}</form>'
        "<script>document.getElementById('f').submit()</script></body></html>"
    )


def http(
    method: str,
    url: str,
    *,
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """One plain HTTP request (the app's side of a flow): status, headers, body."""
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def json_of(body: bytes) -> Any:
    return json.loads(body.decode("utf-8"))
