"""A sign-in is recorded in each storage the person's WebIDs own, and nowhere else; a
storage that cannot be written does not undo the sign-in."""

from __future__ import annotations

from typing import Any

from pod_server.audit.entry import Action, AuditEntry
from pod_server.audit.sign_in import sign_in_recorder

BASE = "https://pods.example/"
ALICE = BASE + "alice/profile/card#me"
ELSEWHERE = "https://other.example/#me"


class Backend:
    def __init__(self, fail: bool = False) -> None:
        self.logged: list[Any] = []
        self.fail = fail

    async def apply(self, mutations: list[Any], logs: list[Any]) -> None:
        if self.fail:
            raise OSError("disk full")
        self.logged += logs


async def storage_of(webid: str) -> str | None:
    return BASE + "alice/" if webid.startswith(BASE) else BASE + "shared/"


def local_path(url: str) -> str | None:
    return url[len(BASE) - 1 :] if url.startswith(BASE) else None


async def owners_of(root: str) -> frozenset[str]:
    return frozenset({ALICE}) if root == "/alice/" else frozenset()


async def test_a_sign_in_is_logged_in_the_owned_storage_only() -> None:
    backend = Backend()
    record = sign_in_recorder(backend, storage_of, local_path, owners_of)  # type: ignore[arg-type]
    await record([ALICE, ELSEWHERE])
    assert len(backend.logged) == 1
    entry = AuditEntry.parse(backend.logged[0].body)
    assert (entry.root, entry.action, entry.agent, entry.outcome) == (
        "/alice/",
        Action.SIGN_IN,
        ALICE,
        200,
    )
    await record([ELSEWHERE])  # owns nothing here: nothing logged
    assert len(backend.logged) == 1


async def test_a_log_that_cannot_be_written_does_not_fail_the_sign_in() -> None:
    record = sign_in_recorder(Backend(fail=True), storage_of, local_path, owners_of)  # type: ignore[arg-type]
    await record([ALICE])  # logged as an error, no exception
