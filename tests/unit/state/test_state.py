"""The IdpState contract, run against MemoryState and SqliteState alike."""

from __future__ import annotations

import asyncio
import os
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from pod_server.state import (
    Account,
    AlreadyExists,
    AppAccess,
    AuthorizationCode,
    Consent,
    Credential,
    IdpState,
    LoginSession,
    RefreshFamily,
    RegisteredClient,
    SqliteState,
    StoredKey,
)

NOW = 1_700_000_000.0


def account(n: int = 1, email: str | None = None) -> Account:
    return Account(f"acct{n}", email or f"person{n}@example.org", "$argon2id$x", NOW)


def code(
    hash_: str = "c1", account_id: str = "acct1", expires: float = NOW + 60
) -> AuthorizationCode:
    return AuthorizationCode(
        hash_, "client", account_id, "https://w.example/#me", "https://app.example/cb",
        "openid webid", "challenge", "nonce", None, "fam-" + hash_, NOW, expires,
    )  # fmt: skip


def family(fid: str = "f1", account_id: str = "acct1") -> RefreshFamily:
    return RefreshFamily(
        fid, "client", account_id, "https://w.example/#me", "openid offline_access", "jkt",
        NOW, NOW + 1000,
    )  # fmt: skip


async def test_accounts_unique_email_ignoring_case(state: IdpState) -> None:
    await state.add_account(account(1, "Alice@Example.org"))
    with pytest.raises(AlreadyExists):
        await state.add_account(account(2, "alice@example.ORG"))
    found = await state.find_account("ALICE@example.org")
    assert found is not None and found.id == "acct1" and found.email == "Alice@Example.org"
    assert [a.id for a in await state.list_accounts()] == ["acct1"]
    assert await state.set_password_hash("acct1", "$argon2id$new")
    assert (await state.get_account("acct1")).password_hash == "$argon2id$new"  # type: ignore[union-attr]
    assert not await state.set_password_hash("nobody", "h")


async def test_webids_belong_to_one_account(state: IdpState) -> None:
    await state.add_account(account(1))
    await state.add_account(account(2))
    await state.link_webid("acct1", "https://a.example/card#me", NOW)
    await state.link_webid("acct1", "https://elsewhere.example/me", NOW)
    with pytest.raises(AlreadyExists):
        await state.link_webid("acct2", "https://a.example/card#me", NOW)
    assert await state.account_webids("acct1") == [
        "https://a.example/card#me",
        "https://elsewhere.example/me",
    ]
    assert await state.webid_owner("https://a.example/card#me") == "acct1"
    assert await state.unlink_webid("https://elsewhere.example/me")
    assert await state.webid_owner("https://elsewhere.example/me") is None


async def test_credentials_and_clients(state: IdpState) -> None:
    await state.add_account(account(1))
    cred = Credential("cred_1", "hash", "backup script", "acct1", "https://a.example/#me", NOW)
    await state.add_credential(cred)
    with pytest.raises(AlreadyExists):
        await state.add_credential(cred)
    assert await state.get_credential("cred_1") == cred
    assert await state.list_credentials("acct1") == [cred]
    assert await state.delete_credential("cred_1")
    assert await state.get_credential("cred_1") is None
    client = RegisteredClient("c1", {"redirect_uris": ["https://x/cb"], "n": [1]}, None, NOW)
    await state.add_client(client)
    assert await state.get_client("c1") == client


async def test_code_is_used_once_even_when_racing(state: IdpState) -> None:
    await state.add_account(account(1))
    await state.add_code(code())
    results = await asyncio.gather(*(state.use_code("c1") for _ in range(5)))
    assert sorted(results) == [False, False, False, False, True]
    stored = await state.get_code("c1")
    assert stored is not None and stored.used
    assert not await state.use_code("unknown")


async def test_refresh_rotation_is_compare_and_set(state: IdpState) -> None:
    await state.add_account(account(1))
    await state.add_refresh_token(family(), "r1", NOW + 100)
    token = await state.get_refresh_token("r1")
    assert token is not None and not token.used and token.family == family()
    assert await state.rotate_refresh_token("r1", "r2", NOW + 200)
    assert not await state.rotate_refresh_token("r1", "r3", NOW + 200)  # spent
    spent = await state.get_refresh_token("r1")
    assert spent is not None and spent.used
    assert await state.get_refresh_token("r3") is None
    await state.revoke_family("f1")
    fresh = await state.get_refresh_token("r2")
    assert fresh is not None and fresh.family.revoked
    assert not await state.rotate_refresh_token("r2", "r4", NOW + 300)  # revoked family


async def test_consents_and_sessions(state: IdpState) -> None:
    await state.add_account(account(1))
    consent = Consent("acct1", "client", "openid webid", "https://a.example/#me", NOW)
    await state.remember_consent(consent)
    await state.remember_consent(Consent("acct1", "client", "openid", consent.webid, NOW + 1))
    assert (await state.get_consent("acct1", "client")).scope == "openid"  # type: ignore[union-attr]
    session = LoginSession("s1", "acct1", NOW, NOW + 10)
    await state.add_session(session)
    assert await state.get_session("s1", NOW + 5) == session
    assert await state.get_session("s1", NOW + 10) is None  # expired
    await state.add_session(LoginSession("s2", "acct1", NOW, NOW + 10))
    await state.add_account(account(2))
    await state.add_session(LoginSession("s3", "acct2", NOW, NOW + 10))
    await state.add_session(LoginSession("s0", "acct1", NOW - 5, NOW + 20))
    assert [s.id_hash for s in await state.list_sessions("acct1", NOW + 5)] == ["s0", "s1", "s2"]
    assert [s.id_hash for s in await state.list_sessions("acct1", NOW + 15)] == ["s0"]
    await state.end_sessions("acct1")
    assert await state.list_sessions("acct1", NOW) == []
    assert [s.id_hash for s in await state.list_sessions("acct2", NOW)] == ["s3"]
    assert await state.get_session("s2", NOW) is None


async def test_apps_signed_in_are_listed_and_forgotten(state: IdpState) -> None:
    await state.add_account(account(1))
    await state.add_account(account(2))
    webid = "https://a.example/#me"
    await state.remember_consent(Consent("acct1", "app-b", "openid", webid, NOW + 1))
    await state.remember_consent(Consent("acct1", "app-a", "openid", webid, NOW))
    await state.remember_consent(Consent("acct2", "app-a", "openid", "https://b.example/#me", NOW))
    assert [c.client_id for c in await state.list_consents("acct1")] == ["app-a", "app-b"]
    mine, theirs = family("f1"), family("f2", "acct2")
    await state.add_refresh_token(replace(mine, client_id="app-a"), "r1", NOW + 100)
    await state.add_refresh_token(replace(theirs, client_id="app-a"), "r2", NOW + 100)
    assert await state.forget_app("acct1", "app-a")
    assert [c.client_id for c in await state.list_consents("acct1")] == ["app-b"]
    assert (await state.get_refresh_token("r1")).family.revoked  # type: ignore[union-attr]
    assert not (await state.get_refresh_token("r2")).family.revoked  # type: ignore[union-attr]
    assert await state.get_consent("acct2", "app-a") is not None  # another account's
    assert not await state.forget_app("acct1", "app-a")  # nothing left to forget
    assert await state.list_consents("acct3") == []


async def test_app_access_is_kept_per_webid_and_client_and_replaced(state: IdpState) -> None:
    webid = "https://a.example/#me"
    assert await state.get_app_access(webid, "https://app.example/id") is None
    limited = AppAccess(
        webid, "https://app.example/id", False,
        (("https://pod.example/a/bank/", "Read"), ("https://pod.example/a/x", "Read Append")),
        NOW + 60, NOW,
    )  # fmt: skip
    await state.set_app_access(limited)
    await state.set_app_access(AppAccess(webid, "other", True, (), None, NOW))
    assert await state.get_app_access(webid, "https://app.example/id") == limited
    assert (await state.get_app_access(webid, "other")).full  # type: ignore[union-attr]
    assert await state.get_app_access("https://b.example/#me", "other") is None
    # A new choice replaces the old one.
    await state.set_app_access(AppAccess(webid, "other", False, (), None, NOW + 1))
    again = await state.get_app_access(webid, "other")
    assert again == AppAccess(webid, "other", False, (), None, NOW + 1)


async def test_delete_account_removes_everything_it_owns(state: IdpState) -> None:
    await state.add_account(account(1))
    await state.add_account(account(2))
    await state.link_webid("acct1", "https://a.example/#me", NOW)
    await state.link_webid("acct2", "https://b.example/#me", NOW)
    await state.add_credential(Credential("cred", "h", "", "acct1", "https://a.example/#me", NOW))
    await state.add_code(code("c1", "acct1"))
    await state.add_code(code("c2", "acct2"))
    await state.add_refresh_token(family("f1", "acct1"), "r1", NOW + 100)
    await state.add_refresh_token(family("f2", "acct2"), "r2", NOW + 100)
    await state.remember_consent(Consent("acct1", "client", "openid", "https://a.example/#me", NOW))
    await state.add_session(LoginSession("s1", "acct1", NOW, NOW + 100))
    await state.set_app_access(AppAccess("https://a.example/#me", "app", False, (), None, NOW))
    await state.set_app_access(AppAccess("https://b.example/#me", "app", False, (), None, NOW))
    assert await state.delete_account("acct1") == ["https://a.example/#me"]
    assert await state.get_app_access("https://a.example/#me", "app") is None
    assert await state.get_app_access("https://b.example/#me", "app") is not None
    assert await state.get_account("acct1") is None
    assert await state.webid_owner("https://a.example/#me") is None
    assert await state.get_credential("cred") is None
    assert await state.get_code("c1") is None
    assert await state.get_refresh_token("r1") is None
    assert await state.get_consent("acct1", "client") is None
    assert await state.get_session("s1", NOW) is None
    # The other account is untouched.
    assert await state.get_code("c2") is not None
    assert await state.get_refresh_token("r2") is not None
    assert await state.delete_account("acct1") == []


async def test_keys(state: IdpState) -> None:
    key = StoredKey("k1", '{"kty":"EC"}', NOW, NOW, NOW + 10, NOW + 20)
    await state.add_key(key)
    await state.add_key(StoredKey("k0", "{}", NOW, NOW - 5, NOW + 5, NOW + 8))
    assert [k.kid for k in await state.list_keys()] == ["k0", "k1"]
    await state.purge(NOW + 9)
    assert await state.list_keys() == [key]


async def test_sliding_window_counters(state: IdpState) -> None:
    window = 100.0
    start = 1_700_000_000.0  # a multiple of the window
    for _ in range(4):
        await state.hit("k", window, start + 10)
    assert await state.peek("k", window, start + 20) == 4
    assert await state.hit("k", window, start + 150) == pytest.approx(1 + 4 * 0.5)
    assert await state.peek("k", window, start + 300) == 0
    assert await state.peek("other", window, start) == 0
    await state.reset("k")
    assert await state.peek("k", window, start + 150) == 0


async def test_use_once(state: IdpState) -> None:
    assert await state.use_once("jti", NOW + 10, NOW)
    assert not await state.use_once("jti", NOW + 20, NOW + 5)
    assert await state.use_once("jti", NOW + 30, NOW + 10)  # the first record expired


async def test_purge_keeps_what_reuse_detection_needs(state: IdpState) -> None:
    await state.add_account(account(1))
    await state.add_code(code("c1", expires=NOW))
    await state.add_session(LoginSession("s1", "acct1", NOW, NOW + 1))
    await state.purge(NOW + 3600)
    assert await state.get_code("c1") is not None  # a late reuse is still recognised
    assert await state.get_session("s1", NOW) is None
    await state.purge(NOW + 3 * 24 * 3600)
    assert await state.get_code("c1") is None


async def test_sqlite_survives_restart_and_is_private(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    async with SqliteState(path) as first:
        await first.add_account(account(1))
        await first.add_key(StoredKey("k1", "{}", NOW, NOW, NOW + 10, NOW + 20))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    async with SqliteState(path) as second:
        assert await second.get_account("acct1") == account(1)
        assert [k.kid for k in await second.list_keys()] == ["k1"]


async def test_sqlite_two_processes_share_one_file(tmp_path: Path) -> None:
    """Two stores on one file stand for two server processes: a code is used once."""
    path = tmp_path / "state.sqlite3"
    async with SqliteState(path) as one, SqliteState(path) as two:
        await one.add_account(account(1))
        await one.add_code(code())
        results = await asyncio.gather(*(s.use_code("c1") for s in (one, two, one, two)))
        assert sorted(results) == [False, False, False, True]
        await two.add_refresh_token(family(), "r1", NOW + 100)
        results = await asyncio.gather(
            one.rotate_refresh_token("r1", "a", NOW + 1),
            two.rotate_refresh_token("r1", "b", NOW + 1),
        )
        assert sorted(results) == [False, True]
