"""Everything the identity provider persists, behind one Protocol.

Records are plain frozen values; times are POSIX seconds (float). Secrets never reach a
store in the clear: client secrets, authorization codes, refresh tokens and session ids
arrive already hashed (SHA-256 of a high-entropy random value, see ``idp.crypto``), and
passwords as argon2 hashes. Implementations: ``SqliteState`` (the embedded default,
shared safely by several processes on one host), ``PostgresState`` (beside PostgreSQL
storage, shared by every host) and ``MemoryState`` (tests).

Every operation that must be atomic (a code used once, a refresh token rotated once, a
counter incremented) is one method, so that an implementation can make it one
transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol


class StateError(Exception):
    """Base of the errors a state store raises."""


class AlreadyExists(StateError):
    """A unique value (email, WebID, client id) is taken; the message says which."""


class InvalidValue(StateError):
    """A value the store cannot keep or look up (PostgreSQL text holds no NUL character):
    the request carrying it is malformed."""


class StateBusy(StateError):
    """Another process held the store for too long; the caller may try again later."""


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    email: str  # as the person typed it; unique ignoring case
    password_hash: str  # argon2id, PHC string format
    created: float


@dataclass(frozen=True, slots=True)
class Credential:
    """A client id and secret an account owner created for a script (client_credentials)."""

    client_id: str  # never a URL: Solid clients take URL client ids for Client ID Documents
    secret_hash: str
    label: str
    account_id: str
    webid: str  # one of the account's WebIDs, the identity its tokens carry
    created: float


@dataclass(frozen=True, slots=True)
class RegisteredClient:
    """A client registered dynamically (RFC 7591), with its validated metadata."""

    client_id: str
    metadata: Mapping[str, Any]
    secret_hash: str | None  # None for public clients (token_endpoint_auth_method "none")
    created: float


@dataclass(frozen=True, slots=True)
class AuthorizationCode:
    code_hash: str
    client_id: str
    account_id: str
    webid: str
    redirect_uri: str
    scope: str
    code_challenge: str  # RFC 7636 S256 challenge
    nonce: str | None
    dpop_jkt: str | None  # RFC 9449 §10: the key the tokens must be bound to, if given
    family_id: str  # the refresh family its exchange starts: revoked if the code is reused
    auth_time: float
    expires_at: float
    used: bool = False


@dataclass(frozen=True, slots=True)
class RefreshFamily:
    """The chain of rotating refresh tokens issued from one authorization."""

    id: str
    client_id: str
    account_id: str
    webid: str
    scope: str
    jkt: str  # RFC 9449 §5: refresh tokens are bound to the DPoP key
    auth_time: float
    expires_at: float  # absolute end of the chain, however often it rotates
    revoked: bool = False


@dataclass(frozen=True, slots=True)
class RefreshToken:
    token_hash: str
    family: RefreshFamily
    expires_at: float
    used: bool  # spent by a rotation: presenting it again revokes the family


@dataclass(frozen=True, slots=True)
class Consent:
    account_id: str
    client_id: str
    scope: str  # space-separated scopes granted
    webid: str  # the identity chosen for this client
    created: float


@dataclass(frozen=True, slots=True)
class AppAccess:
    """What a person let one app do with one of their WebIDs (chosen on the consent page):
    all the WebID's access (``full``), or only ``targets`` (URL, space-separated WAC mode
    names such as ``"Read Append"``; a URL ending in ``/`` covers what is below it)."""

    webid: str
    client_id: str
    full: bool
    targets: tuple[tuple[str, str], ...]
    until: float | None  # no access through a limited grant after this
    created: float


@dataclass(frozen=True, slots=True)
class LoginSession:
    id_hash: str
    account_id: str
    auth_time: float
    expires_at: float


@dataclass(frozen=True, slots=True)
class StoredKey:
    """A signing key (private JWK JSON) and its rotation schedule."""

    kid: str
    private_jwk: str
    created: float
    use_from: float  # published before it signs, so resource servers already know it
    retire_after: float  # signs nothing after this
    drop_after: float  # leaves the JWKS once every token it signed has expired


class IdpState(Protocol):
    """The identity provider's persistent state. Every method is a single transaction."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    # -- accounts and their WebIDs --------------------------------------------------------
    async def add_account(self, account: Account) -> None:
        """Raises AlreadyExists when the email (ignoring case) is taken."""

    async def get_account(self, account_id: str) -> Account | None: ...

    async def find_account(self, email: str) -> Account | None:
        """The account with this email, compared ignoring case."""

    async def list_accounts(self) -> list[Account]: ...

    async def set_password_hash(self, account_id: str, password_hash: str) -> bool: ...

    async def delete_account(self, account_id: str) -> list[str]:
        """Remove the account and all it owns: WebID links, credentials, codes, refresh
        tokens, consents, sessions. Returns the WebIDs that were linked to it."""

    async def link_webid(self, account_id: str, webid: str, now: float) -> None:
        """Raises AlreadyExists when the WebID is linked to any account already."""

    async def unlink_webid(self, webid: str) -> bool: ...

    async def account_webids(self, account_id: str) -> list[str]: ...

    async def webid_owner(self, webid: str) -> str | None: ...

    # -- clients -------------------------------------------------------------------------
    async def add_credential(self, credential: Credential) -> None: ...

    async def get_credential(self, client_id: str) -> Credential | None: ...

    async def list_credentials(self, account_id: str) -> list[Credential]: ...

    async def delete_credential(self, client_id: str) -> bool: ...

    async def add_client(self, client: RegisteredClient) -> None: ...

    async def get_client(self, client_id: str) -> RegisteredClient | None: ...

    # -- authorization codes and refresh tokens ------------------------------------------
    async def add_code(self, code: AuthorizationCode) -> None: ...

    async def get_code(self, code_hash: str) -> AuthorizationCode | None: ...

    async def use_code(self, code_hash: str) -> bool:
        """Mark the code used; True only for the first caller (compare-and-set)."""

    async def add_refresh_token(
        self, family: RefreshFamily, token_hash: str, expires_at: float
    ) -> None:
        """Start ``family`` (if new) with its first token."""

    async def get_refresh_token(self, token_hash: str) -> RefreshToken | None: ...

    async def rotate_refresh_token(self, old_hash: str, new_hash: str, expires_at: float) -> bool:
        """Spend ``old_hash`` and add ``new_hash`` to its family, only if ``old_hash`` was
        unspent and its family not revoked; False otherwise (nothing changes)."""

    async def revoke_family(self, family_id: str) -> None: ...

    # -- consents and sign-in sessions ---------------------------------------------------
    async def remember_consent(self, consent: Consent) -> None: ...

    async def get_consent(self, account_id: str, client_id: str) -> Consent | None: ...

    async def list_consents(self, account_id: str) -> list[Consent]:
        """The apps the account signed in to (its remembered consents), oldest first."""

    async def forget_app(self, account_id: str, client_id: str) -> bool:
        """Sign the account out of one app: its remembered consent goes (the consent page
        asks again) and its refresh tokens are revoked. True if there was either. (What
        the app may do, ``AppAccess``, is the caller's to narrow: absent means full.)"""

    async def set_app_access(self, access: AppAccess) -> None:
        """Keep ``access`` for its (webid, client_id), replacing any earlier choice."""

    async def get_app_access(self, webid: str, client_id: str) -> AppAccess | None: ...

    async def add_session(self, session: LoginSession) -> None: ...

    async def get_session(self, id_hash: str, now: float) -> LoginSession | None:
        """The session unless it has expired."""

    async def delete_session(self, id_hash: str) -> None: ...

    async def list_sessions(self, account_id: str, now: float) -> list[LoginSession]:
        """The account's sign-in sessions that have not expired, oldest first."""

    async def end_sessions(self, account_id: str) -> None:
        """Every sign-in session of the account ends (after a password change)."""

    # -- signing keys --------------------------------------------------------------------
    async def list_keys(self) -> list[StoredKey]: ...

    async def add_key(self, key: StoredKey) -> None: ...

    # -- rate limits and one-time values -------------------------------------------------
    async def hit(self, key: str, window: float, now: float) -> float:
        """Count one event for ``key``; return the events in the last ``window`` seconds
        (sliding-window estimate: this window plus the overlapping part of the last one)."""

    async def peek(self, key: str, window: float, now: float) -> float:
        """Like ``hit`` without counting."""

    async def reset(self, key: str) -> None: ...

    async def use_once(self, key: str, expires_at: float, now: float) -> bool:
        """Record ``key`` until ``expires_at``; False if it is already recorded."""

    async def purge(self, now: float) -> None:
        """Drop what has expired: codes, refresh tokens, sessions, keys, counters."""


def window_start(now: float, window: float) -> float:
    """The fixed window ``now`` falls in (counters are kept per window)."""
    return (now // window) * window


def sliding_count(current: int, previous: int, now: float, window: float) -> float:
    """Estimate events in the last ``window`` seconds from two fixed windows' counts."""
    elapsed = (now - window_start(now, window)) / window
    return current + previous * (1.0 - elapsed)


# Codes and spent refresh tokens are kept this long past their expiry, so that a late
# reuse is still recognised as one (and revokes what was issued) rather than unknown.
REUSE_MEMORY = 24 * 3600.0
