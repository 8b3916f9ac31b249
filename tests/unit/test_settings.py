from __future__ import annotations

from pathlib import Path

import pytest

from pod_server.settings import Settings, SettingsError, load, with_env


def test_defaults() -> None:
    s = load({}, env={})
    assert s == Settings()
    assert s.public_base == "http://127.0.0.1:3000/"


def test_precedence_file_then_env_then_flags(tmp_path: Path) -> None:
    config = tmp_path / "pod.toml"
    config.write_text('port = 4000\nroot = "/srv/file"\n[server]\nhost = "127.0.0.2"\n')
    env = {"POD_CONFIG": str(config), "POD_PORT": "5000"}
    s = load({"root": "/srv/flag", "port": None}, env=env)
    assert (s.port, s.root, s.host) == (5000, Path("/srv/flag"), "127.0.0.2")
    assert s.config == config


def test_base_url_behind_proxy() -> None:
    s = load({"base_url": "https://pods.example/alice"}, env={})
    assert s.public_base == "https://pods.example/alice/"
    assert s.base_path == "/alice/"


@pytest.mark.parametrize(
    ("flags", "env", "message"),
    [
        ({"port": "x"}, {}, "port"),
        ({}, {"POD_PORT": "70000"}, "out of range"),
        ({"base_url": "ftp://x/"}, {}, "http"),
        ({"base_url": "http://x/?q=1"}, {}, "query"),
        ({"nonsense": 1}, {}, "unknown setting"),
        ({"config": "/does/not/exist.toml"}, {}, "cannot read"),
    ],
)
def test_bad_settings_say_what_is_wrong(
    flags: dict[str, object], env: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        load(flags, env=env)


def test_bad_toml(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("port = = 1")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load({"config": str(config)}, env={})


def test_booleans_and_owner() -> None:
    s = load({"open": None}, env={"POD_OPEN": "yes", "POD_OWNER": "https://me.example/card#me"})
    assert s.open is True and s.owner == "https://me.example/card#me"
    with pytest.raises(SettingsError, match="open"):
        load({}, env={"POD_OPEN": "perhaps"})
    with pytest.raises(SettingsError, match="WebID"):
        load({"owner": "alice"}, env={})


def test_workers_and_replay_cache() -> None:
    assert not load({}, env={}).shared_replay_cache
    assert load({"workers": 2}, env={}).shared_replay_cache
    assert load({"storage": "postgresql://h/db"}, env={}).shared_replay_cache
    assert not load(
        {"storage": "postgresql://h/db", "replay_cache": "memory"}, env={}
    ).shared_replay_cache
    with pytest.raises(SettingsError, match="several workers"):
        load({"workers": 2, "replay_cache": "memory"}, env={})
    for bad, message in (({"workers": 0}, "workers"), ({"replay_cache": "x"}, "replay cache")):
        with pytest.raises(SettingsError, match=message):
            load(bad, env={})


def test_storage_url_schema() -> None:
    from pod_server.storage.pg_url import split_schema

    assert split_schema("postgresql://u@h/db") == ("postgresql://u@h/db", None)
    assert split_schema("postgresql://u@h/db?schema=pods&sslmode=require") == (
        "postgresql://u@h/db?sslmode=require",
        "pods",
    )
    for bad in ("postgresql://h/db?schema=a;drop", "postgresql://h/db?schema=a&schema=b"):
        with pytest.raises(SettingsError, match="schema"):
            load({"storage": bad}, env={})


def test_notification_settings(tmp_path: Path) -> None:
    config = tmp_path / "pod.toml"
    config.write_text(
        "[server]\nnotify_poll_interval = 1\nnotify_webhook_private_targets = true\n"
        "notify_legacy_websocket = false\n"
    )
    s = load({"config": str(config)}, env={"POD_NOTIFY_SEND_TIMEOUT": "2.5"})
    assert s.notify_poll_interval == 1.0 and s.notify_send_timeout == 2.5
    assert s.notify_webhook_private_targets is True and s.notify_legacy_websocket is False
    assert load({}, env={}).notify_webhook_private_targets is None  # automatic
    only = with_env(Settings(), {"POD_NOTIFY_QUEUE_SIZE": "7", "POD_PORT": "1"}, prefix="notify_")
    assert only.notify_queue_size == 7 and only.port == Settings().port


@pytest.mark.parametrize(
    ("toml", "env", "message"),
    [
        ("", {"POD_NOTIFY_QUEUE_SIZE": "0"}, "notify queue size must be positive"),
        ("", {"POD_NOTIFY_EVENT_RETENTION": "nan"}, "notify event retention must be positive"),
        ("", {"POD_NOTIFY_SEND_TIMEOUT": "-1"}, "notify send timeout must be positive"),
        ("", {"POD_NOTIFY_QUEUE_SIZE": "many"}, r"POD_NOTIFY_QUEUE_SIZE\): cannot use 'many'"),
        ("", {"POD_NOTIFY_LEGACY_WEBSOCKET": "perhaps"}, "POD_NOTIFY_LEGACY_WEBSOCKET"),
        ('notify_poll_interval = "fast"\n', {}, "notify_poll_interval.*must be a number"),
        ("notify_queue_size = 1.5\n", {}, "notify_queue_size.*must be a whole number"),
        ("notify_webhook_private_targets = 1\n", {}, "must be true or false"),
    ],
)
def test_bad_notification_settings(
    tmp_path: Path, toml: str, env: dict[str, str], message: str
) -> None:
    config = tmp_path / "pod.toml"
    config.write_text(toml)
    with pytest.raises(SettingsError, match=message):
        load({"config": str(config)}, env=env)


def test_audit_settings() -> None:
    assert (Settings().audit_retention_days, Settings().audit_checkpoint_every) == (0, 1000)
    env = {"POD_AUDIT_RETENTION_DAYS": "365", "POD_AUDIT_CHECKPOINT_EVERY": "50"}
    s = load({}, env)
    assert (s.audit_retention_days, s.audit_checkpoint_every) == (365, 50)
    with pytest.raises(SettingsError, match="audit"):
        load({"audit_retention_days": -1}, {})
