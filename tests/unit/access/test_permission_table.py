"""The permission table: which request is allowed with which granted modes.

Each row is one request: the operation, whether its target exists, the modes the
requester holds on the parent container and on the target (for an ``.acl`` target:
on the resource the ACL controls), and the verdict for an anonymous and for an
authenticated requester holding exactly those modes. Modes are spelled with letters:
r(ead) w(rite) a(ppend) c(ontrol), ``-`` for none.
"""

from __future__ import annotations

from typing import Any

import pytest

from pod_server.access import Decision, Mode, Requirements, decide, required_modes
from pod_server.access.owners import owner_modes

ALLOW = Decision.ALLOW
E401 = Decision.UNAUTHENTICATED
E403 = Decision.FORBIDDEN

_LETTERS = {"r": Mode.READ, "w": Mode.WRITE, "a": Mode.APPEND, "c": Mode.CONTROL}


def m(letters: str) -> Mode:
    mode = Mode(0)
    for letter in letters.replace("-", ""):
        mode |= _LETTERS[letter]
    return mode


# Operation name -> (HTTP method, what the PATCH document does).
OPERATIONS: dict[str, tuple[str, dict[str, bool]]] = {
    "GET": ("GET", {}),
    "HEAD": ("HEAD", {}),
    "OPTIONS": ("OPTIONS", {}),
    "POST": ("POST", {}),
    "PUT": ("PUT", {}),
    "DELETE": ("DELETE", {}),
    "PATCH insert": ("PATCH", {"patch_inserts": True}),
    "PATCH delete": ("PATCH", {"patch_deletes": True}),
    "PATCH delete+insert": ("PATCH", {"patch_deletes": True, "patch_inserts": True}),
    "PATCH where+insert": ("PATCH", {"patch_where": True, "patch_inserts": True}),
    "PATCH where": ("PATCH", {"patch_where": True}),
    "PATCH empty": ("PATCH", {}),
}


def requirements(operation: str, *, exists: bool, is_acl: bool) -> Requirements:
    method, patch = OPERATIONS[operation]
    return required_modes(method, target_exists=exists, is_acl=is_acl, **patch)


# fmt: off
REQUIRED = [
    # operation,            exists, is_acl, target, parent
    ("GET",                 True,   False,  "r",    "-"),
    ("GET",                 False,  False,  "r",    "-"),   # same answer: no existence leak
    ("HEAD",                True,   False,  "r",    "-"),
    ("OPTIONS",             True,   False,  "-",    "-"),
    ("OPTIONS",             False,  False,  "-",    "-"),
    ("POST",                True,   False,  "a",    "-"),   # target is the container
    ("POST",                False,  False,  "a",    "-"),
    ("PUT",                 True,   False,  "w",    "-"),
    ("PUT",                 False,  False,  "w",    "a"),   # create: append on parent
    ("DELETE",              True,   False,  "w",    "w"),
    ("DELETE",              False,  False,  "w",    "w"),
    ("PATCH insert",        True,   False,  "a",    "-"),
    ("PATCH insert",        False,  False,  "a",    "a"),
    ("PATCH delete",        True,   False,  "rw",   "-"),
    ("PATCH delete+insert", True,   False,  "rwa",  "-"),
    ("PATCH where+insert",  True,   False,  "ra",   "-"),
    ("PATCH where+insert",  False,  False,  "ra",   "a"),
    ("PATCH where",         True,   False,  "r",    "-"),
    ("PATCH empty",         True,   False,  "a",    "-"),
    ("GET",                 True,   True,   "c",    "-"),
    ("HEAD",                True,   True,   "c",    "-"),
    ("OPTIONS",             True,   True,   "c",    "-"),
    ("PUT",                 True,   True,   "c",    "-"),
    ("PUT",                 False,  True,   "c",    "-"),   # creating an .acl: Control only
    ("PATCH delete+insert", True,   True,   "c",    "-"),
    ("PATCH insert",        False,  True,   "c",    "-"),
    ("DELETE",              True,   True,   "c",    "-"),
]

PERMISSION_TABLE = [
    # operation,            exists, parent, target, is_acl, anonymous, authenticated
    # -- read: Read on the target, nothing else helps --------------------------------
    ("GET",                 True,   "-",    "r",    False,  ALLOW,     ALLOW),
    ("GET",                 True,   "-",    "-",    False,  E401,      E403),
    ("GET",                 True,   "rwac", "-",    False,  E401,      E403),
    ("GET",                 True,   "-",    "wac",  False,  E401,      E403),
    ("GET",                 True,   "-",    "c",    False,  E401,      E403),   # Control is not Read
    ("GET",                 False,  "-",    "r",    False,  ALLOW,     ALLOW),   # then 404
    ("GET",                 False,  "-",    "-",    False,  E401,      E403),
    ("HEAD",                True,   "-",    "r",    False,  ALLOW,     ALLOW),
    ("HEAD",                True,   "-",    "a",    False,  E401,      E403),
    # -- OPTIONS: no mode needed ------------------------------------------------------
    ("OPTIONS",             True,   "-",    "-",    False,  ALLOW,     ALLOW),
    ("OPTIONS",             False,  "-",    "-",    False,  ALLOW,     ALLOW),
    # -- POST to a container: Append (or Write) on the container -----------------------
    ("POST",                True,   "-",    "a",    False,  ALLOW,     ALLOW),
    ("POST",                True,   "-",    "w",    False,  ALLOW,     ALLOW),
    ("POST",                True,   "-",    "r",    False,  E401,      E403),
    ("POST",                True,   "rwa",  "-",    False,  E401,      E403),   # grandparent rights don't count
    ("POST",                False,  "-",    "a",    False,  ALLOW,     ALLOW),   # then 404
    # -- PUT overwriting: Write on the target ----------------------------------------
    ("PUT",                 True,   "-",    "w",    False,  ALLOW,     ALLOW),
    ("PUT",                 True,   "-",    "ra",   False,  E401,      E403),   # Append is not Write
    ("PUT",                 True,   "rwa",  "-",    False,  E401,      E403),
    ("PUT",                 True,   "-",    "c",    False,  E401,      E403),
    # -- PUT creating: Append (or Write) on the parent and Write on the new resource ---
    ("PUT",                 False,  "a",    "w",    False,  ALLOW,     ALLOW),
    ("PUT",                 False,  "w",    "w",    False,  ALLOW,     ALLOW),
    ("PUT",                 False,  "-",    "w",    False,  E401,      E403),
    ("PUT",                 False,  "r",    "w",    False,  E401,      E403),
    ("PUT",                 False,  "a",    "a",    False,  E401,      E403),
    ("PUT",                 False,  "a",    "-",    False,  E401,      E403),
    # -- PATCH that only inserts: Append on the target ---------------------------------
    ("PATCH insert",        True,   "-",    "a",    False,  ALLOW,     ALLOW),
    ("PATCH insert",        True,   "-",    "w",    False,  ALLOW,     ALLOW),
    ("PATCH insert",        True,   "-",    "r",    False,  E401,      E403),
    ("PATCH insert",        True,   "a",    "-",    False,  E401,      E403),
    # -- PATCH that deletes: Read and Write on the target ------------------------------
    ("PATCH delete",        True,   "-",    "rw",   False,  ALLOW,     ALLOW),
    ("PATCH delete",        True,   "-",    "w",    False,  E401,      E403),
    ("PATCH delete",        True,   "-",    "ra",   False,  E401,      E403),
    ("PATCH delete",        True,   "-",    "r",    False,  E401,      E403),
    ("PATCH delete+insert", True,   "-",    "rw",   False,  ALLOW,     ALLOW),
    ("PATCH delete+insert", True,   "-",    "ra",   False,  E401,      E403),
    # -- PATCH with a WHERE clause: Read too -------------------------------------------
    ("PATCH where+insert",  True,   "-",    "ra",   False,  ALLOW,     ALLOW),
    ("PATCH where+insert",  True,   "-",    "a",    False,  E401,      E403),
    ("PATCH where+insert",  True,   "-",    "r",    False,  E401,      E403),
    ("PATCH where",         True,   "-",    "r",    False,  ALLOW,     ALLOW),
    ("PATCH where",         True,   "-",    "a",    False,  E401,      E403),
    # -- PATCH with nothing in it: still needs Append -----------------------------------
    ("PATCH empty",         True,   "-",    "a",    False,  ALLOW,     ALLOW),
    ("PATCH empty",         True,   "-",    "r",    False,  E401,      E403),
    # -- PATCH creating: Append on the parent, the patch's modes on the new resource ---
    ("PATCH insert",        False,  "a",    "a",    False,  ALLOW,     ALLOW),
    ("PATCH insert",        False,  "w",    "w",    False,  ALLOW,     ALLOW),
    ("PATCH insert",        False,  "-",    "a",    False,  E401,      E403),
    ("PATCH insert",        False,  "a",    "-",    False,  E401,      E403),
    ("PATCH where+insert",  False,  "a",    "ra",   False,  ALLOW,     ALLOW),
    ("PATCH where+insert",  False,  "a",    "a",    False,  E401,      E403),
    # -- DELETE: Write on the target and on its container ------------------------------
    ("DELETE",              True,   "w",    "w",    False,  ALLOW,     ALLOW),
    ("DELETE",              True,   "a",    "w",    False,  E401,      E403),   # Append is not enough
    ("DELETE",              True,   "-",    "w",    False,  E401,      E403),
    ("DELETE",              True,   "w",    "a",    False,  E401,      E403),
    ("DELETE",              True,   "w",    "-",    False,  E401,      E403),
    ("DELETE",              True,   "rac",  "rac",  False,  E401,      E403),
    ("DELETE",              False,  "w",    "w",    False,  ALLOW,     ALLOW),   # then 404
    # -- ACL resources: Control on the controlled resource, and only that --------------
    ("GET",                 True,   "-",    "c",    True,   ALLOW,     ALLOW),
    ("GET",                 True,   "-",    "r",    True,   E401,      E403),
    ("GET",                 False,  "-",    "c",    True,   ALLOW,     ALLOW),   # then 404
    ("HEAD",                True,   "-",    "c",    True,   ALLOW,     ALLOW),
    ("OPTIONS",             True,   "-",    "-",    True,   E401,      E403),
    ("OPTIONS",             True,   "-",    "c",    True,   ALLOW,     ALLOW),
    ("PUT",                 True,   "-",    "c",    True,   ALLOW,     ALLOW),
    ("PUT",                 True,   "rwa",  "rwa",  True,   E401,      E403),
    ("PUT",                 False,  "-",    "c",    True,   ALLOW,     ALLOW),   # create .acl
    ("PATCH delete+insert", True,   "-",    "c",    True,   ALLOW,     ALLOW),
    ("PATCH insert",        True,   "-",    "a",    True,   E401,      E403),
    ("DELETE",              True,   "-",    "c",    True,   ALLOW,     ALLOW),
    ("DELETE",              True,   "w",    "w",    True,   E401,      E403),
    ("POST",                True,   "-",    "c",    True,   ALLOW,     ALLOW),   # then 405
]
# fmt: on


ALICE = "https://alice.example/profile#me"
BOB = "https://bob.example/profile#me"
OWNERS = frozenset({ALICE})

# The storage's owner holds Control on every resource of it, whatever the ACL grants
# (``target``: what the ACL alone gives the requester); Control, and nothing more.
OWNER_TABLE = [
    # operation,            exists, parent, target, is_acl, requester, verdict
    ("GET", True, "-", "-", True, ALICE, ALLOW),  # her ACL, though it names only bob
    ("HEAD", True, "-", "-", True, ALICE, ALLOW),
    ("PUT", True, "-", "-", True, ALICE, ALLOW),  # repair it
    ("PUT", False, "-", "-", True, ALICE, ALLOW),  # or create one
    ("PATCH delete+insert", True, "-", "-", True, ALICE, ALLOW),
    ("DELETE", True, "-", "-", True, ALICE, ALLOW),
    ("GET", True, "-", "-", False, ALICE, E403),  # Control is not Read
    ("PUT", True, "-", "-", False, ALICE, E403),
    ("DELETE", True, "w", "-", False, ALICE, E403),
    ("POST", True, "-", "-", False, ALICE, E403),
    ("GET", True, "-", "r", False, ALICE, ALLOW),  # what the ACL gives still counts
    ("GET", True, "-", "-", True, BOB, E403),  # not an owner
    ("PUT", True, "-", "-", True, BOB, E403),
    ("DELETE", True, "-", "-", True, None, E401),  # anonymous: never an owner
]


def _row_id(row: tuple[Any, ...]) -> str:
    operation, exists, parent, target, is_acl = row[:5]
    where = ".acl" if is_acl else ("existing" if exists else "new")
    return f"{operation} {where} parent={parent} target={target}"


@pytest.mark.parametrize(
    ("operation", "exists", "is_acl", "target", "parent"),
    REQUIRED,
    ids=[f"{r[0]} {'.acl' if r[2] else ('existing' if r[1] else 'new')}" for r in REQUIRED],
)
def test_required_modes(
    operation: str, exists: bool, is_acl: bool, target: str, parent: str
) -> None:
    assert requirements(operation, exists=exists, is_acl=is_acl) == Requirements(
        target=m(target), parent=m(parent)
    )


@pytest.mark.parametrize(
    ("operation", "exists", "parent", "target", "is_acl", "anonymous", "authenticated"),
    PERMISSION_TABLE,
    ids=[_row_id(row) for row in PERMISSION_TABLE],
)
def test_permission_table(
    operation: str,
    exists: bool,
    parent: str,
    target: str,
    is_acl: bool,
    anonymous: Decision,
    authenticated: Decision,
) -> None:
    required = requirements(operation, exists=exists, is_acl=is_acl)
    assert decide(required, m(target), m(parent), authenticated=False) is anonymous
    assert decide(required, m(target), m(parent), authenticated=True) is authenticated


@pytest.mark.parametrize(
    ("operation", "exists", "parent", "target", "is_acl", "requester", "verdict"),
    OWNER_TABLE,
    ids=[f"{_row_id(row)} {'owner' if row[5] == ALICE else row[5]}" for row in OWNER_TABLE],
)
def test_owner_table(
    operation: str,
    exists: bool,
    parent: str,
    target: str,
    is_acl: bool,
    requester: str | None,
    verdict: Decision,
) -> None:
    required = requirements(operation, exists=exists, is_acl=is_acl)
    granted = m(target) | owner_modes(requester, OWNERS)
    assert decide(required, granted, m(parent), authenticated=requester is not None) is verdict


def test_tables_cover_every_operation_allowed_and_denied() -> None:
    assert {row[0] for row in REQUIRED} == set(OPERATIONS)
    assert {row[0] for row in PERMISSION_TABLE if row[5] is ALLOW} == set(OPERATIONS)
    assert {row[0] for row in PERMISSION_TABLE if row[5] is not ALLOW} == set(OPERATIONS)


def test_write_granted_by_hand_still_implies_append() -> None:
    required = Requirements(target=Mode.APPEND, parent=Mode.APPEND)
    assert decide(required, Mode.WRITE, Mode.WRITE, authenticated=True) is ALLOW


def test_unknown_method_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="PROPFIND"):
        required_modes("PROPFIND", target_exists=True, is_acl=False)
