"""Apps by client id through a real server: two apps under one WebID, one limited to what
the person granted on the consent page, one with full access; the limit is enforced on
top of WAC and shows in WAC-Allow."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp import web

from pod_server.idp.pkce import challenge_of
from tests.conftest import Pod, free_socket
from tests.integration.test_hosting import PASSWORD, Client, credentials, host
from tests.integration.test_idp import REDIRECT, VERIFIER, Form, Forms, callback
from tests.unit.auth.helpers import make_issuer_key

__all__ = ["host"]  # the fixture, reused


def app_document(client_id: str, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/solid/oidc-context.jsonld"],
        "client_id": client_id,
        "client_name": name,
        "redirect_uris": [REDIRECT],
        "grant_types": ["authorization_code", "refresh_token"],
        "scope": "openid webid offline_access",
        **extra,
    }


NEEDS = {
    "consent:ownContainer": "apps/notes/",
    "interop:hasAccessNeedGroup": [
        {
            "skos:prefLabel": "Your notes",
            "interop:hasAccessNeed": [
                {
                    "skos:prefLabel": "Notes",
                    "interop:accessMode": "acl:Read",
                    "consent:targetPath": "notes/",
                    "interop:accessNecessity": "interop:AccessRequired",
                },
                {
                    "skos:prefLabel": "Journal",
                    "interop:accessMode": ["acl:Write"],
                    "consent:targetPath": "journal/",
                    "interop:accessNecessity": "interop:AccessOptional",
                },
            ],
        }
    ],
}


@pytest.fixture
async def documents() -> AsyncIterator[tuple[str, dict[str, dict[str, Any]]]]:
    """A site serving Client ID Documents: (its base URL, the documents by name)."""
    docs: dict[str, dict[str, Any]] = {}

    async def serve(request: web.Request) -> web.Response:
        doc = docs.get(request.match_info["name"])
        if doc is None:
            raise web.HTTPNotFound()
        return web.json_response(doc, content_type="application/ld+json")

    app = web.Application()
    app.router.add_get("/{name}", serve)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = free_socket()
    await web.SockSite(runner, sock).start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/", docs
    finally:
        await runner.cleanup()


async def consent_page(pod: Pod, client_id: str, email: str, **params: str) -> tuple[int, str]:
    """Authorize, signing in if the page asks: the consent page (or what came instead)."""
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "scope": "openid webid offline_access",
        "state": "s",
        "code_challenge": challenge_of(VERIFIER),
        "code_challenge_method": "S256",
        **params,
    }
    url = pod.url("/idp/authorize") + "?" + urlencode(query)
    async with pod.session.get(url, allow_redirects=False) as r:
        status, page = r.status, await r.text()
    if status == 200 and 'action="/idp/login"' in page:
        (form,) = Forms(page).forms
        data = {**form.fields, "email": email, "password": PASSWORD}
        async with pod.session.post(pod.url(form.action), data=data, allow_redirects=False) as r:
            assert r.status == 303
            url = pod.url(r.headers["Location"])
        async with pod.session.get(url, allow_redirects=False) as r:
            status, page = r.status, await r.text()
    return status, page


async def allow(pod: Pod, form: Form, **choices: str) -> str:
    """Submit the consent form with ``choices`` (a value "" unticks a box): the code."""
    data = {**form.fields, **choices, "decision": "allow"}
    data = {k: v for k, v in data.items() if v != ""}
    async with pod.session.post(pod.url(form.action), data=data, allow_redirects=False) as r:
        assert r.status == 303, await r.text()
        return callback(r.headers["Location"])["code"][0]


async def app_client(pod: Pod, client_id: str, code: str) -> Client:
    client = Client(pod, make_issuer_key("ES256"))
    await client.get_token(
        {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": client_id,
            "redirect_uri": REDIRECT,
            "code_verifier": VERIFIER,
        }
    )
    return client


async def wac_allow(client: Client, path: str) -> str:
    url = client.pod.url(path)
    headers = {"Authorization": f"DPoP {client.token}", "DPoP": client.proof("HEAD", url)}
    async with client.pod.session.head(url, headers=headers) as r:
        return r.headers.get("WAC-Allow", "")


async def test_a_limited_app_and_a_full_access_app_under_one_webid(
    host: tuple[Pod, Path], documents: tuple[str, dict[str, dict[str, Any]]]
) -> None:
    pod, root = host
    site, docs = documents
    limited_id, full_id = site + "notes.jsonld", site + "everything.jsonld"
    docs["notes.jsonld"] = app_document(limited_id, "Notes", **NEEDS)
    docs["everything.jsonld"] = app_document(full_id, "Everything")
    # Alice's own script (client credentials: no app limit) puts some data in place.
    made = await credentials(root, pod.base, "alice")
    script = Client(pod, make_issuer_key("ES256"))
    await script.get_token({"grant_type": "client_credentials"}, basic=(made["client_id"], made["client_secret"]))  # fmt: skip
    assert await script.call("PUT", "/alice/notes/n.ttl", "<#a> <#b> 1.") == 201
    assert await script.call("PUT", "/alice/private/p.ttl", "<#a> <#b> 2.") == 201

    # The limited app: the page lists its needs; alice unticks the optional one.
    status, page = await consent_page(pod, limited_id, "alice@example.org")
    assert status == 200 and "Notes" in page and "<code>notes/</code>" in page
    assert "optional" in page and "required" in page and "Full access" in page
    (form,) = Forms(page).forms
    assert form.fields["access"] == "needs" and form.radios["access"] == ["needs", "own", "full"]
    optional = next(k for k in form.fields if k.startswith("need-") and k != "need-0")
    notes = await app_client(pod, limited_id, await allow(pod, form, **{optional: ""}))
    assert await notes.call("GET", "/alice/notes/n.ttl") == 200
    assert await wac_allow(notes, "/alice/notes/n.ttl") == 'user="read",public=""'
    assert await notes.call("PUT", "/alice/notes/n.ttl", "<#a> <#b> 3.") == 403
    assert await notes.call("GET", "/alice/private/p.ttl") == 403
    assert await notes.call("GET", "/alice/") == 403
    assert await notes.call("PUT", "/alice/journal/j.ttl", "<#j> <#k> 1.") == 403  # unticked
    assert await notes.call("POST", "/alice/inbox/", "<#hi> <#from> <#app>.") == 201  # public
    assert await notes.call("PUT", "/alice/apps/notes/state.ttl", "<#s> <#t> 1.") == 201
    assert await notes.call("GET", "/alice/apps/notes/state.ttl") == 200
    assert await notes.call("PUT", "/alice/.acl", "") == 403  # never Control
    assert await notes.call("GET", "/alice/profile/card") == 200  # public anyway

    # The full-access app, same WebID: the page says so, and it reaches everything.
    status, page = await consent_page(pod, full_id, "alice@example.org")
    assert status == 200 and "Full access" in page and "does not say what it needs" in page
    (form,) = Forms(page).forms
    everything = await app_client(pod, full_id, await allow(pod, form))
    assert await everything.call("GET", "/alice/private/p.ttl") == 200
    assert await everything.call("GET", "/alice/") == 200
    assert "control" in await wac_allow(everything, "/alice/private/p.ttl")
    # The limited app's token is still limited: each request looks at its own client id.
    assert await notes.call("GET", "/alice/private/p.ttl") == 403

    # A new choice replaces the last: alice asks to choose again and gives the optional need.
    status, page = await consent_page(pod, limited_id, "alice@example.org", prompt="consent")
    (form,) = Forms(page).forms
    assert await allow(pod, form)
    assert await notes.call("PUT", "/alice/journal/j.ttl", "<#j> <#k> 1.") == 201
    # ... and then only its own folder.
    status, page = await consent_page(pod, limited_id, "alice@example.org", prompt="consent")
    (form,) = Forms(page).forms
    assert await allow(pod, form, access="own")
    assert await notes.call("GET", "/alice/notes/n.ttl") == 403
    assert await notes.call("GET", "/alice/apps/notes/state.ttl") == 200
    # Remembered: the next sign-in skips the page and keeps the choice.
    status, _ = await consent_page(pod, limited_id, "alice@example.org")
    assert status == 302
    assert await notes.call("GET", "/alice/notes/n.ttl") == 403


async def test_malformed_needs_stop_the_login_with_the_reason(
    host: tuple[Pod, Path], documents: tuple[str, dict[str, dict[str, Any]]]
) -> None:
    pod, _ = host
    site, docs = documents
    bad = {"interop:hasAccessNeedGroup": [{"interop:hasAccessNeed": [{"consent:targetPath": "../bob/", "interop:accessMode": "acl:Read"}]}]}  # fmt: skip
    docs["bad.jsonld"] = app_document(site + "bad.jsonld", "Bad", **bad)
    status, page = await consent_page(pod, site + "bad.jsonld", "alice@example.org")
    assert status == 400
    assert "cannot read" in page and "not a path inside" in page and "Nothing was shared" in page
