"""``pod consent``, ``pod request-access`` and ``pod audit`` against a scripted server:
tables for people, ``--json`` for scripts, one-line errors and the usual exit codes."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest

from client import ProfileStore, Request, Response
from client.cli import main
from tests.unit.client.helpers import POD, TURTLE, WEBID, FakeServer, session
from tests.unit.client.test_audit import LOG, chain, turtle_of
from tests.unit.client.test_consent import (
    BANK,
    OWNER,
    PURPOSE,
    RECORDS,
    lws_body,
    owner_server,
    record_turtle,
    records_server,
)


class Cli:
    """Runs ``pod`` against a FakeServer with a config dir of its own."""

    def __init__(self, server: FakeServer) -> None:
        self.server = server
        self.out = self.err = ""

    def __call__(self, *args: str) -> int:
        out, err = io.StringIO(), io.StringIO()
        code = main(list(args), stdout=out, stderr=err, transport=self.server.transport)
        self.out, self.err = out.getvalue(), err.getvalue()
        return code

    def json(self) -> object:
        return json.loads(self.out)


@pytest.fixture(autouse=True)
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("POD_CONFIG_DIR", str(tmp_path))
    monkeypatch.delenv("POD_PROFILE", raising=False)
    return tmp_path


def sign_in(config: Path) -> None:
    """A saved session as alice, valid for an hour (the FakeServer never checks it)."""
    made = session(time.time, client_secret="secret", webid=WEBID)
    made.access_token, made.expires_at, made.lifetime = "tok", time.time() + 3600, 3600.0
    ProfileStore(config / "sessions").save("default", made)


def with_profile(server: FakeServer) -> FakeServer:
    server.on(
        "GET",
        POD + "profile/card",
        Response(200, TURTLE, f"<{WEBID}> <http://www.w3.org/ns/pim/space#storage> <{POD}> ."),
    )
    return server


def test_consent_list_as_a_table_and_as_json(config: Path) -> None:
    sign_in(config)
    pod = Cli(with_profile(records_server()))
    assert pod("consent", "list") == 0, pod.err
    lines = pod.out.splitlines()
    assert lines[0].split() == ["ID", "STATUS", "RECIPIENT", "PURPOSE", "ACCESS", "UNTIL"]
    assert [line.split()[:2] for line in lines[1:]] == [
        ["a", "requested"],
        ["c", "refused"],
        ["b", "given"],
    ]
    assert "DataReturn" in lines[1] and BANK in lines[1] and "2026-04-01 00:00" in lines[1]
    assert pod("consent", "list", "--status", "given", "--json") == 0
    data = pod.json()
    assert isinstance(data, list) and [r["id"] for r in data] == ["b"]
    assert data[0]["granted"] == [{"url": POD + "bank/", "modes": ["Append"]}]
    assert pod("consent", "list", "--status", "withdrawn") == 0
    assert pod.out.strip() == "No consent records with status withdrawn."
    assert pod("consent", "list", "--status", "maybe") == 2
    assert pod.err.startswith("pod: unknown consent status") and pod.err.count("\n") == 1


def test_consent_show_approve_deny_withdraw(config: Path) -> None:
    server = records_server()
    bodies: list[object] = []

    def decide(request: Request) -> Response:
        bodies.append(json.loads(request.body or b""))
        return Response(
            200, TURTLE, record_turtle("a", "ConsentRequested", "ConsentGiven", granted=True)
        )

    server.on("POST", RECORDS + "a", decide)
    server.on("DELETE", RECORDS + "a", Response(204))
    pod = Cli(server)
    assert pod("consent", "show", "a", "--storage", POD) == 0, pod.err
    assert pod.out.startswith("a  requested\n") and f"recipient  {BANK}" in pod.out
    assert f"requested  {POD}bank/ (Read, Append); {POD}energy/ (Append)" in pod.out
    assert "note       monthly statements" in pod.out
    assert (
        pod(
            "consent",
            "approve",
            "a",
            "--storage",
            POD,
            "--target",
            POD + "bank/",
            "--mode",
            "append",
            "--until",
            "2026-03-31",
        )
        == 0
    ), pod.err
    assert bodies[-1] == {
        "decision": "approve",
        "targets": [{"url": POD + "bank/", "modes": ["Append"]}],
        "until": "2026-03-31T23:59:59Z",
    }
    assert pod.err == f"Approved a for {BANK}.\n" and "granted    " in pod.out
    assert pod("consent", "approve", "a", "--storage", POD, "--json") == 0
    assert bodies[-1] == {"decision": "approve"}
    record = pod.json()
    assert isinstance(record, dict) and record["status"] == "ConsentGiven"
    assert pod("consent", "deny", "a", "--storage", POD, "-q") == 0 and pod.err == ""
    assert bodies[-1] == {"decision": "deny"}
    assert pod("consent", "withdraw", "a", "--storage", POD, "--json") == 0
    assert pod.json() == {"url": RECORDS + "a", "withdrawn": True}
    assert server.sent()[-1].method == "DELETE"
    # Narrowing to a resource that was not asked for needs its modes: bad usage.
    assert pod("consent", "approve", "a", "--storage", POD, "--target", POD + "health/") == 2
    assert "was not requested" in pod.err


def test_consent_errors_are_one_line_with_the_usual_codes(config: Path) -> None:
    server = records_server()
    server.on(
        "POST", RECORDS + "c", Response(409, {"Content-Type": "text/plain"}, "already refused")
    )
    server.on("GET", RECORDS + "x", Response(403, {"Content-Type": "text/plain"}, "not yours"))
    pod = Cli(server)
    assert pod("consent", "approve", "c", "--storage", POD) == 6
    assert "already refused" in pod.err
    assert pod("consent", "show", "x", "--storage", POD, "--json") == 4
    error = pod.json()
    assert isinstance(error, dict) and error["error"]["status"] == 403
    assert pod("consent", "show", "nope", "--storage", POD) == 5
    assert pod("consent", "list") == 1  # anonymous, no --storage
    assert "nobody is signed in" in pod.err
    assert pod("consent") == 2  # a subcommand is required


def test_request_access(config: Path) -> None:
    server = owner_server()
    server.on(
        "POST", POD + ".well-known/access-requests", Response(201, {"Location": "consent/r9"})
    )
    pod = Cli(server)
    args = [
        "request-access",
        OWNER,
        "--target",
        POD + "bank/",
        "--mode",
        "append",
        "--purpose",
        PURPOSE,
        "--until",
        "2026-06-30",
    ]
    assert pod(*args) == 2 and "sign in first" in pod.err
    sign_in(config)
    assert pod(*args, "--note", "statements", "--json") == 0, pod.err
    assert pod.json() == {
        "url": POD + ".well-known/consent/r9",
        "owner": OWNER,
        "status": "ConsentRequested",
    }
    assert json.loads(server.sent("POST")[-1].body or b"") == lws_body(
        {("create",): [POD + "bank/"]}, "2026-06-30T23:59:59Z", WEBID, note="statements"
    )
    assert pod(*args[:-1], "soon") == 2 and "not a date" in pod.err
    assert pod(*args[:4]) == 2  # --purpose and --until are required


def test_audit_table_json_and_verify(config: Path) -> None:
    entries = chain(4)
    server = FakeServer()
    server.on("GET", LOG, Response(200, TURTLE, turtle_of(entries, LOG)))
    pod = Cli(server)
    assert pod("audit", "--storage", POD, "--verify") == 0, pod.err
    lines = pod.out.splitlines()
    assert lines[0].split() == ["SEQ", "WHEN", "(UTC)", "AGENT", "ACTION", "RESOURCE", "RESULT"]
    assert lines[1].split()[0] == "4" and lines[1].split()[-1] == "201"
    assert lines[2].split()[-2:] == [POD + "bank/3.ttl", "403"] and "Reject" in lines[2]
    assert lines[-1] == "Chain verified: 4 entries, intact."
    assert pod("audit", "--storage", POD, "--json") == 0
    data = pod.json()
    assert isinstance(data, dict) and [e["seq"] for e in data["entries"]] == [4, 3, 2, 1]
    assert "verification" not in data
    # One entry altered in storage: named, exit 8.
    entries[1] = entries[1].__class__(**{**entries[1].__dict__, "outcome": 200})
    server.on("GET", LOG, Response(200, TURTLE, turtle_of(entries, LOG)))
    assert pod("audit", "--storage", POD, "--verify") == 8
    assert "Chain verification FAILED:\n  entry 2 was altered" in pod.out
    assert pod("audit", "--storage", POD, "--verify", "--json") == 8
    report = pod.json()
    assert isinstance(report, dict) and report["verification"]["first_bad"] == 2


def test_audit_filters_and_errors(config: Path) -> None:
    server = FakeServer()
    asked: list[str] = []

    def answer(request: Request) -> Response:
        asked.append(request.url)
        return Response(200, TURTLE, turtle_of(chain(3)[2:], LOG))

    server.transport.handler = answer
    pod = Cli(server)
    code = pod(
        "audit", "--storage", POD, "--agent", BANK, "--outcome", "refused", "--since", "2026-01-01"
    )
    assert code == 0, pod.err
    assert "agent=https" in asked[0] and "outcome=refused" in asked[0]
    assert "since=2026-01-01T00:00:00Z" in asked[0] and "id%23org" in asked[0]
    assert pod("audit", "--storage", POD, "--outcome", "maybe") == 2
    assert pod.err.startswith("pod: outcome must be")
    assert pod("audit", "--storage", POD, "--since", "last week") == 2
    denied = FakeServer()
    denied.on("GET", LOG, Response(401, {"Content-Type": "text/plain"}, "sign in"))
    assert Cli(denied)("audit", "--storage", POD) == 3
    empty = FakeServer()
    empty.on("GET", LOG, Response(200, TURTLE, turtle_of([], LOG)))
    cli = Cli(empty)
    assert cli("audit", "--storage", POD) == 0 and cli.out == "No entries.\n"
