"""Account functions over the state store (what the pages and the CLI call)."""

from __future__ import annotations

import pytest

from pod_server.idp.accounts import (
    AccountError,
    change_password,
    create_account,
    create_credentials,
    delete_account,
    list_accounts,
    verify_password,
)
from pod_server.idp.crypto import matches
from pod_server.state import IdpState, LoginSession
from tests.unit.conftest import CHEAP

WEBID = "https://alice.example/profile/card#me"
ISSUER = "https://pods.example/"


async def test_create_and_verify(state: IdpState) -> None:
    account = await create_account(
        state, " Alice@Example.org ", "correct horse", WEBID, passwords=CHEAP
    )
    assert account.email == "Alice@Example.org"
    assert account.password_hash.startswith("$argon2id$")
    assert await state.account_webids(account.id) == [WEBID]
    assert await verify_password(state, "alice@example.org", "correct horse", passwords=CHEAP)
    assert await verify_password(state, "alice@example.org", "wrong", passwords=CHEAP) is None
    assert await verify_password(state, "bob@example.org", "correct horse", passwords=CHEAP) is None
    with pytest.raises(AccountError, match="exists already"):
        await create_account(state, "ALICE@example.org", "another one", passwords=CHEAP)


@pytest.mark.parametrize(
    ("email", "password", "webid", "message"),
    [
        ("not-an-email", "long enough", None, "email address"),
        ("a\x00b@c.example", "long enough", None, "email address"),
        ("a@b.exam\x7fple", "long enough", None, "email address"),
        ("a@b.example", "short", None, "at least 8"),
        ("a@b.example", "x" * 1025, None, "at most 1024"),
        ("a@b.example", "long enough", "urn:x:y", "http"),
    ],
)
async def test_refusals(
    state: IdpState, email: str, password: str, webid: str | None, message: str
) -> None:
    with pytest.raises(AccountError, match=message):
        await create_account(state, email, password, webid, passwords=CHEAP)
    assert await state.list_accounts() == []


async def test_a_webid_taken_leaves_no_account(state: IdpState) -> None:
    await create_account(state, "a@example.org", "password 1", WEBID, passwords=CHEAP)
    with pytest.raises(AccountError, match="WebID"):
        await create_account(state, "b@example.org", "password 2", WEBID, passwords=CHEAP)
    assert [s.account.email for s in await list_accounts(state)] == ["a@example.org"]


async def test_change_password_ends_sessions(state: IdpState) -> None:
    account = await create_account(state, "a@example.org", "old password", passwords=CHEAP)
    await state.add_session(LoginSession("s", account.id, 0.0, 1e12))
    await change_password(state, account.id, "new password", passwords=CHEAP)
    assert await verify_password(state, "a@example.org", "new password", passwords=CHEAP)
    assert await verify_password(state, "a@example.org", "old password", passwords=CHEAP) is None
    assert await state.get_session("s", 1.0) is None
    with pytest.raises(AccountError):
        await change_password(state, account.id, "short", passwords=CHEAP)


async def test_credentials(state: IdpState) -> None:
    account = await create_account(state, "a@example.org", "password 1", WEBID, passwords=CHEAP)
    made = await create_credentials(state, ISSUER, account.id, WEBID, "backups")
    assert set(made) == {"client_id", "client_secret", "webid", "issuer"}
    assert ":" not in made["client_id"] and "/" not in made["client_id"]  # never a URL
    stored = await state.get_credential(made["client_id"])
    assert stored is not None and stored.secret_hash != made["client_secret"]
    assert matches(made["client_secret"], stored.secret_hash)
    with pytest.raises(AccountError, match="not linked"):
        await create_credentials(state, ISSUER, account.id, "https://other.example/#me")


async def test_delete_account(state: IdpState) -> None:
    account = await create_account(state, "a@example.org", "password 1", WEBID, passwords=CHEAP)
    made = await create_credentials(state, ISSUER, account.id, WEBID)
    assert await delete_account(state, account.id) == [WEBID]
    assert await state.get_credential(made["client_id"]) is None
    assert await list_accounts(state) == []
