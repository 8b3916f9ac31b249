"""The ``pod`` command line against our pod server on loopback: through ``main(args)``
(the server runs in a thread of its own, so the CLI's ``asyncio.run`` is free) and once
as a subprocess."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from client.cli import main
from pod_server.cli import main as server_cli
from pod_server.storage.file import FileBackend
from tests.integration.test_client import Host, Server, browser_for, unique

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with Host(tmp_path_factory.mktemp("cli-host")) as server:
        yield server


class Pod:
    """Runs ``pod`` with a config dir of its own; keeps the output."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.out = self.err = ""

    def __call__(self, *args: str, **kw: object) -> int:
        out, err = io.StringIO(), io.StringIO()
        old = os.environ.get("POD_CONFIG_DIR")
        os.environ["POD_CONFIG_DIR"] = str(self.config)
        try:
            code = main(list(args), stdout=out, stderr=err, **kw)  # type: ignore[arg-type]
        finally:
            if old is None:
                del os.environ["POD_CONFIG_DIR"]
            else:
                os.environ["POD_CONFIG_DIR"] = old
        self.out, self.err = out.getvalue(), err.getvalue()
        return code

    def json(self) -> object:
        return json.loads(self.out)


def signed_in(host: Server, tmp_path: Path, name: str = "alice") -> Pod:
    pod = Pod(tmp_path / f"config-{name}")
    creds = tmp_path / f"{name}.json"
    creds.write_text(json.dumps(host.creds[name]))
    assert pod("login", "--client-credentials", str(creds)) == 0, pod.err
    return pod


def test_login_whoami_logout(host: Server, tmp_path: Path) -> None:
    pod = Pod(tmp_path / "config")
    assert pod("whoami") == 3 and "Not signed in" in pod.out
    creds = tmp_path / "creds.json"
    creds.write_text(json.dumps(host.creds["alice"]))
    assert pod("login", "--client-credentials", str(creds)) == 0, pod.err
    assert host.creds["alice"]["webid"] in pod.out
    saved = tmp_path / "config" / "sessions" / "default.json"
    assert saved.stat().st_mode & 0o777 == 0o600
    assert pod("whoami", "--json") == 0
    info = pod.json()
    assert isinstance(info, dict) and info["webid"] == host.creds["alice"]["webid"]
    assert info["kind"] == "client_credentials" and info["renewable"] is True
    assert pod("logout") == 0 and "Signed out" in pod.out
    assert not saved.exists()
    assert pod("whoami") == 3
    bad = tmp_path / "bad.json"
    bad.write_text('{"client_id": "x"}')
    assert pod("login", "--client-credentials", str(bad)) == 2 and "client_secret" in pod.err
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({**host.creds["alice"], "client_secret": "nope"}))
    assert pod("login", "--client-credentials", str(wrong)) == 3
    assert "invalid_client" in pod.err
    assert pod("login") == 2 and "--issuer" in pod.err


def test_login_in_the_browser(host: Server, tmp_path: Path) -> None:
    pod = Pod(tmp_path / "config")
    code = pod(
        "login",
        "--issuer",
        host.base,
        "--profile",
        "me",
        open_browser=browser_for("bob@example.org"),
    )
    assert code == 0, pod.err
    assert host.creds["bob"]["webid"] in pod.out
    assert pod("whoami", "--profile", "me", "--json") == 0
    assert pod.json()["kind"] == "authorization_code"  # type: ignore[index]
    assert pod("ls", "--profile", "me") == 0 and "settings/" in pod.out.split()
    assert pod("logout", "--profile", "me") == 0


def test_files_and_containers(host: Server, tmp_path: Path) -> None:
    pod = signed_in(host, tmp_path)
    base = host.pod() + unique("cli") + "/"
    assert pod("mkdir", base + "docs") == 0
    assert pod("mkdir", base + "docs/") == 0 and "already there" in pod.out
    (tmp_path / "hello.txt").write_text("hello pod")
    assert pod("put", str(tmp_path / "hello.txt"), base + "docs/") == 0, pod.err
    assert pod("cat", base + "docs/hello.txt") == 0 and pod.out == "hello pod"
    (tmp_path / "card.ttl").write_text('<#me> <http://schema.org/name> "Me".')
    assert pod("put", str(tmp_path / "card.ttl"), base + "card.ttl") == 0
    assert pod("cat", base + "card.ttl", "--as", "ntriples") == 0
    assert f'<{base}card.ttl#me> <http://schema.org/name> "Me" .' in pod.out
    assert pod("cat", base + "card.ttl", "--as", "jsonld") == 0
    assert json.loads(pod.out)["schema:name"] == "Me"
    assert pod("ls", "-l", base) == 0
    lines = pod.out.splitlines()
    assert any(line.startswith("d ") and line.endswith("docs/") for line in lines)
    assert any(line.startswith("- ") and line.endswith("card.ttl") for line in lines)
    assert pod("--json", "ls", base + "docs/") == 0
    (entry,) = pod.json()  # type: ignore[misc]
    assert entry["name"] == "hello.txt" and entry["size"] == 9 and not entry["container"]

    assert pod("rm", base + "docs/") == 6 and "409" in pod.err  # not empty
    assert pod("rm", "-r", base + "docs/") == 2 and "--yes" in pod.err  # no terminal
    assert pod("rm", "-r", "--yes", base + "docs/") == 0 and "Deleted 2" in pod.out
    assert pod("cat", base + "docs/hello.txt") == 5 and "404" in pod.err
    assert pod("rm", "-r", "-y", base) == 0


def test_copy_every_direction(host: Server, tmp_path: Path) -> None:
    pod = signed_in(host, tmp_path)
    base = host.pod() + unique("cp") + "/"
    tree = tmp_path / "photos"
    (tree / "2024").mkdir(parents=True)
    (tree / "a.jpg").write_bytes(os.urandom(5000))
    (tree / "2024" / "b.jpg").write_bytes(os.urandom(7000))
    assert pod("cp", str(tree), base) == 2 and "-r" in pod.err
    assert pod("cp", "-r", str(tree), base) == 0, pod.err
    assert "Copied 2 files" in pod.out and base in pod.out
    assert pod("cp", "-r", str(tree), base) == 0  # base exists now: into base/photos/
    assert pod("--json", "ls", base) == 0
    assert {e["name"] for e in pod.json()} == {"2024/", "a.jpg", "photos/"}  # type: ignore[union-attr]
    assert pod("cp", "-r", base, str(tmp_path / "back")) == 0
    assert (tmp_path / "back" / "2024" / "b.jpg").read_bytes() == (
        tree / "2024" / "b.jpg"
    ).read_bytes()
    assert pod("cp", base + "a.jpg", str(tmp_path)) == 0
    assert (tmp_path / "a.jpg").read_bytes() == (tree / "a.jpg").read_bytes()
    assert pod("cp", base + "a.jpg", base + "copies/") == 0
    assert pod("cp", "-r", base + "2024/", base + "copies/") == 0
    assert pod("--json", "ls", base + "copies/2024/") == 0
    assert [e["name"] for e in pod.json()] == ["b.jpg"]  # type: ignore[union-attr]
    assert pod("cp", "a", "b") == 2
    assert pod("rm", "-r", "-y", base) == 0


def test_acl_commands_and_guidance(host: Server, tmp_path: Path) -> None:
    alice = signed_in(host, tmp_path)
    bob = signed_in(host, tmp_path, "bob")
    base = host.pod() + unique("acl") + "/"
    bob_id = host.creds["bob"]["webid"]
    (tmp_path / "n.txt").write_text("note")
    assert alice("put", str(tmp_path / "n.txt"), base + "n.txt") == 0
    assert bob("cat", base + "n.txt") == 4
    assert f"You are signed in as {bob_id}; this resource needs Read" in bob.err
    assert bob("put", str(tmp_path / "n.txt"), base + "n.txt") == 4
    assert "needs Write" in bob.err
    assert alice("acl", "show", base + "n.txt") == 0 and "(inherited)" in alice.out
    assert alice("acl", "grant", base, "--agent", bob_id, "--modes", "read,write") == 0
    assert f"agent {bob_id}: Read, Append, Write" in alice.out
    assert bob("cat", base + "n.txt") == 0 and bob.out == "note"
    assert alice("--json", "acl", "revoke", base, "--agent", bob_id, "--modes", "write") == 0
    shown = alice.json()
    assert isinstance(shown, dict) and not shown["inherited"]
    access = {a["iri"]: a["modes"] for a in shown["access"]}
    assert access[bob_id] == ["Read"] and "Control" in access[host.creds["alice"]["webid"]]
    assert alice("acl", "grant", base + "n.txt", "--public", "--modes", "read") == 0
    assert Pod(tmp_path / "anon")("cat", base + "n.txt") == 0
    assert alice("acl", "revoke", base, "--agent", host.creds["alice"]["webid"]) == 6
    assert "nobody with Control" in alice.err
    assert alice("acl", "grant", base, "--public") == 2  # --modes is required
    assert alice("rm", "-r", "-y", base) == 0


def test_export_import_verified(host: Server, tmp_path: Path) -> None:
    pod = signed_in(host, tmp_path)
    base = host.pod() + unique("exp") + "/"
    (tmp_path / "src" / "sub").mkdir(parents=True)
    (tmp_path / "src" / "a.ttl").write_text("<#a> <#b> <sub/c.bin>.")
    (tmp_path / "src" / "sub" / "c.bin").write_bytes(os.urandom(20_000))
    assert pod("cp", "-r", str(tmp_path / "src"), base) == 0
    assert pod("acl", "grant", base + "sub/", "--authenticated", "--modes", "read") == 0
    archive = tmp_path / "pod.tar"
    assert pod("--json", "export", base, str(archive)) == 0, pod.err
    report = pod.json()
    assert isinstance(report, dict) and report["verified"] is True
    assert report["counts"] == {"container": 2, "rdf": 1, "file": 1, "meta": 0, "acl": 1}
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
    paths = {e["path"]: e for e in manifest["entries"]}
    assert set(paths) == {"", "sub/", "a.ttl", "sub/c.bin", "sub/.acl"}
    assert paths["sub/c.bin"]["size"] == 20_000 and len(paths["sub/c.bin"]["sha256"]) == 64

    target = host.pod() + unique("imp") + "/"
    assert pod("import", str(archive), target) == 0, pod.err
    assert "verified" in pod.out and "1 files" in pod.out
    assert pod("cat", target + "sub/c.bin") == 0
    assert pod("acl", "show", target + "sub/c.bin") == 0 and "anyone signed in: Read" in pod.out

    # A damaged archive is refused before anything is written.
    broken = tmp_path / "broken.tar"
    with tarfile.open(archive) as src, tarfile.open(broken, "w") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read() if member.isfile() else b""  # type: ignore[union-attr]
            if member.name == "data/sub/c.bin":
                data = b"x" + data[1:]
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    fresh = host.pod() + unique("never") + "/"
    assert pod("import", str(broken), fresh) == 8 and "SHA-256" in pod.err
    assert pod("ls", fresh) == 5  # nothing was created

    # Importing where one may not write stops at once and says it is incomplete.
    bobs = host.pod("bob") + unique("not-yours") + "/"
    assert pod("import", str(archive), bobs) == 8
    assert "INCOMPLETE" in pod.err and "of 5 entries" in pod.err and "403" in pod.err
    assert pod("rm", "-r", "-y", base) == 0 and pod("rm", "-r", "-y", target) == 0


@pytest.mark.parametrize(
    ("name", "gzipped"), [("pod.tar.gz", True), ("pod.tgz", True), ("pod.tar", False)]
)
def test_export_compresses_as_the_name_says(
    host: Server, tmp_path: Path, name: str, gzipped: bool
) -> None:
    pod = signed_in(host, tmp_path)
    base = host.pod() + unique("gz") + "/"
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.ttl").write_text("<#a> <#b> <#c>.")
    (tmp_path / "src" / "b.bin").write_bytes(b"\0" * 50_000)  # compresses well
    assert pod("cp", "-r", str(tmp_path / "src"), base) == 0, pod.err
    archive = tmp_path / name
    assert pod("export", base, str(archive)) == 0, pod.err
    head = archive.read_bytes()[:512]
    assert (head[:2] == b"\x1f\x8b") is gzipped  # the gzip magic number
    assert (head[257:262] == b"ustar") is not gzipped  # a bare tar header
    assert (archive.stat().st_size < 50_000) is gzipped

    target = host.pod() + unique("gz-back") + "/"
    assert pod("import", str(archive), target) == 0, pod.err
    assert pod("cat", target + "b.bin") == 0 and pod.out == "\0" * 50_000
    # The server's own import reads the client's archive too.
    root = tmp_path / "server-root"
    assert server_cli(["import", str(archive), "--root", str(root)]) == 0
    pod_name = base.rstrip("/").rsplit("/", 1)[-1]
    stored = FileBackend(root)

    async def body() -> bytes:
        await stored.start()
        try:
            return await (await stored.read(f"/{pod_name}/b.bin")).read_all()
        finally:
            await stored.close()

    assert asyncio.run(body()) == b"\0" * 50_000
    assert pod("rm", "-r", "-y", base) == 0 and pod("rm", "-r", "-y", target) == 0


def test_errors_and_exit_codes(host: Server, tmp_path: Path) -> None:
    pod = signed_in(host, tmp_path)
    assert pod("cat", f"http://127.0.0.1:{_closed_port()}/x") == 7
    assert "cannot connect" in pod.err
    assert pod("--json", "cat", host.pod() + "missing") == 5
    error = pod.json()["error"]  # type: ignore[index]
    assert error["status"] == 404 and error["type"] == "NotFound"
    assert pod("nonsense") == 2
    assert pod("cat", "not a url") == 1 and "absolute" in pod.err
    anon = Pod(tmp_path / "anon")
    assert anon("cat", host.pod() + "settings/prefs.ttl") == 3
    assert "not signed in" in anon.err and "pod login" in anon.err
    assert pod("import", str(tmp_path / "missing.tar"), host.pod()) == 8


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_as_a_subprocess(host: Server, tmp_path: Path) -> None:
    env = {**os.environ, "POD_CONFIG_DIR": str(tmp_path / "config")}
    creds = tmp_path / "c.json"
    creds.write_text(json.dumps(host.creds["alice"]))

    def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [sys.executable, "-m", "client", *args],
            env=env,
            cwd=REPO,
            input=stdin,
            capture_output=True,
            timeout=60,
        )

    done = run("login", "--client-credentials", "-", stdin=creds.read_bytes())
    assert done.returncode == 0, done.stderr
    url = host.pod() + unique("sub") + "/data.bin"
    payload = os.urandom(4096)
    (tmp_path / "data.bin").write_bytes(payload)
    pod = Pod(tmp_path / "config")  # the session the subprocess saved
    assert pod("put", str(tmp_path / "data.bin"), url) == 0, pod.err
    got = run("cat", url)
    assert got.returncode == 0 and got.stdout == payload  # bytes through stdout untouched
