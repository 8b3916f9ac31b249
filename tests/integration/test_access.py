"""Authentication and Web Access Control through a real server and a real issuer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pod_server.http.handlers import STORE
from pod_server.pods.provision import provision
from pod_server.settings import Settings
from tests.conftest import BACKENDS, Pod, running_pod
from tests.fake_issuer import Caller, Issuer, running_issuer
from tests.integration.challenge import uma_then_dpop

PREFIXES = (
    "@prefix acl: <http://www.w3.org/ns/auth/acl#>.\n@prefix foaf: <http://xmlns.com/foaf/0.1/>.\n"
)


@dataclass
class World:
    pod: Pod
    issuer: Issuer
    alice: Caller  # the owner
    bob: Caller

    async def call(
        self,
        who: Caller | None,
        method: str,
        path: str,
        body: str | bytes | None = None,
        ctype: str = "text/turtle",
        **headers: str,
    ) -> tuple[int, dict[str, str], str]:
        url = self.pod.url(path)
        sent: dict[str, Any] = dict(headers)
        if who is not None:
            sent.update(who.headers(method, url))
        if body is not None:
            sent["Content-Type"] = ctype
        async with self.pod.session.request(method, url, data=body, headers=sent) as r:
            return r.status, dict(r.headers), await r.text()

    async def status(
        self, who: Caller | None, method: str, path: str, body: str | None = None, **kw: Any
    ) -> int:
        return (await self.call(who, method, path, body, **kw))[0]

    async def grant(self, path: str, rules: str) -> None:
        """As the owner, write ``path``'s ACL: the owner's full control plus ``rules``."""
        owner = (
            f"<#owner> a acl:Authorization; acl:agent <{self.alice.webid}>; acl:accessTo <./>, <{self.pod.url(path)}>;"
            " acl:default <./>; acl:mode acl:Read, acl:Write, acl:Control.\n"
        )
        status = await self.status(self.alice, "PUT", path + ".acl", PREFIXES + owner + rules)
        assert status in (201, 204)


@pytest.fixture
async def world(tmp_path: Path, backend_name: str) -> AsyncIterator[World]:
    async with running_issuer() as issuer:
        alice_id = issuer.add_person("alice")
        issuer.add_person("bob")
        settings = Settings(owner=alice_id)
        async with running_pod(tmp_path, BACKENDS[backend_name](tmp_path), settings) as pod:
            yield World(pod, issuer, issuer.caller("alice"), issuer.caller("bob"))


async def test_fresh_storage_is_private_to_its_owner(world: World) -> None:
    status, headers, _ = await world.call(None, "GET", "/")
    assert status == 401
    assert uma_then_dpop(headers["WWW-Authenticate"])
    assert "ES256" in headers["WWW-Authenticate"]
    status, headers, _ = await world.call(world.alice, "GET", "/")
    assert status == 200
    assert headers["WAC-Allow"] == 'user="read write append control",public=""'
    assert await world.status(world.bob, "GET", "/") == 403
    assert await world.status(world.bob, "PUT", "/x.ttl", "<#a> <#b> 1.") == 403
    assert await world.status(None, "PUT", "/x.ttl", "<#a> <#b> 1.") == 401


async def test_denied_callers_cannot_learn_what_exists(world: World) -> None:
    await world.status(world.alice, "PUT", "/secret.ttl", "<#a> <#b> 1.")
    assert await world.status(world.bob, "GET", "/secret.ttl") == 403
    assert await world.status(world.bob, "GET", "/no-such.ttl") == 403


async def test_inherited_read_grant(world: World) -> None:
    await world.status(world.alice, "PUT", "/shared/doc.ttl", "<#a> <#b> 1.")
    await world.grant(
        "/shared/",
        f"<#bob> a acl:Authorization; acl:agent <{world.bob.webid}>;"
        " acl:accessTo <./>; acl:default <./>; acl:mode acl:Read.\n",
    )
    status, headers, _ = await world.call(world.bob, "GET", "/shared/doc.ttl")
    assert status == 200
    assert headers["WAC-Allow"] == 'user="read",public=""'
    assert await world.status(world.bob, "PUT", "/shared/doc.ttl", "<#a> <#b> 2.") == 403
    assert await world.status(world.bob, "GET", "/shared/.acl") == 403  # Read is not Control
    assert await world.status(None, "GET", "/shared/doc.ttl") == 401
    assert await world.status(world.bob, "GET", "/") == 403  # nothing above /shared/


async def test_public_read(world: World) -> None:
    await world.status(world.alice, "PUT", "/pub/page.ttl", "<#a> <#b> 1.")
    await world.grant(
        "/pub/",
        "<#all> a acl:Authorization; acl:agentClass foaf:Agent;"
        " acl:accessTo <./>; acl:default <./>; acl:mode acl:Read.\n",
    )
    status, headers, _ = await world.call(None, "GET", "/pub/page.ttl")
    assert status == 200
    assert headers["WAC-Allow"] == 'user="read",public="read"'
    assert await world.status(None, "DELETE", "/pub/page.ttl") == 401


async def test_append_only_inbox(world: World) -> None:
    await world.status(world.alice, "PUT", "/inbox/", "")
    await world.grant(
        "/inbox/",
        "<#drop> a acl:Authorization; acl:agentClass acl:AuthenticatedAgent;"
        " acl:accessTo <./>; acl:default <./>; acl:mode acl:Append.\n",
    )
    status, headers, _ = await world.call(world.bob, "POST", "/inbox/", '<#m> <#says> "hi".')
    assert status == 201
    member = headers["Location"][len(world.pod.base) - 1 :]
    assert await world.status(world.bob, "GET", "/inbox/") == 403
    assert await world.status(world.bob, "GET", member) == 403
    assert await world.status(world.bob, "PUT", member, '<#m> <#says> "bye".') == 403
    assert await world.status(world.bob, "DELETE", member) == 403
    assert await world.status(None, "POST", "/inbox/", "<#m> <#says> 1.") == 401
    insert = (
        "@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n"
        "_:p a solid:InsertDeletePatch; solid:inserts { <#m> <#also> 1. }."
    )
    assert await world.status(world.bob, "PATCH", member, insert, ctype="text/n3") == 204
    delete = (
        "@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n"
        "_:p a solid:InsertDeletePatch; solid:deletes { <#m> <#also> 1. }."
    )
    assert await world.status(world.bob, "PATCH", member, delete, ctype="text/n3") == 403


async def test_acl_resources_need_control(world: World) -> None:
    await world.grant(
        "/team/",
        f"<#bob> a acl:Authorization; acl:agent <{world.bob.webid}>;"
        " acl:accessTo <./>; acl:default <./>; acl:mode acl:Read, acl:Write.\n",
    )
    assert await world.status(world.bob, "PUT", "/team/notes.ttl", "<#a> <#b> 1.") == 201
    assert await world.status(world.bob, "GET", "/team/.acl") == 403
    assert await world.status(world.bob, "PUT", "/team/notes.ttl.acl", PREFIXES) == 403
    assert await world.status(world.alice, "GET", "/team/.acl") == 200


async def test_control_alone_manages_an_acl(world: World) -> None:
    await world.grant(
        "/ctl/",
        f"<#bob> a acl:Authorization; acl:agent <{world.bob.webid}>;"
        " acl:accessTo <./>; acl:mode acl:Control.\n",
    )
    assert await world.status(world.bob, "GET", "/ctl/.acl") == 200
    assert await world.status(world.bob, "GET", "/ctl/") == 403


async def test_root_acl_cannot_lock_everyone_out(world: World) -> None:
    nobody = (
        PREFIXES
        + "<#r> a acl:Authorization; acl:agentClass foaf:Agent; acl:accessTo <./>; acl:mode acl:Read.\n"
    )
    assert await world.status(world.alice, "PUT", "/.acl", nobody) == 409
    assert await world.status(world.alice, "PUT", "/.acl", "this is not turtle") == 400
    bad = PREFIXES + "<#r> a acl:Authorization; acl:accessTo <./>.\n"  # no mode, no subject
    assert await world.status(world.alice, "PUT", "/.acl", bad) == 400
    assert await world.status(world.alice, "DELETE", "/.acl") == 405
    assert await world.status(None, "DELETE", "/.acl") == 405
    assert await world.status(world.alice, "GET", "/") == 200  # still in control


async def test_sdk_style_acl_creation_by_sparql_patch(world: World) -> None:
    await world.status(world.alice, "PUT", "/sdk/doc.ttl", "<#a> <#b> 1.")
    doc = world.pod.url("/sdk/doc.ttl")
    update = (
        "INSERT DATA {\n"
        f"<{doc}.acl#owner> a <http://www.w3.org/ns/auth/acl#Authorization>;\n"
        f"  <http://www.w3.org/ns/auth/acl#accessTo> <{doc}>;\n"
        f"  <http://www.w3.org/ns/auth/acl#default> <{doc}>;\n"
        f"  <http://www.w3.org/ns/auth/acl#agent> <{world.alice.webid}>;\n"
        "  <http://www.w3.org/ns/auth/acl#mode> <http://www.w3.org/ns/auth/acl#Read>,"
        " <http://www.w3.org/ns/auth/acl#Control>.\n"
        f"<{doc}.acl#public> a <http://www.w3.org/ns/auth/acl#Authorization>;\n"
        f"  <http://www.w3.org/ns/auth/acl#accessTo> <{doc}>;\n"
        "  <http://www.w3.org/ns/auth/acl#agentClass> <http://xmlns.com/foaf/0.1/Agent>;\n"
        "  <http://www.w3.org/ns/auth/acl#mode> <http://www.w3.org/ns/auth/acl#Read>.\n"
        "}"
    )
    status = await world.status(
        world.alice, "PATCH", "/sdk/doc.ttl.acl", update, ctype="application/sparql-update"
    )
    assert status == 201
    assert await world.status(None, "GET", "/sdk/doc.ttl") == 200
    # The document's own ACL replaced the inherited one: the owner kept only Read + Control.
    assert await world.status(world.alice, "PUT", "/sdk/doc.ttl", "<#a> <#b> 2.") == 403


async def test_origin_restricted_rule(world: World) -> None:
    await world.status(world.alice, "PUT", "/app/data.ttl", "<#a> <#b> 1.")
    await world.grant(
        "/app/",
        f"<#bob> a acl:Authorization; acl:agent <{world.bob.webid}>;"
        " acl:origin <https://good.example>;"
        " acl:accessTo <./>; acl:default <./>; acl:mode acl:Read.\n",
    )
    assert (
        await world.status(world.bob, "GET", "/app/data.ttl", Origin="https://good.example") == 200
    )
    assert (
        await world.status(world.bob, "GET", "/app/data.ttl", Origin="https://evil.example") == 403
    )


async def test_local_group(world: World) -> None:
    await world.status(
        world.alice,
        "PUT",
        "/groups/friends.ttl",
        f"<#it> a <http://www.w3.org/2006/vcard/ns#Group>;"
        f" <http://www.w3.org/2006/vcard/ns#hasMember> <{world.bob.webid}>.",
    )
    group = world.pod.url("/groups/friends.ttl#it")
    await world.status(world.alice, "PUT", "/photos/p.txt", "pic", ctype="text/plain")
    await world.grant(
        "/photos/",
        f"<#friends> a acl:Authorization; acl:agentGroup <{group}>;"
        " acl:accessTo <./>; acl:default <./>; acl:mode acl:Read.\n",
    )
    assert await world.status(world.bob, "GET", "/photos/p.txt") == 200


async def test_forged_credentials_end_as_anonymous(world: World) -> None:
    url = world.pod.url("/")
    bob = world.bob
    replayed = bob.headers("GET", url)
    assert (
        await world.status(
            None, "GET", "/", Authorization=replayed["Authorization"], DPoP=replayed["DPoP"]
        )
        == 403
    )
    assert (
        await world.status(
            None, "GET", "/", Authorization=replayed["Authorization"], DPoP=replayed["DPoP"]
        )
        == 401
    )
    wrong_htu = bob.headers("GET", world.pod.url("/elsewhere"))
    assert await world.status(None, "GET", "/", **wrong_htu) == 401
    assert await world.status(None, "GET", "/", Authorization=f"Bearer {bob.token}") == 401
    assert await world.status(None, "GET", "/", Authorization="DPoP garbage", DPoP="garbage") == 401
    # A WebID whose profile does not name this issuer.
    world.issuer.add_person("mallory", issuers=["https://other.example/"])
    mallory = world.issuer.caller("mallory")
    status, headers, _ = await world.call(mallory, "GET", "/")
    assert status == 401
    assert 'error="invalid_token"' in headers["WWW-Authenticate"]


async def test_open_server_grants_everyone(tmp_path: Path) -> None:
    async with running_pod(tmp_path, BACKENDS["memory"](tmp_path), Settings(open=True)) as pod:
        assert await pod.put("/x.ttl", "<#a> <#b> 1.") == 201
        async with pod.request("GET", "/x.ttl") as r:
            assert (
                r.headers["WAC-Allow"]
                == 'user="read write append control",public="read write append control"'
            )


async def test_no_owner_and_not_open_means_nobody(tmp_path: Path) -> None:
    async with running_pod(tmp_path, BACKENDS["memory"](tmp_path), Settings()) as pod:
        async with pod.request("GET", "/") as r:
            assert r.status == 401


# -- the storage's owner always holds Control ------------------------------------------

SOLID_OWNER = "http://www.w3.org/ns/solid/terms#owner"


def only_bob(world: World, container: str) -> str:
    """An ACL for ``container`` that names bob alone, with every mode."""
    return (
        PREFIXES + f"<#bob> a acl:Authorization; acl:agent <{world.bob.webid}>;"
        f" acl:accessTo <{world.pod.url(container)}>; acl:default <{world.pod.url(container)}>;"
        " acl:mode acl:Read, acl:Write, acl:Control.\n"
    )


async def check_owner_keeps_control(world: World, carol: Caller, c: str) -> None:
    """alice (the owner) writes an ACL on ``c`` that names only bob, then repairs it."""
    assert await world.status(world.alice, "PUT", c + "doc.ttl", "<#a> <#b> 1.") == 201
    assert await world.status(world.alice, "PUT", c + ".acl", only_bob(world, c)) == 201
    # Control only: the ACL withholds her data from her...
    assert await world.status(world.alice, "GET", c + "doc.ttl") == 403
    assert await world.status(world.alice, "PUT", c + "doc.ttl", "<#a> <#b> 2.") == 403
    # ...but never her ACLs, and WAC-Allow says so.
    status, headers, text = await world.call(world.alice, "GET", c + ".acl")
    assert status == 200 and world.bob.webid in text
    assert headers["WAC-Allow"] == 'user="control",public=""'
    # bob gets what the ACL gives him; anyone else still nothing.
    assert await world.status(world.bob, "GET", c + "doc.ttl") == 200
    assert await world.status(world.bob, "GET", c + ".acl") == 200
    for path in (c, c + "doc.ttl", c + ".acl"):
        assert await world.status(carol, "GET", path) == 403, path
    assert await world.status(carol, "PUT", c + ".acl", only_bob(world, c)) == 403
    assert await world.status(None, "GET", c + ".acl") == 401
    # A bad ACL from the owner is still a 400 that changes nothing.
    assert await world.status(world.alice, "PUT", c + ".acl", "not turtle") == 400
    assert await world.status(world.alice, "GET", c + "doc.ttl") == 403
    # She repairs it: now she reads and writes again, and bob keeps his access.
    repaired = only_bob(world, c) + (
        f"<#alice> a acl:Authorization; acl:agent <{world.alice.webid}>;"
        f" acl:accessTo <{world.pod.url(c)}>; acl:default <{world.pod.url(c)}>;"
        " acl:mode acl:Read, acl:Write.\n"
    )
    assert await world.status(world.alice, "PUT", c + ".acl", repaired) == 204
    status, headers, _ = await world.call(world.alice, "GET", c + "doc.ttl")
    assert status == 200
    assert headers["WAC-Allow"] == 'user="read write append control",public=""'
    assert await world.status(world.bob, "GET", c + "doc.ttl") == 200
    assert await world.status(carol, "GET", c + "doc.ttl") == 403
    # Or she deletes it: the container inherits from above again, which excludes bob.
    assert await world.status(world.alice, "DELETE", c + ".acl") in (200, 204, 205)
    assert await world.status(world.alice, "GET", c + "doc.ttl") == 200
    assert await world.status(world.bob, "GET", c + "doc.ttl") == 403


async def test_owner_keeps_control_of_a_single_user_storage(world: World) -> None:
    world.issuer.add_person("carol")
    await check_owner_keeps_control(world, world.issuer.caller("carol"), "/c/")
    # The storage description names the configured owner.
    status, _, text = await world.call(None, "GET", "/.well-known/solid")
    assert status == 200 and f"<{SOLID_OWNER}> <{world.alice.webid}>" in text
    _, headers, _ = await world.call(world.alice, "HEAD", "/")
    assert f'<{world.alice.webid}>; rel="{SOLID_OWNER}"' in headers["Link"]


@pytest.fixture
async def pod_world(tmp_path: Path, backend_name: str) -> AsyncIterator[World]:
    """Several users: alice owns the pod ``/alice/`` with a WebID at the issuer."""
    async with running_issuer() as issuer:
        alice_id = issuer.add_person("alice")
        issuer.add_person("bob")
        issuer.add_person("carol")
        settings = Settings(multiuser=True)
        async with running_pod(tmp_path, BACKENDS[backend_name](tmp_path), settings) as pod:
            await provision(pod.app[STORE], "alice", issuer.base, alice_id)  # type: ignore[index]
            yield World(pod, issuer, issuer.caller("alice"), issuer.caller("bob"))


async def test_pod_owner_keeps_control(pod_world: World) -> None:
    await check_owner_keeps_control(pod_world, pod_world.issuer.caller("carol"), "/alice/c/")


async def test_the_pod_root_links_to_its_owner(pod_world: World) -> None:
    world = pod_world
    owner_link = f'<{world.alice.webid}>; rel="{SOLID_OWNER}"'
    for method in ("GET", "HEAD"):
        status, headers, _ = await world.call(world.alice, method, "/alice/")
        assert status == 200 and owner_link in headers["Link"], method
    _, headers, _ = await world.call(world.alice, "GET", "/alice/settings/")
    assert SOLID_OWNER not in headers["Link"]  # only the storage root names it


async def test_owners_are_not_changed_by_writing_the_pod_root(pod_world: World) -> None:
    world = pod_world
    root = world.pod.url("/alice/")
    claim = f"<{root}> <{SOLID_OWNER}> <{world.bob.webid}>."
    assert await world.status(world.alice, "PUT", "/alice/", claim) == 409
    patch = f"INSERT DATA {{ {claim} }}"
    ctype = "application/sparql-update"
    assert await world.status(world.alice, "PATCH", "/alice/", patch, ctype=ctype) == 409
    drop = f"DELETE DATA {{ <{root}> <{SOLID_OWNER}> <{world.alice.webid}> }}"
    assert await world.status(world.alice, "PATCH", "/alice/", drop, ctype=ctype) == 409
    # A PUT that does not mention the owner replaces the rest and keeps her the owner.
    title = f'<{root}> <http://purl.org/dc/terms/title> "Mine".'
    assert await world.status(world.alice, "PUT", "/alice/", title) == 204
    _, _, text = await world.call(None, "GET", "/alice/.well-known/solid")
    assert f"<{SOLID_OWNER}> <{world.alice.webid}>" in text
    assert world.bob.webid not in text
    await check_owner_keeps_control(world, world.issuer.caller("carol"), "/alice/c/")
