"""A server that cannot start says why in one line on stderr, never with a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import free_socket

REPO = Path(__file__).resolve().parents[2]


def pod_server(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POD_")}
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [sys.executable, "-m", "pod_server.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def assert_one_line(result: subprocess.CompletedProcess[str], status: int, *words: str) -> str:
    assert result.returncode == status, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("pod-server: ")
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def taken_port() -> Iterator[int]:
    sock = free_socket()
    sock.listen()  # bound and listening: nobody else can have the port
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


def test_port_in_use(tmp_path: Path, taken_port: int) -> None:
    result = pod_server(
        "serve", "--root", str(tmp_path / "d"), "--port", str(taken_port), cwd=tmp_path
    )
    assert_one_line(result, 1, f"127.0.0.1:{taken_port}", "address already in use")


def _a_file(tmp_path: Path) -> Path:
    (tmp_path / "file").write_text("x")
    return tmp_path / "file"


def _under_a_file(tmp_path: Path) -> Path:
    return _a_file(tmp_path) / "data"


def _read_only(tmp_path: Path) -> Path:
    if os.geteuid() == 0:  # root writes through permission bits: sysfs refuses new files
        return Path("/sys/kernel")
    tmp_path.joinpath("ro").mkdir(mode=0o555)
    return tmp_path / "ro"


@pytest.mark.parametrize(
    ("make_root", "words"),
    [
        (_a_file, ("is not a directory",)),
        (_under_a_file, ("cannot create storage root", "not a directory")),
        (_read_only, ("is not writable", "permission denied")),
    ],
)
def test_unusable_root(
    tmp_path: Path, make_root: Callable[[Path], Path], words: tuple[str, ...]
) -> None:
    root = make_root(tmp_path)
    port = str(_free_port())
    assert_one_line(
        pod_server("serve", "--root", str(root), "--port", port, cwd=tmp_path), 1, *words
    )
    # The account commands open the same storage and say the same.
    listing = pod_server("user", "list", "--multiuser", "--root", str(root), cwd=tmp_path)
    assert_one_line(listing, 1, *words)


def test_postgresql_unreachable(tmp_path: Path) -> None:
    url = "postgresql://nobody:secret@127.0.0.1:1/x"
    result = pod_server("serve", "--storage", url, "--port", str(_free_port()), cwd=tmp_path)
    line = assert_one_line(result, 1, "cannot reach PostgreSQL at nobody@127.0.0.1:1/x")
    assert "secret" not in line
    assert_one_line(pod_server("db", "upgrade", "--storage", url, cwd=tmp_path), 1, "PostgreSQL")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (None, ("cannot read config file", "No such file")),
        ("port = = 1\n", ("is not valid TOML",)),
        ("colour = 'blue'\n", ("unknown setting 'colour'",)),
        ("[server]\nprot = 3000\n", ("unknown setting 'prot'",)),
        ("[srever]\nport = 3000\n", ("unknown table [srever]",)),
        ("port = '80'\n", ("'port'", "whole number")),
        ("port = 3.5\n", ("'port'", "whole number")),
        ("open = 1\n", ("'open'", "true or false")),
        ("root = 7\n", ("'root'", "a string")),
        ("port = 99999\n", ("out of range",)),
    ],
)
def test_bad_config_file(tmp_path: Path, text: str | None, words: tuple[str, ...]) -> None:
    config = tmp_path / "pod.toml"
    if text is not None:
        config.write_text(text)
    result = pod_server("serve", "--config", str(config), cwd=tmp_path)
    assert_one_line(result, 2, *words)
    assert not (tmp_path / "data").exists()  # nothing was started or made


def _free_port() -> int:
    sock = free_socket()
    port: int = sock.getsockname()[1]
    sock.close()
    return port
