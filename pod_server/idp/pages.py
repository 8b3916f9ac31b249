"""Server-rendered pages: sign-in, consent, sign-up, sign-out, messages.

Plain HTML forms that work without JavaScript, with labels, landmarks and alerts for
assistive technology. Every value is HTML-escaped when substituted unless it is ``Safe``
(a fragment this module built). Pages are never framed (clickjacking) nor cached.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass
from string import Template
from urllib.parse import quote

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
class Speech:
    """The language a page is in, its words, and the header's link to the other one."""

    lang: str
    t: language.Translate
    switch_url: str | None  # None on the answer to a form: the URL cannot be opened again
    home: str  # the header's link: the account page
    chosen: bool  # the switch was just used: remember the choice in a cookie


def speech(request: web.Request, home: str) -> Speech:
    lang = language.request_language(request)
    other = language.other_language(lang)
    switch = language.switch_link(request.raw_path, other) if request.method == "GET" else None
    return Speech(lang, words.translator(lang), switch, home, request.query.get("lang") == lang)


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
$switch</header>
<main id="main" tabindex="-1">
<h1>$heading</h1>
$body
</main>
</body>
</html>
"""

_SWITCH = """<nav aria-label="$label">
<ul><li><a href="$href" lang="$other" hreflang="$other">$text</a></li></ul>
</nav>
"""


def page(
    s: Speech, title: str, body: Safe, status: int = 200, heading: str | None = None
) -> web.Response:
    switch = Safe("")
    if s.switch_url is not None:
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


def _alert(error: str | None) -> Safe:
    if not error:
        return Safe("")
    return fill('<p class="alert" role="alert" id="form-error">$error</p>\n', error=error)


def _hidden(name: str, value: str) -> Safe:
    return fill('<input type="hidden" name="$name" value="$value">\n', name=name, value=value)


def _described(error: str | None) -> Safe:
    return Safe(' aria-describedby="form-error" aria-invalid="true"' if error else "")


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
    context = Safe(f"<p>{s.t('sign_in_to', app=esc(app))}</p>\n" if app else "")
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


_CONSENT = """<p><strong>$app</strong> asks to sign you in with your WebID.</p>
<dl>
<dt>App</dt><dd>$app$unverified</dd>
<dt>You will return to</dt><dd>$origin</dd>
<dt>App identifier</dt><dd><code>$client_id</code></dd>
</dl>
<form method="post" action="$action">
$hidden$webids<h2>If you allow it, the app can</h2>
<ul>
$asks</ul>
$access<label><input type="checkbox" name="remember" value="yes" checked>
 Remember my decision for this app</label>
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>
<p class="note">Signed in as $email. <a href="$logout">Not you? Sign out</a>.</p>"""

SCOPE_TEXT = {
    "webid": "use your WebID to read and change data for you, wherever you have access",
    "openid": "know who you are: your WebID",
    "offline_access": (
        "keep this access while you are not using it, until you revoke it or it expires"
    ),
}


def consent_asks(scopes: Iterable[str], *, limited: bool = False) -> list[str]:
    """What the consent page says the app can do: WebID use always (only to say who the
    person is, when the app is limited to what it asks for), each scope once."""
    asks = ["openid" if limited else "webid"]
    asks += [s for s in scopes if s not in ("openid", "webid")]
    return [SCOPE_TEXT[s] for s in dict.fromkeys(asks) if s in SCOPE_TEXT]


@dataclass(frozen=True)
class ConsentView:
    app: str
    named_by_app: bool  # the name is whatever the app registered: say it is unverified
    origin: str
    client_id: str
    scopes: tuple[str, ...]
    webids: tuple[str, ...]
    email: str
    needs: AppNeeds = NO_NEEDS  # what the app declares (none: it asks for full access)
    has_storage: bool = True  # the WebID has a pod here, where the needs can be placed


_FULL_ONLY = """<p class="full"><strong>Full access.</strong>
This app does not say what it needs, so it gets all the access you have:
on every Solid server that trusts this provider, it can read and change
whatever your WebID may, like you could.</p>
<input type="hidden" name="access" value="full">
"""

_CHOICES = """<h2>What it asks for in your pod</h2>
<fieldset><legend>Choose what $app may do</legend>
<label class="choice"><input type="radio" name="access" value="needs" checked>
 What it asks for, as ticked below</label>
<ul class="needs">
$needs</ul>
<label class="choice"><input type="radio" name="access" value="own"> $own</label>
<label class="choice"><input type="radio" name="access" value="full">
 <span class="tag warn">Full access</span> Everything you can reach, on every server, like you could
 (the app's list above does not apply)</label>
</fieldset>
$nowhere<p class="note">Whatever you choose, the app can also read what anyone may read,
such as your public profile. These limits hold on this server; other Solid servers do not
know them and give the app what your WebID may do there.</p>
"""

_MODE_WORDS = (
    (Mode.READ, ("read",)),
    (Mode.WRITE, ("change", "delete")),
    (Mode.APPEND, ("add to",)),
)


def mode_words(modes: Mode) -> str:
    """``read, change and delete``: what the modes let an app do, in plain words."""
    if Mode.WRITE in modes:
        modes &= ~Mode.APPEND  # changing includes adding
    words = [word for mode, said in _MODE_WORDS if mode in modes for word in said]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def need_text(need: AccessNeed) -> Safe:
    """One need in plain words: what, which folder, which modes, required or not."""
    if need.target_path is None:
        where = fill(
            "data of the kind <code>$tree</code> (this server cannot place it in your pod, "
            "so it will not be given)",
            tree=need.shape_tree or "",
        )
    else:
        kind = "the folder" if need.target_path.endswith("/") else "the document"
        where = fill("$kind <code>$path</code>", kind=kind, path=need.target_path)
    return fill(
        '<strong>$label</strong>: $modes $where <span class="tag">$necessity</span>$desc',
        label=need.label,
        modes=mode_words(need.modes),
        where=where,
        necessity="required" if need.required else "optional",
        desc=fill('<br><span class="note">$d</span>', d=need.description)
        if need.description
        else Safe(""),
    )


def _need_item(need: AccessNeed) -> Safe:
    # A required need cannot be unticked alone: the person's way to refuse it is one of
    # the other choices (its own folder only, or nothing).
    state = Safe(" checked disabled" if need.required else " checked")
    return fill(
        '<li><label><input type="checkbox" name="$key" value="yes"$state> $text</label></li>\n',
        key=need.key,
        state=state,
        text=need_text(need),
    )


def _access_choice(view: ConsentView) -> Safe:
    needs = view.needs
    if not needs.declared:
        return Safe(_FULL_ONLY)
    if needs.own_container is not None:
        own = fill(
            "Only its own folder <code>$path</code> (to read and change), nothing else",
            path=needs.own_container,
        )
    else:
        own = Safe("Nothing in your pod beyond what anyone may read")
    nowhere = (
        Safe("")
        if view.has_storage
        else Safe(
            '<p class="alert">Your WebID has no pod on this server, so the folders above '
            "cannot be given here.</p>\n"
        )
    )
    return fill(
        _CHOICES,
        app=view.app,
        needs=join(_need_item(n) for n in needs.needs),
        own=own,
        nowhere=nowhere,
    )


def consent(s: Speech, paths: Paths, view: ConsentView, csrf: str, authz: str) -> web.Response:
    said = consent_asks(view.scopes, limited=view.needs.declared)
    asks = [fill("<li>$text</li>\n", text=text) for text in said]
    body = fill(
        _CONSENT,
        app=view.app,
        unverified=" (the app chose this name itself)" if view.named_by_app else "",
        origin=view.origin,
        client_id=view.client_id,
        action=paths.consent,
        hidden=join([_hidden(CSRF_FIELD, csrf), _hidden("authz", authz)]),
        webids=_webid_choice(view.webids),
        asks=join(asks),
        access=_access_choice(view),
        email=view.email,
        logout=paths.logout,
    )
    return page(s, f"Allow {view.app}?", body, heading=f"Allow {view.app} to sign you in?")


def _webid_choice(webids: tuple[str, ...]) -> Safe:
    if len(webids) == 1:
        return join([fill("<p>Your WebID: <code>$w</code></p>\n", w=webids[0]),
                     _hidden("webid", webids[0])])  # fmt: skip
    options = [
        fill(
            '<label><input type="radio" name="webid" value="$w"$checked> <code>$w</code></label>\n',
            w=w,
            checked=Safe(" checked" if i == 0 else ""),
        )
        for i, w in enumerate(webids)
    ]
    return join([Safe("<fieldset><legend>Sign in as</legend>\n"), *options, Safe("</fieldset>\n")])


_SIGN_UP = """$alert<form method="post" action="$action">
$hidden<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="email" required value="$email"$described>
<label for="name">Pod name</label>
<input id="name" name="name" type="text" autocomplete="username" required value="$name"
 aria-describedby="name-help"$invalid>
<p class="note" id="name-help">Your pod and WebID will live under this name.</p>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="new-password" required
 minlength="$min" aria-describedby="password-help"$invalid>
<p class="note" id="password-help">At least $min characters.</p>
<label for="confirm">Password again</label>
<input id="confirm" name="confirm" type="password" autocomplete="new-password" required$described>
<button type="submit">Create account</button>
</form>
<p><a href="$login">I have an account</a></p>"""


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
        email=email,
        name=name,
        min=str(min_password),
        described=_described(error),
        invalid=Safe(' aria-invalid="true"' if error else ""),
        login=paths.login + ("?authz=" + _quote(authz) if authz else ""),
    )
    return page(s, "Create an account", body, status)


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


_ACCOUNT = """<p>$signed_in</p>
$webids$pods<p><a href="$settings">$pods_link</a></p>
<p><a href="$password">$change</a></p>
<form method="post" action="$logout">$hidden<button type="submit">$sign_out</button></form>"""


def account(
    s: Speech,
    paths: Paths,
    email: str,
    webids: list[str],
    pods: list[tuple[str, int, int | None]],
    csrf: str,
) -> web.Response:
    items = join(fill('<li><a href="$w"><code>$w</code></a></li>\n', w=w) for w in webids)
    heading = fill("<h2>$h</h2>\n<ul>\n", h=s.t("your_webids"))
    listing = join([heading, items, Safe("</ul>\n")]) if webids else ""
    body = fill(
        _ACCOUNT,
        signed_in=Safe(s.t("signed_in_email", email=esc(email))),
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
