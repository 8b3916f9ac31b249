"""The pod's own pages through a real server: browsers get pages, RDF clients the data
as before; people's files are sandboxed; the pages' forms write through the same store
and access policy as the API and refuse cross-site posts; the sign-in session names a
person to the pages only, never to the API.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace

import aiohttp
import pytest
from rdflib import Graph

from pod_server.settings import Settings
from pod_server.storage.memory import MemoryBackend
from pod_server.ui import listing
from tests.conftest import Pod, running_pod
from tests.integration.test_hosting import PASSWORD, host  # noqa: F401 (a fixture)
from tests.integration.test_idp import Forms
from tests.unit.http.test_negotiation import CHROMIUM_NAVIGATION, RDFLIB_DEFAULT

NAV = {"Accept": CHROMIUM_NAVIGATION, "Sec-Fetch-Mode": "navigate"}
TURTLE = '<#it> <http://xmlns.com/foaf/0.1/name> "Ann"@en .'
RDF_ACCEPTS = [None, "*/*", "text/turtle", "application/ld+json", RDFLIB_DEFAULT]


@pytest.fixture
async def pod(tmp_path) -> AsyncIterator[Pod]:  # type: ignore[no-untyped-def]
    """An open single-user server (everyone may do everything), cookies kept."""
    async with running_pod(tmp_path, MemoryBackend()) as running:
        await running.session.close()
        running.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        async with running.session:
            yield running


async def _get(pod: Pod, path: str, **headers: str) -> tuple[int, dict[str, str], str]:
    async with pod.request("GET", path, headers=headers, allow_redirects=False) as r:
        return r.status, dict(r.headers), (await r.read()).decode("utf-8", "replace")


@pytest.mark.parametrize("accept", RDF_ACCEPTS)
async def test_rdf_clients_still_get_rdf(pod: Pod, accept: str | None) -> None:
    await pod.put("/docs/a.ttl", TURTLE)
    headers = {} if accept is None else {"Accept": accept}
    for path in ("/", "/docs/", "/docs/a.ttl"):
        status, hdrs, body = await _get(pod, path, **headers)
        assert status == 200
        media = hdrs["Content-Type"].split(";")[0]
        assert media in ("text/turtle", "application/ld+json"), (path, accept, media)
        assert "<html" not in body


async def test_a_browser_gets_pages_and_the_raw_data_by_link(pod: Pod) -> None:
    await pod.put("/docs/a.ttl", TURTLE)
    status, hdrs, page = await _get(pod, "/docs/", **NAV)
    assert status == 200 and hdrs["Content-Type"].startswith("text/html")
    assert f'<a href="{pod.base}docs/a.ttl">a.ttl</a>' in page
    assert "?format=turtle" in page and "?format=jsonld" in page
    status, hdrs, page = await _get(pod, "/docs/a.ttl", **NAV)
    assert status == 200 and "Ann" in page and ">name<" in page  # the property's label
    status, hdrs, body = await _get(pod, "/docs/a.ttl?format=turtle", **NAV)
    assert hdrs["Content-Type"].startswith("text/turtle")
    assert len(Graph().parse(data=body, format="turtle", publicID=pod.url("/docs/a.ttl"))) == 1
    status, hdrs, body = await _get(pod, "/docs/?format=jsonld", **NAV)
    assert hdrs["Content-Type"].startswith("application/ld+json")
    json.loads(body)


async def test_pages_have_their_own_headers_and_no_cors(pod: Pod) -> None:
    status, hdrs, _ = await _get(pod, "/", **NAV, Origin="https://other.example")
    assert status == 200
    assert "frame-ancestors 'none'" in hdrs["Content-Security-Policy"]
    assert "script-src 'nonce-" in hdrs["Content-Security-Policy"]
    assert hdrs["Cache-Control"] == "no-store"
    assert "Accept" in hdrs["Vary"]
    assert "Access-Control-Allow-Origin" not in hdrs
    # The data keeps its CORS for apps on other origins.
    status, hdrs, _ = await _get(pod, "/", Origin="https://other.example")
    assert hdrs["Access-Control-Allow-Origin"] == "https://other.example"


async def test_french_by_accept_language_and_by_the_switch(pod: Pod) -> None:
    _, _, page = await _get(pod, "/", **NAV, **{"Accept-Language": "fr-FR,fr;q=0.9"})
    assert '<html lang="fr">' in page and "Déposer des fichiers" in page
    _, hdrs, page = await _get(pod, "/?lang=en", **NAV, **{"Accept-Language": "fr"})
    assert '<html lang="en">' in page and "lang=en" in hdrs["Set-Cookie"]
    _, _, page = await _get(pod, "/", **NAV, **{"Accept-Language": "fr"})
    assert '<html lang="en">' in page  # the switch is remembered


async def test_stored_files_never_run_as_the_pages(pod: Pod) -> None:
    await pod.put("/x.html", "<script>alert(1)</script>", "text/html")
    await pod.put("/p.png", b"\x89PNG\r\n", "image/png")
    await pod.put("/d.ttl", TURTLE)
    status, hdrs, _ = await _get(pod, "/x.html?format=raw", **NAV)
    assert status == 200
    assert hdrs["Content-Security-Policy"] == "sandbox"
    assert hdrs["X-Content-Type-Options"] == "nosniff"
    assert hdrs["Content-Disposition"] == "attachment"
    status, hdrs, body = await _get(pod, "/x.html", Accept="*/*", **{"Sec-Fetch-Mode": "cors"})
    assert body == "<script>alert(1)</script>" and hdrs["Content-Security-Policy"] == "sandbox"
    assert "Content-Disposition" not in hdrs  # an app reading it gets it as it is
    _, hdrs, _ = await _get(pod, "/p.png", Accept="image/*")
    assert hdrs["Content-Security-Policy"] == "sandbox" and "Content-Disposition" not in hdrs
    _, hdrs, _ = await _get(pod, "/d.ttl")
    assert "Content-Security-Policy" not in hdrs  # data the server parsed: no sandbox needed
    status, _, page = await _get(pod, "/x.html", **NAV)  # its page shows the source as text
    assert status == 200 and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


async def test_meta_of_a_resource_without_one_is_an_empty_description(pod: Pod) -> None:
    await pod.put("/d.ttl", TURTLE)
    status, hdrs, body = await _get(pod, "/d.ttl.meta", Accept="text/turtle")
    assert status == 200 and hdrs["Content-Type"].startswith("text/turtle")
    assert len(Graph().parse(data=body, format="turtle")) == 0
    status, hdrs, body = await _get(pod, "/d.ttl.meta", Accept="application/ld+json")
    assert status == 200 and json.loads(body) in ([], {})
    status, _, page = await _get(pod, "/d.ttl.meta", **NAV)
    assert status == 200 and "holds no statements" in page
    status, _, _ = await _get(pod, "/missing.ttl.meta", Accept="text/turtle")
    assert status == 404  # nothing to describe
    assert (await _get(pod, "/missing.ttl.meta", **NAV))[0] == 404
    status, _, _ = await _get(pod, "/missing.ttl.acl", Accept="text/turtle")
    assert status == 404


async def _form(pod: Pod, path: str) -> tuple[str, dict[str, str]]:
    """The CSRF token a page gives (its cookie now in the jar) and the form fields."""
    _, _, page = await _get(pod, path, **NAV)
    forms = Forms(page).forms
    assert forms, page
    return forms[0].fields["csrf"], forms[0].fields


def _files(csrf: str, *files: tuple[str, bytes, str]) -> aiohttp.FormData:
    data = aiohttp.FormData()
    data.add_field("csrf", csrf)
    for name, content, ctype in files:
        data.add_field("files", content, filename=name, content_type=ctype)
    return data


async def test_upload_new_folder_and_delete_through_the_forms(pod: Pod) -> None:
    csrf, _ = await _form(pod, "/")
    own = {"Origin": pod.base.rstrip("/")}
    data = _files(csrf, ("a.txt", b"hello", "text/plain"), ("b.csv", b"x,y\n1,2\n", "text/csv"))
    async with pod.request(
        "POST", "/?ui=upload", data=data, headers=own, allow_redirects=False
    ) as r:
        assert r.status == 303 and r.headers["Location"].endswith("/?note=uploaded&n=2")
    status, _, body = await _get(pod, "/a.txt", Accept="*/*")
    assert (status, body) == (200, "hello")
    _, _, page = await _get(pod, "/b.csv", **NAV)
    assert "<td>1</td><td>2</td>" in page  # the CSV preview
    form = {"csrf": csrf, "name": "Photos 2026"}
    async with pod.request(
        "POST", "/?ui=mkdir", data=form, headers=own, allow_redirects=False
    ) as r:
        assert r.status == 303 and "Photos%202026/" in r.headers["Location"]
    assert (await _get(pod, "/Photos%202026/", Accept="text/turtle"))[0] == 200
    status, _, page = await _get(pod, "/a.txt?ui=delete", **NAV)
    assert status == 200 and "cannot be undone" in page
    async with pod.request(
        "POST", "/a.txt?ui=delete", data={"csrf": csrf}, headers=own, allow_redirects=False
    ) as r:
        assert r.status == 303 and "note=deleted" in r.headers["Location"]
    assert (await _get(pod, "/a.txt", Accept="*/*"))[0] == 404


async def test_forms_without_the_token_or_from_another_site_do_nothing(pod: Pod) -> None:
    csrf, _ = await _form(pod, "/")
    own = {"Origin": pod.base.rstrip("/")}
    cases = [
        (_files("wrong-token-0123456789abcdef", ("a.txt", b"x", "text/plain")), own),
        (_files(csrf, ("a.txt", b"x", "text/plain")), {"Origin": "https://evil.example"}),
        (_files(csrf, ("a.txt", b"x", "text/plain")), {"Sec-Fetch-Site": "cross-site"}),
    ]
    for data, headers in cases:
        async with pod.request("POST", "/?ui=upload", data=data, headers=headers) as r:
            assert r.status == 403
    async with pod.request("POST", "/?ui=mkdir", data={"name": "x"}, headers=own) as r:
        assert r.status == 403
    assert (await _get(pod, "/", Accept="text/turtle"))[2].count("a.txt") == 0
    assert (await _get(pod, "/x/", Accept="text/turtle"))[0] == 404


async def test_bad_form_input_is_refused_with_a_page(pod: Pod) -> None:
    csrf, _ = await _form(pod, "/")
    own = {"Origin": pod.base.rstrip("/")}
    for name in ("", "a/b", ".."):
        data = {"csrf": csrf, "name": name}
        async with pod.request("POST", "/?ui=mkdir", data=data, headers=own) as r:
            assert r.status == 400 and "<html" in await r.text()
    data = _files(csrf)  # no file chosen
    async with pod.request("POST", "/?ui=upload", data=data, headers=own) as r:
        assert r.status == 400
    async with pod.request("POST", "/?ui=delete", data={"csrf": csrf}, headers=own) as r:
        assert r.status == 405  # the storage root stays


async def test_large_containers_are_paged_and_sorted(
    pod: Pod, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(listing, "WHOLE_UP_TO", 5)
    monkeypatch.setattr(listing, "PAGE_SIZE", 3)
    for i in range(7):
        await pod.put(f"/big/f{i}.txt", "x" * (10 - i), "text/plain")
    _, _, page = await _get(pod, "/big/", **NAV)
    assert "shown in pages" in page and page.count("<tr>") == 4  # heading and three rows
    assert "f0.txt" in page and "f3.txt" not in page
    assert "after=f2.txt" in page
    _, _, page = await _get(pod, "/big/?after=f2.txt", **NAV)
    assert "f3.txt" in page and "f5.txt" in page and "f2.txt<" not in page
    status, _, _ = await _get(pod, "/big/?after=..", **NAV)
    assert status == 400
    monkeypatch.setattr(listing, "WHOLE_UP_TO", 100)
    _, _, page = await _get(pod, "/big/?sort=size&order=asc", **NAV)
    assert page.index("f6.txt") < page.index("f5.txt") < page.index("f4.txt")
    assert "f0.txt" not in page  # the largest comes on the last page
    assert 'aria-sort="ascending"' in page and "start=3" in page


async def test_refused_pages_offer_sign_in_and_return(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(open=False)
    async with running_pod(tmp_path, MemoryBackend(), replace(settings)) as pod:
        status, hdrs, page = await _get(pod, "/private/?sort=size", **NAV)
        assert status == 401 and hdrs["Content-Type"].startswith("text/html")
        assert "/idp/login?return=%2Fprivate%2F%3Fsort%3Dsize" in page.replace("&amp;", "&")
        status, _, login = await _get(pod, "/idp/login?return=%2Fprivate%2F%3Fsort%3Dsize")
        fields = Forms(login).forms[0].fields
        assert fields["return"] == "/private/?sort=size"
        _, _, login = await _get(pod, "/idp/login?return=%2F%2Fevil.example%2F")
        assert "return" not in Forms(login).forms[0].fields
        status, hdrs, _ = await _get(pod, "/private/", Accept="text/turtle")
        assert status == 401 and hdrs["Content-Type"].startswith("text/plain")


async def _sign_in(pod: Pod, email: str, back: str = "") -> aiohttp.ClientResponse:
    async with pod.session.get(pod.url("/idp/login?return=" + back)) as r:
        (form,) = Forms(await r.text()).forms
    data = {**form.fields, "email": email, "password": PASSWORD}
    async with pod.session.post(pod.url(form.action), data=data, allow_redirects=False) as r:
        return r


async def test_the_session_names_the_person_to_pages_only(host: tuple[Pod, object]) -> None:  # noqa: F811
    pod, _ = host
    response = await _sign_in(pod, "alice@example.org", "%2Falice%2F")
    assert response.status == 303 and response.headers["Location"] == "/alice/"
    status, _, page = await _get(pod, "/alice/", **NAV)
    assert status == 200 and "Signed in as " + pod.url("/alice/profile/card#me") in page
    assert '<h2 id="storage-heading">Storage</h2>' in page and "used" in page  # the owner's
    # The cookie goes with every request to the server, but the API ignores it.
    for accept in ("text/turtle", "*/*", "application/ld+json"):
        status, _, _ = await _get(pod, "/alice/", Accept=accept)
        assert status == 401, accept
    async with pod.request(
        "PUT", "/alice/x.txt", data=b"x", headers={"Content-Type": "text/plain"}
    ) as r:
        assert r.status == 401
    # The pages' own links to the data: from this origin's pages, or typed by the person.
    for site, expected in [("same-origin", 200), ("none", 200), ("cross-site", 401)]:
        headers = {"Sec-Fetch-Site": site, "Origin": "https://other.example"}
        status, hdrs, _ = await _get(pod, "/alice/?format=turtle", **headers)
        assert status == expected, site
        if status == 200:
            assert hdrs["Cache-Control"] == "no-store" and "Cookie" in hdrs["Vary"]
            assert "Access-Control-Allow-Origin" not in hdrs
    status, _, _ = await _get(pod, "/alice/?format=turtle")  # no Fetch Metadata: no cookie
    assert status == 401
    status, _, page = await _get(pod, "/bob/", **NAV)
    assert status == 403 and "do not have access" in page
    # A page's form acts as the person; the upload lands in their pod.
    csrf = Forms((await _get(pod, "/alice/", **NAV))[2]).forms[0].fields["csrf"]
    data = _files(csrf, ("n.txt", b"note", "text/plain"))
    own = {"Origin": pod.base.rstrip("/")}
    async with pod.request(
        "POST", "/alice/?ui=upload", data=data, headers=own, allow_redirects=False
    ) as r:
        assert r.status == 303
    status, _, page = await _get(pod, "/alice/n.txt", **NAV)
    assert status == 200 and "note" in page
    data = _files(csrf, ("n.txt", b"note", "text/plain"))
    async with pod.request("POST", "/bob/?ui=upload", data=data, headers=own) as r:
        assert r.status == 403  # the same access policy as the API
