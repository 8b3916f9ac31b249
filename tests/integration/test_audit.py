"""The audit log through a real server: who is logged, the owner reading it, and
`pod-server audit verify` catching rows altered, removed or swapped in storage."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import asyncpg
import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection

from pod_server.cli import main
from pod_server.db.postgres import quote_ident
from pod_server.errors import ServiceUnavailable
from pod_server.settings import Settings
from pod_server.storage.base import Expect, Log, Meta, Mutation, Quota
from pod_server.storage.memory import MemoryBackend
from tests.conftest import Pod, deployed, running_pod
from tests.fake_issuer import Caller, running_issuer
from tests.unit.storage.pg_support import session_dsn

AS = Namespace("https://www.w3.org/ns/activitystreams#")
CONSENT = Namespace("https://w3id.org/solid-pods/vocab/consent#")
PREFIXES = "@prefix acl: <http://www.w3.org/ns/auth/acl#>.\n"
LOG = "/.well-known/audit"


@dataclass
class World:
    pod: Pod
    settings: Settings
    alice: Caller  # the owner
    bob: Caller

    async def call(
        self, who: Caller | None, method: str, path: str, body: str | None = None, **hdrs: str
    ) -> tuple[int, dict[str, str], str]:
        url = self.pod.url(path)
        sent: dict[str, Any] = dict(hdrs)
        if who is not None:
            sent.update(who.headers(method, url.split("?")[0]))
        if body is not None:
            sent["Content-Type"] = "text/turtle"
        async with self.pod.session.request(method, url, data=body, headers=sent) as r:
            return r.status, dict(r.headers), await r.text()

    async def status(
        self, who: Caller | None, method: str, path: str, body: str | None = None
    ) -> int:
        return (await self.call(who, method, path, body))[0]

    async def log(self, query: str = "") -> tuple[list[dict[str, Any]], str | None]:
        """The owner's page of the log: its items (newest first) and its next link."""
        path = LOG + (f"?{query}" if query else "")
        status, _, text = await self.call(self.alice, "GET", path)
        assert status == 200, text
        graph = Graph().parse(data=text, format="turtle", publicID=self.pod.url(path))
        page = next(graph.subjects(predicate=AS.orderedItems))
        items = Collection(graph, graph.value(page, AS.orderedItems))
        following = graph.value(page, AS.next)
        return [_item(graph, item) for item in items], None if following is None else str(following)

    def verify(self, *args: str) -> int:
        argv = ["audit", *args, "/", "--root", str(self.pod.root)]
        if self.settings.storage:
            argv += ["--storage", self.settings.storage]
        return main(argv)


def _item(graph: Graph, item: Any) -> dict[str, Any]:
    def value(predicate: URIRef) -> Any:
        found = graph.value(item, predicate)
        return found.toPython() if isinstance(found, Literal) else found and str(found)

    kind = graph.value(item, URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"))
    return {
        "type": str(kind).rsplit("#", 1)[-1],
        "actor": value(AS.actor),
        "object": value(AS.object),
        "result": value(AS.result),
        "seq": value(CONSENT.seq),
        "published": value(AS.published),
    }


@pytest.fixture
async def world(tmp_path: Path, storage: str) -> AsyncIterator[World]:
    async with running_issuer() as issuer:
        alice_id = issuer.add_person("alice")
        issuer.add_person("bob")
        settings, backend = deployed(storage, tmp_path, Settings(owner=alice_id))
        async with running_pod(tmp_path, backend, settings) as pod:
            world = World(pod, settings, issuer.caller("alice"), issuer.caller("bob"))
            await world.status(world.alice, "PUT", "/shared/doc.ttl", "<#a> <#b> 1.")
            owner = (
                f"<#owner> a acl:Authorization; acl:agent <{alice_id}>; acl:accessTo <./>;"
                " acl:default <./>; acl:mode acl:Read, acl:Write, acl:Control.\n"
                f"<#bob> a acl:Authorization; acl:agent <{world.bob.webid}>;"
                " acl:accessTo <./>; acl:default <./>; acl:mode acl:Read, acl:Write.\n"
            )
            assert await world.status(world.alice, "PUT", "/shared/.acl", PREFIXES + owner) == 201
            yield world


async def test_others_are_logged_and_the_owner_is_not(world: World) -> None:
    assert await world.status(world.bob, "GET", "/shared/doc.ttl") == 200
    assert await world.status(world.bob, "PUT", "/shared/new.ttl", "<#c> <#d> 2.") == 201
    assert await world.status(world.bob, "PATCH", "/shared/new.ttl", None) == 415  # no type
    assert await world.status(world.bob, "GET", "/") == 403
    assert await world.status(None, "GET", "/shared/doc.ttl") == 401
    assert await world.status(world.alice, "GET", "/shared/doc.ttl") == 200
    items, following = await world.log()
    assert following is None
    shared = world.pod.url("/shared/")
    assert [(i["type"], i["actor"], i["object"], i["result"]) for i in items] == [
        ("View", None, shared + "doc.ttl", 401),
        ("View", world.bob.webid, world.pod.url("/"), 403),
        ("Update", world.bob.webid, shared + "new.ttl", 415),
        ("Create", world.bob.webid, shared + "new.ttl", 201),
        ("View", world.bob.webid, shared + "doc.ttl", 200),
    ]
    assert [i["seq"] for i in items] == [5, 4, 3, 2, 1]
    assert all(i["published"] is not None for i in items)
    assert await asyncio.to_thread(world.verify, "verify") == 0


async def test_patches_and_deletes_are_logged_once_with_their_write(world: World) -> None:
    patch = (
        "@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n"
        "_:p a solid:InsertDeletePatch; solid:inserts { <#x> <#y> 3. }."
    )
    url = world.pod.url("/shared/doc.ttl")
    headers = {**world.bob.headers("PATCH", url), "Content-Type": "text/n3"}
    async with world.pod.session.patch(url, data=patch, headers=headers) as r:
        assert r.status == 204
    status, _, text = await world.call(world.alice, "GET", "/shared/doc.ttl")
    assert status == 200 and "#x" in text
    assert await world.status(world.bob, "DELETE", "/shared/doc.ttl") == 204
    items, _ = await world.log()
    assert [(i["type"], i["object"], i["result"]) for i in items] == [
        ("Delete", url, 204),
        ("Update", url, 204),
    ]


async def test_only_the_owner_reads_the_log(world: World) -> None:
    assert await world.status(world.bob, "GET", LOG) == 403
    status, headers, _ = await world.call(None, "GET", LOG)
    assert status == 401 and headers["WWW-Authenticate"].startswith("DPoP ")
    assert await world.status(world.alice, "PUT", LOG, "<#a> <#b> 1.") == 405
    # The refusals above are themselves in the log? No: the log is not a storage resource.
    status, headers, text = await world.call(world.alice, "GET", LOG, Accept="application/ld+json")
    assert status == 200 and headers["Content-Type"].startswith("application/ld+json")
    status, _, text = await world.call(world.alice, "GET", "/.well-known/solid")
    assert f"<{world.pod.url(LOG)}>" in text or world.pod.url(LOG) in text
    assert "auditLog" in text


async def test_the_owner_filters_and_pages(world: World) -> None:
    for _ in range(3):
        assert await world.status(world.bob, "GET", "/shared/doc.ttl") == 200
    assert await world.status(world.bob, "GET", "/") == 403
    assert await world.status(None, "GET", "/") == 401
    refused, _ = await world.log("outcome=refused")
    assert [i["result"] for i in refused] == [401, 403]
    bobs, _ = await world.log(urlencode({"agent": world.bob.webid, "outcome": "200"}))
    assert len(bobs) == 3
    first, following = await world.log("limit=2")
    assert [i["seq"] for i in first] == [5, 4] and following is not None
    query = following.split("?", 1)[1]
    assert "limit=2" in query and "before=4" in query
    second, following = await world.log(query)
    assert [i["seq"] for i in second] == [3, 2]
    third, following = await world.log(following.split("?", 1)[1])
    assert [i["seq"] for i in third] == [1] and following is None
    prefix, _ = await world.log(urlencode({"resource": world.pod.url("/shared/")}))
    assert len(prefix) == 3
    assert await world.log("since=2000-01-01&until=2999-01-01") == (await world.log("limit=100"))
    for bad in ("limit=0", "limit=x", "before=-1", "since=yesterday", "outcome=maybe", "color=red"):
        status, _, text = await world.call(world.alice, "GET", f"{LOG}?{bad}")
        assert status == 400, bad
        assert bad.split("=")[0] in text


class NoLogBackend(MemoryBackend):
    """Storage whose audit log cannot be written (a full disk, a lost database)."""

    def __init__(self) -> None:
        super().__init__()
        self.broken = False

    async def apply(
        self, expects: Sequence[Expect], steps: Sequence[Mutation | Log], quota: Quota | None = None
    ) -> Mapping[str, Meta]:
        if self.broken and any(isinstance(step, Log) for step in steps):
            raise ServiceUnavailable("Storage is unavailable")
        return await super().apply(expects, steps, quota)


async def test_no_unaudited_access_when_the_log_cannot_be_written(tmp_path: Path) -> None:
    backend = NoLogBackend()
    async with running_issuer() as issuer:
        alice_id = issuer.add_person("alice")
        issuer.add_person("bob")
        async with running_pod(tmp_path, backend, Settings(owner=alice_id)) as pod:
            world = World(
                pod, Settings(owner=alice_id), issuer.caller("alice"), issuer.caller("bob")
            )
            bob = issuer.caller("bob")
            acl = (
                f"<#owner> a acl:Authorization; acl:agent <{alice_id}>; acl:accessTo <./>;"
                " acl:default <./>; acl:mode acl:Read, acl:Write, acl:Control.\n"
                f"<#bob> a acl:Authorization; acl:agent <{bob.webid}>;"
                " acl:accessTo <./>; acl:default <./>; acl:mode acl:Read, acl:Write.\n"
            )
            assert await world.status(world.alice, "PUT", "/d/.acl", PREFIXES + acl) == 201
            assert await world.status(world.alice, "PUT", "/d/doc.ttl", "<#a> <#b> 1.") == 201
            backend.broken = True
            status, _, text = await world.call(bob, "GET", "/d/doc.ttl")
            assert status == 503 and "#a" not in text
            assert await world.status(bob, "PUT", "/d/new.ttl", "<#c> <#d> 2.") == 503
            assert await backend.meta("/d/new.ttl") is None
            assert await world.status(world.alice, "GET", "/d/doc.ttl") == 200  # not audited


# -- tampering in storage, caught by `pod-server audit verify` ------------------------------


async def tamper(world: World, statements: list[tuple[str, tuple[Any, ...]]]) -> None:
    """Run SQL (with ? placeholders) on the storage behind the server's back."""
    if not world.settings.storage:
        with closing(sqlite3.connect(world.pod.root / "index.sqlite3")) as conn:
            for sql, args in statements:
                conn.execute(sql, args)
            conn.commit()
        return
    schema = world.settings.storage.split("schema=")[1]
    conn = await asyncpg.connect(
        session_dsn(), server_settings={"search_path": quote_ident(schema)}
    )
    try:
        for sql, args in statements:
            numbered = sql
            for n in range(1, sql.count("?") + 1):
                numbered = numbered.replace("?", f"${n}", 1)
            await conn.execute(numbered, *args)
    finally:
        await conn.close()


async def logged(world: World, count: int) -> None:
    for _ in range(count):
        assert await world.status(world.bob, "GET", "/shared/doc.ttl") == 200


@pytest.mark.parametrize(
    "damage, named",
    [
        (
            [
                (
                    "UPDATE audit_log SET body = replace(body, CAST('doc' AS BLOB), CAST('dog' AS BLOB)) WHERE seq = 3",
                    (),
                )
            ],
            "entry 3: altered",
        ),
        ([("DELETE FROM audit_log WHERE seq = 4", ())], "entry 4: removed"),
        (
            [
                ("UPDATE audit_log SET seq = -1 WHERE seq = 2", ()),
                ("UPDATE audit_log SET seq = 2 WHERE seq = 3", ()),
                ("UPDATE audit_log SET seq = 3 WHERE seq = -1", ()),
            ],
            "entries 2 and 3 are swapped",
        ),
    ],
    ids=["altered", "removed", "swapped"],
)
async def test_verify_names_the_tampered_entry(
    world: World,
    damage: list[tuple[str, tuple[Any, ...]]],
    named: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await logged(world, 6)
    assert await asyncio.to_thread(world.verify, "checkpoint") == 0
    assert await asyncio.to_thread(world.verify, "verify") == 0
    capsys.readouterr()
    if world.settings.storage:  # PostgreSQL spells the byte replacement its own way
        damage = [
            (
                sql.replace(
                    "replace(body, CAST('doc' AS BLOB), CAST('dog' AS BLOB))",
                    "convert_to(replace(convert_from(body, 'UTF8'), 'doc', 'dog'), 'UTF8')",
                ),
                a,
            )
            for sql, a in damage
        ]
    else:
        damage = [
            (
                sql.replace(
                    "replace(body, CAST('doc' AS BLOB), CAST('dog' AS BLOB))",
                    "CAST(replace(CAST(body AS TEXT), 'doc', 'dog') AS BLOB)",
                ),
                a,
            )
            for sql, a in damage
        ]
    await tamper(world, damage)
    assert await asyncio.to_thread(world.verify, "verify") == 1
    out = capsys.readouterr().out
    assert named in out, out


async def test_a_removed_tail_is_caught_and_retention_keeps_it_verifiable(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    await logged(world, 5)
    assert await asyncio.to_thread(world.verify, "checkpoint") == 0
    assert await asyncio.to_thread(world.verify, "trim", "--before", "2999-01-01") == 0
    assert await asyncio.to_thread(world.verify, "verify") == 0
    await logged(world, 2)
    assert await asyncio.to_thread(world.verify, "verify") == 0
    await tamper(
        world,
        [
            ("DELETE FROM audit_log WHERE seq = 7", ()),
            (
                "UPDATE audit_heads SET seq = 6, hash = (SELECT hash FROM audit_log WHERE seq = 6)",
                (),
            ),
            ("DELETE FROM audit_log WHERE seq = 6", ()),
        ],
    )
    capsys.readouterr()
    assert await asyncio.to_thread(world.verify, "verify") == 1
    assert "entry 6: truncated" in capsys.readouterr().out
