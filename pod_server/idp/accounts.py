"""Accounts: plain async functions over the state store, for the web pages and the CLI.

Passwords are hashed with argon2id (RFC 9106) through argon2-cffi; hashing runs on a
worker thread, as it is deliberately slow. Verifying an unknown email still hashes once,
so response times do not reveal which emails have accounts.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
import uuid
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from pod_server.auth.tokens import is_http_url
from pod_server.idp.config import IdpConfig
from pod_server.idp.crypto import digest, new_secret
from pod_server.state.base import Account, AlreadyExists, Credential, IdpState

MAX_EMAIL_LENGTH = 254  # RFC 5321 §4.5.3.1.3 path limit, less the brackets
MAX_LABEL_LENGTH = 200
_EMAIL = re.compile(r"[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+")  # no control characters


class Refused(ValueError):
    """A refusal fit to show to the person; ``key`` (with ``values``) names it in the
    pages' catalogue, to show it in their language (none: the message, in English)."""

    def __init__(self, message: str, key: str = "", **values: object) -> None:
        super().__init__(message)
        self.key = key
        self.values = values


class AccountError(Refused):
    """The request about an account cannot be honoured."""


class Passwords:
    """argon2id hashing on a thread; tests pass a cheap PasswordHasher."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()
        self._dummy: str | None = None

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; with no hash, spends the same time and fails."""
        if stored_hash is None:
            if self._dummy is None:
                self._dummy = await self.hash(secrets.token_urlsafe(16))
            stored_hash, password = self._dummy, password + "\0"
        return await asyncio.to_thread(self._verify, stored_hash, password)

    def _verify(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):  # VerifyMismatchError is a subclass
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)


PASSWORDS = Passwords()


@dataclass(frozen=True)
class AccountSummary:
    account: Account
    webids: list[str]


def check_email(email: str) -> str:
    email = email.strip()
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.fullmatch(email):
        raise AccountError("Enter an email address like name@example.org.", "bad_email")
    return email


def check_password(password: str, config: IdpConfig) -> None:
    if len(password) < config.min_password_length:
        n = config.min_password_length
        raise AccountError(f"Use a password of at least {n} characters.", "password_too_short", n=n)
    if len(password) > config.max_password_length:
        n = config.max_password_length
        raise AccountError(f"Use a password of at most {n} characters.", "password_too_long", n=n)


def check_webid(webid: str) -> str:
    if not is_http_url(webid) or len(webid) > 2_000:
        raise AccountError("A WebID is an http(s) URL.")
    return webid


async def create_account(
    state: IdpState,
    email: str,
    password: str,
    webid: str | None = None,
    *,
    passwords: Passwords = PASSWORDS,
    config: IdpConfig | None = None,
    now: float | None = None,
) -> Account:
    """A new account, with ``webid`` linked when given (it may be hosted elsewhere)."""
    email = check_email(email)
    check_password(password, config or IdpConfig())
    if webid is not None:
        check_webid(webid)
    now = time.time() if now is None else now
    account = Account(uuid.uuid4().hex, email, await passwords.hash(password), now)
    try:
        await state.add_account(account)
    except AlreadyExists as exc:
        raise AccountError(
            "An account with this email address exists already.", "email_taken"
        ) from exc
    if webid is not None:
        await link_webid(state, account.id, webid, now=now, rollback=True)
    return account


async def link_webid(
    state: IdpState,
    account_id: str,
    webid: str,
    *,
    now: float | None = None,
    rollback: bool = False,
) -> None:
    """Link a WebID to an account. Only hosts (the CLI) and provisioning call this: a
    linked WebID is one this provider will vouch for."""
    try:
        await state.link_webid(account_id, check_webid(webid), time.time() if now is None else now)
    except AlreadyExists as exc:
        if rollback:
            await state.delete_account(account_id)
        raise AccountError("This WebID belongs to an account already.") from exc


async def verify_password(
    state: IdpState, email: str, password: str, *, passwords: Passwords = PASSWORDS
) -> Account | None:
    """The account when email and password match, else None (in the same time)."""
    account = await state.find_account(email.strip())
    ok = await passwords.verify(account.password_hash if account else None, password)
    if account is None or not ok:
        return None
    if passwords.needs_rehash(account.password_hash):  # parameters were raised since
        await state.set_password_hash(account.id, await passwords.hash(password))
    return account


async def change_password(
    state: IdpState,
    account_id: str,
    new_password: str,
    *,
    passwords: Passwords = PASSWORDS,
    config: IdpConfig | None = None,
) -> None:
    """Set a new password and end every sign-in session of the account."""
    check_password(new_password, config or IdpConfig())
    if not await state.set_password_hash(account_id, await passwords.hash(new_password)):
        raise AccountError("No such account.")
    await state.end_sessions(account_id)


async def delete_account(state: IdpState, account_id: str) -> list[str]:
    """Erase the account with its credentials, tokens, consents and sessions (the caller
    deletes the pods). Returns the WebIDs that were linked to it."""
    return await state.delete_account(account_id)


async def create_credentials(
    state: IdpState, issuer: str, account_id: str, webid: str, label: str = ""
) -> dict[str, str]:
    """A client id and secret for the client_credentials grant, acting as ``webid``.

    The secret is shown once and stored only as a digest.
    """
    if len(label) > MAX_LABEL_LENGTH:
        raise AccountError(f"A label has at most {MAX_LABEL_LENGTH} characters.")
    if await state.webid_owner(webid) != account_id:
        raise AccountError("This WebID is not linked to the account.")
    client_id = "cred_" + secrets.token_urlsafe(18)  # never a URL (see Credential)
    secret = new_secret()
    await state.add_credential(
        Credential(client_id, digest(secret), label, account_id, webid, time.time())
    )
    return {"client_id": client_id, "client_secret": secret, "webid": webid, "issuer": issuer}


async def revoke_credentials(state: IdpState, client_id: str) -> bool:
    return await state.delete_credential(client_id)


async def list_accounts(state: IdpState) -> list[AccountSummary]:
    return [
        AccountSummary(account, await state.account_webids(account.id))
        for account in await state.list_accounts()
    ]
