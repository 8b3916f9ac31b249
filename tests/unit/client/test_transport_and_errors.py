"""The transport interface, the mock transport, and how answers become errors."""

from __future__ import annotations

import pytest

from client import (
    Conflict,
    Forbidden,
    MockTransport,
    NotFound,
    PodClientError,
    PreconditionFailed,
    Request,
    Response,
    ServerError,
    Unauthorized,
)
from client.core import parse_links, parse_wac_allow
from client.errors import error_for_status
from tests.unit.client.helpers import POD, WEBID, FakeServer, client


async def test_mock_transport_sync_and_async_handlers_and_streaming_bodies() -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        yield b"ab"
        yield b"cd"

    seen: list[Request] = []

    async def handler(request: Request) -> Response:
        seen.append(request)
        return Response(200, {"X": "1"}, chunks())

    mock = MockTransport(handler)
    got = await mock.send(Request("put", "https://h/x", {"A": "b"}, chunks()))
    assert seen[0].method == "PUT" and seen[0].body == b"abcd"  # read for the handler
    assert [c async for c in got.iter_bytes()] == [b"ab", b"cd"] and got.url == "https://h/x"
    sync = MockTransport(lambda r: Response(204))
    assert (await sync.send(Request("GET", "https://h/"))).status == 204
    await sync.aclose()
    assert sync.closed and len(sync.requests) == 1


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (401, Unauthorized),
        (403, Forbidden),
        (404, NotFound),
        (410, NotFound),
        (409, Conflict),
        (412, PreconditionFailed),
        (500, ServerError),
        (503, ServerError),
        (418, PodClientError),
    ],
)
def test_statuses_map_to_the_hierarchy(status: int, kind: type[PodClientError]) -> None:
    err = error_for_status(status, "https://h/x", "GET", "why")
    assert type(err) is kind and isinstance(err, PodClientError)
    assert (err.status, err.url, err.method, err.message) == (status, "https://h/x", "GET", "why")
    assert str(err).startswith(f"{status} GET https://h/x: why")


async def test_server_messages_and_guidance() -> None:
    server = FakeServer()
    server.on("GET", POD + "text", Response(403, {"Content-Type": "text/plain"}, "no access"))
    server.on(
        "PUT",
        POD + "json",
        Response(409, {"Content-Type": "application/json"}, '{"message": "a vs a/"}'),
    )
    server.on("GET", POD + "html", Response(500, {"Content-Type": "text/html"}, "<h1>Oops</h1>"))
    async with client(server) as pod:
        with pytest.raises(Forbidden) as denied:
            await pod.get(POD + "text")
        assert denied.value.message == "no access"
        assert f"You are signed in as {WEBID}; this resource needs Read" in str(denied.value)
        with pytest.raises(Conflict, match="a vs a/"):
            await pod.put(POD + "json", "x", "text/plain")
        with pytest.raises(ServerError, match="Oops"):
            await pod.get(POD + "html")
    async with client(server, signed_in=False) as anonymous:
        server.on("DELETE", POD + "x.acl", Response(401, {"WWW-Authenticate": "DPoP"}))
        with pytest.raises(Unauthorized) as anon:
            await anonymous.delete(POD + "x.acl")
        assert "not signed in; this resource needs Control" in str(anon.value)


async def test_requests_carry_dpop_and_follow_redirects_of_reads_only() -> None:
    server = FakeServer()
    server.on("GET", POD + "old", Response(301, {"Location": "/alice/new"}))
    server.on("GET", POD + "new", Response(200, {"Content-Type": "text/plain"}, "here"))
    server.on("PUT", POD + "old", Response(307, {"Location": "/alice/new"}))
    server.on("GET", POD + "loop", Response(302, {"Location": POD + "loop"}))
    async with client(server) as pod:
        got = await pod.get(POD + "old")
        assert got.text() == "here" and got.url == POD + "new"
        second = server.sent("GET")[1]
        assert second.headers["Authorization"] == "DPoP tok" and second.headers["DPoP"]
        assert (await pod.put(POD + "old", "x", "text/plain")).status == 307
        with pytest.raises(PodClientError, match="too many redirects"):
            await pod.get(POD + "loop")
        with pytest.raises(PodClientError, match="absolute"):
            await pod.get("/relative")


async def test_a_dpop_nonce_challenge_is_answered_once() -> None:
    server = FakeServer()
    challenge = Response(
        401,
        {"WWW-Authenticate": 'DPoP error="use_dpop_nonce"', "DPoP-Nonce": "n-1"},
    )
    server.on("GET", POD + "x", challenge, Response(200, {}, "ok"))
    async with client(server) as pod:
        assert (await pod.get(POD + "x")).text() == "ok"
    first, second = server.sent("GET")
    from client.auth import claims_of

    assert "nonce" not in claims_of(first.headers["DPoP"])
    assert claims_of(second.headers["DPoP"])["nonce"] == "n-1"


def test_link_and_wac_allow_headers() -> None:
    links = parse_links(
        [
            '<.acl>; rel="acl", <http://www.w3.org/ns/ldp#Resource>; rel="type"',
            '<x.meta>; rel="describedby"; title="a, b", <http://www.w3.org/ns/pim/space#Storage>; rel=type',
        ],
        "https://h/a/",
    )
    assert links["acl"] == ["https://h/a/.acl"] and links["describedby"] == ["https://h/a/x.meta"]
    assert links["type"] == [
        "http://www.w3.org/ns/ldp#Resource",
        "http://www.w3.org/ns/pim/space#Storage",
    ]
    assert parse_wac_allow('user="read write", public="read"') == {
        "user": {"read", "write"},
        "public": {"read"},
    }
