"""An in-process IdpState for tests: the same contract as SqliteState, in dictionaries.

Single event loop, no awaits inside a method: each method is atomic by construction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from pod_server.state.base import (
    REUSE_MEMORY,
    Account,
    AlreadyExists,
    AppAccess,
    AuthorizationCode,
    Consent,
    Credential,
    LoginSession,
    RefreshFamily,
    RefreshToken,
    RegisteredClient,
    StoredKey,
    sliding_count,
    window_start,
)

K = TypeVar("K")
V = TypeVar("V")


class MemoryState:
    def __init__(self) -> None:
        self.accounts: dict[str, Account] = {}
        self.webids: dict[str, str] = {}  # webid -> account id
        self.credentials: dict[str, Credential] = {}
        self.clients: dict[str, RegisteredClient] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        self.families: dict[str, RefreshFamily] = {}
        self.refresh: dict[str, tuple[str, float, bool]] = {}  # hash -> family, expiry, used
        self.consents: dict[tuple[str, str], Consent] = {}
        self.app_access: dict[tuple[str, str], AppAccess] = {}
        self.sessions: dict[str, LoginSession] = {}
        self.keys: dict[str, StoredKey] = {}
        self.counters: dict[tuple[str, float], int] = {}
        self.once: dict[str, float] = {}

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    # -- accounts -------------------------------------------------------------------------
    async def add_account(self, account: Account) -> None:
        if self._by_email(account.email) is not None or account.id in self.accounts:
            raise AlreadyExists("an account with this email exists")
        self.accounts[account.id] = account

    async def get_account(self, account_id: str) -> Account | None:
        return self.accounts.get(account_id)

    async def find_account(self, email: str) -> Account | None:
        return self._by_email(email)

    def _by_email(self, email: str) -> Account | None:
        wanted = email.casefold()
        return next((a for a in self.accounts.values() if a.email.casefold() == wanted), None)

    async def list_accounts(self) -> list[Account]:
        return sorted(self.accounts.values(), key=lambda a: (a.created, a.id))

    async def set_password_hash(self, account_id: str, password_hash: str) -> bool:
        account = self.accounts.get(account_id)
        if account is None:
            return False
        self.accounts[account_id] = replace(account, password_hash=password_hash)
        return True

    async def delete_account(self, account_id: str) -> list[str]:
        if self.accounts.pop(account_id, None) is None:
            return []
        webids = [w for w, owner in self.webids.items() if owner == account_id]
        for webid in webids:
            del self.webids[webid]
        self._drop(self.credentials, lambda c: c.account_id == account_id)
        self._drop(self.codes, lambda c: c.account_id == account_id)
        families = {f.id for f in self.families.values() if f.account_id == account_id}
        self._drop(self.families, lambda f: f.id in families)
        self._drop(self.refresh, lambda r: r[0] in families)
        self._drop(self.consents, lambda c: c.account_id == account_id)
        self._drop(self.sessions, lambda s: s.account_id == account_id)
        self._drop(self.app_access, lambda a: a.webid in webids)
        return sorted(webids)

    @staticmethod
    def _drop(table: dict[K, V], doomed: Callable[[V], bool]) -> None:
        for key in [k for k, v in table.items() if doomed(v)]:
            del table[key]

    async def link_webid(self, account_id: str, webid: str, now: float) -> None:
        if webid in self.webids:
            raise AlreadyExists("this WebID is linked to an account already")
        self.webids[webid] = account_id

    async def unlink_webid(self, webid: str) -> bool:
        return self.webids.pop(webid, None) is not None

    async def account_webids(self, account_id: str) -> list[str]:
        return sorted(w for w, owner in self.webids.items() if owner == account_id)

    async def webid_owner(self, webid: str) -> str | None:
        return self.webids.get(webid)

    # -- clients --------------------------------------------------------------------------
    async def add_credential(self, credential: Credential) -> None:
        if credential.client_id in self.credentials:
            raise AlreadyExists("client id taken")
        self.credentials[credential.client_id] = credential

    async def get_credential(self, client_id: str) -> Credential | None:
        return self.credentials.get(client_id)

    async def list_credentials(self, account_id: str) -> list[Credential]:
        found = [c for c in self.credentials.values() if c.account_id == account_id]
        return sorted(found, key=lambda c: (c.created, c.client_id))

    async def delete_credential(self, client_id: str) -> bool:
        return self.credentials.pop(client_id, None) is not None

    async def add_client(self, client: RegisteredClient) -> None:
        if client.client_id in self.clients:
            raise AlreadyExists("client id taken")
        self.clients[client.client_id] = client

    async def get_client(self, client_id: str) -> RegisteredClient | None:
        return self.clients.get(client_id)

    # -- codes and refresh tokens ---------------------------------------------------------
    async def add_code(self, code: AuthorizationCode) -> None:
        self.codes[code.code_hash] = code

    async def get_code(self, code_hash: str) -> AuthorizationCode | None:
        return self.codes.get(code_hash)

    async def use_code(self, code_hash: str) -> bool:
        code = self.codes.get(code_hash)
        if code is None or code.used:
            return False
        self.codes[code_hash] = replace(code, used=True)
        return True

    async def add_refresh_token(
        self, family: RefreshFamily, token_hash: str, expires_at: float
    ) -> None:
        self.families.setdefault(family.id, family)
        self.refresh[token_hash] = (family.id, expires_at, False)

    async def get_refresh_token(self, token_hash: str) -> RefreshToken | None:
        entry = self.refresh.get(token_hash)
        if entry is None or entry[0] not in self.families:
            return None
        family_id, expires_at, used = entry
        return RefreshToken(token_hash, self.families[family_id], expires_at, used)

    async def rotate_refresh_token(self, old_hash: str, new_hash: str, expires_at: float) -> bool:
        entry = self.refresh.get(old_hash)
        if entry is None or entry[2]:
            return False
        family = self.families.get(entry[0])
        if family is None or family.revoked:
            return False
        self.refresh[old_hash] = (entry[0], entry[1], True)
        self.refresh[new_hash] = (entry[0], expires_at, False)
        return True

    async def revoke_family(self, family_id: str) -> None:
        family = self.families.get(family_id)
        if family is not None:
            self.families[family_id] = replace(family, revoked=True)

    # -- consents and sessions ------------------------------------------------------------
    async def remember_consent(self, consent: Consent) -> None:
        self.consents[consent.account_id, consent.client_id] = consent

    async def get_consent(self, account_id: str, client_id: str) -> Consent | None:
        return self.consents.get((account_id, client_id))

    async def list_consents(self, account_id: str) -> list[Consent]:
        found = [c for c in self.consents.values() if c.account_id == account_id]
        return sorted(found, key=lambda c: (c.created, c.client_id))

    async def forget_app(self, account_id: str, client_id: str) -> bool:
        had = self.consents.pop((account_id, client_id), None) is not None
        for family in list(self.families.values()):
            if family.account_id == account_id and family.client_id == client_id:
                self.families[family.id] = replace(family, revoked=True)
                had = had or not family.revoked
        return had

    async def set_app_access(self, access: AppAccess) -> None:
        self.app_access[access.webid, access.client_id] = access

    async def get_app_access(self, webid: str, client_id: str) -> AppAccess | None:
        return self.app_access.get((webid, client_id))

    async def add_session(self, session: LoginSession) -> None:
        self.sessions[session.id_hash] = session

    async def get_session(self, id_hash: str, now: float) -> LoginSession | None:
        session = self.sessions.get(id_hash)
        return session if session is not None and session.expires_at > now else None

    async def delete_session(self, id_hash: str) -> None:
        self.sessions.pop(id_hash, None)

    async def list_sessions(self, account_id: str, now: float) -> list[LoginSession]:
        found = [
            s for s in self.sessions.values() if s.account_id == account_id and s.expires_at > now
        ]
        return sorted(found, key=lambda s: (s.auth_time, s.id_hash))

    async def end_sessions(self, account_id: str) -> None:
        self._drop(self.sessions, lambda s: s.account_id == account_id)

    # -- keys -----------------------------------------------------------------------------
    async def list_keys(self) -> list[StoredKey]:
        return sorted(self.keys.values(), key=lambda k: (k.use_from, k.kid))

    async def add_key(self, key: StoredKey) -> None:
        self.keys[key.kid] = key

    # -- counters -------------------------------------------------------------------------
    async def hit(self, key: str, window: float, now: float) -> float:
        start = window_start(now, window)
        self.counters[key, start] = self.counters.get((key, start), 0) + 1
        return await self.peek(key, window, now)

    async def peek(self, key: str, window: float, now: float) -> float:
        start = window_start(now, window)
        current = self.counters.get((key, start), 0)
        previous = self.counters.get((key, start - window), 0)
        return sliding_count(current, previous, now, window)

    async def reset(self, key: str) -> None:
        self._drop_keys(self.counters, lambda k: k[0] == key)

    @staticmethod
    def _drop_keys(table: dict[K, V], doomed: Callable[[K], bool]) -> None:
        for k in [k for k in table if doomed(k)]:
            del table[k]

    async def use_once(self, key: str, expires_at: float, now: float) -> bool:
        if self.once.get(key, 0.0) > now:
            return False
        self.once[key] = expires_at
        return True

    async def purge(self, now: float) -> None:
        forget = now - REUSE_MEMORY
        self._drop(self.codes, lambda c: c.expires_at < forget)
        self._drop(self.refresh, lambda r: r[1] < forget)
        self._drop(self.families, lambda f: f.expires_at < forget)
        self._drop(self.sessions, lambda s: s.expires_at <= now)
        self._drop(self.keys, lambda k: k.drop_after <= now)
        self._drop(self.once, lambda expires: expires <= now)
        # Counters: windows are at most a day long in practice; keep two days.
        self._drop_keys(self.counters, lambda k: k[1] < now - 2 * 24 * 3600.0)
