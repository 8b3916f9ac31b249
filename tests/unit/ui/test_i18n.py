"""The pages' language: the choice made, else Accept-Language; every word in both."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pod_server.ui import admin_words, i18n, words

TEMPLATES = Path(i18n.__file__).parent / "templates"
VIEWS = Path(i18n.__file__).parent


@pytest.mark.parametrize("catalogue", [i18n.MESSAGES, i18n.CHROME], ids=["pages", "chrome"])
def test_both_languages_have_the_same_keys_and_placeholders(
    catalogue: dict[str, dict[str, str]],
) -> None:
    en, fr = catalogue["en"], catalogue["fr"]
    assert en.keys() == fr.keys()
    for key in en:
        assert set(re.findall(r"{(\w+)}", en[key])) == set(re.findall(r"{(\w+)}", fr[key])), key


def test_every_key_the_templates_and_views_use_exists() -> None:
    used: set[str] = set()
    for path in [*TEMPLATES.glob("*.html"), *VIEWS.glob("*.py")]:
        used |= set(re.findall(r"""\bt\(['"](\w+)['"]""", path.read_text(encoding="utf-8")))
    assert used, "no message keys found: did the templates move?"
    # The owner's and the operator's pages keep their words in their own catalogues.
    own = words.MESSAGES["en"].keys() | admin_words.MESSAGES["en"].keys()
    assert used <= i18n.MESSAGES["en"].keys() | i18n.CHROME["en"].keys() | own


@pytest.mark.parametrize(
    ("chosen", "cookie", "header", "expected"),
    [
        (None, None, None, "en"),
        (None, None, "fr-FR,fr;q=0.9,en;q=0.8", "fr"),
        (None, None, "de-DE, fr;q=0.5, en;q=0.4", "fr"),
        (None, None, "de, en;q=0.1, fr;q=0.2", "fr"),
        (None, None, "de", "en"),
        (None, None, "fr;q=0, en", "en"),
        (None, None, "fr;q=zz", "en"),  # a garbled weight: that range is not taken
        (None, "fr", "en", "fr"),  # the switch, remembered in a cookie
        ("en", "fr", "fr", "en"),  # the switch just used
        ("xx", None, "fr", "fr"),  # an unknown choice is ignored
    ],
)
def test_language_choice(
    chosen: str | None, cookie: str | None, header: str | None, expected: str
) -> None:
    assert i18n.choose_language(chosen, cookie, header) == expected


def test_translations_fill_values_and_unknown_keys_fail() -> None:
    t = i18n.translator("fr")
    assert t("container", name="photos") == "Dossier photos"
    with pytest.raises(KeyError):
        t("no such key")


def test_sizes_for_people() -> None:
    assert i18n.human_size(999, "en") == "999 bytes"
    assert i18n.human_size(1500, "en") == "1.5 KB"
    assert i18n.human_size(2_500_000, "fr") == "2,5 Mo"
    assert i18n.human_size(10**13, "en") == "10.0 TB"
