"""The header of the provider's pages: who is signed in (and the way out), and a language
switch that opens a page, never a form post, even on the answer to a form."""

from __future__ import annotations

import html
import re
from dataclasses import replace

import pytest
from aiohttp.test_utils import make_mocked_request

from pod_server.idp import pages
from tests.unit.idp.test_pages import EN, FR, PATHS

AUTHZ = "client_id%3Dhttps%253A%252F%252Fapp.example%252Fid%26state%3Ds"  # one value


def header(response: object) -> str:
    text = getattr(response, "text", None) or ""
    return text.split('<header class="site">')[1].split("</header>")[0]


def switch_href(response: object) -> str:
    found = re.search(r'<a href="([^"]*)" lang="(?:en|fr)" hreflang=', header(response))
    assert found, header(response)
    return html.unescape(found.group(1))


def test_nobody_signed_in_no_line() -> None:
    top = header(pages.message(EN, "Signed out", "You are signed out."))
    assert "Signed in as" not in top and PATHS.logout not in top


def test_signed_in_the_header_says_who_and_links_the_sign_out() -> None:
    s = replace(EN, email="<b>a</b>@example.org", sign_out=PATHS.logout)
    top = header(pages.password_form(s, PATHS, "t" * 30, 12))
    assert '<nav aria-label="Your account">' in top
    assert "<li>Signed in as &lt;b&gt;a&lt;/b&gt;@example.org</li>" in top  # escaped
    assert '<li><a href="/idp/logout">Sign out</a></li>' in top
    assert top.index("Signed in as") < top.index("Français")  # the switch stays last


def test_in_french_and_without_the_link_on_the_sign_out_page() -> None:
    s = replace(FR, email="a@example.org", sign_out=None)
    top = header(pages.logout_confirm(s, PATHS, "t" * 30, {}))
    assert "<li>Connecté en tant que a@example.org</li>" in top
    assert PATHS.logout not in top  # the page is the sign-out itself


def test_speech_names_the_person_and_the_way_out() -> None:
    s = pages.speech(make_mocked_request("GET", "/idp/account"), PATHS, "a@example.org")
    assert (s.email, s.sign_out, s.home) == ("a@example.org", PATHS.logout, PATHS.account)
    nobody = pages.speech(make_mocked_request("GET", "/idp/account"), PATHS)
    assert (nobody.email, nobody.sign_out) == (None, None)


def test_a_get_page_switches_to_itself() -> None:
    request = make_mocked_request("GET", "/idp/signup?authz=" + AUTHZ + "&lang=en")
    s = pages.speech(request, PATHS)
    assert s.switch_url == "/idp/signup?authz=" + AUTHZ + "&lang=fr"
    assert s.chosen  # the switch was just used


@pytest.mark.parametrize(
    ("path", "form", "fresh"),
    [
        ("/idp/login", {"authz": "a=1&b=2", "email": "x"}, "/idp/login?authz=a%3D1%26b%3D2"),
        ("/idp/login", {"return": "/alice/", "csrf": "x"}, "/idp/login?return=%2Falice%2F"),
        ("/idp/login", {}, "/idp/login"),
        ("/idp/signup", {"authz": "a=1", "name": "n"}, "/idp/signup?authz=a%3D1"),
        ("/idp/signup", {"return": "/alice/"}, "/idp/signup"),  # sign-up takes no return
        ("/idp/consent", {"authz": "a=1&b=2", "webid": "w"}, "/idp/authorize?a=1&b=2"),
        ("/idp/consent", {}, "/idp/account"),
        ("/idp/authorize", {"client_id": "c", "state": "s"}, "/idp/authorize?client_id=c&state=s"),
        ("/idp/authorize", {}, "/idp/account"),
        ("/idp/password", {"current": "secret"}, "/idp/password"),  # no password in a URL
        ("/idp/logout", {"state": "s"}, "/idp/logout"),
        ("/idp/elsewhere", {}, "/idp/account"),
    ],
)
def test_the_page_a_form_answer_switches_to(path: str, form: dict[str, str], fresh: str) -> None:
    assert pages.fresh_page(PATHS, path, form) == fresh


def test_the_answer_to_a_form_switches_to_its_page_afresh() -> None:
    request = make_mocked_request("POST", "/idp/login?lang=fr")
    request[pages.POSTED] = {"authz": "a=1", "email": "x", "password": "secret", "csrf": "t"}
    s = pages.speech(request, PATHS)
    assert s.lang == "fr" and s.switch_url == "/idp/login?authz=a%3D1&lang=en"
    response = pages.sign_in(s, PATHS, "t" * 30, "a=1", error="wrong")
    assert switch_href(response) == "/idp/login?authz=a%3D1&lang=en"
    assert "secret" not in switch_href(response)


def test_an_unread_form_still_gets_a_switch() -> None:
    request = make_mocked_request("POST", "/idp/consent", headers={"Accept-Language": "fr"})
    s = pages.speech(request, PATHS)  # too large a form, say: nothing was read
    assert s.switch_url == "/idp/account?lang=en"
