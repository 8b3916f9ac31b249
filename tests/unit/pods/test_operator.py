"""The operator's pure helpers: quotas as typed in a form, and what a pod row shows."""

from __future__ import annotations

import re

import pytest

from pod_server.errors import BadRequest
from pod_server.pods.operator import MAX_QUOTA, PodSummary, parse_quota
from pod_server.settings import SettingsError, admin_list, load
from pod_server.ui import admin_words
from pod_server.ui.admin import is_operator, pod_row


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("", None),
        ("  ", None),
        ("0", 0),
        ("1234", 1234),
        ("500 MB", 500_000_000),
        ("2gb", 2_000_000_000),
        ("1.5 GB", 1_500_000_000),
        ("10 KiB", 10_240),
        ("1 MiB", 1_048_576),
        ("20 KB", 20_000),
        ("7 B", 7),
        ("3k", 3000),
    ],
)
def test_quotas_people_type(text: str, size: int | None) -> None:
    assert parse_quota(text) == size


@pytest.mark.parametrize(
    "text", ["lots", "-5", "1 XB", "GB", "1..2 MB", "9999999 TB", "nan", "1e400"]
)
def test_sizes_that_are_not(text: str) -> None:
    with pytest.raises(BadRequest):
        parse_quota(text)


def test_the_largest_quota() -> None:
    assert parse_quota(str(MAX_QUOTA)) == MAX_QUOTA


def summary(**changes: object) -> PodSummary:
    values: dict[str, object] = {
        "name": "alice",
        "url": "https://pod.example/alice/",
        "owner": "https://pod.example/alice/profile/card#me",
        "email": "alice@example.org",
        "used": 1500,
        "limit": None,
        "default_limit": None,
        "suspended_since": None,
    }
    values.update(changes)
    return PodSummary(**values)  # type: ignore[arg-type]


def test_a_pod_row_in_both_languages() -> None:
    en, fr = admin_words.translator("en"), admin_words.translator("fr")
    row = pod_row(summary(), en, "en")
    assert row["quota_text"] == "no limit" and row["status_text"] == "active"
    assert row["used_text"] == "1.5 KB" and row["limit"] is None and row["quota_value"] == ""
    row = pod_row(summary(default_limit=10_000), en, "en")
    assert row["quota_text"] == "server default (10.0 KB)" and row["limit"] == 10_000
    row = pod_row(summary(limit=2000, suspended_since="2026-12-07T04:00:00Z"), fr, "fr")
    assert row["quota_text"] == "2,0 ko" and row["quota_value"] == "2000"
    assert row["suspended"] and row["status_text"] == "depuis le 2026-12-07"


def test_every_operator_word_exists_in_both_languages() -> None:
    en, fr = admin_words.MESSAGES["en"], admin_words.MESSAGES["fr"]
    assert en.keys() == fr.keys()
    for key in en:
        assert set(re.findall(r"{(\w+)}", en[key])) == set(re.findall(r"{(\w+)}", fr[key])), key


def test_operators_are_named_by_the_setting() -> None:
    admins = frozenset(admin_list("https://a.example/#me, https://b.example/#me"))
    assert is_operator(["https://x.example/#me", "https://b.example/#me"], admins)
    assert not is_operator(["https://x.example/#me"], admins)
    assert not is_operator([], admins)
    assert not is_operator(["https://a.example/#me"], frozenset())


def test_the_admin_setting_from_flags_env_and_toml(tmp_path) -> None:  # type: ignore[no-untyped-def]
    flags = load({"admin": ["https://a.example/#me", "https://b.example/#me"]}, env={})
    assert flags.admins == {"https://a.example/#me", "https://b.example/#me"}
    env = load({}, env={"POD_ADMIN": "https://c.example/#me https://d.example/#me"})
    assert env.admins == {"https://c.example/#me", "https://d.example/#me"}
    config = tmp_path / "pod.toml"
    config.write_text('[server]\nadmin = ["https://e.example/#me"]\n', encoding="utf-8")
    assert load({"config": str(config)}, env={}).admins == {"https://e.example/#me"}
    assert load({}, env={}).admins == frozenset()
    config.write_text("[server]\nadmin = [1]\n", encoding="utf-8")
    with pytest.raises(SettingsError):
        load({"config": str(config)}, env={})
    with pytest.raises(SettingsError):
        load({}, env={"POD_ADMIN": "alice"})  # not a WebID
