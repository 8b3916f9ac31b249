"""Pages escape what they show and carry the headers that keep them safe."""

from __future__ import annotations

import html
import re

from pod_server.consent.apps import parse_needs
from pod_server.idp import pages, words

PATHS = pages.Paths(
    "/idp/authorize",
    "/idp/login",
    "/idp/signup",
    "/idp/consent",
    "/idp/logout",
    "/idp/account",
    "/idp/password",
)
EN = pages.Speech("en", words.translator("en"), "/idp/login?lang=fr", "/idp/account", False)
FR = pages.Speech("fr", words.translator("fr"), "/idp/login?lang=en", "/idp/account", True)


def test_consent_escapes_everything_an_app_chose() -> None:
    view = pages.ConsentView(
        app='<script>alert("x")</script>',
        named_by_app=True,
        origin="https://app.example",
        client_id='"><img src=x>',
        scopes=("openid", "webid", "offline_access"),
        webids=("https://a.example/#me", "https://b.example/#me"),
    )
    response = pages.consent(EN, PATHS, view, "csrf-token", 'client_id=x&state="><b>')
    text = response.text or ""
    assert "<script>" not in text and "<img" not in text and '"><b>' not in text
    assert "&lt;script&gt;" in text and "the app chose this name itself" in text
    assert 'type="radio"' in text  # two WebIDs: the person chooses
    assert text.split("<main")[1].count("<li>") == 2  # "webid" asked for too, but said once
    assert text.count(EN.t("scope_webid")) == 1
    assert EN.t("scope_offline_access") in text
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"


def test_sign_in_is_accessible() -> None:
    text = (
        pages.sign_in(EN, PATHS, "t" * 30, "", error="The email or password is wrong.").text or ""
    )
    assert '<html lang="en">' in text and '<main id="main"' in text
    assert '<label for="email">' in text and '<label for="password">' in text
    assert 'role="alert"' in text and 'aria-describedby="form-error"' in text
    assert 'autocomplete="current-password"' in text


def test_sign_in_in_french_has_the_switch_back_and_remembers_the_choice() -> None:
    response = pages.sign_in(FR, PATHS, "t" * 30, "", app="<b>Notes</b>", signup=True)
    text = response.text or ""
    assert '<html lang="fr">' in text and ">Mot de passe</label>" in text
    assert ">Se connecter</button>" in text and "Créer un compte" in text
    assert "&lt;b&gt;Notes&lt;/b&gt;" in text and "<b>Notes" not in text
    assert '<a href="/idp/login?lang=en" lang="en" hreflang="en">English</a>' in text
    assert response.cookies["lang"].value == "fr"
    assert "Accept-Language" in response.headers["Vary"]


def test_idp_words_exist_in_both_languages_with_the_same_placeholders() -> None:
    en, fr = words.MESSAGES["en"], words.MESSAGES["fr"]
    assert en.keys() == fr.keys()
    for key in en:
        assert set(re.findall(r"{(\w+)}", en[key])) == set(re.findall(r"{(\w+)}", fr[key])), key


def test_consent_in_french() -> None:
    needs = parse_needs(
        {
            "interop:hasAccessNeedGroup": {
                "interop:hasAccessNeed": {
                    "skos:prefLabel": "Banque",
                    "interop:accessMode": ["acl:Read", "acl:Write"],
                    "consent:targetPath": "bank/",
                }
            },
        }
    )
    view = pages.ConsentView(
        "<i>Notes</i>", True, "https://app.example", "https://app.example/id", ("webid",),
        ("https://a.example/#me",), needs, has_storage=False,
    )  # fmt: skip
    text = pages.consent(FR, PATHS, view, "csrf", "client_id=x").text or ""
    assert "<title>Autoriser &lt;i&gt;Notes&lt;/i&gt; ?</title>" in text
    assert "<strong>&lt;i&gt;Notes&lt;/i&gt;</strong> demande à vous connecter" in text
    assert "<strong>Banque</strong> : lire, modifier et supprimer le dossier <code>bank/" in text
    assert ">obligatoire</span>" in text and "Rien dans votre pod au-delà" in text
    assert ">Autoriser</button>" in text and ">Refuser</button>" in text
    said = html.unescape(text)
    assert "Votre WebID n'a pas de pod sur ce serveur" in said
    assert "savoir qui vous êtes" in said and "nom choisi par l'application" in said


def test_consent_says_each_ask_once() -> None:
    assert pages.consent_asks(()) == ["scope_webid"]
    assert pages.consent_asks(("openid", "webid", "webid", "offline_access")) == [
        "scope_webid",
        "scope_offline_access",
    ]


def test_account_links_the_webids() -> None:
    webid = "https://pod.example/alice/profile/card#me"
    text = pages.account(EN, PATHS, [webid], [], "t" * 30).text or ""
    assert f'<a href="{webid}"><code>{webid}</code></a>' in text


def test_pages_keep_their_urls_from_other_origins() -> None:
    response = pages.message(EN, "Signed out", "You are signed out.")
    # same-origin: our forms carry their real Origin; no other origin gets a Referer.
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_consent_lists_the_needs_in_plain_words_and_marks_full_access() -> None:
    needs = parse_needs(
        {
            "consent:ownContainer": "apps/<x>/",
            "interop:hasAccessNeedGroup": {
                "interop:hasAccessNeed": [
                    {
                        "skos:prefLabel": "<b>Bank</b>",
                        "interop:accessMode": ["acl:Read", "acl:Append"],
                        "consent:targetPath": "bank/",
                    },
                    {
                        "interop:accessMode": "acl:Write",
                        "consent:targetPath": "notes/today.ttl",
                        "interop:accessNecessity": "interop:AccessOptional",
                    },
                ]
            },
        }
    )
    view = pages.ConsentView(
        "Notes", False, "https://app.example", "https://app.example/id", ("openid", "webid"),
        ("https://a.example/#me",), needs,
    )  # fmt: skip
    text = pages.consent(EN, PATHS, view, "csrf", "client_id=x").text or ""
    assert "<b>Bank" not in text and "&lt;b&gt;Bank&lt;/b&gt;</strong>: read and add to" in text
    assert "the folder <code>bank/</code>" in text and "the document <code>notes/today.ttl" in text
    assert 'name="need-0" value="yes" checked disabled' in text  # required
    assert 'name="need-1" value="yes" checked>' in text  # optional, ticked until unticked
    assert "Only its own folder <code>apps/&lt;x&gt;/</code>" in text
    assert 'value="full">' in text and "Full access</span>" in text
    assert EN.t("scope_webid") not in text  # it does not get all the WebID's access
    plain = pages.ConsentView(
        "Notes", False, "https://app.example", "https://app.example/id", ("webid",),
        ("https://a.example/#me",),
    )  # fmt: skip
    text = pages.consent(EN, PATHS, plain, "csrf", "client_id=x").text or ""
    assert "does not say what it needs" in text and 'name="access" value="full"' in text
