"""The ceiling: a bare aiohttp handler returning 1 KB, nothing else.

Run in its own process by bench/run. Whatever req/s the load generator reaches against
it is the most this machine can show for a Python aiohttp server (and for the generator
itself), so it frames every other figure.

    python bench/ceiling.py --port 8099
"""

from __future__ import annotations

import argparse

from aiohttp import web

BODY = b"x" * 1024


async def handle(_request: web.Request) -> web.Response:
    return web.Response(body=BODY, content_type="text/plain")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    # Loopback only, and no access log: logging would be most of the work per request.
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
