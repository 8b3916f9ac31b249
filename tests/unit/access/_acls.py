"""Shared helpers: ACLs are written as Turtle in the tests and compiled from it."""

from __future__ import annotations

from collections.abc import Mapping

from rdflib import Graph

from pod_server.access import CompiledAcl, Mode, compile_acl, granted_modes

POD = "https://pod.example/"
ALICE = "https://alice.example/profile#me"
BOB = "https://bob.example/profile#me"
CAROL = "https://carol.example/profile#me"

PREFIXES = """\
@prefix acl: <http://www.w3.org/ns/auth/acl#> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .
@prefix vcard: <http://www.w3.org/2006/vcard/ns#> .
"""


def parse(turtle: str, url: str) -> Graph:
    return Graph().parse(data=PREFIXES + turtle, format="turtle", publicID=url)


def compile_ttl(turtle: str, acl_url: str) -> CompiledAcl:
    return compile_acl(parse(turtle, acl_url), acl_url)


def modes(
    acl: CompiledAcl,
    target: str,
    *,
    default_for: str | None = None,
    agent: str | None = None,
    authenticated: bool | None = None,
    origin: str | None = None,
    groups: Mapping[str, frozenset[str]] | None = None,
    client: str | None = None,
) -> Mode:
    """``granted_modes`` with test defaults: anonymous unless an agent is given."""
    return granted_modes(
        acl,
        target,
        default_for=default_for,
        agent_webid=agent,
        authenticated=agent is not None if authenticated is None else authenticated,
        origin=origin,
        groups=groups or {},
        client_id=client,
    )
