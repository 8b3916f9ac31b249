"""A host's whole path: accounts and pods from the command line, sign-in through our own
provider (client credentials, and the code flow with PKCE + DPoP), tokens used on pods
where WAC decides."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
import pytest
from jwcrypto import jwk

from pod_server.http.handlers import STORE
from pod_server.idp.pkce import challenge_of
from pod_server.settings import Settings
from pod_server.storage.file import FileBackend
from tests.conftest import Pod, free_socket, running_pod
from tests.integration.test_idp import REDIRECT, VERIFIER, Forms, callback
from tests.unit.auth.helpers import make_issuer_key, mint_dpop_proof

PASSWORD = "a long enough passphrase"


async def cli(
    root: Path, base: str, *args: str, stdin: bytes | None = None
) -> tuple[int, str, str]:
    env = {**os.environ, "POD_ROOT": str(root), "POD_BASE_URL": base, "POD_MULTIUSER": "1"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pod_server",
        "user",
        *args,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate(stdin)
    return proc.returncode or 0, out.decode(), err.decode()


@dataclass
class Client:
    """A script or app holding a DPoP key and, once signed in, an access token."""

    pod: Pod
    key: jwk.JWK
    token: str = ""

    def proof(self, method: str, url: str) -> str:
        return mint_dpop_proof(self.key, method, url)

    async def get_token(
        self, data: dict[str, str], basic: tuple[str, str] | None = None
    ) -> dict[str, Any]:
        url = self.pod.url("/idp/token")
        headers = {"DPoP": self.proof("POST", url)}
        if basic:
            raw = f"{quote(basic[0], safe='')}:{quote(basic[1], safe='')}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
        async with self.pod.session.post(url, data=data, headers=headers) as r:
            body = await r.json()
            assert r.status == 200, body
        self.token = body["access_token"]
        return body

    async def call(self, method: str, path: str, body: str | None = None) -> int:
        url = self.pod.url(path)
        headers = {"Authorization": f"DPoP {self.token}", "DPoP": self.proof(method, url)}
        if body is not None:
            headers["Content-Type"] = "text/turtle"
        async with self.pod.session.request(method, url, data=body, headers=headers) as r:
            return r.status


@pytest.fixture
async def host(tmp_path: Path) -> AsyncIterator[tuple[Pod, Path]]:
    sock = free_socket()  # bound now, so the CLI and the server share one base URL
    base = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    settings = Settings(multiuser=True)
    # The accounts exist before the server starts, as a host would make them.
    for name in ("alice", "bob"):
        status, out, err = await cli(
            tmp_path,
            base,
            "add",
            name,
            "--email",
            f"{name}@example.org",
            "--password-file",
            "-",
            stdin=PASSWORD.encode(),
        )
        assert status == 0, err
        assert f"{base}{name}/profile/card#me" in out
    jar = aiohttp.CookieJar(unsafe=True)
    async with running_pod(tmp_path, FileBackend(tmp_path), settings, sock) as pod:
        await pod.session.close()
        pod.session = aiohttp.ClientSession(cookie_jar=jar)
        async with pod.session:
            yield pod, tmp_path


async def credentials(root: Path, base: str, name: str) -> dict[str, str]:
    status, out, err = await cli(root, base, "credentials", name, "--label", "tests")
    assert status == 0, err
    return json.loads(out)


async def test_client_credentials_then_wac(host: tuple[Pod, Path]) -> None:
    pod, root = host
    made = await credentials(root, pod.base, "alice")
    assert made["webid"] == pod.url("/alice/profile/card") + "#me"
    assert made["issuer"] == pod.base and made["pod"] == pod.url("/alice/")
    assert not made["client_id"].startswith("http")
    alice = Client(pod, make_issuer_key("ES256"))
    await alice.get_token(
        {"grant_type": "client_credentials", "scope": "openid offline_access webid"},
        basic=(made["client_id"], made["client_secret"]),
    )
    assert await alice.call("PUT", "/alice/notes/n.ttl", "<#a> <#b> 1.") == 201
    assert await alice.call("GET", "/alice/notes/n.ttl") == 200
    assert await alice.call("GET", "/bob/") == 403  # someone else's pod
    bob = Client(pod, make_issuer_key("RS256"))
    made_bob = await credentials(root, pod.base, "bob")
    await bob.get_token(
        {"grant_type": "client_credentials"},
        basic=(made_bob["client_id"], made_bob["client_secret"]),
    )
    assert await bob.call("GET", "/alice/notes/n.ttl") == 403
    assert await bob.call("POST", "/alice/inbox/", "<#hello> <#from> <#bob>.") == 201


async def test_code_flow_with_pkce_and_dpop_then_wac(host: tuple[Pod, Path]) -> None:
    pod, _ = host
    async with pod.session.post(
        pod.url("/idp/register"),
        json={
            "client_name": "Notes app",
            "redirect_uris": [REDIRECT],
            "grant_types": ["authorization_code", "refresh_token"],
        },
    ) as r:
        assert r.status == 201
        app = await r.json()
    query = {
        "response_type": "code",
        "client_id": app["client_id"],
        "redirect_uri": REDIRECT,
        "scope": "openid webid offline_access",
        "state": "s",
        "nonce": "n",
        "code_challenge": challenge_of(VERIFIER),
        "code_challenge_method": "S256",
    }
    async with pod.session.get(
        pod.url("/idp/authorize") + "?" + urlencode(query), allow_redirects=False
    ) as r:
        page = await r.text()
    (form,) = Forms(page).forms
    data = {**form.fields, "email": "alice@example.org", "password": PASSWORD}
    async with pod.session.post(pod.url(form.action), data=data, allow_redirects=False) as r:
        assert r.status == 303
        consent_url = pod.url(r.headers["Location"])
    async with pod.session.get(consent_url, allow_redirects=False) as r:
        (form,) = Forms(await r.text()).forms
    async with pod.session.post(
        pod.url(form.action), data={**form.fields, "decision": "allow"}, allow_redirects=False
    ) as r:
        code = callback(r.headers["Location"])["code"][0]
    client = Client(pod, make_issuer_key("ES256"))
    await client.get_token(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": VERIFIER,
        },
        basic=(app["client_id"], app["client_secret"]),
    )
    assert await client.call("GET", "/alice/") == 200
    assert await client.call("GET", "/bob/settings/prefs.ttl") == 403


async def test_user_list_and_delete(host: tuple[Pod, Path]) -> None:
    pod, root = host
    status, out, _ = await cli(root, pod.base, "list", "--json")
    assert status == 0
    listed = {u["name"]: u for u in json.loads(out)}
    assert set(listed) == {"alice", "bob"}
    assert listed["alice"]["email"] == "alice@example.org" and listed["alice"]["used"] > 0
    made = await credentials(root, pod.base, "bob")
    status, out, err = await cli(root, pod.base, "delete", "bob")
    assert status == 0, err
    store = pod.app[STORE]  # type: ignore[index]
    for path in ("/bob/", "/bob/profile/card", "/bob/.acl"):
        assert await store.meta(path) is None  # the pod and the WebID are gone
    url = pod.url("/idp/token")
    raw = f"{made['client_id']}:{made['client_secret']}".encode()
    headers = {
        "Authorization": "Basic " + base64.b64encode(raw).decode(),
        "DPoP": mint_dpop_proof(make_issuer_key("ES256"), "POST", url),
    }
    async with pod.session.post(
        url, data={"grant_type": "client_credentials"}, headers=headers
    ) as r:
        assert r.status == 401  # and so are its credentials
    status, _, err = await cli(root, pod.base, "delete", "bob")
    assert status == 1 and "No pod named 'bob'" in err


async def test_cli_bad_input(tmp_path: Path) -> None:
    base = "http://127.0.0.1:9/"
    status, _, err = await cli(
        tmp_path,
        base,
        "add",
        "Bad Name",
        "--email",
        "x@example.org",
        "--password-file",
        "-",
        stdin=PASSWORD.encode(),
    )
    assert status == 1 and "not usable" in err
    status, _, err = await cli(
        tmp_path,
        base,
        "add",
        "ok",
        "--email",
        "not-an-email",
        "--password-file",
        "-",
        stdin=PASSWORD.encode(),
    )
    assert status == 1 and "email" in err.lower()
    status, _, err = await cli(
        tmp_path,
        base,
        "add",
        "ok",
        "--email",
        "a@example.org",
        "--password-file",
        str(tmp_path / "missing"),
    )
    assert status == 1 and "password file" in err
    status, _, err = await cli(tmp_path, base, "credentials", "nobody")
    assert status == 1 and "No pod" in err


async def test_account_page_shows_pods_and_usage(host: tuple[Pod, Path]) -> None:
    pod, _ = host
    async with pod.session.get(pod.url("/idp/login")) as r:
        (form,) = Forms(await r.text()).forms
    data = {**form.fields, "email": "alice@example.org", "password": PASSWORD}
    async with pod.session.post(pod.url(form.action), data=data, allow_redirects=False) as r:
        assert r.status == 303
    async with pod.session.get(pod.url("/idp/account")) as r:
        page = await r.text()
    assert "Your pods" in page and pod.url("/alice/") in page
    assert "KB" in page or "bytes" in page
    assert pod.url("/bob/") not in page
