"""Evaluate a compiled ACL for one request: which modes it grants, which it needs, verdict.

Everything here is pure and works on plain strings: URLs are absolute, with paths in
``paths.canonical`` form (the form ``compile_acl`` brings ``acl:accessTo`` and
``acl:default`` values to), and are compared exactly.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from urllib.parse import urldefrag

from rdflib import Graph, URIRef

from pod_server.access.acl import CompiledAcl, Grants, Rule, normalize_origin
from pod_server.access.modes import BY_VALUE, NO_MODES, Mode
from pod_server.ldp.vocabulary import VCARD

VCARD_HAS_MEMBER = VCARD.hasMember


def granted_modes(
    acl: CompiledAcl,
    target_url: str,
    *,
    default_for: str | None,
    agent_webid: str | None,
    authenticated: bool,
    origin: str | None,
    groups: Mapping[str, frozenset[str]],
    now: float | None = None,
    client_id: str | None = None,
) -> Mode:
    """The modes ``acl`` grants this requester on ``target_url`` at time ``now``.

    ``default_for`` is ``None`` when ``acl`` is the target's own ACL, and otherwise
    the ancestor container whose ACL it is (the effective ACL found by the lookup).

    WAC, Authorization Evaluation: "an Authorization can be evaluated explicitly (via
    acl:accessTo) or inherited (via acl:default)". So an own ACL contributes only its
    ``acl:accessTo <target>`` rules and an inherited one only its ``acl:default
    <default_for>`` rules. In particular a container's ``acl:default`` never grants
    access to that container itself: its own ACL is evaluated with ``default_for=None``.

    ``groups`` maps group IRIs (``acl.groups``) to their members (``group_members``);
    a group missing from it has no members. An anonymous request passes
    ``agent_webid=None, authenticated=False``; the ``public`` half of ``WAC-Allow``
    is this same call made anonymously.

    ``now`` (POSIX seconds) is compared with the end of rules that have one (a consent's
    ``consent:until``): from that instant on they grant nothing, whether or not anything
    has removed them yet. Without ``now`` such rules grant nothing at all.

    ``client_id`` is the app the request comes through (its token's ``client_id``): a
    rule with a client condition grants only requests through one of its clients.
    """
    if agent_webid is not None and not authenticated:
        raise ValueError("an agent WebID is only known for an authenticated request")
    grants = _grants_for(acl, target_url, default_for)
    if not authenticated:
        # Only public rules can match an anonymous request: every other rule names
        # agents, groups or the authenticated class.
        bits = grants.public
        for rule in grants.conditional:
            if rule.public and rule.bits & ~bits and _current(rule, now):
                bits |= rule.bits if _client_allowed(rule, client_id) else 0
        return BY_VALUE[bits]
    return BY_VALUE[_authenticated_bits(grants, agent_webid, origin, groups, now, client_id)]


def consents_used(
    acl: CompiledAcl,
    target_url: str,
    needed: Mode,
    *,
    default_for: str | None,
    agent_webid: str,
    origin: str | None,
    groups: Mapping[str, frozenset[str]],
    now: float | None,
    client_id: str | None = None,
) -> frozenset[str]:
    """The consent records (``consent:grantedBy``) of the rules in ``acl`` that give this
    authenticated agent any of the ``needed`` modes on ``target_url`` now: what an
    allowed access relied on, for the audit log. Arguments as for ``granted_modes``."""
    if not acl.consented or not needed:
        return frozenset()
    origin = None if origin is None else normalize_origin(origin)
    return frozenset(
        rule.granted_by
        for rule in _grants_for(acl, target_url, default_for).conditional
        if rule.granted_by is not None
        and rule.bits & needed.value
        and _applies(rule, agent_webid, origin, groups, now, client_id)
    )


_NOTHING = Grants(public=0, authenticated=0, agents=MappingProxyType({}), conditional=())


def _grants_for(acl: CompiledAcl, target_url: str, default_for: str | None) -> Grants:
    if default_for is None:
        return acl.by_access_to.get(target_url, _NOTHING)
    inside = target_url.startswith(default_for) and target_url != default_for
    if not (default_for.endswith("/") and inside):
        raise ValueError(f"{target_url!r} does not inherit from container {default_for!r}")
    return acl.by_default.get(default_for, _NOTHING)


def _authenticated_bits(
    grants: Grants,
    agent_webid: str | None,
    origin: str | None,
    groups: Mapping[str, frozenset[str]],
    now: float | None,
    client_id: str | None = None,
) -> int:
    bits = grants.public | grants.authenticated
    if agent_webid is not None:
        bits |= grants.agents.get(agent_webid, 0)
    origin = None if origin is None else normalize_origin(origin)
    for rule in grants.conditional:
        # Skip rules that could add nothing new before doing the match.
        if rule.bits & ~bits and _applies(rule, agent_webid, origin, groups, now, client_id):
            bits |= rule.bits
    return bits


def _applies(
    rule: Rule,
    agent_webid: str | None,
    origin: str | None,
    groups: Mapping[str, frozenset[str]],
    now: float | None,
    client_id: str | None = None,
) -> bool:
    """Whether an authenticated requester matches a rule with groups, origins, clients or
    an end."""
    if not _current(rule, now) or not _client_allowed(rule, client_id):
        return False
    if rule.public:
        return True  # as for untimed public rules: everyone, whatever the Origin
    agent_matches = (
        rule.authenticated
        or agent_webid in rule.agents
        or (bool(rule.groups) and _in_groups(agent_webid, rule.groups, groups))
    )
    return agent_matches and _origin_allowed(rule, origin)


def _client_allowed(rule: Rule, client_id: str | None) -> bool:
    # WAC (draft), Condition Evaluation: "the server MUST match an Authorization only
    # when all such conditions are satisfied"; acl:client "denotes a client being allowed
    # access when acting on behalf of the subject agent". No client known: no match.
    return rule.clients is None or (client_id is not None and client_id in rule.clients)


def _current(rule: Rule, now: float | None) -> bool:
    return rule.until is None or (now is not None and now < rule.until)


def _in_groups(
    agent_webid: str | None, rule_groups: frozenset[str], groups: Mapping[str, frozenset[str]]
) -> bool:
    return any(agent_webid in groups.get(group, ()) for group in rule_groups)


def _origin_allowed(rule: Rule, origin: str | None) -> bool:
    # Decision: acl:origin restricts the rule that carries it, and only requests that
    # carry an Origin header. WAC, Authorization Evaluation: "The presence of the
    # acl:origin property and its value is taken into account in the evaluation only
    # when the HTTP request includes the Origin header." And WAC, Web Origin
    # Authorization: "User agents include the HTTP Origin header field to isolate
    # different origins [...] The Origin header warns the server that a possibly
    # untrusted Web application is being used." So a rule naming origins grants a
    # browser request only from one of them (an opaque "null" Origin matches none), and
    # grants a request without Origin (a server-side or command-line client, which could
    # send any Origin it liked) as if no origin were named: acl:origin protects a user
    # from web apps in their own browser, it does not authenticate anyone.
    # A rule naming no origin is not restricted. This is deliberately looser than the
    # strict reading (every non-public browser request needs some origin-bearing
    # Authorization), which would shut out every app an ACL does not list; the spec
    # itself notes "Implementations might implicitly allow a list of origins".
    if not rule.origins or origin is None:
        return True
    return origin in rule.origins


def groups_referenced(acl: CompiledAcl) -> frozenset[str]:
    """The group documents to fetch: ``acl.groups`` without their fragments."""
    return frozenset(urldefrag(group).url for group in acl.groups)


def group_members(graph: Graph, group_iri: str) -> frozenset[str]:
    """WebIDs the group document ``graph`` lists as members of ``group_iri``.

    WAC, Access Subjects: "The object of an acl:agentGroup statement is an instance
    of vcard:Group, where the members of the group are specified with the
    vcard:hasMember predicate." The vcard:Group type is not required (neither
    reference server requires it); only IRI members count.
    """
    members = graph.objects(URIRef(group_iri), VCARD_HAS_MEMBER)
    return frozenset(str(member) for member in members if isinstance(member, URIRef))


@dataclass(frozen=True, slots=True)
class Requirements:
    """Modes a request needs on its target and on the target's parent container.

    For an ACL resource the target is the resource the ACL controls, not the ``.acl``
    itself. Solid Protocol, ACL auxiliary resources: "To discover, read, create, or
    modify an ACL auxiliary resource, an acl:agent MUST have acl:Control privileges per
    the ACL inheritance algorithm on the resource directly associated with it."
    """

    target: Mode = NO_MODES
    parent: Mode = NO_MODES


_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"})


def required_modes(
    method: str,
    *,
    target_exists: bool,
    is_acl: bool,
    patch_inserts: bool = False,
    patch_deletes: bool = False,
    patch_where: bool = False,
) -> Requirements:
    """What ``method`` on the target needs (see the comments for the quotes).

    The PATCH flags describe the patch document: it inserts triples, deletes triples,
    has a WHERE clause (N3 ``solid:where``, SPARQL ``WHERE``). Whether the target
    exists only matters for PUT and PATCH: every other answer is the same either way,
    so a denied caller cannot tell whether something is there.
    """
    if method not in _METHODS:
        raise ValueError(f"no access rule for method {method!r}")
    if is_acl:
        # WAC, HTTP Method and Access Mode Mapping: "When the target of the HTTP
        # request is the ACL resource, the operation can only be allowed with the
        # acl:Control access mode." And: "control operations attempt to view, create,
        # delete, or modify ACL resources." So Control alone suffices, for every
        # method; no mode on the parent container (an .acl is not a member of it).
        return Requirements(target=Mode.CONTROL)
    if method == "OPTIONS":
        # Decision: no mode. CORS preflights are answered before authorization; a plain
        # OPTIONS describes what the server supports at this URL, not the resource's
        # state. Both reference servers answer every OPTIONS before authorization. The
        # caller must answer it identically whether the resource exists or not (else
        # it would "confirm the existence of a resource", a read operation).
        return Requirements()
    if method in ("GET", "HEAD"):
        # WAC: "When an operation requests to read a resource, the server MUST match
        # an Authorization allowing the acl:Read access privilege on the resource."
        return Requirements(target=Mode.READ)
    if method == "POST":
        # The target is the container being posted to. WAC note: "The HTTP POST can be
        # used to create a new resource in a container or add information to existing
        # resources (but not remove resources or its contents) with either acl:Append
        # or acl:Write." Append suffices (Write implies it).
        return Requirements(target=Mode.APPEND)
    if method == "DELETE":
        # WAC: "When an operation requests to delete a resource, the server MUST match
        # Authorizations allowing the acl:Write access privilege on the resource and
        # the containing container."
        return Requirements(target=Mode.WRITE, parent=Mode.WRITE)
    if method == "PUT":
        target = Mode.WRITE
    else:
        target = _patch_modes(patch_inserts, patch_deletes, patch_where)
    # PUT: WAC note: "As the HTTP PUT method requests to create or replace the resource
    # state, the acl:Write access mode would be required." Creating (PUT or PATCH to a
    # new URL) also needs the parent. WAC (2021-07-11): "When an operation requests to
    # create a resource as a member of a container resource, the server MUST match an
    # Authorization allowing the acl:Append or acl:Write access privilege on the
    # container for new members." The current draft ends the sentence instead with
    # "(as needed by the operation) on the resource to be created". We require both:
    # Append on the container (as the Community Solid Server does) and the operation's
    # own modes on the new resource, granted through its inherited ACL. Intermediate
    # containers created on the way get the same check (WAC note: "the server applies
    # the same requirements for the create operation for each container").
    return Requirements(target=target, parent=NO_MODES if target_exists else Mode.APPEND)


def _patch_modes(inserts: bool, deletes: bool, where: bool) -> Mode:
    # Solid Protocol, N3 Patch: "When ?conditions is non-empty, servers MUST treat the
    # request as a Read operation. When ?insertions is non-empty, servers MUST (also)
    # treat the request as an Append operation. When ?deletions is non-empty, servers
    # MUST treat the request as a Read and Write operation." SPARQL Update maps the
    # same way (WAC note: acl:Append "can allow requests using SPARQL 1.1 Update's
    # INSERT DATA operation but not DELETE DATA, whereas acl:Write would allow both").
    modes = NO_MODES
    if where:
        modes |= Mode.READ
    if inserts:
        modes |= Mode.APPEND
    if deletes:
        modes |= Mode.READ | Mode.WRITE
    # An empty patch still is a write-class request: ask for the least, Append, so
    # a caller with no access cannot use it to probe.
    return modes or Mode.APPEND


class Decision(enum.Enum):
    ALLOW = "allow"
    UNAUTHENTICATED = "unauthenticated"  # 401
    FORBIDDEN = "forbidden"  # 403


def decide(
    required: Requirements, target_granted: Mode, parent_granted: Mode, authenticated: bool
) -> Decision:
    """Allow when every required mode is granted; otherwise 401 or 403.

    Solid Protocol, HTTP Server: "When a client does not provide valid credentials
    when requesting a resource that requires it (see WebID), servers MUST send a
    response with a 401 status code (unless 404 is preferred for security reasons)."
    An authenticated caller is refused with 403: RFC 9110 §15.5.4, "If authentication
    credentials were provided in the request, the server considers them insufficient
    to grant access"; Solid Protocol, Authentication: "When a client receives a
    response with a 403 or 404 status code, the client MAY repeat the request with
    different credentials."
    """
    # covers() applies "Write implies Append" even to modes the caller built by hand.
    if target_granted.covers(required.target) and parent_granted.covers(required.parent):
        return Decision.ALLOW
    return Decision.FORBIDDEN if authenticated else Decision.UNAUTHENTICATED
