"""The provider's pages through a real server: the header names who is signed in on
every page (and only then), and the answer to a form switches language by opening its
page afresh, never by sending the form again."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_idp import PASSWORD, Forms, World, running_world


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with running_world(tmp_path) as running:
        yield running


def header(page: str) -> str:
    return page.split('<header class="site">')[1].split("</header>")[0]


def switch_of(page: str) -> str:
    found = re.search(r'<a href="([^"]*)" lang="(?:en|fr)" hreflang=', header(page))
    assert found, header(page)
    return html.unescape(found.group(1))


async def signed_in(world: World) -> str:
    email, _ = await world.person()
    _, page, _ = await world.get(world.url("idp/login"))
    status, _, _ = await world.sign_in(page, email)
    assert status == 303
    return email


async def test_every_page_names_who_is_signed_in(world: World) -> None:
    _, page, _ = await world.get(world.url("idp/login"))
    assert "Signed in as" not in page and ">Sign out<" not in header(page)  # nobody yet
    email = await signed_in(world)
    line = f"<li>Signed in as {email}</li>"
    out = '<li><a href="/idp/logout">Sign out</a></li>'
    client = await world.confidential_client()
    for url in (
        world.url("idp/login"),  # signed in already, about to sign in as someone else?
        world.url("idp/account"),
        world.url("idp/password"),
        world.url("idp/signup"),
        await world.authorize_url(client[0]),  # the consent page
    ):
        status, page, _ = await world.get(url)
        assert status == 200 and line in header(page) and out in header(page), url
    # The answers to forms too: a wrong current password.
    _, page, _ = await world.get(world.url("idp/password"))
    (form,) = Forms(page).forms
    status, page, _ = await world.submit(form, current="wrong", password="x" * 20)
    assert status == 401 and line in header(page) and out in header(page)
    # The sign-out page names the person but does not link to itself.
    status, page, _ = await world.get(world.url("idp/logout"))
    assert status == 200 and line in header(page) and out not in header(page)
    (form,) = Forms(page).forms
    status, page, _ = await world.submit(form)
    assert status == 200 and "You are signed out" in page
    assert "Signed in as" not in page  # the answer that ends the session names nobody
    _, page, _ = await world.get(world.url("idp/login"))
    assert "Signed in as" not in page


async def test_the_header_follows_the_language(world: World) -> None:
    email = await signed_in(world)
    status, page, _ = await world.get(world.url("idp/password?lang=fr"))
    assert status == 200 and f"<li>Connecté en tant que {email}</li>" in header(page)
    assert '<a href="/idp/logout">Se déconnecter</a>' in header(page)


async def test_a_wrong_sign_in_switches_to_the_sign_in_form(world: World) -> None:
    email, _ = await world.person()
    client = await world.confidential_client()
    _, page, _ = await world.get(await world.authorize_url(client[0]))
    (form,) = Forms(page).forms
    authz = form.fields["authz"]
    app = re.search(r"<strong>([^<]+)</strong>", page.split("<main", 1)[1])
    assert app, "the sign-in page names the app"
    status, page, _ = await world.submit(form, email=email, password="wrong")
    assert status == 401 and "Signed in as" not in page
    assert f"Sign in to continue to <strong>{app.group(1)}</strong>" in page
    switch = switch_of(page)
    assert switch.startswith("/idp/login?") and "wrong" not in switch
    status, page, _ = await world.get(world.url(switch))
    assert status == 200 and '<html lang="fr">' in page and "Connexion" in page
    assert f"continuer vers <strong>{app.group(1)}</strong>" in page
    (form,) = Forms(page).forms
    assert form.fields["authz"] == authz  # the app's request goes on
    status, _, headers = await world.submit(form, email=email, password=PASSWORD)
    assert status == 303 and headers["Location"].startswith("/idp/authorize?")


async def test_sign_up_and_expired_answers_switch_to_their_forms(world: World) -> None:
    _, page, _ = await world.get(world.url("idp/signup?lang=fr"))  # French from now on
    (form,) = Forms(page).forms
    fields = {"email": "carol@example.org", "name": "carol", "password": PASSWORD}
    status, page, _ = await world.submit(form, **fields, confirm="different")
    assert status == 400 and '<html lang="fr">' in page
    assert switch_of(page) == "/idp/signup?lang=en"
    status, page, _ = await world.get(world.url(switch_of(page)))
    assert status == 200 and "Create an account" in page and 'value="carol' not in page

    _, page, _ = await world.get(world.url("idp/login"))
    (form,) = Forms(page).forms
    status, page, _ = await world.submit(form, csrf="x" * 30, email="bob@example.org")
    assert status == 403 and switch_of(page) == "/idp/login?lang=fr"  # an expired form
    status, page, _ = await world.get(world.url(switch_of(page)))
    assert status == 200 and "Connexion" in page


async def test_password_consent_and_sign_out_answers_switch_to_pages(world: World) -> None:
    await signed_in(world)
    _, page, _ = await world.get(world.url("idp/password"))
    (form,) = Forms(page).forms
    status, page, _ = await world.submit(form, current="wrong", password="x" * 20)
    assert status == 401 and switch_of(page) == "/idp/password?lang=fr"
    status, page, _ = await world.get(world.url(switch_of(page)))  # French from now on
    assert status == 200 and "Mot de passe actuel" in page

    client = await world.confidential_client()
    _, page, _ = await world.get(await world.authorize_url(client[0]))
    (form,) = Forms(page).forms
    status, page, _ = await world.submit(form, decision="allow", webid="https://evil.example/#me")
    assert status == 400 and "Choisissez l'un de vos propres WebID." in html.unescape(page)
    switch = switch_of(page)
    assert switch.startswith("/idp/authorize?") and switch.endswith("&lang=en")
    status, page, _ = await world.get(world.url(switch))  # English from now on
    assert status == 200 and "<title>Allow Test app?</title>" in page  # consent again

    _, page, _ = await world.get(world.url("idp/logout"))
    (form,) = Forms(page).forms
    status, page, _ = await world.submit(form)
    assert status == 200 and switch_of(page) == "/idp/logout?lang=fr"
    status, page, _ = await world.get(world.url(switch_of(page)))
    assert status == 200 and "Vous êtes déconnecté." in page


async def test_a_page_looks_up_who_is_signed_in_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The header and the handler share one lookup of the session and its account."""
    await signed_in(world)
    calls: list[str] = []
    for name in ("get_session", "get_account"):
        real = getattr(world.state, name)

        async def counted(*args: object, _real: Any = real, _name: str = name) -> object:
            calls.append(_name)
            return await _real(*args)

        monkeypatch.setattr(world.state, name, counted)
    status, page, _ = await world.get(world.url("idp/account"))
    assert status == 200 and "Signed in as" in header(page)
    assert sorted(calls) == ["get_account", "get_session"]
    _, page, _ = await world.get(world.url("idp/password"))
    (form,) = Forms(page).forms
    calls.clear()
    status, page, _ = await world.submit(form, current="wrong", password="x" * 20)
    assert status == 401 and "Signed in as" in header(page)
    assert sorted(calls) == ["get_account", "get_session"]
