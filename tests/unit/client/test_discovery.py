"""find_storage against scripted servers: a storage root the caller may not read is
still found, through the type link of the refusal or the storage description."""

from __future__ import annotations

from client import Response
from tests.unit.client.helpers import POD, TURTLE, FakeServer, client

HOST = "https://pod.example/"
DOC = POD + "public/note.txt"
DESCRIPTION = POD + ".well-known/solid"
STORAGE_TYPE = '<http://www.w3.org/ns/pim/space#Storage>; rel="type"'
CONTAINER_TYPE = '<http://www.w3.org/ns/ldp#BasicContainer>; rel="type"'
DESCRIPTION_REL = "http://www.w3.org/ns/solid/terms#storageDescription"
DESCRIBED_BY = f'<{DESCRIPTION}>; rel="{DESCRIPTION_REL}"'


def readable(*links: str) -> Response:
    return Response(200, {"Link": ", ".join(links)} if links else {})


def refused(status: int, *links: str) -> Response:
    headers = {"Content-Type": "text/plain", **({"Link": ", ".join(links)} if links else {})}
    return Response(status, headers, "no access")


def description(*storages: str) -> Response:
    body = "".join(f"<{s}> a <http://www.w3.org/ns/pim/space#Storage>.\n" for s in storages)
    return Response(200, TURTLE, body)


def private_root(status: int, named: tuple[str, ...] = (POD,)) -> FakeServer:
    """A readable document and container below a root that answers ``status`` bare."""
    server = FakeServer()
    server.on("HEAD", DOC, readable(DESCRIBED_BY))
    server.on("HEAD", POD + "public/", readable(CONTAINER_TYPE, DESCRIBED_BY))
    server.on("HEAD", POD, refused(status))
    server.on("GET", DESCRIPTION, description(*named))
    server.on("HEAD", HOST, refused(status))
    return server


async def test_a_root_refused_to_an_anonymous_client_is_found_by_its_description() -> None:
    server = private_root(401)
    async with client(server, signed_in=False) as pod:
        assert await pod.find_storage(DOC) == POD
    assert [r.url for r in server.sent("HEAD")] == [DOC, POD + "public/", POD]
    assert [r.url for r in server.sent("GET")] == [DESCRIPTION]  # read once, when needed


async def test_a_root_forbidden_to_another_agent_is_found_by_its_description() -> None:
    server = private_root(403)
    async with client(server) as pod:
        assert await pod.find_storage(DOC) == POD
        assert pod.known_etag(POD) is None


async def test_a_type_link_on_the_refusal_is_enough() -> None:
    server = private_root(401)
    server.on("HEAD", POD, refused(401, STORAGE_TYPE, CONTAINER_TYPE))
    async with client(server, signed_in=False) as pod:
        assert await pod.find_storage(DOC) == POD
    assert server.sent("GET") == []


async def test_a_refused_container_the_description_does_not_name_is_walked_past() -> None:
    server = private_root(401, named=(HOST, "https://elsewhere.example/alice/"))
    server.on("HEAD", HOST, readable(STORAGE_TYPE, DESCRIBED_BY))
    async with client(server, signed_in=False) as pod:
        assert await pod.find_storage(DOC) == HOST


async def test_a_description_on_another_origin_cannot_name_a_storage() -> None:
    elsewhere = "https://elsewhere.example/.well-known/solid"
    server = private_root(401)
    server.on("HEAD", DOC, readable(f'<{elsewhere}>; rel="{DESCRIPTION_REL}"'))
    server.on("HEAD", POD + "public/", readable(CONTAINER_TYPE))
    server.on("GET", elsewhere, description(POD))
    async with client(server, signed_in=False) as pod:
        assert await pod.find_storage(DOC) is None
    assert [r.url for r in server.sent("GET")] == [elsewhere]


async def test_without_a_description_nothing_refused_is_taken_for_a_storage() -> None:
    server = private_root(401)
    server.on("GET", DESCRIPTION, refused(401))
    async with client(server, signed_in=False) as pod:
        assert await pod.find_storage(DOC) is None


async def test_a_readable_root_is_found_past_missing_containers() -> None:
    server = FakeServer()  # a/ and a/b/ are unrouted: 404
    server.on("HEAD", POD, readable(STORAGE_TYPE, CONTAINER_TYPE))
    async with client(server) as pod:
        assert await pod.find_storage(POD + "a/b/c") == POD
        assert await pod.find_storage(POD) == POD
    assert server.sent("GET") == []
