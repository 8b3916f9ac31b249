"""Server-rendered pages: sign-in, consent, sign-up, sign-out, messages.

Plain HTML forms that work without JavaScript, with labels, landmarks and alerts for
assistive technology. Every value is HTML-escaped when substituted unless it is ``Safe``
(a fragment this module built). Pages are never framed (clickjacking) nor cached.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from string import Template
from urllib.parse import quote, urlencode

from aiohttp import web

from pod_server.access.modes import Mode
from pod_server.consent.apps.needs import NO_NEEDS, AccessNeed, AppNeeds
from pod_server.http import language
from pod_server.http.style import STYLESHEET
from pod_server.idp import words
from pod_server.idp.sessions import CSRF_FIELD

PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    # Authorization URLs carry state and challenges: no other origin sees them in a
    # Referer. Our own forms still get their real Origin (no-referrer would make it
    # "null"), which the CSRF check relies on.
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
    ),
}


RETURN_FIELD = "return"


class Safe(str):
    """HTML built here, substituted as is."""


def esc(value: object) -> str:
    return value if isinstance(value, Safe) else html.escape(str(value), quote=True)


def fill(template: str, **values: object) -> Safe:
    return Safe(Template(template).substitute({k: esc(v) for k, v in values.items()}))


def join(parts: Iterable[Safe]) -> Safe:
    return Safe("".join(parts))


@dataclass(frozen=True)
class Paths:
    """The provider's page URLs (absolute paths on this server)."""

    authorize: str
    login: str
    signup: str
    consent: str
    logout: str
    account: str
    password: str


@dataclass(frozen=True)
class Speech:
    """The language a page is in, its words, and what its header says and links to."""

    lang: str
    t: language.Translate
    switch_url: str  # this page in the other language (a page to open, never a form post)
    home: str  # the header's link: the account page
    chosen: bool  # the switch was just used: remember the choice in a cookie
    email: str | None = None  # who is signed in at the provider in this browser
    sign_out: str | None = None  # the header's sign-out link (None: this is that page)


# The form a page answers (set by the handler once it has read it): what the language
# switch of that answer opens afresh.
POSTED: web.RequestKey[dict[str, str]] = web.RequestKey("pod_server.idp.posted", dict)


def speech(request: web.Request, paths: Paths, email: str | None = None) -> Speech:
    """How to speak to ``request``; ``email``: who is signed in (the header says so)."""
    lang = language.request_language(request)
    other = language.other_language(lang)
    here = request.raw_path
    if request.method != "GET":  # the answer to a form: its page afresh, not the post
        here = fresh_page(paths, request.path, request.get(POSTED, {}))
    return Speech(
        lang,
        words.translator(lang),
        language.switch_link(here, other),
        paths.account,
        request.query.get("lang") == lang,
        email,
        paths.logout if email else None,
    )


def fresh_page(paths: Paths, path: str, form: Mapping[str, str]) -> str:
    """The page (to GET) that shows again what the answer to a form posted to ``path``
    showed: the same form afresh, keeping the app's request and where to return, so the
    language switch neither re-sends the form nor lands on a method not allowed."""
    authz = form.get("authz", "")
    if path == paths.authorize:  # the app's request itself was posted (OIDC Core 3.1.2.1)
        authz = urlencode(list(form.items()))
    if path in (paths.authorize, paths.consent):
        return f"{paths.authorize}?{authz}" if authz else paths.account
    query = [("authz", authz)] if authz else []
    if path == paths.login and form.get(RETURN_FIELD):
        query.append((RETURN_FIELD, form[RETURN_FIELD]))
    if path in (paths.login, paths.signup):
        return path + ("?" + urlencode(query) if query else "")
    if path in (paths.password, paths.logout):
        return path
    return paths.account


_LAYOUT = """<!DOCTYPE html>
<html lang="$lang">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title>
<style>
$style</style>
</head>
<body>
<a class="skip" href="#main">$skip</a>
<header class="site">
<p><a href="$home"><strong>$site</strong></a></p>
<div class="tools">
$who$switch</div>
</header>
<main id="main" tabindex="-1">
<h1>$heading</h1>
$body
</main>
</body>
</html>
"""

_WHO = """<nav aria-label="$label">
<ul><li>$signed_in</li>$sign_out</ul>
</nav>
"""

_SWITCH = """<nav aria-label="$label">
<ul><li><a href="$href" lang="$other" hreflang="$other">$text</a></li></ul>
</nav>
"""


def page(
    s: Speech, title: str, body: Safe, status: int = 200, heading: str | None = None
) -> web.Response:
    other = language.other_language(s.lang)
    switch = fill(
        _SWITCH, label=s.t("language"), href=s.switch_url, other=other, text=s.t("switch_to")
    )
    text = fill(
        _LAYOUT,
        lang=s.lang,
        title=title,
        site=s.t("site"),
        skip=s.t("skip"),
        home=s.home,
        who=_who(s),
        switch=switch,
        heading=heading or title,
        body=body,
        style=Safe(STYLESHEET),
    )
    response = web.Response(
        status=status, text=text, content_type="text/html", charset="utf-8", headers=PAGE_HEADERS
    )
    response.headers["Vary"] = "Accept-Language, Cookie"
    if s.chosen:
        response.set_cookie(
            language.COOKIE, s.lang, max_age=language.COOKIE_AGE, path="/", samesite="Lax"
        )
    return response


def _who(s: Speech) -> Safe:
    """Who is signed in, and a way out (the confirmation page, as apps send people to)."""
    if s.email is None:
        return Safe("")
    out = Safe("")
    if s.sign_out is not None:
        out = fill('<li><a href="$href">$text</a></li>', href=s.sign_out, text=s.t("sign_out"))
    signed_in = s.t("signed_in_as", who=s.email)
    return fill(_WHO, label=s.t("account"), signed_in=signed_in, sign_out=out)


def _alert(error: str | None) -> Safe:
    if not error:
        return Safe("")
    return fill('<p class="alert" role="alert" id="form-error">$error</p>\n', error=error)


def _hidden(name: str, value: str) -> Safe:
    return fill('<input type="hidden" name="$name" value="$value">\n', name=name, value=value)


def _described(error: str | None) -> Safe:
    return Safe(' aria-describedby="form-error" aria-invalid="true"' if error else "")


_SIGN_IN = """$alert$context<form method="post" action="$action">
$hidden<label for="email">$email_label</label>
<input id="email" name="email" type="email" autocomplete="username" required
 value="$email"$described>
<label for="password">$password_label</label>
<input id="password" name="password" type="password" autocomplete="current-password"
 required$described>
<button type="submit">$submit</button>
</form>
$signup"""


def sign_in(
    s: Speech,
    paths: Paths,
    csrf: str,
    authz: str,
    *,
    app: str | None = None,
    email: str = "",
    error: str | None = None,
    signup: bool = False,
    status: int = 200,
    back: str = "",
) -> web.Response:
    context = fill("<p>$text</p>\n", text=said(s, "sign_in_to", app=app)) if app else Safe("")
    hidden = join([_hidden(CSRF_FIELD, csrf), *([_hidden("authz", authz)] if authz else [])])
    if back:  # a page of this server to return to (pod_server.ui's sign-in links)
        hidden = join([hidden, _hidden(RETURN_FIELD, back)])
    link = ""
    if signup:
        href = paths.signup + ("?authz=" + _quote(authz) if authz else "")
        link = fill(
            '<p>$new <a href="$href">$create</a>.</p>\n',
            new=s.t("new_here"),
            href=href,
            create=s.t("create_account_link"),
        )
    body = fill(
        _SIGN_IN,
        alert=_alert(error),
        context=context,
        action=paths.login,
        hidden=hidden,
        email_label=s.t("email"),
        email=email,
        password_label=s.t("password"),
        described=_described(error),
        submit=s.t("sign_in"),
        signup=Safe(link),
    )
    return page(s, s.t("sign_in_title"), body, status)


def _quote(value: str) -> str:
    return quote(value, safe="")


_CONSENT = """<p>$asks_sign_in</p>
<dl>
<dt>$app_label</dt><dd>$app$unverified</dd>
<dt>$return_to</dt><dd>$origin</dd>
<dt>$app_id</dt><dd><code>$client_id</code></dd>
</dl>
<form method="post" action="$action">
$hidden$webids<h2>$app_can</h2>
<ul>
$asks</ul>
$access<label><input type="checkbox" name="remember" value="yes" checked>
 $remember</label>
<button type="submit" name="decision" value="allow">$allow</button>
<button type="submit" name="decision" value="deny">$deny</button>
</form>"""

SCOPES = ("webid", "openid", "offline_access")  # those the consent page words


def said(s: Speech, key: str, **values: object) -> Safe:
    """A catalogue text holding HTML, with ``values`` escaped into it."""
    return Safe(s.t(key, **{name: esc(value) for name, value in values.items()}))


def consent_asks(scopes: Iterable[str], *, limited: bool = False) -> list[str]:
    """What the consent page says the app can do (``scope_*`` keys): WebID use always
    (only to say who the person is, when the app is limited to what it asks for), each
    scope once."""
    asks = ["openid" if limited else "webid"]
    asks += [s for s in scopes if s not in ("openid", "webid")]
    return [f"scope_{s}" for s in dict.fromkeys(asks) if s in SCOPES]


@dataclass(frozen=True)
class ConsentView:
    app: str
    named_by_app: bool  # the name is whatever the app registered: say it is unverified
    origin: str
    client_id: str
    scopes: tuple[str, ...]
    webids: tuple[str, ...]
    needs: AppNeeds = NO_NEEDS  # what the app declares (none: it asks for full access)
    has_storage: bool = True  # the WebID has a pod here, where the needs can be placed


_FULL_ONLY = """<p class="full">$text</p>
<input type="hidden" name="access" value="full">
"""

_CHOICES = """<h2>$asks_in_pod</h2>
<fieldset><legend>$choose</legend>
<label class="choice"><input type="radio" name="access" value="needs" checked>
 $as_ticked</label>
<ul class="needs">
$needs</ul>
<label class="choice"><input type="radio" name="access" value="own"> $own</label>
<label class="choice"><input type="radio" name="access" value="full">
 <span class="tag warn">$full</span> $full_choice</label>
</fieldset>
$nowhere<p class="note">$limits</p>
"""

_MODE_WORDS = (
    (Mode.READ, ("mode_read",)),
    (Mode.WRITE, ("mode_change", "mode_delete")),
    (Mode.APPEND, ("mode_add",)),
)


def mode_words(s: Speech, modes: Mode) -> str:
    """``read, change and delete``: what the modes let an app do, in plain words."""
    if Mode.WRITE in modes:
        modes &= ~Mode.APPEND  # changing includes adding
    words = [s.t(key) for mode, keys in _MODE_WORDS if mode in modes for key in keys]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + s.t("and") + words[-1]


def need_text(s: Speech, need: AccessNeed) -> Safe:
    """One need in plain words: what, which folder, which modes, required or not."""
    if need.target_path is None:
        where = said(s, "kind_unplaced", tree=need.shape_tree or "")
    else:
        kind = "the_folder" if need.target_path.endswith("/") else "the_document"
        where = said(s, kind, path=need.target_path)
    return fill(
        '<strong>$label</strong>$colon$modes $where <span class="tag">$necessity</span>$desc',
        label=need.label,
        colon=s.t("colon"),
        modes=mode_words(s, need.modes),
        where=where,
        necessity=s.t("required" if need.required else "optional"),
        desc=fill('<br><span class="note">$d</span>', d=need.description)
        if need.description
        else Safe(""),
    )


def _need_item(s: Speech, need: AccessNeed) -> Safe:
    # A required need cannot be unticked alone: the person's way to refuse it is one of
    # the other choices (its own folder only, or nothing).
    state = Safe(" checked disabled" if need.required else " checked")
    return fill(
        '<li><label><input type="checkbox" name="$key" value="yes"$state> $text</label></li>\n',
        key=need.key,
        state=state,
        text=need_text(s, need),
    )


def _access_choice(s: Speech, view: ConsentView) -> Safe:
    needs = view.needs
    if not needs.declared:
        return fill(_FULL_ONLY, text=said(s, "full_only"))
    if needs.own_container is not None:
        own = said(s, "own_only", path=needs.own_container)
    else:
        own = Safe(esc(s.t("nothing_beyond")))
    nowhere = (
        Safe("")
        if view.has_storage
        else fill('<p class="alert">$text</p>\n', text=s.t("no_pod_here"))
    )
    return fill(
        _CHOICES,
        asks_in_pod=s.t("asks_in_pod"),
        choose=s.t("choose_what", app=view.app),
        as_ticked=s.t("as_ticked"),
        needs=join(_need_item(s, n) for n in needs.needs),
        own=own,
        full=s.t("full_access"),
        full_choice=s.t("full_choice"),
        nowhere=nowhere,
        limits=s.t("limits_note"),
    )


def consent(s: Speech, paths: Paths, view: ConsentView, csrf: str, authz: str) -> web.Response:
    keys = consent_asks(view.scopes, limited=view.needs.declared)
    asks = [fill("<li>$text</li>\n", text=s.t(key)) for key in keys]
    body = fill(
        _CONSENT,
        asks_sign_in=said(s, "asks_sign_in", app=view.app),
        app_label=s.t("app"),
        app=view.app,
        unverified=s.t("unverified") if view.named_by_app else "",
        return_to=s.t("return_to"),
        origin=view.origin,
        app_id=s.t("app_id"),
        client_id=view.client_id,
        action=paths.consent,
        hidden=join([_hidden(CSRF_FIELD, csrf), _hidden("authz", authz)]),
        webids=_webid_choice(s, view.webids),
        app_can=s.t("app_can"),
        asks=join(asks),
        access=_access_choice(s, view),
        remember=s.t("remember"),
        allow=s.t("allow"),
        deny=s.t("deny"),
    )
    title = s.t("allow_title", app=view.app)
    return page(s, title, body, heading=s.t("allow_heading", app=view.app))


def _webid_choice(s: Speech, webids: tuple[str, ...]) -> Safe:
    if len(webids) == 1:
        return join([fill("<p>$label <code>$w</code></p>\n", label=s.t("your_webid"), w=webids[0]),
                     _hidden("webid", webids[0])])  # fmt: skip
    options = [
        fill(
            '<label><input type="radio" name="webid" value="$w"$checked> <code>$w</code></label>\n',
            w=w,
            checked=Safe(" checked" if i == 0 else ""),
        )
        for i, w in enumerate(webids)
    ]
    legend = fill("<fieldset><legend>$l</legend>\n", l=s.t("sign_in_as"))
    return join([legend, *options, Safe("</fieldset>\n")])


_SIGN_UP = """$alert<form method="post" action="$action">
$hidden<label for="email">$email_label</label>
<input id="email" name="email" type="email" autocomplete="email" required value="$email"$described>
<label for="name">$name_label</label>
<input id="name" name="name" type="text" autocomplete="username" required value="$name"
 aria-describedby="name-help"$invalid>
<p class="note" id="name-help">$name_help</p>
<label for="password">$password_label</label>
<input id="password" name="password" type="password" autocomplete="new-password" required
 minlength="$min" aria-describedby="password-help"$invalid>
<p class="note" id="password-help">$password_help</p>
<label for="confirm">$again_label</label>
<input id="confirm" name="confirm" type="password" autocomplete="new-password" required$described>
<button type="submit">$submit</button>
</form>
<p><a href="$login">$have_account</a></p>"""


def sign_up(
    s: Speech,
    paths: Paths,
    csrf: str,
    authz: str,
    min_password: int,
    *,
    email: str = "",
    name: str = "",
    error: str | None = None,
    status: int = 200,
) -> web.Response:
    hidden = join([_hidden(CSRF_FIELD, csrf), *([_hidden("authz", authz)] if authz else [])])
    body = fill(
        _SIGN_UP,
        alert=_alert(error),
        action=paths.signup,
        hidden=hidden,
        email_label=s.t("email"),
        email=email,
        name_label=s.t("pod_name"),
        name=name,
        name_help=s.t("pod_name_help"),
        password_label=s.t("password"),
        min=str(min_password),
        password_help=s.t("password_help", n=min_password),
        again_label=s.t("password_again"),
        described=_described(error),
        invalid=Safe(' aria-invalid="true"' if error else ""),
        submit=s.t("create_account"),
        login=paths.login + ("?authz=" + _quote(authz) if authz else ""),
        have_account=s.t("have_account"),
    )
    return page(s, s.t("sign_up_title"), body, status)


def message(
    s: Speech, title: str, text: str, status: int = 200, link: tuple[str, str] | None = None
) -> web.Response:
    body = fill('<p role="status">$text</p>\n', text=text)
    if link:
        body = join(
            [body, fill('<p><a href="$href">$label</a></p>\n', href=link[0], label=link[1])]
        )
    return page(s, title, body, status)


def error(s: Speech, title: str, text: str, status: int = 400) -> web.Response:
    return page(s, title, fill('<p role="alert">$text</p>\n', text=text), status)


_ACCOUNT = """$webids$pods<p><a href="$settings">$pods_link</a></p>
<p><a href="$password">$change</a></p>
<form method="post" action="$logout">$hidden<button type="submit">$sign_out</button></form>"""


def account(
    s: Speech,
    paths: Paths,
    webids: list[str],
    pods: list[tuple[str, int, int | None]],
    csrf: str,
) -> web.Response:
    items = join(fill('<li><a href="$w"><code>$w</code></a></li>\n', w=w) for w in webids)
    heading = fill("<h2>$h</h2>\n<ul>\n", h=s.t("your_webids"))
    listing = join([heading, items, Safe("</ul>\n")]) if webids else ""
    body = fill(
        _ACCOUNT,
        webids=Safe(listing),
        pods=_pods(s, pods),
        pods_link=s.t("pods_link"),
        password=paths.password,
        change=s.t("change_password"),
        settings=paths.account + "/settings",
        logout=paths.logout,
        hidden=_hidden(CSRF_FIELD, csrf),
        sign_out=s.t("sign_out"),
    )
    return page(s, s.t("account"), body)


def _pods(s: Speech, pods: list[tuple[str, int, int | None]]) -> Safe:
    """The person's pods with the storage they use (and their quota, if any)."""
    if not pods:
        return Safe("")

    def used(count: int, limit: int | None) -> str:
        size = language.human_size(count, s.lang)
        if limit is None:
            return size
        return s.t("used_of", used=size, limit=language.human_size(limit, s.lang))

    rows = join(
        fill(
            '<li><a href="$url">$url</a>$colon$used</li>\n',
            url=url,
            colon=s.t("colon"),
            used=used(count, limit),
        )
        for url, count, limit in pods
    )
    heading = fill("<h2>$h</h2>\n<ul>\n", h=s.t("your_pods"))
    return join([heading, rows, Safe("</ul>\n")])


_LOGOUT = """<p>$question</p>
<form method="post" action="$action">$hidden<button type="submit">$sign_out</button></form>"""


def logout_confirm(s: Speech, paths: Paths, csrf: str, params: dict[str, str]) -> web.Response:
    hidden = join([_hidden(CSRF_FIELD, csrf), *(_hidden(k, v) for k, v in params.items())])
    body = fill(
        _LOGOUT,
        question=s.t("sign_out_question"),
        action=paths.logout,
        hidden=hidden,
        sign_out=s.t("sign_out"),
    )
    return page(s, s.t("sign_out"), body)


_PASSWORD = """$alert<form method="post" action="$action">
$hidden<label for="current">$current_label</label>
<input id="current" name="current" type="password" autocomplete="current-password"
 required$described>
<label for="password">$new_label</label>
<input id="password" name="password" type="password" autocomplete="new-password" required
 minlength="$min">
<label for="confirm">$again_label</label>
<input id="confirm" name="confirm" type="password" autocomplete="new-password" required>
<button type="submit">$submit</button>
</form>"""


def password_form(
    s: Speech,
    paths: Paths,
    csrf: str,
    min_password: int,
    error: str | None = None,
    status: int = 200,
) -> web.Response:
    body = fill(
        _PASSWORD,
        alert=_alert(error),
        action=paths.password,
        hidden=_hidden(CSRF_FIELD, csrf),
        described=_described(error),
        min=str(min_password),
        current_label=s.t("current_password"),
        new_label=s.t("new_password"),
        again_label=s.t("new_password_again"),
        submit=s.t("change_password"),
    )
    return page(s, s.t("change_password"), body, status)
