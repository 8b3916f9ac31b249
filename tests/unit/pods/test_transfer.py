"""Moving storages and pods: ``pod-server migrate`` (files <-> PostgreSQL), ``export`` and
``import`` (pod archives), through the command line and ``pod_server.pods.transfer``."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import random
import tarfile
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pytest
from rdflib import URIRef

import pod_archive
from client.archive import read_manifest, verify_archive
from pod_server import cli, transfer_cli
from pod_server.access.rules import AccessRules
from pod_server.ldp import paths, rdf
from pod_server.ldp.conditions import Conditions
from pod_server.ldp.store import Body, Limits, ResourceStore
from pod_server.pods import transfer
from pod_server.pods.hosting import pod_owner
from pod_server.pods.provision import provision
from pod_server.state import DB_NAME as STATE_DB
from pod_server.state import (
    Account,
    Credential,
    IdpState,
    PostgresState,
    SqliteState,
    StoredKey,
)
from pod_server.storage.base import Backend, Expect, LogQuery, LogRow, Meta, Mutation, Put, Staged
from pod_server.storage.file import FileBackend
from tests.unit.storage.pg_support import postgres_backend, schema_for, session_dsn

T = TypeVar("T")
OLD = "http://old.example/"
NEW = "https://new.example/pods/"
TURTLE = "text/turtle"
PHOTO = random.Random(7).randbytes(300 * 1024)  # a blob in every backend
SCAN = random.Random(8).randbytes(100 * 1024)  # a blob in some, inline in others
CAFE = paths.canonical("/alice/notes/café menu.txt")
Listing = dict[str, tuple[str, int, str]]

TODO = f"""<> <http://schema.org/image> <{OLD}alice/photos/2024/summer/beach.jpg>;
    <http://schema.org/author> <{OLD}bob/profile/card#me>;
    <http://schema.org/url> <summer-notes>.
"""
TODO_ACL = f"""@prefix acl: <http://www.w3.org/ns/auth/acl#>.
<#owner> a acl:Authorization; acl:agent <{OLD}alice/profile/card#me>;
    acl:accessTo <todo.ttl>; acl:mode acl:Read, acl:Write, acl:Control.
<#bob> a acl:Authorization; acl:agent <{OLD}bob/profile/card#me>;
    acl:accessTo <todo.ttl>; acl:mode acl:Read.
"""


# -- helpers -------------------------------------------------------------------------------


def run(backend: Backend, work: Callable[[Backend], Awaitable[T]]) -> T:
    """Start ``backend``, run ``work`` on it and close it, in an event loop of its own
    (the command line runs its own loops, so these tests are synchronous)."""

    async def go() -> T:
        await backend.start()
        try:
            return await work(backend)
        finally:
            await backend.close()

    return asyncio.run(go())


async def listing(backend: Backend, root: str = "/") -> Listing:
    """Every resource under ``root``: content type, size and SHA-256, read independently
    of the code under test (recursive ``children`` and whole reads)."""
    found: Listing = {}
    meta = await backend.meta(root)
    if meta is None:
        return found
    pending = [meta]
    while pending:
        meta = pending.pop()
        data = await (await backend.read(meta.path)).read_all()
        found[meta.path] = (meta.content_type, len(data), hashlib.sha256(data).hexdigest())
        if meta.is_container:
            pending += await backend.children(meta.path)
    return found


def relative(found: Listing, root: str) -> Listing:
    return {path[len(root) :]: value for path, value in found.items() if path.startswith(root)}


async def put(store: ResourceStore, path: str, data: bytes, ctype: str) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield data

    essence = ctype.split(";")[0].strip()
    await store.put(path, Body(essence, chunks(), len(data), header=ctype), Conditions())


async def populate(backend: Backend) -> None:
    """Two pods as the server makes them (profiles, ACLs, type indexes), plus nested
    containers, binary and RDF bodies, a container with its own triples, .acl and .meta."""
    store = ResourceStore(
        backend, OLD, Limits(1 << 30, 1 << 22), rules=AccessRules(), multiuser=True
    )
    await store.ensure_root()
    for name in ("alice", "bob"):
        await provision(store, name, OLD)
    await put(store, "/alice/photos/", b'<> <http://purl.org/dc/terms/title> "Photos".', TURTLE)
    await put(store, "/alice/photos/2024/summer/beach.jpg", PHOTO, "image/jpeg")
    await put(store, "/alice/photos/2024/scan.pdf", SCAN, "application/pdf")
    await put(
        store, "/alice/photos/2024/.meta", b'<> <http://purl.org/dc/terms/title> "24".', TURTLE
    )
    await put(store, "/alice/notes/todo.ttl", TODO.encode(), TURTLE)
    await put(store, "/alice/notes/todo.ttl.acl", TODO_ACL.encode(), TURTLE)
    await put(
        store, "/alice/notes/data.json", f'{{"home": "{OLD}alice/"}}'.encode(), "application/json"
    )
    await put(store, CAFE, "crème brûlée".encode(), "text/plain; charset=utf-8")
    await put(store, "/alice/empty.bin", b"", "application/octet-stream")
    await put(store, "/bob/docs/readme.txt", b"hello", "text/plain")
    await backend.set_limit("/alice/", 10_000_000)


def pg_url(key: Path) -> str:
    """The storage URL of the PostgreSQL backend ``postgres_backend(key)`` opens."""
    return f"{session_dsn()}?schema={schema_for(str(key))}"


def main(*argv: str | Path) -> int:
    return cli.main([str(a) for a in argv])


@pytest.fixture
def source(tmp_path: Path) -> Path:
    root = tmp_path / "source"
    run(FileBackend(root), populate)
    return root


# -- migrate -------------------------------------------------------------------------------


def test_round_trip_file_postgres_file_is_identical(
    tmp_path: Path, source: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key, back = tmp_path / "pg", tmp_path / "back"
    assert main("migrate", "--from", source, "--to", pg_url(key)) == 0
    assert main("migrate", "--from", f"file:{source}", "--to", pg_url(key) + "x") == 0
    assert main("migrate", "--from", pg_url(key), "--to", f"file:{back}") == 0
    out = capsys.readouterr()
    assert "Verified" in out.out and "No accounts to copy" in out.out

    original = run(FileBackend(source), listing)
    assert run(postgres_backend(key), listing) == original
    assert run(FileBackend(back), listing) == original
    # Everything made it: pods, nested containers, auxiliary resources, both body kinds.
    assert {CAFE, "/alice/photos/2024/.meta", "/alice/notes/todo.ttl.acl", "/bob/.acl"} <= set(
        original
    )
    assert original["/alice/photos/2024/summer/beach.jpg"][1] == len(PHOTO)
    assert original[CAFE][0] == "text/plain; charset=utf-8"
    assert original["/alice/photos/"][1] > 0  # a container's own triples

    async def limit(backend: Backend) -> int | None:
        return (await backend.usage("/alice/")).limit

    assert run(FileBackend(back), limit) == 10_000_000


async def _identity(state: IdpState) -> dict[str, Any]:
    accounts = await state.list_accounts()
    return {
        "accounts": accounts,
        "webids": {a.id: await state.account_webids(a.id) for a in accounts},
        "credentials": {a.id: await state.list_credentials(a.id) for a in accounts},
        "keys": await state.list_keys(),
    }


def test_migrate_copies_accounts_there_and_back(
    tmp_path: Path, source: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Accounts sign in on the new storage with their old passwords, scripts with their
    old client credentials, and tokens signed before the move still verify."""
    webid = OLD + "alice/profile/card#me"

    async def seed() -> dict[str, Any]:
        async with SqliteState(source / STATE_DB) as state:
            await state.add_account(Account("a1", "Alice@Example.org", "$argon2id$x", 1.0))
            await state.link_webid("a1", webid, 2.0)
            await state.add_credential(Credential("c1", "hash", "laptop", "a1", webid, 3.0))
            await state.add_key(StoredKey("k1", '{"kty": "EC"}', 4.0, 4.0, 5.0, 6.0))
            return await _identity(state)

    before = asyncio.run(seed())
    key, back = tmp_path / "pg", tmp_path / "back"
    assert main("migrate", "--from", source, "--to", pg_url(key)) == 0
    assert main("migrate", "--from", pg_url(key), "--to", f"file:{back}") == 0
    assert "Copied 1 accounts, 1 WebIDs, 1 client credentials and 1 signing keys" in (
        capsys.readouterr().out
    )

    async def read(state: IdpState) -> dict[str, Any]:
        await state.start()
        try:
            return await _identity(state)
        finally:
            await state.close()

    dsn, schema = session_dsn(), schema_for(str(key))
    assert asyncio.run(read(PostgresState(dsn, schema=schema))) == before
    assert asyncio.run(read(SqliteState(back / STATE_DB))) == before
    # Again, with --force: what is there already is kept and named, not duplicated.
    assert main("migrate", "--from", source, "--to", pg_url(key), "--force") == 0
    err = capsys.readouterr().err
    assert "in the target already" in err and "account Alice@Example.org" in err


def test_migrate_into_an_empty_root_is_allowed(tmp_path: Path, source: Path) -> None:
    target = tmp_path / "target"

    async def empty_root(backend: Backend) -> None:
        await ResourceStore(
            backend, OLD, Limits(1 << 30, 1 << 22), rules=AccessRules()
        ).ensure_root()

    run(FileBackend(target), empty_root)
    assert main("migrate", "--from", source, "--to", target) == 0
    assert run(FileBackend(target), listing) == run(FileBackend(source), listing)


def test_migrate_refuses_a_target_that_holds_data(
    tmp_path: Path, source: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "target"

    async def occupy(backend: Backend) -> None:
        staged = Staged.of(b"mine")
        await backend.apply([], [Put("/", TURTLE), Put("/keep.txt", "text/plain", staged)])

    run(FileBackend(target), occupy)
    before = run(FileBackend(target), listing)
    assert main("migrate", "--from", source, "--to", target) == 2
    err = capsys.readouterr().err
    assert "already holds resources (/keep.txt)" in err and "--force" in err
    assert run(FileBackend(target), listing) == before

    assert main("migrate", "--from", source, "--to", target, "--force") == 0
    assert "1 resources only in the target were left" in capsys.readouterr().out
    after = run(FileBackend(target), listing)
    assert after["/keep.txt"] == before["/keep.txt"]
    assert {p: v for p, v in after.items() if p != "/keep.txt"} == run(FileBackend(source), listing)


def test_migrate_usage_errors(
    tmp_path: Path, source: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nothing-here"
    assert main("migrate", "--from", missing, "--to", tmp_path / "t") == 2
    assert "no file storage at" in capsys.readouterr().err
    assert not missing.exists()  # a wrong source is never created empty
    assert main("migrate", "--from", source, "--to", source) == 2
    assert main("migrate", "--from", source, "--to", "s3://bucket") == 2
    assert main("migrate", "--from", source, "--to", "postgresql://x/db?schema=no-pe") == 2


class Corrupting:
    """A target backend that stores one body wrong and loses another, as a faulty disk
    or driver might: what verification is for."""

    def __init__(self, inner: Backend, wrong: str, lost: str) -> None:
        self.inner, self.wrong, self.lost = inner, wrong, lost

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def apply(
        self, expects: Sequence[Expect], mutations: Sequence[Mutation], quota: Any = None
    ) -> Mapping[str, Meta]:
        kept: list[Mutation] = []
        for mutation in mutations:
            if isinstance(mutation, Put) and mutation.path == self.lost:
                continue
            if isinstance(mutation, Put) and mutation.path == self.wrong:
                await self.inner.discard(mutation.body)
                bad = bytearray(PHOTO)
                bad[1000] ^= 0xFF  # same size, one bit pattern off
                staged = Staged.of(bytes(bad))
                mutation = Put(mutation.path, mutation.content_type, staged)
            kept.append(mutation)
        return await self.inner.apply(expects, kept, quota)


def test_verification_catches_a_corrupted_target(
    tmp_path: Path,
    source: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    real = transfer_cli.open_location
    wrong, lost = "/alice/photos/2024/summer/beach.jpg", "/bob/docs/readme.txt"

    def faulty(spec: str, *, source: bool) -> Backend:
        backend = real(spec, source=source)
        return backend if source else Corrupting(backend, wrong, lost)  # type: ignore[return-value]

    monkeypatch.setattr(transfer_cli, "open_location", faulty)
    assert main("migrate", "--from", source, "--to", tmp_path / "target") == 1
    err = capsys.readouterr().err
    assert "verification FAILED" in err
    assert f"{wrong}: SHA-256 differs" in err
    assert f"{lost}: missing from the target" in err


def test_migrate_function_reports_mismatches(tmp_path: Path, source: Path) -> None:
    async def go() -> transfer.MigrationReport:
        src, dst = FileBackend(source), FileBackend(tmp_path / "t")
        await src.start()
        await dst.start()
        try:
            target: Any = Corrupting(dst, "/alice/photos/2024/summer/beach.jpg", "/x")
            return await transfer.migrate(src, target)
        finally:
            await src.close()
            await dst.close()

    report = asyncio.run(go())
    assert not report.verified
    assert report.problems == ["/alice/photos/2024/summer/beach.jpg: SHA-256 differs"]
    assert report.resources == len(run(FileBackend(source), listing))


# -- export and import ---------------------------------------------------------------------


def test_export_import_with_a_new_base_rebases_iris(
    tmp_path: Path, source: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive, key = tmp_path / "alice.tar.gz", tmp_path / "pg"
    assert main("export", "alice", archive, "--root", source, "--base-url", OLD) == 0
    manifest = verify_archive(archive)  # the client's own check: the same format
    assert manifest["source"] == OLD + "alice/"
    kinds = {e["path"]: e["kind"] for e in manifest["entries"]}
    assert kinds["notes/todo.ttl.acl"] == "acl" and kinds["photos/2024/.meta"] == "meta"
    assert kinds["photos/2024/summer/beach.jpg"] == "file" and kinds["notes/todo.ttl"] == "rdf"
    assert kinds[""] == "container" and manifest["quota_limit"] == 10_000_000

    storage = ["--storage", pg_url(key), "--base-url", NEW]
    assert main("import", archive, "--name", "carol", *storage) == 0
    assert "Verified" in capsys.readouterr().out
    carol = NEW + "carol/"
    before = relative(run(FileBackend(source), listing), "/alice/")
    after = relative(run(postgres_backend(key), lambda b: listing(b, "/carol/")), "/carol/")
    assert set(after) == set(before)
    for rel in (
        "photos/2024/summer/beach.jpg",
        "photos/2024/scan.pdf",
        "notes/data.json",
        "empty.bin",
    ):
        assert after[rel] == before[rel]  # other files: byte for byte, never rewritten

    async def check(backend: Backend) -> None:
        async def graph(path: str) -> Any:
            data = await (await backend.read(path)).read_all()
            assert OLD + "alice/" not in data.decode()
            return rdf.parse(data, TURTLE, carol + path[len("/carol/") :])

        todo = await graph("/carol/notes/todo.ttl")
        me = URIRef(carol + "notes/todo.ttl")
        assert todo.value(me, URIRef("http://schema.org/image")) == URIRef(
            carol + "photos/2024/summer/beach.jpg"
        )
        # IRIs outside the moved pod stay as they were.
        assert todo.value(me, URIRef("http://schema.org/author")) == URIRef(
            OLD + "bob/profile/card#me"
        )
        assert todo.value(me, URIRef("http://schema.org/url")) == URIRef(
            carol + "notes/summer-notes"
        )
        acl = await graph("/carol/notes/todo.ttl.acl")
        agents = set(acl.objects(None, URIRef("http://www.w3.org/ns/auth/acl#agent")))
        assert agents == {URIRef(carol + "profile/card#me"), URIRef(OLD + "bob/profile/card#me")}
        profile = await graph("/carol/profile/card")
        storage_of = URIRef("http://www.w3.org/ns/pim/space#storage")
        assert profile.value(URIRef(carol + "profile/card#me"), storage_of) == URIRef(carol)
        store = ResourceStore(
            backend, NEW, Limits(1 << 30, 1 << 22), rules=AccessRules(), multiuser=True
        )
        assert await pod_owner(store, "carol") == carol + "profile/card#me"  # the root's triples
        assert (await backend.usage("/carol/")).limit == 10_000_000

    run(postgres_backend(key), check)


def test_export_import_with_the_same_base_is_byte_identical(tmp_path: Path, source: Path) -> None:
    archive, other = tmp_path / "alice.tar", tmp_path / "other"
    assert main("export", "alice", archive, "--root", source, "--base-url", OLD) == 0
    assert main("import", archive, "--root", other, "--base-url", OLD) == 0

    def alice(backend: Backend) -> Awaitable[Listing]:
        return listing(backend, "/alice/")

    assert run(FileBackend(other), alice) == run(FileBackend(source), alice)


def test_import_refuses_an_existing_pod(
    tmp_path: Path, source: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = tmp_path / "bob.tar"
    assert main("export", "bob", archive, "--root", source, "--base-url", OLD) == 0
    before = run(FileBackend(source), listing)
    assert main("import", archive, "--root", source, "--base-url", OLD) == 2
    assert "already has a pod named 'bob'" in capsys.readouterr().err
    assert run(FileBackend(source), listing) == before
    assert main("export", "nobody", tmp_path / "x.tar", "--root", source) == 1
    assert not (tmp_path / "x.tar").exists()


def rewrite(
    archive: Path,
    out: Path,
    change: Callable[[str, bytes], bytes | None],
    fix: bool,
    edit: Callable[[dict[str, Any]], None] = lambda manifest: None,
) -> None:
    """Copy an uncompressed archive with bodies changed (None: dropped); ``fix`` updates
    the manifest's sizes and checksums to match, so only deeper checks can catch it;
    ``edit`` changes the manifest."""
    with tarfile.open(archive) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]
    manifest = json.loads(members.pop("manifest.json"))
    edit(manifest)
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members.items():
            changed = change(name, data)
            if changed is None:
                continue
            if fix:
                for entry in manifest["entries"]:
                    if "data/" + entry["path"] == name:
                        entry.update(size=len(changed), sha256=hashlib.sha256(changed).hexdigest())
            info = tarfile.TarInfo(name)
            info.size = len(changed)
            tar.addfile(info, io.BytesIO(changed))
        data = json.dumps(manifest).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))


def test_a_broken_archive_is_refused_and_writes_nothing(
    tmp_path: Path, source: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "alice.tar"
    assert main("export", "alice", good, "--root", source, "--base-url", OLD) == 0
    raw = good.read_bytes()
    photo = "data/photos/2024/summer/beach.jpg"
    broken = {
        "truncated": raw[: len(raw) // 2],
        "garbage": b"not an archive at all" * 100,
    }
    for name, data in broken.items():
        (tmp_path / name).write_bytes(data)
    rewrite(good, tmp_path / "tampered", lambda n, d: d[:-1] + b"!" if n == photo else d, fix=False)
    rewrite(good, tmp_path / "missing", lambda n, d: None if n == photo else d, fix=False)
    # Checksums that match, but RDF that does not parse: found while writing (rebasing).
    bad_rdf = b"<> <http://schema.org/name> <<< broken"
    rewrite(
        good, tmp_path / "bad-rdf", lambda n, d: bad_rdf if n.endswith("todo.ttl") else d, fix=True
    )
    expected = {
        "truncated": "not a usable pod archive",
        "garbage": "not a usable pod archive",
        "tampered": "differs from the manifest",
        "missing": "is in the manifest, not the archive",
        "bad-rdf": "nothing kept",
    }
    target = tmp_path / "target"

    async def serving(backend: Backend) -> Listing:  # a storage a server has started on
        await ResourceStore(
            backend, NEW, Limits(1 << 30, 1 << 22), rules=AccessRules(), multiuser=True
        ).ensure_root()
        return await listing(backend)

    before = run(FileBackend(target), serving)
    assert list(before) == ["/"]
    for name, message in expected.items():
        assert main("import", tmp_path / name, "--root", target, "--base-url", NEW) == 1, name
        err = capsys.readouterr().err
        assert message in err, (name, err)
        assert run(FileBackend(target), listing) == before, name


def test_archive_checks_refuse_inconsistent_manifests(tmp_path: Path, source: Path) -> None:
    good = tmp_path / "alice.tar"
    assert main("export", "alice", good, "--root", source, "--base-url", OLD) == 0
    with tarfile.open(good) as tar:
        manifest = read_manifest(tar)
    twice = dict(manifest, entries=[*manifest["entries"], manifest["entries"][-1]])
    with pytest.raises(transfer.ArchiveError, match="twice"):
        transfer._checked_entries(twice)
    root = next(e for e in manifest["entries"] if e["path"] == "")
    lying = dict(root, body=root["body"] + " ")
    with pytest.raises(transfer.ArchiveError, match="SHA-256"):
        transfer._checked_entries(dict(manifest, entries=[lying]))
    wrong_kind = {"path": "notes/", "kind": "file", "size": 0, "sha256": ""}
    with pytest.raises(transfer.ArchiveError, match="cannot have that path"):
        transfer._checked_entries(dict(manifest, entries=[wrong_kind]))


def test_format_errors_become_the_servers_own(tmp_path: Path) -> None:
    """The server raises its own ArchiveError (a TransferError) for what the shared
    format refuses, never the format's or the client's."""
    (tmp_path / "junk.tar").write_bytes(b"not a tar")
    with pytest.raises(transfer.ArchiveError, match="cannot read") as info:
        transfer.verify_archive(tmp_path / "junk.tar")
    assert isinstance(info.value, transfer.TransferError)
    assert not isinstance(info.value, pod_archive.ArchiveError)
    unsafe = {"path": "x.acl", "kind": "acl", "of": "../x", "size": 0, "sha256": ""}
    with pytest.raises(transfer.ArchiveError, match="unsafe path"):
        transfer._checked_entries({"entries": [unsafe]})


def test_export_compresses_by_the_final_name_as_pod_export_does(
    tmp_path: Path, source: Path
) -> None:
    for name, gzipped in (("alice.TGZ", True), ("alice.tar.gz", True), ("alice.tar", False)):
        out = tmp_path / name
        assert main("export", "alice", out, "--root", source, "--base-url", OLD) == 0
        assert (out.read_bytes()[:2] == b"\x1f\x8b") is gzipped, name  # gzip's magic
        assert not (tmp_path / (name + ".partial")).exists()
        assert verify_archive(out)["source"] == OLD + "alice/"


def test_an_archive_written_by_the_pod_client_imports(tmp_path: Path, source: Path) -> None:
    """`pod export` archives have no container bodies and no quota limit: still usable."""
    ours, theirs, other = tmp_path / "ours.tar", tmp_path / "theirs.tar", tmp_path / "other"
    assert main("export", "alice", ours, "--root", source, "--base-url", OLD) == 0

    def as_the_client_writes(manifest: dict[str, Any]) -> None:
        manifest.pop("quota_limit")
        for entry in manifest["entries"]:
            if entry["kind"] == "container":
                for key in ("body", "media_type", "size", "sha256"):
                    entry.pop(key, None)

    rewrite(ours, theirs, lambda name, data: data, fix=False, edit=as_the_client_writes)
    assert main("import", theirs, "--root", other, "--base-url", OLD, "--name", "dave") == 0

    def pod(name: str) -> Callable[[Backend], Awaitable[Listing]]:
        return lambda backend: listing(backend, f"/{name}/")

    before = relative(run(FileBackend(source), pod("alice")), "/alice/")
    after = relative(run(FileBackend(other), pod("dave")), "/dave/")
    assert set(after) == set(before)
    assert after[""][1] == 0  # the root's own triples were not in the archive
    assert after["photos/2024/summer/beach.jpg"] == before["photos/2024/summer/beach.jpg"]


def test_a_host_export_is_in_the_pod_s_audit_log(tmp_path: Path, source: Path) -> None:
    """A copy of the pod leaving the server is something its owner reads in their log."""
    assert main("export", "alice", tmp_path / "alice.tar", "--root", source, "--base-url", OLD) == 0

    async def alice_log(backend: Backend) -> list[LogRow]:
        return await backend.log_page("/alice/", LogQuery())

    rows = run(FileBackend(source), alice_log)
    assert [json.loads(r.body)["action"] for r in rows] == ["Move"]  # AS2 Move: it left
    assert rows[0].resource == OLD.rstrip("/") + "/alice/" and rows[0].agent is None
    assert "alice.tar" in json.loads(rows[0].body)["detail"]
