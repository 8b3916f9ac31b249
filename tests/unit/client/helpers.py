"""A tiny scripted server for MockTransport: routes (method, url) to responses."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from client import MockTransport, PodClient, Request, Response
from client.auth import ProviderInfo, Session
from client.dpop import DpopKey

ISSUER = "https://idp.example/"
POD = "https://pod.example/alice/"
WEBID = POD + "profile/card#me"

Route = Callable[[Request], Response] | Response


class FakeServer:
    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[Route]] = {}
        self.transport = MockTransport(self.handle)

    def on(self, method: str, url: str, *answers: Route) -> None:
        """Answer ``method url`` with each answer in turn (the last one repeats)."""
        self.routes[(method, url)] = list(answers)

    def handle(self, request: Request) -> Response:
        answers = self.routes.get((request.method, request.url))
        if not answers:
            return Response(404, {"Content-Type": "text/plain"}, f"no route {request.url}")
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        return answer(request) if callable(answer) else answer

    def sent(self, method: str | None = None) -> list[Request]:
        return [r for r in self.transport.requests if method is None or r.method == method]


def jwt_with(claims: dict[str, Any]) -> str:
    """An unsigned JWT-shaped token carrying ``claims`` (the client never verifies)."""
    import base64

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none'})}.{part(claims)}.sig"


def discovery(issuer: str = ISSUER) -> Response:
    return Response(
        200,
        {"Content-Type": "application/json"},
        json.dumps(
            {
                "issuer": issuer,
                "token_endpoint": issuer + "token",
                "authorization_endpoint": issuer + "authorize",
                "registration_endpoint": issuer + "register",
                "revocation_endpoint": issuer + "revoke",
            }
        ),
    )


def token(n: int = 1, expires_in: int = 300, **extra: Any) -> Response:
    body = {
        "access_token": jwt_with({"webid": WEBID, "n": n}),
        "token_type": "DPoP",
        "expires_in": expires_in,
        **extra,
    }
    return Response(200, {"Content-Type": "application/json"}, json.dumps(body))


def session(clock: Callable[[], float], **kw: Any) -> Session:
    made = Session(
        issuer=ISSUER,
        kind=kw.pop("kind", "client_credentials"),
        client_id="cid",
        key=DpopKey.generate(),
        provider=ProviderInfo(ISSUER, ISSUER + "token", revocation_endpoint=ISSUER + "revoke"),
        clock=clock,
        **kw,
    )
    return made


def client(server: FakeServer, signed_in: bool = True) -> PodClient:
    s = None
    if signed_in:
        s = session(lambda: 1000.0, client_secret="secret", webid=WEBID)
        s.access_token, s.expires_at, s.lifetime = "tok", 10_000.0, 300.0
    return PodClient(s, transport=server.transport, clock=lambda: 1000.0)


TURTLE = {"Content-Type": "text/turtle"}
