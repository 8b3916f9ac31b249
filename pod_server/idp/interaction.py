"""The pages a person meets: authorize, sign in, consent, sign up, sign out, account.

Thin aiohttp handlers: they read the request, call the plain functions of ``authorize``,
``accounts`` and ``sessions``, and render ``pages``. The authorization request travels
through the sign-in and consent forms as one hidden ``authz`` field and is validated
again at every step, so no form field can change what the client asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from urllib.parse import parse_qsl, urlencode, urlsplit

from aiohttp import web

from pod_server.consent.apps.grant import choose
from pod_server.idp import pages
from pod_server.idp.accounts import (
    AccountError,
    Refused,
    change_password,
    check_email,
    check_password,
    create_account,
    link_webid,
    verify_password,
)
from pod_server.idp.authorize import (
    AuthorizationRequest,
    PageError,
    RedirectError,
    consent_covers,
    issue_code,
    needs_sign_in,
    parse_request,
)
from pod_server.idp.bodies import read_form, redirect
from pod_server.idp.errors import ACCESS_DENIED, CONSENT_REQUIRED, LOGIN_REQUIRED
from pod_server.idp.logout import PARAMS as LOGOUT_PARAMS
from pod_server.idp.logout import logout_target
from pod_server.idp.provider import Provider, Provision, ProvisionRefused
from pod_server.idp.sessions import FormCheck
from pod_server.state.base import Account, Consent, LoginSession

MAX_NAME_LENGTH = 64


def app_name(request: AuthorizationRequest) -> str:
    client = request.client
    return client.name or urlsplit(request.redirect_uri).netloc or client.client_id


# This request's (session, account), once looked up (see Interaction._signed_in).
_SIGNED_IN: web.RequestKey[tuple[LoginSession | None, Account | None]] = web.RequestKey(
    "pod_server.idp.signed_in", tuple
)


class Interaction:
    """Handlers for the HTML side of the provider."""

    def __init__(self, provider: Provider) -> None:
        self.p = provider

    # -- authorization ----------------------------------------------------------------------
    async def authorize(self, request: web.Request) -> web.StreamResponse:
        if request.method == "POST":  # OIDC Core §3.1.2.1: GET and POST
            form = await read_form(request, self.p.config.max_form_bytes)
            if form is None:
                s = await self.speech(request)
                return pages.error(s, s.t("too_large_title"), s.t("too_large"), 413)
            request[pages.POSTED] = form
            pairs = list(form.items())
        else:
            pairs = list(request.query.items())
        try:
            areq = await parse_request(pairs, self.p.clients, self.p.issuer)
        except PageError as exc:
            return _page_error(await self.speech(request), exc)
        except RedirectError as exc:
            return redirect(exc.location)
        return await self._resume(request, areq)

    async def _resume(self, request: web.Request, areq: AuthorizationRequest) -> web.Response:
        """Sign in if needed, then consent if needed, then back to the client with a code."""
        p = self.p
        now = p.clock()
        session, account = await self._signed_in(request)
        if session is None or account is None or needs_sign_in(areq, session, now):
            if "none" in areq.prompt:  # OIDC Core §3.1.2.6
                return redirect(areq.fail(LOGIN_REQUIRED, "the person is not signed in").location)
            return await self._sign_in_page(request, areq.after_sign_in(), app=app_name(areq))
        webids = await p.state.account_webids(account.id)
        if not webids:
            s = await self.speech(request)
            return pages.error(s, s.t("no_webid_title"), s.t("no_webid"), 409)
        consent = await p.state.get_consent(account.id, areq.client.client_id)
        if consent is not None and consent_covers(consent, areq, webids):
            return await self._grant(areq, session, consent.webid, 302)
        if "none" in areq.prompt:
            return redirect(areq.fail(CONSENT_REQUIRED, "consent is required").location)
        if areq.client.needs_error is not None:
            return _needs_error(await self.speech(request), areq)
        view = pages.ConsentView(
            app=app_name(areq),
            named_by_app=areq.client.name is not None,
            origin=_origin(areq.redirect_uri),
            client_id=areq.client.client_id,
            scopes=areq.scopes,
            webids=tuple(webids),
            needs=areq.client.needs,
            has_storage=await self._storage(webids[0]) is not None,
        )
        s = await self.speech(request)
        return self._form(request, lambda csrf: pages.consent(s, p.paths, view, csrf, areq.query))

    async def _storage(self, webid: str) -> str | None:
        """The storage root URL the person's needs are placed in (None: no pod here)."""
        return await self.p.storage_of(webid) if self.p.storage_of else None

    async def speech(self, request: web.Request, *, signed_in: bool = True) -> pages.Speech:
        """How a page speaks to ``request``: its language and, unless ``signed_in`` is
        False (the session is ending), who is signed in in this browser."""
        email = await self._email(request) if signed_in else None
        return pages.speech(request, self.p.paths, email)

    async def _email(self, request: web.Request) -> str | None:
        return account.email if (account := (await self._signed_in(request))[1]) else None

    async def _signed_in(self, request: web.Request) -> tuple[LoginSession | None, Account | None]:
        """This browser's session and its account, looked up once per request: the page's
        header and the handler both need them. (A handler that begins or ends a session
        answers with a redirect, or renders its page without the header's line.)"""
        known = request.get(_SIGNED_IN)
        if known is None:
            session = await self.p.sessions.current(request)
            account = await self.p.state.get_account(session.account_id) if session else None
            known = request[_SIGNED_IN] = (session, account)
        return known

    async def _posted_form(self, request: web.Request) -> dict[str, str] | web.Response:
        """The posted form if one of our own pages sent it, else the page that refuses it."""
        form = await read_form(request, self.p.config.max_form_bytes)
        if form is not None:
            request[pages.POSTED] = form  # the answer's language switch opens its page
        s = await self.speech(request)
        if form is None:
            return pages.error(s, s.t("too_large_title"), s.t("too_large"), 413)
        check = self.p.sessions.check_form(request, form)
        if check is FormCheck.CROSS_SITE:
            return pages.error(s, s.t("refused_title"), s.t("cross_site"), 403)
        if check is FormCheck.EXPIRED:
            return pages.error(s, s.t("expired_title"), s.t("form_expired"), 403)
        return form

    def _form(self, request: web.Request, render: Callable[[str], web.Response]) -> web.Response:
        """A page holding a form, with the browser's CSRF token (kept in a cookie)."""
        token = self.p.sessions.csrf_token(request)
        response = render(token)
        self.p.sessions.set_csrf(response, token)
        return response

    async def _grant(
        self, areq: AuthorizationRequest, session: LoginSession, webid: str, status: int
    ) -> web.Response:
        p = self.p
        now = p.clock()
        code = await issue_code(p.state, areq, session, webid, now, p.config.code_ttl)
        return redirect(areq.success(code), status)

    async def consent(self, request: web.Request) -> web.StreamResponse:
        p = self.p
        form = await self._posted_form(request)
        if isinstance(form, web.Response):
            return form
        try:
            areq = await parse_request(
                parse_qsl(form.get("authz", ""), keep_blank_values=True), p.clients, p.issuer
            )
        except PageError as exc:
            return _page_error(await self.speech(request), exc)
        except RedirectError as exc:
            return redirect(exc.location, 303)
        session, _ = await self._signed_in(request)
        if session is None:
            return await self._sign_in_page(request, areq.after_sign_in(), app=app_name(areq))
        if form.get("decision") != "allow":
            return redirect(areq.fail(ACCESS_DENIED, "the person denied the request").location, 303)
        webid = form.get("webid", "")
        if webid not in await p.state.account_webids(session.account_id):
            s = await self.speech(request)
            return pages.error(s, s.t("unknown_webid_title"), s.t("unknown_webid"), 400)
        if areq.client.needs_error is not None:
            return _needs_error(await self.speech(request), areq)
        access = form.get("access", "full" if not areq.client.needs.declared else "")
        if access not in ("needs", "own", "full"):
            s = await self.speech(request)
            return pages.error(s, s.t("choose_access_title"), s.t("choose_access"), 400)
        if p.app_grants is not None:  # a new choice replaces the last, remembered or not
            chosen = {key for key, value in form.items() if key.startswith("need-") and value}
            grant = choose(
                webid,
                areq.client.client_id,
                areq.client.needs,
                await self._storage(webid),
                chosen,
                full=access == "full" or not areq.client.needs.declared,
                own_only=access == "own",
            )
            await p.app_grants.save(grant)
        if form.get("remember") == "yes":
            await p.state.remember_consent(
                Consent(session.account_id, areq.client.client_id, areq.scope, webid, p.clock())
            )
        return await self._grant(areq, session, webid, 303)

    # -- sign in ----------------------------------------------------------------------------
    async def login_page(self, request: web.Request) -> web.StreamResponse:
        back = own_page(request.query.get(pages.RETURN_FIELD, ""), self.p.paths.account)
        return await self._sign_in_page(request, request.query.get("authz", ""), back=back or "")

    async def _sign_in_page(
        self,
        request: web.Request,
        authz: str,
        *,
        app: str | None = None,
        email: str = "",
        error: str | None = None,
        status: int = 200,
        back: str = "",
    ) -> web.Response:
        """The sign-in form, with ``error`` (a key of the catalogue) above it, naming the
        app whose request (``authz``) it continues, whichever way the person came."""
        p = self.p
        s = await self.speech(request)
        if app is None and authz:
            app = await self._app_of(authz)

        def render(csrf: str) -> web.Response:
            return pages.sign_in(
                s,
                p.paths,
                csrf,
                authz,
                app=app,
                email=email,
                error=s.t(error) if error else None,
                signup=p.signup_enabled,
                status=status,
                back=back,
            )

        return self._form(request, render)

    async def _app_of(self, authz: str) -> str | None:
        """The name of the app asking ``authz`` (None when that request is not valid: the
        form still carries it, and the authorization endpoint will say what is wrong)."""
        pairs = parse_qsl(authz, keep_blank_values=True)
        try:
            return app_name(await parse_request(pairs, self.p.clients, self.p.issuer))
        except (PageError, RedirectError):
            return None

    async def login(self, request: web.Request) -> web.StreamResponse:
        p = self.p
        form = await self._posted_form(request)
        if isinstance(form, web.Response):
            return form
        authz, email = form.get("authz", ""), form.get("email", "").strip()
        ip = p.client_ip(request)
        if await p.limiter.exceeded(p.login_per_ip, ip) or await p.limiter.exceeded(
            p.login_per_account, email
        ):
            response = await self._sign_in_page(
                request,
                authz,
                email=email,
                status=429,
                error="too_many_sign_ins",
            )
            response.headers["Retry-After"] = str(int(p.config.login_window))
            return response
        account = await verify_password(
            p.state, email, form.get("password", ""), passwords=p.passwords
        )
        if account is None:
            await p.limiter.count(p.login_per_ip, ip)
            await p.limiter.count(p.login_per_account, email)
            return await self._sign_in_page(
                request,
                authz,
                email=email,
                error="wrong_credentials",
                status=401,
                back=own_page(form.get(pages.RETURN_FIELD, ""), p.paths.account) or "",
            )
        await p.limiter.clear(p.login_per_account, email)
        back = own_page(form.get(pages.RETURN_FIELD, ""), p.paths.account)
        response = redirect(back if back and not authz else self._continue_url(authz), 303)
        await p.sessions.end(request, response)  # a fresh session id at every sign-in
        await p.sessions.begin(response, account.id)
        if p.on_sign_in is not None:
            await p.on_sign_in(await p.state.account_webids(account.id))
        return response

    def _continue_url(self, authz: str) -> str:
        """Back to the authorization request (always our own endpoint), or the account page."""
        if not authz:
            return self.p.paths.account
        query = urlencode(parse_qsl(authz, keep_blank_values=True))
        return f"{self.p.paths.authorize}?{query}"

    # -- sign up ----------------------------------------------------------------------------
    async def signup_page(self, request: web.Request) -> web.StreamResponse:
        if not self.p.signup_enabled:
            return _no_signup(await self.speech(request))
        return await self._sign_up_page(request, request.query.get("authz", ""))

    async def _sign_up_page(
        self,
        request: web.Request,
        authz: str,
        status: int = 200,
        error: str | Refused | None = None,
        **values: str,
    ) -> web.Response:
        """The sign-up form, with ``error`` (a catalogue key or a refusal) above it."""
        p = self.p
        minimum = p.config.min_password_length
        s = await self.speech(request)
        said = said_error(s, error) if error else None
        return self._form(
            request,
            lambda csrf: pages.sign_up(
                s, p.paths, csrf, authz, minimum, status=status, error=said, **values
            ),
        )

    async def signup(self, request: web.Request) -> web.StreamResponse:
        p = self.p
        provision = p.provision
        if not p.signup_enabled or provision is None:
            return _no_signup(await self.speech(request))
        form = await self._posted_form(request)
        if isinstance(form, web.Response):
            return form
        authz = form.get("authz", "")
        email, name = form.get("email", "").strip(), form.get("name", "").strip()
        if await p.limiter.count(p.signups_per_ip, p.client_ip(request)):
            return await self._sign_up_page(
                request, authz, 429, "too_many_sign_ups", email=email, name=name
            )
        try:
            account_id = await self._create(provision, form, email, name)
        except (AccountError, ProvisionRefused) as exc:
            return await self._sign_up_page(request, authz, 400, exc, email=email, name=name)
        response = redirect(self._continue_url(authz), 303)
        await p.sessions.end(request, response)
        await p.sessions.begin(response, account_id)
        return response

    async def _create(
        self, provision: Provision, form: dict[str, str], email: str, name: str
    ) -> str:
        """Account, then pod (the provisioning callback), then the link between them;
        whatever fails on the way leaves no account behind."""
        p = self.p
        password = form.get("password", "")
        check_email(email)
        check_password(password, p.config)
        if password != form.get("confirm"):
            raise AccountError("The two passwords differ.", "passwords_differ")
        if not name or len(name) > MAX_NAME_LENGTH:
            raise AccountError(
                f"Choose a pod name of 1 to {MAX_NAME_LENGTH} characters.",
                "pod_name_length",
                n=MAX_NAME_LENGTH,
            )
        account = await create_account(
            p.state, email, password, passwords=p.passwords, config=p.config, now=p.clock()
        )
        done = False
        try:
            webid = await provision(account.id, name)
            await link_webid(p.state, account.id, webid, now=p.clock())
            done = True
        finally:
            if not done:
                await p.state.delete_account(account.id)
        return account.id

    # -- sign out, account, password --------------------------------------------------------
    async def logout_page(self, request: web.Request) -> web.StreamResponse:
        p = self.p
        params = {k: request.query[k] for k in LOGOUT_PARAMS if k in request.query}
        if (await self._signed_in(request))[0] is None:
            target = await logout_target(params, p.clients, p.issuer, await p.keys.verifiers())
            return redirect(target) if target else _signed_out(await self.speech(request), p)
        s = replace(await self.speech(request), sign_out=None)  # this page is the sign-out
        return self._form(request, lambda csrf: pages.logout_confirm(s, p.paths, csrf, params))

    async def logout(self, request: web.Request) -> web.StreamResponse:
        p = self.p
        form = await self._posted_form(request)
        if isinstance(form, web.Response):
            return form
        target = await logout_target(form, p.clients, p.issuer, await p.keys.verifiers())
        if target:
            response = redirect(target, 303)
        else:  # the session ends with this answer: its header names nobody
            response = _signed_out(await self.speech(request, signed_in=False), p)
        await p.sessions.end(request, response)
        return response

    async def account(self, request: web.Request) -> web.StreamResponse:
        p = self.p
        _, account = await self._signed_in(request)
        if account is None:
            return redirect(p.paths.login, 303)
        webids = await p.state.account_webids(account.id)
        pods = await p.pods_of(webids) if p.pods_of else []
        s = await self.speech(request)  # its header names who is signed in
        return self._form(request, lambda csrf: pages.account(s, p.paths, webids, pods, csrf))

    async def password_page(self, request: web.Request) -> web.StreamResponse:
        p = self.p
        if (await self._signed_in(request))[0] is None:
            return redirect(p.paths.login, 303)
        return await self._password_page(request)

    async def _password_page(
        self, request: web.Request, error: str | AccountError | None = None, status: int = 200
    ) -> web.Response:
        """The form, with ``error`` (a key of the catalogue, or what went wrong) above it."""
        p = self.p
        minimum = p.config.min_password_length
        s = await self.speech(request)
        said = said_error(s, error) if error else None
        return self._form(
            request, lambda csrf: pages.password_form(s, p.paths, csrf, minimum, said, status)
        )

    async def password(self, request: web.Request) -> web.StreamResponse:
        p = self.p
        form = await self._posted_form(request)
        if isinstance(form, web.Response):
            return form
        _, account = await self._signed_in(request)
        if account is None:
            return redirect(p.paths.login, 303)
        if await p.limiter.exceeded(p.login_per_account, account.email):
            return await self._password_page(request, "too_many_attempts", 429)
        if not await p.passwords.verify(account.password_hash, form.get("current", "")):
            await p.limiter.count(p.login_per_account, account.email)
            return await self._password_page(request, "current_wrong", 401)
        if form.get("password") != form.get("confirm"):
            return await self._password_page(request, "new_differ", 400)
        s = await self.speech(request)  # before the change ends this session (another begins)
        try:
            await change_password(
                p.state,
                account.id,
                form.get("password", ""),
                passwords=p.passwords,
                config=p.config,
            )
        except AccountError as exc:
            return await self._password_page(request, exc, 400)
        response = pages.message(
            s,
            s.t("password_changed_title"),
            s.t("password_changed"),
            link=(p.paths.account, s.t("account")),
        )
        await p.sessions.begin(response, account.id)  # the old sessions all ended
        return response


def said_error(s: pages.Speech, error: str | Refused) -> str:
    """An error in the page's language: a catalogue key, or a refusal (in English when it
    names no key, as some of the provisioning's own may)."""
    if isinstance(error, Refused):
        return s.t(error.key, **error.values) if error.key else str(error)
    return s.t(error)


def own_page(value: str, account: str) -> str | None:
    """``value`` if it is a path on this server (under the provider's base, which the
    account page's path starts with) to return to after sign-in, else None: never
    another site (``//host``, a scheme, backslashes browsers read as slashes)."""
    base = account.removesuffix("idp/account")
    if not value.startswith(base) or value.startswith("//") or len(value) > 2000:
        return None
    if "\\" in value or any(ord(c) < 0x21 or ord(c) == 0x7F for c in value):
        return None
    return value


def _origin(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"


def _page_error(s: pages.Speech, exc: PageError) -> web.Response:
    text = s.t("invalid_app_request", description=exc.description, error=exc.error)
    return pages.error(s, s.t("cannot_continue"), text, 400)


def _needs_error(s: pages.Speech, areq: AuthorizationRequest) -> web.Response:
    text = s.t("needs_unreadable", app=app_name(areq), problem=areq.client.needs_error)
    return pages.error(s, s.t("cannot_continue"), text, 400)


def _no_signup(s: pages.Speech) -> web.Response:
    return pages.error(s, s.t("not_found_title"), s.t("no_signup"), 404)


def _signed_out(s: pages.Speech, provider: Provider) -> web.Response:
    return pages.message(
        s, s.t("signed_out_title"), s.t("signed_out"), link=(provider.paths.login, s.t("sign_in"))
    )
