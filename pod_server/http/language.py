"""Which language a page is in, and the words every page's header shares.

Shared by the pod's pages (``pod_server.ui``) and the identity provider's
(``pod_server.idp``), which sit on either side of one another in the import graph: the
language is the one the person chose (the ``lang`` query the switch sets, then its
cookie), else the best of ``Accept-Language``, else English. A page family's words are
layered over these (``layered``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from urllib.parse import parse_qsl, urlencode

from aiohttp import web

LANGUAGES = ("en", "fr")
DEFAULT = "en"
COOKIE = "lang"
COOKIE_AGE = 365 * 24 * 3600

# The header's words, on every page of both families.
CHROME: dict[str, dict[str, str]] = {
    "en": {
        "skip": "Skip to content",
        "site": "Pod",
        "language": "Language",
        "switch_to": "Français",
        "sign_in": "Sign in",
        "sign_out": "Sign out",
        "account": "Your account",
        "signed_in_as": "Signed in as {who}",
        "form_expired": "This form has expired. Go back, reload the page and try again.",
        "cross_site": "This form was sent from another site, so nothing was done.",
        "bytes": "{n} bytes",
    },
    "fr": {
        "skip": "Aller au contenu",
        "site": "Pod",
        "language": "Langue",
        "switch_to": "English",
        "sign_in": "Se connecter",
        "sign_out": "Se déconnecter",
        "account": "Votre compte",
        "signed_in_as": "Connecté en tant que {who}",
        "form_expired": (
            "Ce formulaire a expiré. Revenez en arrière, rechargez la page et réessayez."
        ),
        "cross_site": "Ce formulaire a été envoyé depuis un autre site : rien n'a été fait.",
        "bytes": "{n} octets",
    },
}

Translate = Callable[..., str]


def layered(
    messages: Mapping[str, Mapping[str, str]], lang: str, fallback: Translate | None
) -> Translate:
    """``t(key, **values)`` from ``messages`` in ``lang``, else from ``fallback`` (a page
    family's own words over the shared ones); a key in neither is a KeyError."""
    own = messages[lang if lang in messages else DEFAULT]

    def t(key: str, **values: object) -> str:
        text = own.get(key)
        if text is None:
            if fallback is None:
                raise KeyError(key)
            return fallback(key, **values)
        return text.format(**values) if values else text

    return t


def parse_accept_language(header: str | None) -> list[tuple[str, float]]:
    """Language ranges with their weights, best first (RFC 9110 §12.5.4); ranges with a
    malformed weight count as 0 (not acceptable) rather than failing the page."""
    ranges: list[tuple[str, float]] = []
    for index, item in enumerate((header or "").split(",")):
        parts = [p.strip() for p in item.split(";")]
        tag = parts[0].lower()
        if not tag:
            continue
        weight = 1.0
        for param in parts[1:]:
            if param.lower().startswith("q="):
                try:
                    weight = max(0.0, min(1.0, float(param[2:])))
                except ValueError:
                    weight = 0.0
        ranges.append((tag, weight - index * 1e-6))  # ties: the order written
    return sorted(ranges, key=lambda r: -r[1])


def choose_language(chosen: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The page language: an explicit choice (query, then cookie), else Accept-Language."""
    for value in (chosen, cookie):
        if value in LANGUAGES:
            return value
    for tag, weight in parse_accept_language(accept_language):
        if weight <= 0:
            continue
        primary = tag.split("-", 1)[0]
        if primary in LANGUAGES:
            return primary
        if tag == "*":
            return DEFAULT
    return DEFAULT


def request_language(request: web.Request) -> str:
    """The language of the page answering ``request``."""
    return choose_language(
        request.query.get("lang"),
        request.cookies.get(COOKIE),
        request.headers.get("Accept-Language"),
    )


def other_language(lang: str) -> str:
    return next(other for other in LANGUAGES if other != lang)


def switch_link(raw_path: str, lang: str) -> str:
    """The current URL with ``lang`` set (the other query parameters kept)."""
    path, _, query = raw_path.partition("?")
    dropped = ("lang", "note", "n", "name")  # a note of what was just done is not repeated
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k not in dropped]
    return path + "?" + urlencode([*pairs, ("lang", lang)])


def remember_choice(request: web.Request, response: web.StreamResponse, lang: str) -> None:
    """The switch was used: its choice holds for the next pages too (a cookie)."""
    if request.query.get("lang") == lang:
        response.set_cookie(COOKIE, lang, max_age=COOKIE_AGE, path="/", samesite="Lax")


def human_size(count: int, lang: str) -> str:
    """A byte count for people: 1.5 MB, in the language's decimal mark."""
    if count < 1000:
        return layered(CHROME, lang, None)("bytes", n=count)
    size = float(count)
    for unit in ("KB", "MB", "GB", "TB"):
        size /= 1000
        if size < 1000 or unit == "TB":
            break
    text = f"{size:.1f}"
    if lang == "fr":
        text = text.replace(".", ",")
        unit = {"KB": "ko", "MB": "Mo", "GB": "Go", "TB": "To"}[unit]
    return f"{text} {unit}"
