"""Create an account with a pod and client credentials on a Community Solid Server 7.x,
through its account JSON API (``/.account/``), and write the suite's credentials file.

    python -m conformance.peer.provision --server http://localhost:3113/ \
        --name alice --out alice.json

Every URL comes from the API's ``controls`` (never built by hand), as CSS documents.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
from pathlib import Path
from typing import Any

import aiohttp

from conformance.http import send


class ProvisionError(RuntimeError):
    pass


async def call(
    http: aiohttp.ClientSession,
    method: str,
    url: str,
    token: str | None,
    body: dict[str, Any] | None = None,
) -> dict[str, Any]:
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"CSS-Account-Token {token}"
    if body is not None:
        headers["Content-Type"] = "application/json"
    reply = await send(
        http, method, url, body=json.dumps(body) if body is not None else None, headers=headers
    )
    if not reply.ok:
        raise ProvisionError(reply.describe())
    return dict(json.loads(reply.body))


async def provision(server: str, name: str) -> dict[str, str]:
    server = server.rstrip("/") + "/"
    async with aiohttp.ClientSession() as http:
        index = await call(http, "GET", server + ".account/", None)
        token = (await call(http, "POST", index["controls"]["account"]["create"], None, {}))[
            "authorization"
        ]
        controls = (await call(http, "GET", server + ".account/", token))["controls"]
        email, password = (
            f"{name}-{secrets.token_hex(4)}@conformance.invalid",
            secrets.token_urlsafe(16),
        )
        await call(
            http,
            "POST",
            controls["password"]["create"],
            token,
            {"email": email, "password": password},
        )
        pod = await call(http, "POST", controls["account"]["pod"], token, {"name": name})
        webid = pod["webId"]
        cred = await call(
            http,
            "POST",
            controls["account"]["clientCredentials"],
            token,
            {"name": f"conformance-{name}", "webId": webid},
        )
    return {
        "client_id": cred["id"],
        "client_secret": cred["secret"],
        "issuer": server,
        "webid": webid,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--server", required=True)
    parser.add_argument("--name", required=True, help="pod name, also the account's label")
    parser.add_argument("--out", required=True, help="the credentials JSON file to write")
    args = parser.parse_args()
    credentials = asyncio.run(provision(args.server, args.name))
    Path(args.out).write_text(json.dumps(credentials, indent=2) + "\n")
    print(f"{args.name}: {credentials['webid']} -> {args.out}")


if __name__ == "__main__":
    main()
