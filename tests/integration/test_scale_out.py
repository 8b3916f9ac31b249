"""Two servers of one deployment (one root, or one PostgreSQL schema), as two processes or
hosts behind a load balancer would be: what one writes, the other serves at once, whatever
each has cached (metadata, compiled ACLs, bodies)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from pod_server.settings import Settings
from tests.conftest import Pod, deployed, running_pod

ACL = """@prefix acl: <http://www.w3.org/ns/auth/acl#>.
<#owner> a acl:Authorization; acl:agent <https://owner.example/#me>;
    acl:accessTo <./>; acl:default <./>; acl:mode acl:Read, acl:Write, acl:Control.
"""
PUBLIC = (
    ACL
    + """<#public> a acl:Authorization; acl:agentClass <http://xmlns.com/foaf/0.1/Agent>;
    acl:accessTo <./>; acl:default <./>; acl:mode acl:Read, acl:Write.
"""
)


@asynccontextmanager
async def two_servers(root: Path, storage: str) -> AsyncIterator[tuple[Pod, Pod]]:
    settings_a, backend_a = deployed(storage, root, Settings(open=True))
    settings_b, backend_b = deployed(storage, root, Settings(open=True))
    async with running_pod(root, backend_a, settings_a) as a:
        async with running_pod(root, backend_b, settings_b) as b:
            yield a, b


async def body_and_tag(pod: Pod, path: str) -> tuple[int, str, str]:
    async with pod.request("GET", path, headers={"Accept": "text/turtle"}) as r:
        return r.status, await r.text(), r.headers.get("ETag", "")


async def test_a_write_through_one_is_read_through_the_other(tmp_path: Path, storage: str) -> None:
    async with two_servers(tmp_path, storage) as (a, b):
        assert await a.put("/doc.ttl", '<#a> <#b> "one".') == 201
        for _ in range(3):  # read (and cache) the first version on both
            assert (await body_and_tag(a, "/doc.ttl"))[1] == (await body_and_tag(b, "/doc.ttl"))[1]
        first = await body_and_tag(a, "/doc.ttl")
        assert await b.put("/doc.ttl", '<#a> <#b> "two".') == 204
        status, body, tag = await body_and_tag(a, "/doc.ttl")
        assert status == 200 and '"two"' in body and tag != first[2]
        async with b.request("DELETE", "/doc.ttl") as r:
            assert r.status == 204
        assert (await body_and_tag(a, "/doc.ttl"))[0] == 404
        # A listing cached on A follows a member B added.
        await body_and_tag(a, "/")
        assert await b.put("/new.ttl", "<#x> <#y> 1.") == 201
        assert "new.ttl" in (await body_and_tag(a, "/"))[1]


async def test_an_acl_written_through_one_binds_the_other(tmp_path: Path, storage: str) -> None:
    async with two_servers(tmp_path, storage) as (a, b):
        assert await a.put("/box/doc.ttl", "<#a> <#b> 1.") == 201
        assert (await body_and_tag(a, "/box/doc.ttl"))[0] == 200  # the open root ACL, compiled
        assert await b.put("/box/.acl", ACL) == 201  # now only the owner may read
        assert (await body_and_tag(a, "/box/doc.ttl"))[0] == 401
        async with b.request(
            "PUT", "/box/.acl", data=PUBLIC, headers={"Content-Type": "text/turtle"}
        ) as r:
            assert r.status == 401  # B's open access ended with that ACL too


def public_acl(modes: str) -> str:
    """An ACL for a container and everything in it giving the public ``modes``."""
    return f"""@prefix acl: <http://www.w3.org/ns/auth/acl#>.
<#public> a acl:Authorization; acl:agentClass <http://xmlns.com/foaf/0.1/Agent>;
    acl:accessTo <./>; acl:default <./>; acl:mode {modes}.
"""


READABLE = public_acl("acl:Read, acl:Write, acl:Control")
UNREADABLE = public_acl("acl:Write, acl:Control")  # still lets B give Read back


async def test_the_very_next_read_through_the_other_sees_each_write(
    tmp_path: Path, storage: str
) -> None:
    """No sleep between a write through B and the read through A: A's caches (metadata,
    ACLs, bodies), warmed before each write, must not answer with what was there before.
    Several rounds, as a missed invalidation could depend on timing."""
    async with two_servers(tmp_path, storage) as (a, b):
        assert await b.put("/box/.acl", READABLE) == 201
        assert await b.put("/box/note.txt", "first", "text/plain") == 201
        for n in range(1, 6):
            for _ in range(2):  # warm A's caches with the current state
                assert (await body_and_tag(a, "/box/doc.ttl"))[0] in (200, 404)
                async with a.request("HEAD", "/box/note.txt") as r:
                    assert r.status == 200
            # Content: a new body (and, the first time, the resource itself).
            async with b.request(
                "PUT",
                "/box/doc.ttl",
                data=f"<#a> <#b> {n}.",
                headers={"Content-Type": "text/turtle"},
            ) as r:
                assert r.status in (201, 204)
                written = r.headers["ETag"]
            status, body, tag = await body_and_tag(a, "/box/doc.ttl")
            assert status == 200 and f"<#b> {n}" in body and tag == written
            # Metadata: a new media type and length, seen by a HEAD.
            media = "text/markdown" if n % 2 else "text/plain"
            assert await b.put("/box/note.txt", "x" * n, media) == 204
            async with a.request("HEAD", "/box/note.txt") as r:
                assert r.headers["Content-Type"].startswith(media)
                assert r.headers["Content-Length"] == str(n)
            # Revoking Read: the next read through A is refused...
            assert await b.put("/box/.acl", UNREADABLE) == 204
            assert (await body_and_tag(a, "/box/doc.ttl"))[0] == 401
            # ...and granting it again lets the next one through, as WAC-Allow says.
            assert await b.put("/box/.acl", READABLE) == 204
            async with a.request("GET", "/box/doc.ttl") as r:
                assert (
                    r.status == 200
                    and 'public="read write append control"' in r.headers["WAC-Allow"]
                )
            # Gone through B: gone through A.
            async with b.request("DELETE", "/box/doc.ttl") as r:
                assert r.status == 204
            assert (await body_and_tag(a, "/box/doc.ttl"))[0] == 404
