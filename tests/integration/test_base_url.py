"""A storage remembers the base URL its pods were made for: ``serve`` and the ``user``
commands refuse another one (one line naming both), on files and on PostgreSQL."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from pod_server.pods import base_url
from pod_server.settings import Settings, StartupError
from tests.integration.test_access_log import serve
from tests.integration.test_startup_errors import assert_one_line, pod_server
from tests.unit.storage.pg_support import schema_for, session_dsn

PASSWORD = "a long passphrase"


def user(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return pod_server("user", *args, "--multiuser", cwd=cwd)


def add_bob(cwd: Path, *where: str) -> subprocess.CompletedProcess[str]:
    (cwd / "pw").write_text(PASSWORD)
    return user(cwd, "add", "bob", "--email", "bob@example.org", "--password-file", "pw", *where)


async def test_serve_records_its_base_url_and_refuses_another(tmp_path: Path) -> None:
    root = tmp_path / "data"
    async with serve(root, "--multiuser") as (base, _stderr):
        pass
    assert (root / base_url.FILE_NAME).read_text().strip() == base
    port = base.rsplit(":", 1)[1].strip("/")
    other = str(int(port) + 1)
    refused = pod_server("serve", "--multiuser", "--root", str(root), "--port", other, cwd=tmp_path)
    line = assert_one_line(refused, 1, base, f"http://127.0.0.1:{other}/", "export and import")
    assert "--base-url" in line
    # The account commands: another port is refused before anything is made...
    refused = add_bob(tmp_path, "--root", str(root), "--port", other)
    assert_one_line(refused, 1, base, f"http://127.0.0.1:{other}/")
    listing = user(tmp_path, "list", "--json", "--root", str(root), "--base-url", base)
    assert listing.returncode == 0, listing.stderr
    assert json.loads(listing.stdout) == []
    # ...the server's own settings work, given as --port or as --base-url (any case).
    made = add_bob(tmp_path, "--root", str(root), "--port", port)
    assert made.returncode == 0, made.stderr
    assert f"pod {base}bob/" in made.stdout
    listing = user(tmp_path, "list", "--json", "--root", str(root), "--base-url", base.upper())
    assert [u["name"] for u in json.loads(listing.stdout)] == ["bob"]
    assert_one_line(user(tmp_path, "list", "--root", str(root)), 1, base)  # default port 3000


def test_first_user_add_records_the_base_url(tmp_path: Path) -> None:
    root = tmp_path / "data"
    listing = user(tmp_path, "list", "--root", str(root), "--port", "4100")
    assert listing.returncode == 0 and not (root / base_url.FILE_NAME).exists()  # reads only
    made = add_bob(tmp_path, "--root", str(root), "--base-url", "https://pods.example/")
    assert made.returncode == 0, made.stderr
    assert (root / base_url.FILE_NAME).read_text().strip() == "https://pods.example/"
    refused = pod_server(
        "serve", "--multiuser", "--root", str(root), "--port", "4100", cwd=tmp_path
    )
    assert_one_line(refused, 1, "https://pods.example/", "http://127.0.0.1:4100/")


@pytest.fixture
def pg_storage(tmp_path: Path) -> str:
    return f"{session_dsn()}?schema={schema_for(str(tmp_path) + '-base-url')}"


def test_postgresql_storage_keeps_its_base_url(tmp_path: Path, pg_storage: str) -> None:
    mine = Settings(storage=pg_storage, base_url="https://a.example/pods/")
    base_url.check(replace_base(mine, "https://b.example/"), record=False)  # nothing yet
    base_url.check(mine, record=True)
    base_url.check(mine, record=True)  # the same again: fine
    base_url.check(replace_base(mine, "HTTPS://A.example/pods"), record=False)
    with pytest.raises(StartupError, match=r"made for https://a\.example/pods/, not https://b"):
        base_url.check(replace_base(mine, "https://b.example/"), record=True)
    refused = pod_server(
        "serve", "--multiuser", "--storage", pg_storage, "--port", "4101", cwd=tmp_path
    )
    assert_one_line(refused, 1, "https://a.example/pods/", "http://127.0.0.1:4101/")
    refused = add_bob(tmp_path, "--storage", pg_storage)
    assert_one_line(refused, 1, "https://a.example/pods/", "http://127.0.0.1:3000/")


def replace_base(settings: Settings, url: str) -> Settings:
    return replace(settings, base_url=url)
